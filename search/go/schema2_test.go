package main

// Stream schema 2 and the rg/fd-style switches, end to end over real HTTP:
// the schema header and field, column/submatch, lossless non-UTF-8 paths
// and texts, text cut on a character boundary, file_error and "incomplete",
// case=, fixed=, depth=, hidden=, ignore= (the twin: .git, .hg and .svn
// only), all=, repeatable and path exclude=, context lines, and the
// dialect's refusals; each result set compared with grep's or find's.

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"unicode/utf8"
)

type line2 struct {
	Type      string `json:"type"`
	Path      string `json:"path"`
	PathBytes string `json:"path_bytes"`
	Line      int    `json:"line"`
	Text      string `json:"text"`
	TextBytes string `json:"text_bytes"`
	Column    int    `json:"column"`
	Submatch  []int  `json:"submatch"`
	Reason    string `json:"reason"`
	Matches   int    `json:"matches"`
	Errors    int    `json:"errors"`
	Files     int    `json:"files"`
	Schema    int    `json:"schema"`
	Error     string `json:"error"`
	Param     string `json:"param"`
}

// get2 runs one search; it returns the status, the X-Search-Schema header
// and the lines (the done line last, for a 200).
func get2(t *testing.T, ts *httptest.Server, params url.Values) (int, string, []line2) {
	t.Helper()
	resp, err := http.Get(ts.URL + "/search?" + params.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out []line2
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l line2
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("bad JSON line %q: %v", sc.Text(), err)
		}
		out = append(out, l)
	}
	if resp.StatusCode == 200 && (len(out) == 0 || out[len(out)-1].Type != "done") {
		t.Fatalf("%v: no done line: %+v", params, out)
	}
	return resp.StatusCode, resp.Header.Get("X-Search-Schema"), out
}

// rawPath is a result's path as the bytes on disk.
func rawPath(t *testing.T, l line2) string {
	t.Helper()
	if l.PathBytes == "" {
		return l.Path
	}
	b, err := base64.StdEncoding.DecodeString(l.PathBytes)
	if err != nil {
		t.Fatalf("path_bytes %q: %v", l.PathBytes, err)
	}
	return string(b)
}

// keys gives "path:line" (or "path" for names) of the lines of one type,
// sorted, paths as raw bytes.
func keys(t *testing.T, ls []line2, typ string) []string {
	var out []string
	for _, l := range ls {
		if l.Type != typ {
			continue
		}
		if typ == "name" {
			out = append(out, rawPath(t, l))
		} else {
			out = append(out, fmt.Sprintf("%s:%d", rawPath(t, l), l.Line))
		}
	}
	return sorted(out)
}

// grepKeys runs grep -rn (LC_ALL=C) with args and gives its "path:line" keys.
func grepKeys(t *testing.T, dir string, args ...string) []string {
	t.Helper()
	var out []string
	for _, l := range toolLines(t, dir, "grep", append([]string{"-rnI"}, args...)...) {
		parts := strings.SplitN(strings.TrimPrefix(l, "./"), ":", 3)
		out = append(out, parts[0]+":"+parts[1])
	}
	return sorted(out)
}

func findKeys(t *testing.T, dir string, args ...string) []string {
	t.Helper()
	var out []string
	for _, l := range toolLines(t, dir, "find", append([]string{"."}, args...)...) {
		out = append(out, strings.TrimPrefix(l, "./"))
	}
	return sorted(out)
}

func same(t *testing.T, what string, got, want []string) {
	t.Helper()
	if g, w := strings.Join(got, "\n"), strings.Join(want, "\n"); g != w {
		t.Errorf("%s: service and reference differ\nservice (%d):\n%s\nreference (%d):\n%s", what, len(got), g, len(want), w)
	}
}

// schemaTree is makeTree plus what schema 2 is about: two names that read
// alike, a non-UTF-8 line, a long line with a character across byte 200,
// hidden files and directories, mixed case.
func schemaTree(t *testing.T, dir string) {
	t.Helper()
	makeTree(t, dir)
	for name, body := range map[string]string{
		"caf\xc3\xa9.txt":      "hello from utf-8\n",
		"latin.txt":            "na\xefve hello\n",
		"long.txt":             strings.Repeat("a", 199) + "\xc3\xa9 hello\n",
		".dot.txt":             "hello hidden\n",
		".hid/inner.txt":       "hello in a hidden dir\n",
		"d0/.cfg/x.c":          "hello deep hidden\n",
		"Case.txt":             "Hello HELLO hello hElLo\nnothing\n",
		"d0/s0/skip_me.log":    "hello excluded\n",
		"d1/vendor/v.go":       "hello vendored\n",
		"ctx.txt":              "1\n2\nneedle\n4\n5\n6\n7\nneedle\nneedle\n10\n11\n12\n13\n14\nneedle",
		"meta.txt":             "a.b a+b (x) [y] \\d\n",
		"d2/s2/deeper/more.md": "hello at depth 4\n",
		"bad/unreadable.txt":   "hello\n",
		".git/config":          "hello from a repository\n",
		"d1/s1/.hg/store.txt":  "hello from mercurial\n",
		"baddir/x.txt":         "hello\n",
	} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSchema2Lines(t *testing.T) {
	dir := t.TempDir()
	schemaTree(t, dir)
	_, ts, log := newTestServer(t, dir, nil)

	code, hdr, got := get2(t, ts, url.Values{"q": {"hello"}, "all": {"1"}})
	done := got[len(got)-1]
	if code != 200 || hdr != "2" || done.Schema != 2 || done.Reason != "complete" {
		t.Fatalf("header %q, done %+v", hdr, done)
	}
	log.next(t, "search id=1 end=complete")
	same(t, "q=hello", keys(t, got, "match"), grepKeys(t, dir, "-E", "--", "hello", "."))
	for _, l := range got[:len(got)-1] {
		if l.Type != "match" {
			continue
		}
		text := l.Text
		if l.TextBytes != "" {
			b, _ := base64.StdEncoding.DecodeString(l.TextBytes)
			text = string(b)
		}
		if !utf8.ValidString(l.Text) || len(text) > maxLine {
			t.Errorf("%s:%d: text %q not valid UTF-8 or over %d bytes", l.Path, l.Line, l.Text, maxLine)
		}
		if len(l.Submatch) != 2 || l.Column != l.Submatch[0]+1 || l.Submatch[1]-l.Submatch[0] != 5 {
			t.Errorf("%s:%d: column %d submatch %v", l.Path, l.Line, l.Column, l.Submatch)
		} else if l.Submatch[1] <= len(text) && text[l.Submatch[0]:l.Submatch[1]] != "hello" {
			t.Errorf("%s:%d: submatch %v of %q is not the match", l.Path, l.Line, l.Submatch, text)
		} else if i := strings.Index(text, "hello"); i >= 0 && i != l.Submatch[0] {
			t.Errorf("%s:%d: submatch %v is not the first match (%d)", l.Path, l.Line, l.Submatch, i)
		}
		switch l.Path {
		case "long.txt": // 199 bytes, then a 2-byte character: cut before it
			if l.Text != strings.Repeat("a", 199) || l.Submatch[0] != 202 {
				t.Errorf("long.txt: text %q (%d bytes), submatch %v", l.Text, len(l.Text), l.Submatch)
			}
		case "latin.txt": // lossless: the raw bytes ride along
			if b, _ := base64.StdEncoding.DecodeString(l.TextBytes); string(b) != "na\xefve hello" {
				t.Errorf("latin.txt: text_bytes %q", l.TextBytes)
			}
		}
	}
	// Two names that read alike in "path" stay distinct through path_bytes.
	_, _, got = get2(t, ts, url.Values{"name": {"caf*"}})
	names := keys(t, got, "name")
	if len(names) != 2 || names[0] == names[1] {
		t.Errorf("caf*: %q", names)
	}
	for _, l := range got {
		if l.Type == "name" && (l.Path != "café.txt" || (l.PathBytes != "") != (rawPath(t, l) == "caf\xe9.txt")) {
			t.Errorf("caf*: %+v", l)
		}
	}
	// A regexp's submatch is the first match in the line alone.
	_, _, got = get2(t, ts, url.Values{"q": {"[eE][lL]+o"}, "root": {"."}, "name": {"Case.txt"}})
	if len(got) != 2 || got[0].Submatch == nil || got[0].Submatch[0] != 1 || got[0].Submatch[1] != 5 {
		t.Errorf("Case.txt: %+v", got)
	}
}

// failingOpen makes every open of a path ending in one of names fail with
// EACCES, as for an unreadable file when not root.
func failingOpen(names ...string) func(string) (*os.File, error) {
	return func(p string) (*os.File, error) {
		for _, n := range names {
			if strings.HasSuffix(p, "/"+n) {
				return nil, &os.PathError{Op: "open", Path: p, Err: syscall.EACCES}
			}
		}
		return os.Open(p)
	}
}

func TestFileErrorIncomplete(t *testing.T) {
	dir := t.TempDir()
	schemaTree(t, dir)
	s, ts, log := newTestServer(t, dir, nil)
	s.openFile = failingOpen("bad/unreadable.txt", "baddir")
	_, _, got := get2(t, ts, url.Values{"q": {"hello"}})
	done := got[len(got)-1]
	errs := map[string]string{}
	for _, l := range got {
		if l.Type == "file_error" {
			errs[l.Path] = l.Error
		}
	}
	want := map[string]string{"bad/unreadable.txt": "Permission denied", "baddir": "Permission denied"}
	if fmt.Sprint(errs) != fmt.Sprint(want) || done.Reason != "incomplete" || done.Errors != 2 ||
		done.Matches != len(keys(t, got, "match")) {
		t.Errorf("file errors %v, done %+v; want %v, incomplete, errors 2", errs, done, want)
	}
	log.next(t, "search id=1 end=incomplete")
	// Name searches do not open files: only the directory is missing.
	_, _, got = get2(t, ts, url.Values{"name": {"*"}, "max": {"10000"}})
	if d := got[len(got)-1]; d.Reason != "incomplete" || d.Errors != 1 {
		t.Errorf("name=*: %+v", d)
	}
	// A limit reached first is still "limit"; file_error lines count in neither max nor matches.
	_, _, got = get2(t, ts, url.Values{"q": {"hello"}, "max": {"1"}})
	if d := got[len(got)-1]; d.Reason != "limit" || d.Matches != 1 || len(keys(t, got, "match")) != 1 {
		t.Errorf("max=1: %+v", got)
	}
}

func TestCaseFixedDepthHiddenExclude(t *testing.T) {
	dir := t.TempDir()
	schemaTree(t, dir)
	_, ts, _ := newTestServer(t, dir, nil)
	for _, c := range []struct {
		params url.Values
		grep   []string
	}{
		{url.Values{"q": {"hello"}, "case": {"insensitive"}}, []string{"-iE", "hello"}},
		{url.Values{"q": {"h[e]llo"}, "case": {"smart"}}, []string{"-iE", "h[e]llo"}},
		{url.Values{"q": {"HELLO"}, "case": {"smart"}}, []string{"-E", "HELLO"}},
		{url.Values{"q": {"Hello"}, "case": {"sensitive"}}, []string{"-E", "Hello"}},
		{url.Values{"q": {"a.b a+b (x) [y] \\d"}, "fixed": {"1"}}, []string{"-F", "a.b a+b (x) [y] \\d"}},
		{url.Values{"q": {"A+B (X)"}, "fixed": {"true"}, "case": {"insensitive"}}, []string{"-iF", "A+B (X)"}},
		{url.Values{"q": {"a.b"}, "fixed": {"0"}}, []string{"-E", "a.b"}},
	} {
		c.params.Set("all", "1") // everything, as grep -r
		_, _, got := get2(t, ts, c.params)
		same(t, c.params.Encode(), keys(t, got, "match"), grepKeys(t, dir, append(c.grep[:1:1], "--", c.grep[1], ".")...))
	}
	for _, c := range []struct {
		params url.Values
		find   []string
	}{
		{url.Values{"name": {"*"}, "depth": {"1"}, "all": {"1"}}, []string{"-maxdepth", "1", "-type", "f"}},
		{url.Values{"name": {"*.md"}, "depth": {"3"}}, []string{"-maxdepth", "3", "-type", "f", "-name", "*.md"}},
		{url.Values{"name": {"*.md"}, "depth": {"4"}}, []string{"-maxdepth", "4", "-type", "f", "-name", "*.md"}},
		{url.Values{"name": {"*"}}, []string{"-mindepth", "1", "-name", ".*", "-prune", "-o", "-type", "f", "-print"}},
		{url.Values{"name": {"*"}, "hidden": {"0"}}, []string{"-mindepth", "1", "-name", ".*", "-prune", "-o", "-type", "f", "-print"}},
		{url.Values{"name": {"*"}, "hidden": {"1"}}, []string{"(", "-name", ".git", "-o", "-name", ".hg", ")", "-prune", "-o", "-type", "f", "-print"}},
		{url.Values{"name": {"*"}, "hidden": {"1"}, "ignore": {"0"}}, []string{"-type", "f"}},
		{url.Values{"name": {"*.txt"}, "all": {"true"}}, []string{"-type", "f", "-name", "*.txt"}},
		{url.Values{"name": {"*"}, "all": {"1"}, "exclude": {"*.log", "vendor", "s[0-3]", ""}},
			[]string{"(", "-name", "*.log", "-o", "-name", "vendor", "-o", "-name", "s[0-3]", ")", "-prune", "-o", "-type", "f", "-print"}},
		{url.Values{"name": {"*"}, "all": {"1"}, "exclude": {"[!d]*"}}, []string{"-mindepth", "1", "-name", "[!d]*", "-prune", "-o", "-type", "f", "-print"}},
		// Path globs (with '/'), "**", a leading '/', and a trailing '/' for directories only.
		{url.Values{"name": {"*"}, "all": {"1"}, "exclude": {"d0/*", "**/deeper/", "s1/", "/d3/s3/f1*", "*.txt/"}},
			[]string{"(", "-path", "./d0/*", "-o", "-name", "deeper", "-type", "d", "-o", "-name", "s1", "-type", "d",
				"-o", "-path", "./d3/s3/f1*", ")", "-prune", "-o", "-type", "f", "-print"}},
		{url.Values{"name": {"*"}, "all": {"1"}, "exclude": {"**/*.c"}}, []string{"-name", "*.c", "-prune", "-o", "-type", "f", "-print"}},
		// A leading '/' anchors at the served root: "/s0" is the root's s0 only (there is
		// none; d0/s0 stays), as the C service.
		{url.Values{"name": {"*"}, "all": {"1"}, "exclude": {"/s0"}}, []string{"-path", "./s0", "-prune", "-o", "-type", "f", "-print"}},
	} {
		_, _, got := get2(t, ts, c.params)
		same(t, c.params.Encode(), keys(t, got, "name"), findKeys(t, dir, c.find...))
	}
	// Content and walk options together: grep -r --exclude-dir and --exclude.
	_, _, got := get2(t, ts, url.Values{"q": {"hello"}, "exclude": {"vendor", "*.log"}, "case": {"insensitive"}})
	same(t, "hidden=0 exclude=vendor,*.log", keys(t, got, "match"),
		grepKeys(t, dir, "-iE", "--exclude-dir=.?*", "--exclude=.?*", "--exclude-dir=vendor", "--exclude=vendor",
			"--exclude=*.log", "--exclude-dir=*.log", "--", "hello", "."))
}

func TestContextLines(t *testing.T) {
	dir := t.TempDir()
	schemaTree(t, dir)
	_, ts, _ := newTestServer(t, dir, nil)
	grepCtx := regexp.MustCompile(`^(.*?)([:-])(\d+)[:-]`)
	for _, c := range []struct {
		params url.Values
		grep   []string
	}{
		{url.Values{"q": {"needle"}, "context": {"2"}}, []string{"-C2"}},
		{url.Values{"q": {"needle"}, "before": {"3"}}, []string{"-B3"}},
		{url.Values{"q": {"needle"}, "after": {"4"}}, []string{"-A4"}},
		{url.Values{"q": {"needle"}, "context": {"1"}, "after": {"0"}}, []string{"-B1"}},
		{url.Values{"q": {"hello"}, "context": {"1"}}, []string{"-C1"}},
		{url.Values{"q": {"^[0-9]+$"}, "context": {"1"}}, []string{"-E", "-C1"}},
	} {
		c.params.Set("all", "1")
		_, _, got := get2(t, ts, c.params)
		var gotKeys []string
		for _, l := range got {
			if l.Type == "match" || l.Type == "context" {
				gotKeys = append(gotKeys, fmt.Sprintf("%s:%d:%s", rawPath(t, l), l.Line, l.Type))
			}
		}
		args := append([]string{"-rnI"}, c.grep...)
		args = append(args, "--", c.params.Get("q"), ".")
		var want []string
		for _, l := range toolLines(t, dir, "grep", args...) {
			if l == "--" {
				continue
			}
			m := grepCtx.FindStringSubmatch(strings.TrimPrefix(l, "./"))
			if m == nil {
				t.Fatalf("grep line %q", l)
			}
			kind := map[string]string{":": "match", "-": "context"}[m[2]]
			want = append(want, m[1]+":"+m[3]+":"+kind)
		}
		same(t, c.params.Encode(), sorted(gotKeys), sorted(want))
		// Within a file, lines come in order, each at most once.
		last := map[string]int{}
		for _, l := range got {
			if l.Type == "match" || l.Type == "context" {
				if l.Line <= last[rawPath(t, l)] {
					t.Errorf("%s: line %d after %d", l.Path, l.Line, last[rawPath(t, l)])
				}
				last[rawPath(t, l)] = l.Line
			}
		}
	}
	// Context lines count in neither max nor matches.
	_, _, got := get2(t, ts, url.Values{"q": {"needle"}, "context": {"5"}, "root": {"."}, "name": {"ctx.txt"}})
	if d := got[len(got)-1]; d.Matches != 4 || len(got) != 16 {
		t.Errorf("ctx.txt -C5: %d lines, done %+v", len(got), d)
	}
}

func TestSchema2BadInput(t *testing.T) {
	dir := t.TempDir()
	schemaTree(t, dir)
	_, ts, _ := newTestServer(t, dir, nil)
	for _, c := range []struct {
		params url.Values
		param  string
	}{
		{url.Values{"q": {`\<static`}}, "q"},
		{url.Values{"q": {`x\>`}}, "q"},
		{url.Values{"q": {`ab{,2}c`}}, "q"},
		{url.Values{"q": {`\Aabc`}}, "q"},
		{url.Values{"q": {`abc\z`}}, "q"},
		{url.Values{"q": {"a\nb"}, "fixed": {"1"}}, "q"},
		{url.Values{"q": {"x"}, "case": {"upper"}}, "case"},
		{url.Values{"q": {"x"}, "fixed": {"yes"}}, "fixed"},
		{url.Values{"q": {"x"}, "hidden": {"2"}}, "hidden"},
		{url.Values{"q": {"x"}, "depth": {"0"}}, "depth"},
		{url.Values{"q": {"x"}, "depth": {"1000001"}}, "depth"},
		{url.Values{"q": {"x"}, "exclude": {"/"}}, "exclude"},
		{url.Values{"q": {"x"}, "exclude": {"ok", "a/[b"}}, "exclude"},
		{url.Values{"q": {"x"}, "exclude": {"ok", "[a"}}, "exclude"},
		{url.Values{"q": {"x"}, "context": {"-1"}}, "context"},
		{url.Values{"q": {"x"}, "context": {"101"}}, "context"},
		{url.Values{"q": {"x"}, "after": {"x"}}, "after"},
		{url.Values{"q": {"x"}, "all": {"maybe"}}, "all"},
		{url.Values{"q": {"x"}, "ignore": {"2"}}, "ignore"},
	} {
		code, _, got := get2(t, ts, c.params)
		if code != 400 || len(got) != 1 || got[0].Param != c.param {
			t.Errorf("%v: got %d %+v, want 400 with param %s", c.params, code, got, c.param)
		}
	}
	// What the dialect refuses is fine inside a class, \Q...\E, or as a fixed string.
	for _, p := range []url.Values{
		{"q": {`[\<]x`}}, {"q": {`\Q\<\E`}}, {"q": {`\<static`}, "fixed": {"1"}}, {"q": {`a{0,2}b`}},
		{"q": {"x"}, "ignore": {"0"}}, // unknown parameters are ignored (the C service's ignore=)
	} {
		if code, _, got := get2(t, ts, p); code != 200 {
			t.Errorf("%v: %d %+v", p, code, got)
		}
	}
}

func TestFlagsSizeAndVersion(t *testing.T) {
	for in, want := range map[string]int64{"8M": 8 << 20, "10K": 10 << 10, "1GiB": 1 << 30, "123": 123,
		"2MB": 2 << 20, "0": 0, "64kB": 64 << 10} {
		c, err := parseFlags([]string{"--root", ".", "--max-file-size", in}, io.Discard)
		if err != nil || c.maxFileSize != want {
			t.Errorf("--max-file-size %s: %d %v, want %d", in, c.maxFileSize, err, want)
		}
	}
	for _, in := range []string{"8X", "M", "-1", "1.5M", "", "99999999999G"} {
		if _, err := parseFlags([]string{"--root", ".", "--max-file-size", in}, io.Discard); err == nil {
			t.Errorf("--max-file-size %q accepted", in)
		}
	}
	if c, err := parseFlags([]string{"--version"}, io.Discard); err != nil || !c.version {
		t.Errorf("--version: %+v %v", c, err)
	}
}

package main

// End-to-end tests of the twin over real HTTP (httptest's net/http server on
// loopback): complete results equal grep -rnE -I / find -name on a generated
// tree, bad input gets its 400, the limit and the deadline end a scan, a
// client that hangs up stops the scan with nothing left behind, and SIGTERM
// drains and returns 0.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

// lineLog is a log writer that hands each line to a channel, so a test can
// wait for a request's line instead of sleeping.
type lineLog struct{ lines chan string }

func (l *lineLog) Write(p []byte) (int, error) {
	for _, s := range strings.SplitAfter(string(p), "\n") {
		if s != "" {
			l.lines <- strings.TrimSuffix(s, "\n")
		}
	}
	return len(p), nil
}

func (l *lineLog) next(t *testing.T, prefix string) string {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case s := <-l.lines:
			if strings.HasPrefix(s, prefix) {
				return s
			}
		case <-deadline:
			t.Fatalf("no log line starting %q within 20 s", prefix)
		}
	}
}

var words = []string{"alpha", "beta", "gamma", "delta", "hello", "world", "foo", "bar", "baz",
	"timeout", "error", "value", "x", "y", "end", "call(42)", "id-1234", "tab\there", "käse"}

// makeTree writes a deterministic tree: nested directories, text files,
// a binary file, a symlink (not followed), and a non-UTF-8 name.
func makeTree(t *testing.T, dir string) {
	t.Helper()
	rng := rand.New(rand.NewSource(9))
	for d := 0; d < 12; d++ {
		sub := filepath.Join(dir, fmt.Sprintf("d%d", d%4), fmt.Sprintf("s%d", d))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		for f := 0; f < 25; f++ {
			var b bytes.Buffer
			for l := rng.Intn(40); l > 0; l-- {
				for w := rng.Intn(8); w > 0; w-- {
					b.WriteString(words[rng.Intn(len(words))])
					b.WriteByte(' ')
				}
				if rng.Intn(9) == 0 {
					fmt.Fprintf(&b, "%03d-%04d", rng.Intn(1000), rng.Intn(10000))
				}
				b.WriteByte('\n')
			}
			if rng.Intn(5) == 0 { // no final newline
				b.WriteString("end")
			}
			ext := []string{".txt", ".c", ".go", ".log", ""}[rng.Intn(5)]
			name := fmt.Sprintf("f%d%s", f, ext)
			if err := os.WriteFile(filepath.Join(sub, name), b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(dir, "blob.bin"), []byte("hello\x00world\nhello\n"), 0o644))
	must(os.WriteFile(filepath.Join(dir, "caf\xe9.txt"), []byte("hello from latin-1\n"), 0o644))
	must(os.WriteFile(filepath.Join(dir, "empty.txt"), nil, 0o644))
	must(os.Symlink("/etc", filepath.Join(dir, "out-link")))
	must(os.Symlink("d0", filepath.Join(dir, "in-link")))
}

func newTestServer(t *testing.T, root string, mod func(*config)) (*server, *httptest.Server, *lineLog) {
	t.Helper()
	cfg := config{root: root, listen: "127.0.0.1", workers: 3, maxScans: 8,
		maxResults: 10000, maxFileSize: 8 << 20, maxTimeout: time.Minute}
	if mod != nil {
		mod(&cfg)
	}
	log := &lineLog{lines: make(chan string, 1024)}
	s, err := newServer(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(s.mux())
	ts.Config.ConnContext = connContext // as serve's http.Server
	ts.Start()
	t.Cleanup(ts.Close)
	return s, ts, log
}

type line struct {
	Type   string `json:"type"`
	Path   string `json:"path"`
	Line   int    `json:"line"`
	Text   string `json:"text"`
	Reason string `json:"reason"`
	Files  int    `json:"files"`
	Match  int    `json:"matches"`
	Error  string `json:"error"`
	Param  string `json:"param"`
	Offset *int   `json:"offset"`
}

func get(t *testing.T, ts *httptest.Server, params url.Values) (int, string, []line) {
	t.Helper()
	resp, err := http.Get(ts.URL + "/search?" + params.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out []line
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("bad JSON line %q: %v", sc.Text(), err)
		}
		out = append(out, l)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), out
}

// norm maps a raw path the way the service's JSON does and back, so grep's
// raw bytes compare with the decoded JSON.
func norm(raw string) string {
	var s string
	if err := json.Unmarshal(appendJSONString(nil, raw), &s); err != nil {
		panic(err)
	}
	return s
}

func toolLines(t *testing.T, dir string, name string, args ...string) []string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	out, err := cmd.Output()
	if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == 1 && name == "grep" {
		err = nil // grep: no match
	}
	if err != nil {
		t.Fatalf("%s %v: %v", name, args, err)
	}
	var res []string
	for _, l := range strings.Split(string(out), "\n") {
		if l != "" {
			res = append(res, l)
		}
	}
	return res
}

func sorted(s []string) []string { sort.Strings(s); return s }

func TestResultsEqualGrepAndFind(t *testing.T) {
	dir := t.TempDir()
	makeTree(t, dir)
	_, ts, _ := newTestServer(t, dir, nil)

	for _, pat := range []string{"hello", "call(42)", "fo+ ba[rz]", "^end$", "^$", "[0-9]{3}-[0-9]{4}",
		"x|y", "tab\there", "käse", "(alpha|omega) beta$", "z{2,}", "^[a-c]"} {
		_, _, got := get(t, ts, url.Values{"q": {pat}})
		var gotLines []string
		for _, l := range got[:len(got)-1] {
			if l.Type != "match" {
				continue
			}
			gotLines = append(gotLines, fmt.Sprintf("%s:%d", l.Path, l.Line))
		}
		var want []string
		for _, l := range toolLines(t, dir, "grep", "-rnEI", "--", pat, ".") {
			// ./path:line:text
			parts := strings.SplitN(strings.TrimPrefix(l, "./"), ":", 3)
			want = append(want, norm(parts[0])+":"+parts[1])
		}
		if g, w := strings.Join(sorted(gotLines), "\n"), strings.Join(sorted(want), "\n"); g != w {
			t.Errorf("q=%q: service and grep -rnEI differ\nservice:\n%s\ngrep:\n%s", pat, g, w)
		}
		done := got[len(got)-1]
		if done.Type != "done" || done.Reason != "complete" || done.Match != len(gotLines) {
			t.Errorf("q=%q: bad done line %+v for %d matches", pat, done, len(gotLines))
		}
	}
	for _, glob := range []string{"*.c", "f1*", "*.txt", "f?.go", "[!f]*", "*"} {
		_, _, got := get(t, ts, url.Values{"name": {glob}})
		var paths []string
		for _, l := range got {
			if l.Type == "name" {
				paths = append(paths, l.Path)
			}
		}
		var want []string
		for _, l := range toolLines(t, dir, "find", ".", "-type", "f", "-name", glob) {
			want = append(want, norm(strings.TrimPrefix(l, "./")))
		}
		if g, w := strings.Join(sorted(paths), "\n"), strings.Join(sorted(want), "\n"); g != w {
			t.Errorf("name=%q: service and find -name differ\nservice:\n%s\nfind:\n%s", glob, g, w)
		}
	}
	// Both: names that match and whose content matches, under a subdirectory.
	_, _, got := get(t, ts, url.Values{"q": {"hello"}, "name": {"*.txt"}, "root": {"d1"}})
	files := map[string]bool{}
	for _, l := range got {
		if l.Type == "match" {
			files[l.Path] = true
		}
	}
	var paths []string
	for p := range files {
		paths = append(paths, p)
	}
	var want []string
	for _, l := range toolLines(t, dir, "grep", "-rlEI", "--include=*.txt", "hello", "d1") {
		want = append(want, norm(l))
	}
	if g, w := strings.Join(sorted(paths), "\n"), strings.Join(sorted(want), "\n"); g != w {
		t.Errorf("q+name+root: service and grep -rlEI --include differ\nservice:\n%s\ngrep:\n%s", g, w)
	}
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	makeTree(t, dir)
	_, ts, _ := newTestServer(t, dir, nil)
	for _, c := range []struct {
		params url.Values
		param  string
		offset bool
	}{
		{url.Values{}, "q", false},
		{url.Values{"q": {""}}, "q", false},
		{url.Values{"q": {"a(b"}}, "q", true},
		{url.Values{"q": {"x**"}}, "q", true},
		{url.Values{"name": {"[a"}}, "name", false},
		{url.Values{"name": {"a/b"}}, "name", true},
		{url.Values{"q": {"x"}, "root": {"../"}}, "root", false},
		{url.Values{"q": {"x"}, "root": {"d0/../.."}}, "root", false},
		{url.Values{"q": {"x"}, "root": {"/etc"}}, "root", false},
		{url.Values{"q": {"x"}, "root": {"out-link"}}, "root", false},
		{url.Values{"q": {"x"}, "root": {"nope"}}, "root", false},
		{url.Values{"q": {"x"}, "root": {"empty.txt"}}, "root", false},
		{url.Values{"q": {"x"}, "timeout": {"10"}}, "timeout", false},
		{url.Values{"q": {"x"}, "timeout": {"-1s"}}, "timeout", false},
		{url.Values{"q": {"x"}, "max": {"0"}}, "max", false},
		{url.Values{"q": {"x"}, "max": {"10001"}}, "max", false},
		{url.Values{"q": {"x"}, "max": {"ten"}}, "max", false},
	} {
		code, ctype, got := get(t, ts, c.params)
		if code != 400 || ctype != "application/json" || len(got) != 1 || got[0].Error == "" || got[0].Param != c.param {
			t.Errorf("%v: got %d %s %+v, want 400 with param %s", c.params, code, ctype, got, c.param)
			continue
		}
		if c.offset != (got[0].Offset != nil) {
			t.Errorf("%v: offset %v, want present=%v", c.params, got[0].Offset, c.offset)
		}
	}
	// The server keeps serving, and a symlink inside the tree is a fine root.
	code, _, got := get(t, ts, url.Values{"q": {"hello"}, "root": {"in-link"}})
	if code != 200 || got[len(got)-1].Reason != "complete" {
		t.Fatalf("after the 400s: %d %+v", code, got)
	}
	for _, l := range got {
		if l.Type == "match" && !strings.HasPrefix(l.Path, "d0/") {
			t.Errorf("path %q not relative to the served root", l.Path)
		}
	}
	if resp, err := http.Get(ts.URL + "/nope"); err != nil || resp.StatusCode != 404 {
		t.Errorf("GET /nope: %v %v", resp, err)
	}
}

func TestLimitAndDeadline(t *testing.T) {
	dir := t.TempDir()
	makeTree(t, dir)
	_, ts, log := newTestServer(t, dir, nil)
	_, _, got := get(t, ts, url.Values{"q": {"hello"}, "max": {"3"}})
	if n := len(got); n != 4 || got[3].Reason != "limit" || got[3].Match != 3 {
		t.Errorf("max=3: %+v", got)
	}
	log.next(t, "search id=1 end=limit")
	_, _, got = get(t, ts, url.Values{"name": {"*"}, "timeout": {"1ns"}})
	if d := got[len(got)-1]; d.Reason != "deadline" {
		t.Errorf("timeout=1ns: %+v", d)
	}
	log.next(t, "search id=2 end=deadline")
}

func TestJSONString(t *testing.T) {
	for in, want := range map[string]string{
		"plain":         `"plain"`,
		"a\"b\\c":       `"a\"b\\c"`,
		"t\tn\nr\r\x01": `"t\tn\nr\r\u0001"`,
		"caf\xe9":       `"caf\u00e9"`,
		"käse ✓":        `"käse ✓"`,
		"\xff\xfe":      `"\u00ff\u00fe"`,
		"\xe2\x9c":      `"\u00e2\u009c"`, // a cut UTF-8 sequence
	} {
		got := string(appendJSONString(nil, in))
		if got != want {
			t.Errorf("%q: got %s want %s", in, got, want)
		}
		var s string
		if err := json.Unmarshal([]byte(got), &s); err != nil {
			t.Errorf("%q: invalid JSON %s: %v", in, got, err)
		}
	}
}

// bigTree writes files with many matching lines, so that a client that does
// not read blocks the scan on the bounded channel (a scan that cannot finish
// before the client leaves).
func bigTree(t *testing.T, dir string) {
	t.Helper()
	line := strings.Repeat("needle in the haystack ", 3) + "\n"
	body := []byte(strings.Repeat(line, 1<<15)) // ~2.3 MB
	for i := 0; i < 12; i++ {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("big%d.txt", i)), body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func waitIdle(t *testing.T, s *server) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		v := &s.vars
		if v.requestsInProgress.Load() == 0 && v.scansInProgress.Load() == 0 && v.workersAlive.Load() == 0 &&
			v.fdsHeld.Load() == 0 && v.contextsAlive.Load() == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not idle after 10 s: %+v", v)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestHangupStopsScan(t *testing.T) {
	dir := t.TempDir()
	bigTree(t, dir)
	s, ts, log := newTestServer(t, dir, func(c *config) { c.maxResults = 1 << 30 })
	addr := strings.TrimPrefix(ts.URL, "http://")
	for i := 1; i <= 10; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(c, "GET /search?q=needle HTTP/1.1\r\nHost: x\r\n\r\n")
		br := bufio.NewReader(c)
		status, err := br.ReadString('\n')
		if err != nil || !strings.Contains(status, " 200 ") {
			t.Fatalf("status %q %v", status, err)
		}
		c.Close() // hang up mid-scan (the scan has ~400k lines to send)
		l := log.next(t, fmt.Sprintf("search id=%d ", i))
		if !strings.Contains(l, "end=canceled") || !strings.Contains(l, "hangup_to_joined_ms=") ||
			!strings.Contains(l, "joined_unix_ns=") {
			t.Fatalf("log line %q", l)
		}
		waitIdle(t, s)
	}
	if n := s.vars.scansCanceled.Load(); n != 10 {
		t.Errorf("scans_canceled = %d, want 10", n)
	}
	resp, err := http.Get(ts.URL + "/debug/vars")
	if err != nil {
		t.Fatal(err)
	}
	var vars map[string]int64
	if err := json.NewDecoder(resp.Body).Decode(&vars); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, k := range []string{"requests_in_progress", "scans_in_progress", "workers_alive", "fds_held",
		"contexts_alive", "requests_total", "scans_canceled", "blocked"} {
		if _, ok := vars[k]; !ok {
			t.Errorf("/debug/vars lacks %s: %v", k, vars)
		}
	}
}

func TestSigtermDrains(t *testing.T) {
	dir := t.TempDir()
	bigTree(t, dir)
	cfg := config{root: dir, listen: "127.0.0.1", workers: 2, maxScans: 8,
		maxResults: 1 << 30, maxFileSize: 8 << 20, maxTimeout: time.Minute}
	log := &lineLog{lines: make(chan string, 1024)}
	s, err := newServer(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	exit := make(chan int, 1)
	go func() { exit <- s.serve(ln, w); w.Close() }()
	first, err := bufio.NewReader(r).ReadString('\n')
	if want := "listening on http://" + ln.Addr().String() + "\n"; err != nil || first != want {
		t.Fatalf("first line %q %v, want %q", first, err, want)
	}
	// Three scans that cannot finish (nobody reads), then SIGTERM.
	var conns []net.Conn
	for i := 0; i < 3; i++ {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "GET /search?q=needle HTTP/1.1\r\nHost: x\r\n\r\n")
		if st, err := bufio.NewReader(c).ReadString('\n'); err != nil || !strings.Contains(st, " 200 ") {
			t.Fatalf("status %q %v", st, err)
		}
		conns = append(conns, c)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-exit:
		if code != 0 {
			t.Fatalf("serve returned %d", code)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not return within 20 s of SIGTERM")
	}
	for i := 0; i < 3; i++ {
		if l := log.next(t, "search id="); !strings.Contains(l, "end=canceled") {
			t.Errorf("log line %q", l)
		}
	}
	waitIdle(t, s)
	for _, c := range conns {
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.Copy(io.Discard, c); err != nil {
			t.Errorf("connection not closed by the server: %v", err)
		}
	}
}

func TestPageAndTooManyScans(t *testing.T) {
	dir := t.TempDir()
	bigTree(t, dir)
	s, ts, log := newTestServer(t, dir, func(c *config) { c.maxScans = 1; c.maxResults = 1 << 30 })
	resp, err := http.Get(ts.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
		!bytes.Contains(body, []byte("Stop")) || !bytes.Contains(body, []byte("/search?")) {
		t.Fatalf("GET /: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	// One scan that cannot finish (nobody reads) holds the only slot.
	c, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(c, "GET /search?q=needle HTTP/1.1\r\nHost: x\r\n\r\n")
	if st, err := bufio.NewReader(c).ReadString('\n'); err != nil || !strings.Contains(st, " 200 ") {
		t.Fatalf("status %q %v", st, err)
	}
	code, ctype, got := get(t, ts, url.Values{"q": {"needle"}})
	if code != 503 || ctype != "application/json" || len(got) != 1 || got[0].Error != "too many concurrent scans" {
		t.Errorf("second scan: %d %s %+v, want 503", code, ctype, got)
	}
	c.Close()
	log.next(t, "search id=1 end=canceled")
	waitIdle(t, s)
	if code, _, got := get(t, ts, url.Values{"q": {"needle"}, "max": {"2"}}); code != 200 || got[len(got)-1].Reason != "limit" {
		t.Errorf("after the slot is free: %d %+v", code, got[len(got)-1])
	}
}

package main

import (
	"errors"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"
	"time"
)

// inputError is a 400 body: what is wrong, the parameter, and for a pattern
// error the byte offset of the offending part (-1: none).
type inputError struct {
	msg    string
	param  string
	offset int
}

// query is one validated /search request.
type query struct {
	lit     []byte         // content literal (fast path), or nil
	re      *regexp.Regexp // content regexp, multi-line mode, or nil
	glob    string         // base-name glob (path.Match syntax), or ""
	dir     string         // absolute directory to scan (inside the root)
	rel     string         // the same, relative to the root ("" = the root)
	timeout time.Duration
	max     int
	depth   int           // files at most this many levels below dir (1: dir's own); 0: no bound
	hidden  bool          // false: names starting with '.' are not met (rg's, fd's default)
	vcs     bool          // true (ignore=1): .git, .hg and .svn are never entered
	exclude []excludeGlob // matching entries are not met
	before  int           // context lines before each match (rg -B)
	after   int           // context lines after each match (rg -A)
}

func (q *query) content() bool { return q.lit != nil || q.re != nil }

// parseQuery checks every parameter before anything is scanned.
func (s *server) parseQuery(v url.Values) (*query, *inputError) {
	q := &query{}
	pat, name := v.Get("q"), v.Get("name")
	if pat == "" && name == "" {
		return nil, &inputError{msg: "missing pattern: give q (content) and/or name (glob)", param: "q", offset: -1}
	}
	if pat != "" {
		caseless, fixed, e := matchOpts(v, pat)
		if e != nil {
			return nil, e
		}
		if e := q.setPattern(pat, caseless, fixed); e != nil {
			return nil, e
		}
	}
	if name != "" {
		if strings.ContainsRune(name, '/') {
			return nil, &inputError{msg: "name is a glob on the base name: no '/'", param: "name", offset: strings.IndexByte(name, '/')}
		}
		g := fnmatchToGo(name)
		if _, err := path.Match(g, ""); err != nil {
			return nil, &inputError{msg: "invalid glob: " + err.Error(), param: "name", offset: -1}
		}
		q.glob = g
	}
	rel, dir, e := s.resolveRoot(v.Get("root"))
	if e != nil {
		return nil, e
	}
	q.rel, q.dir = rel, dir

	q.timeout = s.cfg.maxTimeout
	if t := v.Get("timeout"); t != "" {
		d, err := time.ParseDuration(t)
		if err != nil {
			return nil, &inputError{msg: "invalid duration: " + strings.TrimPrefix(err.Error(), "time: "), param: "timeout", offset: -1}
		}
		if d <= 0 {
			return nil, &inputError{msg: "timeout must be > 0", param: "timeout", offset: -1}
		}
		if d < q.timeout {
			q.timeout = d // longer ones are cut to --max-timeout
		}
	}
	q.max = s.cfg.maxResults
	if m := v.Get("max"); m != "" {
		n, err := strconv.Atoi(m)
		if err != nil || n < 1 || n > s.cfg.maxResults {
			return nil, &inputError{msg: "max must be an integer in 1.." + strconv.Itoa(s.cfg.maxResults), param: "max", offset: -1}
		}
		q.max = n
	}
	if e := q.walkOpts(v); e != nil {
		return nil, e
	}
	return q, nil
}

// flagParam reads a boolean parameter: absent/""/0/false -> 0, 1/true -> 1,
// anything else -> -1 (a 400).
func flagParam(v url.Values, key string) int {
	switch v.Get(key) {
	case "", "0", "false":
		return 0
	case "1", "true":
		return 1
	}
	return -1
}

// matchOpts reads fixed= (rg -F) and case= (sensitive; insensitive, rg -i;
// smart, rg -S: insensitive unless q holds an upper-case ASCII letter).
func matchOpts(v url.Values, pat string) (caseless, fixed bool, e *inputError) {
	switch flagParam(v, "fixed") {
	case -1:
		return false, false, &inputError{msg: "fixed must be 1, 0, true or false", param: "fixed", offset: -1}
	case 1:
		fixed = true
	}
	switch v.Get("case") {
	case "", "sensitive":
	case "insensitive":
		caseless = true
	case "smart":
		caseless = strings.IndexFunc(pat, func(r rune) bool { return r >= 'A' && r <= 'Z' }) < 0
	default:
		return false, false, &inputError{msg: "case must be sensitive, insensitive or smart", param: "case", offset: -1}
	}
	return caseless, fixed, nil
}

// walkOpts reads depth=, hidden= (default 0: rg's and fd's walk), ignore=
// (default 1), all= (1: hidden=1 ignore=0, rg -uu), exclude= (repeatable:
// fd -E, rg -g '!GLOB') and the context lines: context= (rg -C), before=
// (rg -B) and after= (rg -A), the last two overriding the first. The twin
// reads no ignore file (the C service does): its ignore=1 only keeps the
// walk out of .git, .hg and .svn.
func (q *query) walkOpts(v url.Values) *inputError {
	if d := v.Get("depth"); d != "" {
		n, err := strconv.Atoi(d)
		if err != nil || n < 1 || n > 1000000 {
			return &inputError{msg: "depth must be an integer in 1..1000000", param: "depth", offset: -1}
		}
		q.depth = n
	}
	flag := func(key string, def bool) (bool, *inputError) {
		if v.Get(key) == "" {
			return def, nil
		}
		switch flagParam(v, key) {
		case 0:
			return false, nil
		case 1:
			return true, nil
		}
		return false, &inputError{msg: key + " must be 1, 0, true or false", param: key, offset: -1}
	}
	all, e := flag("all", false)
	if e != nil {
		return e
	}
	if q.hidden, e = flag("hidden", false); e != nil {
		return e
	}
	if q.vcs, e = flag("ignore", true); e != nil {
		return e
	}
	if all {
		q.hidden, q.vcs = true, false
	}
	n := 0
	for _, x := range v["exclude"] {
		if x == "" {
			continue // exclude= (empty): none, as an absent one
		}
		if n++; n > maxExcludes {
			return &inputError{msg: "at most 64 exclude= globs", param: "exclude", offset: -1}
		}
		g, e := newExclude(x)
		if e != nil {
			return e
		}
		q.exclude = append(q.exclude, g)
	}
	ctx := func(key string, def int) (int, *inputError) {
		c := v.Get(key)
		if c == "" {
			return def, nil
		}
		n, err := strconv.Atoi(c)
		if err != nil || n < 0 || n > maxContext {
			return 0, &inputError{msg: "context lines: an integer in 0..100", param: key, offset: -1}
		}
		return n, nil
	}
	c, e := ctx("context", 0)
	if e != nil {
		return e
	}
	if q.before, e = ctx("before", c); e != nil {
		return e
	}
	if q.after, e = ctx("after", c); e != nil {
		return e
	}
	return nil
}

// maxContext bounds context=, before= and after=; maxExcludes exclude=.
const (
	maxContext  = 100
	maxExcludes = 64
)

// excludeGlob is one exclude=: a trailing '/' keeps it to directories; then
// without '/', a glob on base names (fd -E); with one, gitignore's glob on
// the path from the served root, a leading '/' dropped: '*', '?' and
// '[...]' never match '/', a whole "**" component matches any number of
// directories (as the C service).
type excludeGlob struct {
	parts    []string // path.Match globs, one per component ("**" as is)
	dirOnly  bool
	anchored bool // the glob had a '/' (before the trailing one went): match the path
}

func newExclude(x string) (excludeGlob, *inputError) {
	bad := func(msg string) (excludeGlob, *inputError) {
		return excludeGlob{}, &inputError{msg: msg, param: "exclude", offset: -1}
	}
	if strings.IndexByte(x, 0) >= 0 {
		return bad("exclude contains a NUL byte")
	}
	var g excludeGlob
	if strings.HasSuffix(x, "/") {
		g.dirOnly, x = true, x[:len(x)-1]
	}
	// A '/' anywhere (a leading one included) makes it a path glob, as
	// the C service's add_exclude: decided before the leading '/' goes.
	g.anchored = strings.Contains(x, "/")
	x = strings.TrimPrefix(x, "/")
	if x == "" {
		return bad("exclude is empty once its '/' are taken off")
	}
	for _, c := range strings.Split(fnmatchToGo(x), "/") {
		if _, err := path.Match(c, ""); err != nil {
			return bad("invalid glob: syntax error in pattern")
		}
		g.parts = append(g.parts, c)
	}
	return g, nil
}

// match reports whether the entry at rel (its path from the served root)
// named name is left out.
func (g *excludeGlob) match(rel, name string, dir bool) bool {
	if g.dirOnly && !dir {
		return false
	}
	if !g.anchored {
		ok, _ := path.Match(g.parts[0], name)
		return ok
	}
	return matchParts(g.parts, strings.Split(rel, "/"))
}

func matchParts(g, p []string) bool {
	if len(g) == 0 {
		return len(p) == 0
	}
	if g[0] == "**" {
		for i := 0; i <= len(p); i++ {
			if matchParts(g[1:], p[i:]) {
				return true
			}
		}
		return false
	}
	if len(p) == 0 {
		return false
	}
	ok, _ := path.Match(g[0], p[0])
	return ok && matchParts(g[1:], p[1:])
}

// excluded reports whether an entry (its path from the served root, its
// base name) is left out of the walk by hidden=0, ignore=1 (.git, .hg,
// .svn) or exclude=; a left-out entry counts nowhere.
func (q *query) excluded(rel, name string, dir bool) bool {
	if !q.hidden && strings.HasPrefix(name, ".") {
		return true
	}
	if q.vcs && (name == ".git" || name == ".hg" || name == ".svn") {
		return true
	}
	for i := range q.exclude {
		if q.exclude[i].match(rel, name, dir) {
			return true
		}
	}
	return false
}

// setPattern takes the literal fast path when q has no metacharacter (or
// fixed is set) and case matters, else compiles it with Go's regexp in
// multi-line mode (^ and $ at line ends, as grep matches line by line). The
// error text is regexp's own; the offset is where the offending fragment
// starts in q. caseless is Go's (?i): Unicode simple folding, so unlike the C
// service's ASCII-only folding, k also matches U+212A (KELVIN SIGN) and s
// matches U+017F (LONG S).
func (q *query) setPattern(pat string, caseless, fixed bool) *inputError {
	if fixed {
		if i := strings.IndexByte(pat, '\n'); i >= 0 {
			return &inputError{msg: "a fixed string cannot hold a newline (matches never span lines)", param: "q", offset: i}
		}
		if !caseless {
			q.lit = []byte(pat)
			return nil
		}
		pat = regexp.QuoteMeta(pat)
	} else if off, why := dialectCheck(pat); why != "" {
		return &inputError{msg: "unsupported syntax: " + why, param: "q", offset: off}
	} else if !caseless && regexp.QuoteMeta(pat) == pat {
		q.lit = []byte(pat)
		return nil
	}
	if _, err := regexp.Compile(pat); err != nil {
		off := -1
		var se *syntax.Error
		if errors.As(err, &se) {
			if i := strings.Index(pat, se.Expr); i >= 0 && se.Expr != "" {
				off = i
			}
		}
		return &inputError{msg: err.Error(), param: "q", offset: off}
	}
	flags := "(?m)"
	if caseless {
		flags = "(?mi)"
	}
	q.re = regexp.MustCompile(flags + pat)
	return nil
}

// fnmatchToGo turns fnmatch(3)'s "[!...]" into path.Match's "[^...]"; the
// rest of the two syntaxes agree for base names.
func fnmatchToGo(g string) string {
	if !strings.Contains(g, "[!") {
		return g
	}
	b := []byte(g)
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '[':
			if i+1 < len(b) && b[i+1] == '!' {
				b[i+1] = '^'
			}
			for i++; i < len(b) && b[i] != ']'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
		}
	}
	return string(b)
}

// resolveRoot maps the root parameter to a directory inside the served tree:
// relative, no "..", no NUL, and after resolving symlinks still inside it.
func (s *server) resolveRoot(r string) (rel, dir string, e *inputError) {
	bad := func(msg string) (string, string, *inputError) {
		return "", "", &inputError{msg: msg, param: "root", offset: -1}
	}
	if r == "" || r == "." {
		return "", s.root, nil
	}
	if strings.HasPrefix(r, "/") {
		return bad("root must be relative to the served tree")
	}
	if strings.IndexByte(r, 0) >= 0 {
		return bad("root contains a NUL byte")
	}
	for _, c := range strings.Split(r, "/") {
		if c == ".." {
			return bad("root must not contain '..'")
		}
	}
	real, err := filepath.EvalSymlinks(filepath.Join(s.root, r))
	if err != nil {
		return bad("root does not exist in the served tree")
	}
	if real != s.root && !strings.HasPrefix(real, s.root+"/") {
		return bad("root leaves the served tree (symlink)")
	}
	st, err := os.Stat(real)
	if err != nil || !st.IsDir() {
		return bad("root is not a directory")
	}
	if real == s.root {
		return "", real, nil
	}
	return real[len(s.root)+1:], real, nil
}

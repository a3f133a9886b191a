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
		if e := q.setPattern(pat); e != nil {
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
	return q, nil
}

// setPattern takes the literal fast path when q has no metacharacter, else
// compiles it with Go's regexp in multi-line mode (^ and $ at line ends, as
// grep matches line by line). The error text is regexp's own; the offset is
// where the offending fragment starts in q.
func (q *query) setPattern(pat string) *inputError {
	if regexp.QuoteMeta(pat) == pat {
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
	q.re = regexp.MustCompile("(?m)" + pat)
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

package main

import "strings"

// dialectCheck refuses, outside [...] and \Q...\E, the syntax that grep -E
// and this engine would read differently without a word (SEARCH-API, the
// same list as the C service's search/dialect.c): \< \> (grep's word edges;
// Go: a literal < >), \` \' (GNU buffer anchors), {,n} (grep's {0,n}; Go:
// literal text), \A \z \Z \G (they would anchor at the buffer searched, not
// at a line). It returns the byte offset and why, or "" when q is fine.
func dialectCheck(pat string) (int, string) {
	inClass := false
	for i := 0; i < len(pat); i++ {
		c := pat[i]
		if c == '\\' && i+1 < len(pat) {
			e := pat[i+1]
			if e == 'Q' { // literal up to \E
				if k := strings.Index(pat[i+2:], `\E`); k >= 0 {
					i = i + 2 + k + 1
				} else {
					i = len(pat)
				}
				continue
			}
			if !inClass {
				if why := refusedEscape(e); why != "" {
					return i, why
				}
			}
			i++
			continue
		}
		if inClass {
			if c == '[' && i+1 < len(pat) && pat[i+1] == ':' { // [:alpha:]
				if k := strings.Index(pat[i+2:], ":]"); k >= 0 {
					i = i + 2 + k + 1
				}
			} else if c == ']' {
				inClass = false
			}
			continue
		}
		if c == '[' {
			inClass = true
			// A ']' first (after an optional '^') is a member.
			if i+1 < len(pat) && pat[i+1] == '^' {
				i++
			}
			if i+1 < len(pat) && pat[i+1] == ']' {
				i++
			}
			continue
		}
		if c == '{' && emptyMinQuantifier(pat[i:]) {
			return i, "{,n} is literal text in Go's regexp but {0,n} in grep -E: write {0,n}"
		}
	}
	return 0, ""
}

func refusedEscape(e byte) string {
	switch e {
	case '<', '>':
		return `\< and \> (grep's word start and end) are a literal < and > in Go's regexp: use \b`
	case '`', '\'':
		return "\\` and \\' (GNU buffer anchors) are literal characters in Go's regexp: use ^ and $"
	case 'A', 'z', 'Z', 'G':
		return `\A, \z, \Z and \G anchor at the buffer searched (a whole file here), not at a line: use ^ and $`
	}
	return ""
}

// emptyMinQuantifier reports whether p starts with "{,DIGITS}".
func emptyMinQuantifier(p string) bool {
	if len(p) < 4 || p[0] != '{' || p[1] != ',' {
		return false
	}
	i := 2
	for i < len(p) && p[i] >= '0' && p[i] <= '9' {
		i++
	}
	return i > 2 && i < len(p) && p[i] == '}'
}

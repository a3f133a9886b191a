/* search/dialect.c - see dialect.h. */
#include "search/dialect.h"

#include <stdbool.h>
#include <string.h>

static const char *refused(char c)
{
	switch (c) {
	case '<':
	case '>':
		return "\\< and \\> (grep's word start and end) are a literal < and > in PCRE2: "
		       "use \\b";
	case '`':
	case '\'':
		return "\\` and \\' (GNU buffer anchors) are literal characters in PCRE2: use ^ and $";
	case 'A':
	case 'z':
	case 'Z':
	case 'G':
		return "\\A, \\z, \\Z and \\G anchor at the subject (a 16 KiB slice of lines here), "
		       "not at a line: use ^ and $";
	default:
		return NULL;
	}
}

/* The length of "{,DIGITS}" at @p, or 0. */
static size_t empty_min_quantifier(const char *p, size_t n)
{
	if (n < 4 || p[0] != '{' || p[1] != ',')
		return 0;
	size_t i = 2;
	while (i < n && p[i] >= '0' && p[i] <= '9')
		i++;
	return i > 2 && i < n && p[i] == '}' ? i + 1 : 0;
}

int dialect_check(const char *pat, size_t len, size_t *off, const char **msg)
{
	bool in_class = false;
	for (size_t i = 0; i < len; i++) {
		char c = pat[i];
		if (c == '\\' && i + 1 < len) {
			char e = pat[i + 1];
			if (e == 'Q') { /* literal up to \E */
				const char *q = memmem(pat + i + 2, len - i - 2, "\\E", 2);
				i = q ? (size_t)(q - pat) + 1 : len;
				continue;
			}
			if (!in_class && (*msg = refused(e))) {
				*off = i;
				return -1;
			}
			i++;
			continue;
		}
		if (in_class) {
			if (c == '[' && i + 1 < len && pat[i + 1] == ':') { /* [:alpha:] */
				const char *q = memmem(pat + i + 2, len - i - 2, ":]", 2);
				if (q)
					i = (size_t)(q - pat) + 1;
			} else if (c == ']') {
				in_class = false;
			}
			continue;
		}
		if (c == '[') {
			in_class = true;
			/* A ']' first (after an optional '^') is a member. */
			if (i + 1 < len && pat[i + 1] == '^')
				i++;
			if (i + 1 < len && pat[i + 1] == ']')
				i++;
			continue;
		}
		if (c == '{' && empty_min_quantifier(pat + i, len - i)) {
			*off = i;
			*msg = "{,n} is literal text in PCRE2 10.42 but {0,n} in grep -E: write {0,n}";
			return -1;
		}
	}
	return 0;
}

/* search/match.c - see match.h. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "search/match.h"

#include <pcre2.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "search/memfind.h"

struct matcher {
	pcre2_code *code; /* NULL on the literal path */
	char *lit;        /* the literal, or the regex's required literal (NULL: none) */
	size_t litlen;
	struct needle nd; /* over lit */
};

struct match_state {
	pcre2_match_data *md;
	pcre2_match_context *mctx; /* carries the JIT stack */
	pcre2_jit_stack *jit;      /* 32 KiB growing to 4 MiB (PCRE2's default is 32 KiB fixed) */
	/* PCRE2 failed (a resource limit) on a multi-line subject ending
	 * here: the rest of that range is matched one line at a time, so the
	 * failure is confined to the line that causes it. */
	const char *by_line_end;
	size_t ms, me; /* the last hit's first match, as offsets in its line */
};

/* Characters that make a pattern more than a literal (PCRE2's
 * metacharacters outside a class), and '\n', which a per-line search can
 * never match literally. */
static int is_literal(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strchr("\\^$.[]|()?*+{}\n", p[i]) && p[i] != 0)
			return 0;
	return memchr(p, 0, n) == NULL;
}

/* The end of the atom that starts at p[i] (a class, a group or an escape
 * pair), or 0 when the pattern is beyond what required_literal() reads. */
static size_t atom_end(const char *p, size_t n, size_t i)
{
	if (p[i] == '\\') {
		/* Only the escapes that stand for one character of a class or
		 * a zero-width assertion; \Q, \x{..}, \p{..}, \g.. and the
		 * rest give up. */
		if (i + 1 >= n)
			return 0;
		char c = p[i + 1];
		if (strchr("dDwWsSbBhHvVRAzZG", c))
			return i + 2;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
			return 0;
		return i + 2; /* an escaped punctuation character: caller's literal */
	}
	if (p[i] == '[') {
		size_t j = i + 1;
		if (j < n && p[j] == '^')
			j++;
		if (j < n && p[j] == ']')
			j++;
		for (; j < n; j++) {
			if (p[j] == '\\')
				j++;
			else if (p[j] == '[' && j + 1 < n && strchr(":.=", p[j + 1])) {
				const char *e = strstr(p + j + 2, ":]");
				if (!e || (size_t)(e - p) >= n)
					return 0;
				j = (size_t)(e - p) + 1;
			} else if (p[j] == ']')
				return j + 1;
		}
		return 0;
	}
	if (p[i] == '(') {
		/* Options, lookarounds, verbs: give up; but a non-capturing
		 * group "(?:" is a group like any other (an option setting
		 * inside one is scoped to it: PCRE2's rule). */
		if (i + 1 < n && (p[i + 1] == '?' || p[i + 1] == '*') &&
		    !(p[i + 1] == '?' && i + 2 < n && p[i + 2] == ':'))
			return 0;
		int depth = 0;
		for (size_t j = i; j < n; j++) {
			if (p[j] == '\\')
				j++;
			else if (p[j] == '[') {
				size_t e = atom_end(p, n, j);
				if (!e)
					return 0;
				j = e - 1;
			} else if (p[j] == '(')
				depth++;
			else if (p[j] == ')' && --depth == 0)
				return j + 1;
		}
		return 0;
	}
	return i + 1;
}

/* A quantifier at p[i]: its length (with a lazy/possessive suffix) and its
 * minimum in *min; 0 if there is none. */
static size_t quantifier(const char *p, size_t n, size_t i, unsigned long *min)
{
	size_t j = i;
	if (i >= n)
		return 0;
	if (p[i] == '?' || p[i] == '*' || p[i] == '+') {
		*min = p[i] == '+';
		j = i + 1;
	} else if (p[i] == '{') {
		j = i + 1;
		unsigned long v = 0;
		bool digits = false;
		while (j < n && p[j] >= '0' && p[j] <= '9') {
			v = v * 10 + (unsigned long)(p[j++] - '0');
			digits = true;
		}
		if (j < n && p[j] == ',') {
			j++;
			while (j < n && p[j] >= '0' && p[j] <= '9')
				j++;
		} else if (!digits)
			return 0;
		if (j >= n || p[j] != '}')
			return 0;
		j++;
		*min = v;
	} else
		return 0;
	if (j < n && (p[j] == '?' || p[j] == '+'))
		j++;
	return j - i;
}

/*
 * A group "(a|b|...)" at pat[i, e) whose alternatives are all plain
 * literals (characters that are not metacharacters, and escaped
 * punctuation): writes the longest prefix common to every alternative to
 * @pre (its length in *npre) and the longest common suffix to @suf (*nsuf),
 * and returns true.  Every match of the group starts with the prefix and
 * ends with the suffix; when every alternative is the same string, both
 * are that string, and *whole is set.  False (nothing written) for any other group: a nested
 * group, a class, a quantifier, an escape other than punctuation.
 * @pre and @suf have room for e - i bytes each.
 */
static bool literal_group(const char *pat, size_t i, size_t e, char *pre, size_t *npre, char *suf,
			  size_t *nsuf, bool *whole)
{
	/* The alternatives lie in pat[i + 1, e - 1), or pat[i + 3, e - 1)
	 * after "(?:" (other "(?", "(*" were refused by atom_end()).  The
	 * first is kept whole; the common prefix and suffix shrink as each
	 * later one is compared with it. */
	char first[256], alt[256];
	size_t nfirst = 0, cur = 0, np = 0, ns = 0;
	bool have_first = false, same = true;
	if (e - i > sizeof first)
		return false; /* a long group: not worth a scratch allocation */
	for (size_t j = pat[i + 1] == '?' ? i + 3 : i + 1; j < e; j++) {
		char c = pat[j];
		if (j == e - 1 || c == '|') { /* the end of an alternative */
			if (!have_first) {
				memcpy(first, alt, cur);
				nfirst = np = ns = cur;
				have_first = true;
			} else {
				size_t k = 0;
				while (k < np && k < cur && first[k] == alt[k])
					k++;
				np = k;
				k = 0;
				while (k < ns && k < cur &&
				       first[nfirst - 1 - k] == alt[cur - 1 - k])
					k++;
				ns = k;
				same = same && cur == nfirst && np == nfirst;
			}
			cur = 0;
			continue;
		}
		if (c == '\\') {
			/* Escaped ASCII punctuation stands for itself; letters,
			 * digits (classes, back-references, \Q) do not. */
			char d = j + 1 < e - 1 ? pat[j + 1] : 0;
			if (!d || (d >= 'a' && d <= 'z') || (d >= 'A' && d <= 'Z') ||
			    (d >= '0' && d <= '9') || (unsigned char)d >= 0x80)
				return false;
			alt[cur++] = d;
			j++;
			continue;
		}
		if (c == '\n' || c == 0 || strchr("^$.[]()?*+{}", c))
			return false;
		alt[cur++] = c;
	}
	memcpy(pre, first, np);
	memcpy(suf, first + nfirst - ns, ns);
	*npre = np;
	*nsuf = ns;
	*whole = same;
	return true;
}

/*
 * The longest run of literal characters that every match of @pat contains
 * (written to @out, its length returned; 0 if none is known), read from the
 * top level of the pattern only: a top-level '|', an option setting or an
 * escape this reader does not know gives up; classes and groups end a run,
 * except an unquantified group of plain literal alternatives, whose common
 * prefix ends the run before it and whose common suffix starts the next
 * ("(RLock|Lock)\(\)" requires "ock()", "(kmalloc|kzalloc)\(" "alloc(");
 * a quantified character ends a run (and leaves it when it may be absent).
 * Every line that matches contains the run, so matching can look for the
 * run first (memfind) and run PCRE2 only on the lines that contain it.
 */
static size_t required_literal(const char *pat, size_t n, char *out)
{
	size_t best = 0, cur = 0;
	char *run = out + n; /* scratch after out's n bytes (caller gives 2n) */
	for (size_t i = 0; i < n;) {
		char c = pat[i];
		if (c == '|' || c == ')')
			return 0;
		size_t e;
		bool lit;
		char ch = c;
		if (c == '\\') {
			if (!(e = atom_end(pat, n, i)))
				return 0;
			ch = pat[i + 1];
			lit = !((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z'));
		} else if (c == '[' || c == '(') {
			if (!(e = atom_end(pat, n, i)))
				return 0;
			lit = false;
			unsigned long gmin;
			char pre[256], suf[256];
			size_t np, ns;
			bool whole;
			if (c == '(' && quantifier(pat, n, e, &gmin) == 0 &&
			    !(e < n && pat[e] == '{') &&
			    literal_group(pat, i, e, pre, &np, suf, &ns, &whole)) {
				/* Every match holds run + prefix, and suffix
				 * followed by what comes next: the run goes on
				 * through the prefix, ends, and a new one
				 * starts with the suffix (or the run goes
				 * through a group of one string). */
				memcpy(run + cur, pre, np);
				cur += np;
				if (!whole) {
					if (cur > best) {
						best = cur;
						memcpy(out, run, cur);
					}
					memcpy(run, suf, ns);
					cur = ns;
				}
				i = e;
				continue;
			}
		} else if (strchr(".^$", c)) {
			e = i + 1;
			lit = false;
		} else if (strchr("?*+{}", c)) {
			return 0; /* a quantifier with nothing before it */
		} else {
			e = i + 1;
			lit = ch != '\n';
		}
		unsigned long min = 1;
		size_t q = quantifier(pat, n, e, &min);
		if (q == 0 && e < n && pat[e] == '{')
			return 0; /* a '{' that is not a quantifier: not read */
		if (lit && (q == 0 || min >= 1))
			run[cur++] = ch;
		if (!lit || q) {
			if (cur > best) {
				best = cur;
				memcpy(out, run, cur);
			}
			cur = 0;
		}
		i = e + q;
	}
	if (cur > best) {
		best = cur;
		memcpy(out, run, cur);
	}
	return best;
}

struct matcher *matcher_new(const char *pat, size_t len, char *err, size_t errlen, size_t *erroff)
{
	return matcher_new_opts(pat, len, 0, err, errlen, erroff);
}

struct matcher *matcher_new_opts(const char *pat, size_t len, unsigned opts, char *err,
				 size_t errlen, size_t *erroff)
{
	if ((opts & MATCH_FIXED) && memchr(pat, '\n', len)) {
		snprintf(err, errlen, "a fixed string cannot hold a newline (lines are matched)");
		*erroff = (size_t)((const char *)memchr(pat, '\n', len) - pat);
		return NULL;
	}
	struct matcher *m = calloc(1, sizeof *m);
	if (!m) {
		snprintf(err, errlen, "out of memory");
		*erroff = 0;
		return NULL;
	}
	bool caseless = opts & MATCH_CASELESS;
	if (!caseless && ((opts & MATCH_FIXED) ? !memchr(pat, 0, len) : is_literal(pat, len))) {
		m->lit = malloc(len + 1);
		if (!m->lit) {
			free(m);
			snprintf(err, errlen, "out of memory");
			*erroff = 0;
			return NULL;
		}
		memcpy(m->lit, pat, len);
		m->lit[len] = 0;
		m->litlen = len;
		if (len)
			needle_init(&m->nd, m->lit, len);
		return m;
	}
	int code;
	PCRE2_SIZE off;
	/* PCRE2_LITERAL admits no MULTILINE (a literal has no ^ or $). */
	uint32_t flags = (caseless ? PCRE2_CASELESS : 0) |
			 ((opts & MATCH_FIXED) ? PCRE2_LITERAL : PCRE2_MULTILINE);
	m->code = pcre2_compile((PCRE2_SPTR)pat, len, flags, &code, &off, NULL);
	if (!m->code) {
		PCRE2_UCHAR msg[256];
		pcre2_get_error_message(code, msg, sizeof msg);
		snprintf(err, errlen, "%s", (const char *)msg);
		*erroff = off;
		free(m);
		return NULL;
	}
	/* JIT is an optimisation: if it is unavailable, pcre2_match interprets. */
	(void)pcre2_jit_compile(m->code, PCRE2_JIT_COMPLETE);
	/* A required literal of 3 bytes or more prefilters the lines (shorter
	 * ones find too many candidates to beat PCRE2's own start-up scan). */
	/* (Case-sensitive only: memfind compares bytes; and not for a fixed
	 * string, whose metacharacters are plain.) */
	char *req = opts ? NULL : malloc(2 * len + 1);
	if (req) {
		size_t rl = required_literal(pat, len, req);
		if (rl >= 3) {
			m->lit = req;
			m->litlen = rl;
			needle_init(&m->nd, m->lit, rl);
		} else
			free(req);
	}
	return m;
}

void matcher_free(struct matcher *m)
{
	if (!m)
		return;
	pcre2_code_free(m->code);
	free(m->lit);
	free(m);
}

int matcher_is_literal(const struct matcher *m)
{
	return m->code == NULL;
}

void match_span(const struct match_state *st, size_t *ms, size_t *me)
{
	*ms = st->ms;
	*me = st->me;
}

void match_error_message(int rc, char *msg, size_t len)
{
	if (pcre2_get_error_message(rc, (PCRE2_UCHAR *)msg, len) < 0)
		snprintf(msg, len, "matcher error %d", rc);
}

size_t matcher_required_literal(const struct matcher *m, const char **lit)
{
	*lit = m->lit;
	return m->lit ? m->litlen : 0;
}

struct match_state *match_state_new(const struct matcher *m)
{
	struct match_state *st = calloc(1, sizeof *st);
	if (!st)
		return NULL;
	if (m->code) {
		st->md = pcre2_match_data_create_from_pattern(m->code, NULL);
		st->mctx = pcre2_match_context_create(NULL);
		st->jit = pcre2_jit_stack_create(32 << 10, 4 << 20, NULL);
		if (!st->md || !st->mctx || !st->jit) {
			match_state_free(st);
			return NULL;
		}
		pcre2_jit_stack_assign(st->mctx, NULL, st->jit);
	}
	return st;
}

void match_state_free(struct match_state *st)
{
	if (!st)
		return;
	pcre2_match_data_free(st->md);
	pcre2_match_context_free(st->mctx);
	pcre2_jit_stack_free(st->jit);
	free(st);
}

static size_t line_start(const char *buf, size_t from, size_t i)
{
	while (i > from && buf[i - 1] != '\n')
		i--;
	return i;
}

static size_t line_end(const char *buf, size_t end, size_t i)
{
	const char *nl = memchr(buf + i, '\n', end - i);
	return nl ? (size_t)(nl - buf) : end;
}

static int pcre_at(const struct matcher *m, struct match_state *st, const char *buf, size_t len,
		   size_t start, size_t *ms, size_t *me)
{
	int rc = pcre2_match(m->code, (PCRE2_SPTR)buf, len, start, 0, st->md, st->mctx);
	if (rc == PCRE2_ERROR_NOMATCH)
		return 0;
	if (rc < 0)
		return rc;
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(st->md);
	*ms = ov[0];
	*me = ov[1];
	return 1;
}

/* The line [a, z) of a range ending at @end: report it through *ls, *le
 * and set *pos to the next line; returns @rc. */
static int at_line(int rc, size_t a, size_t z, size_t end, size_t *pos, size_t *ls, size_t *le)
{
	*ls = a;
	*le = z;
	*pos = z < end ? z + 1 : end;
	return rc;
}

/* match_next, one line at a time: each line is its own subject. */
static int by_lines(const struct matcher *m, struct match_state *st, const char *buf, size_t end,
		    size_t *pos, size_t *ls, size_t *le)
{
	st->by_line_end = buf + end;
	for (size_t p = *pos; p < end;) {
		size_t z = line_end(buf, end, p), s, e;
		int rc = pcre_at(m, st, buf + p, z - p, 0, &s, &e);
		if (rc > 0) {
			st->ms = s;
			st->me = e;
		}
		if (rc != 0)
			return at_line(rc, p, z, end, pos, ls, le);
		p = z < end ? z + 1 : end;
	}
	st->by_line_end = NULL;
	*pos = end;
	return 0;
}

int match_next(const struct matcher *m, struct match_state *st, const char *buf, size_t end,
	       size_t *pos, size_t *ls, size_t *le)
{
	size_t p = *pos;
	if (m->code && !m->lit && st->by_line_end == buf + end)
		return by_lines(m, st, buf, end, pos, ls, le);
	while (p < end) {
		size_t s, e;
		if (!m->code) {
			if (m->litlen == 0)
				return 0; /* rejected by the handler; never loops */
			const char *hit = memfind(buf + p, end - p, &m->nd);
			if (!hit) {
				*pos = end;
				return 0;
			}
			s = (size_t)(hit - buf);
			e = s + m->litlen;
		} else if (m->lit) {
			/* The regex's required literal first, then PCRE2 on the
			 * line that holds it, alone. */
			const char *hit = memfind(buf + p, end - p, &m->nd);
			if (!hit) {
				*pos = end;
				return 0;
			}
			size_t a = line_start(buf, p, (size_t)(hit - buf));
			size_t z = line_end(buf, end, (size_t)(hit - buf));
			size_t s2 = 0, e2 = 0;
			int rc = pcre_at(m, st, buf + a, z - a, 0, &s2, &e2);
			if (rc == 0) {
				p = z < end ? z + 1 : end;
				continue;
			}
			st->ms = s2;
			st->me = e2;
			return at_line(rc, a, z, end, pos, ls, le);
		} else {
			int rc = pcre_at(m, st, buf, end, p, &s, &e);
			if (rc < 0) {
				*pos = p;
				return by_lines(m, st, buf, end, pos, ls, le);
			}
			if (rc == 0) {
				*pos = end;
				return 0;
			}
		}
		if (s >= end && (end == 0 || buf[end - 1] == '\n')) {
			/* An empty match after the range's last '\n' is not
			 * on a line of this range. */
			*pos = end;
			return 0;
		}
		size_t a = line_start(buf, p, s);
		size_t z = line_end(buf, end, s);
		if (e > z) {
			/* The candidate crosses the line's end: try the line
			 * alone (its own subject, so nothing beyond is seen). */
			size_t s2 = 0, e2 = 0;
			int rc = pcre_at(m, st, buf + a, z - a, 0, &s2, &e2);
			if (rc < 0)
				return at_line(rc, a, z, end, pos, ls, le);
			if (rc == 0) {
				p = z < end ? z + 1 : end;
				continue;
			}
			s = a + s2;
			e = a + e2;
		}
		st->ms = s - a;
		st->me = (e > z ? z : e) - a;
		*ls = a;
		*le = z;
		*pos = z < end ? z + 1 : end;
		return 1;
	}
	*pos = end;
	return 0;
}

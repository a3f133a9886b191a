/* search/match.c - see match.h. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "search/match.h"

#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct matcher {
	pcre2_code *code; /* NULL on the literal path */
	char *lit;
	size_t litlen;
};

struct match_state {
	pcre2_match_data *md;
	pcre2_match_context *mctx; /* carries the JIT stack */
	pcre2_jit_stack *jit;      /* 32 KiB growing to 4 MiB (PCRE2's default is 32 KiB fixed) */
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

struct matcher *matcher_new(const char *pat, size_t len, char *err, size_t errlen, size_t *erroff)
{
	struct matcher *m = calloc(1, sizeof *m);
	if (!m) {
		snprintf(err, errlen, "out of memory");
		*erroff = 0;
		return NULL;
	}
	if (is_literal(pat, len)) {
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
		return m;
	}
	int code;
	PCRE2_SIZE off;
	m->code = pcre2_compile((PCRE2_SPTR)pat, len, PCRE2_MULTILINE, &code, &off, NULL);
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
		return -1;
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(st->md);
	*ms = ov[0];
	*me = ov[1];
	return 1;
}

int match_next(const struct matcher *m, struct match_state *st, const char *buf, size_t end,
	       size_t *pos, size_t *ls, size_t *le)
{
	size_t p = *pos;
	while (p < end) {
		size_t s, e;
		if (!m->code) {
			if (m->litlen == 0)
				return 0; /* rejected by the handler; never loops */
			const char *hit = memmem(buf + p, end - p, m->lit, m->litlen);
			if (!hit) {
				*pos = end;
				return 0;
			}
			s = (size_t)(hit - buf);
			e = s + m->litlen;
		} else {
			int rc = pcre_at(m, st, buf, end, p, &s, &e);
			if (rc <= 0) {
				*pos = end;
				return rc;
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
			size_t s2, e2;
			int rc = pcre_at(m, st, buf + a, z - a, 0, &s2, &e2);
			if (rc < 0) {
				*pos = end;
				return rc;
			}
			if (rc == 0) {
				p = z < end ? z + 1 : end;
				continue;
			}
		}
		*ls = a;
		*le = z;
		*pos = z < end ? z + 1 : end;
		return 1;
	}
	*pos = end;
	return 0;
}

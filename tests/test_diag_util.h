/*
 * tests/test_diag_util.h - helpers of the diagnostics tests and stress
 * program: capture what a function writes to a FILE* or to stderr, and a
 * tiny strict JSON checker (RFC 8259 grammar; no semantic checks), so the
 * tests can assert that godiag_dump_json() really parses.
 */
#ifndef GOCHAN_TESTS_TEST_DIAG_UTIL_H
#define GOCHAN_TESTS_TEST_DIAG_UTIL_H

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- JSON checker ---------------------------------------------------------- */

struct tj {
	const char *p;
	int depth;
};

static void tj_ws(struct tj *j)
{
	while (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')
		j->p++;
}

static bool tj_value(struct tj *j);

static bool tj_string(struct tj *j)
{
	if (*j->p != '"')
		return false;
	for (j->p++;; j->p++) {
		unsigned char ch = (unsigned char)*j->p;

		if (ch == '"') {
			j->p++;
			return true;
		}
		if (ch < 0x20)
			return false; /* raw control byte (or the end): invalid */
		if (ch == '\\') {
			j->p++;
			if (*j->p == 'u') {
				for (int k = 1; k <= 4; k++)
					if (!isxdigit((unsigned char)j->p[k]))
						return false;
				j->p += 4;
			} else if (!strchr("\"\\/bfnrt", *j->p) || !*j->p) {
				return false;
			}
		}
	}
}

static bool tj_number(struct tj *j)
{
	const char *s = j->p;

	if (*j->p == '-')
		j->p++;
	if (*j->p == '0')
		j->p++;
	else if (isdigit((unsigned char)*j->p))
		while (isdigit((unsigned char)*j->p))
			j->p++;
	else
		return false;
	if (*j->p == '.') {
		j->p++;
		if (!isdigit((unsigned char)*j->p))
			return false;
		while (isdigit((unsigned char)*j->p))
			j->p++;
	}
	if (*j->p == 'e' || *j->p == 'E') {
		j->p++;
		if (*j->p == '+' || *j->p == '-')
			j->p++;
		if (!isdigit((unsigned char)*j->p))
			return false;
		while (isdigit((unsigned char)*j->p))
			j->p++;
	}
	return j->p > s;
}

static bool tj_seq(struct tj *j, char open, char close, bool object)
{
	if (*j->p != open || ++j->depth > 64)
		return false;
	j->p++;
	tj_ws(j);
	if (*j->p == close) {
		j->p++;
		j->depth--;
		return true;
	}
	for (;;) {
		tj_ws(j);
		if (object) {
			if (!tj_string(j))
				return false;
			tj_ws(j);
			if (*j->p++ != ':')
				return false;
		}
		if (!tj_value(j))
			return false;
		tj_ws(j);
		if (*j->p == ',') {
			j->p++;
			continue;
		}
		if (*j->p++ != close)
			return false;
		j->depth--;
		return true;
	}
}

static bool tj_value(struct tj *j)
{
	tj_ws(j);
	switch (*j->p) {
	case '{':
		return tj_seq(j, '{', '}', true);
	case '[':
		return tj_seq(j, '[', ']', false);
	case '"':
		return tj_string(j);
	case 't':
		return strncmp(j->p, "true", 4) == 0 && (j->p += 4);
	case 'f':
		return strncmp(j->p, "false", 5) == 0 && (j->p += 5);
	case 'n':
		return strncmp(j->p, "null", 4) == 0 && (j->p += 4);
	default:
		return tj_number(j);
	}
}

/* Whether @s is exactly one valid JSON value (whitespace around allowed). */
__attribute__((unused)) static bool tj_valid(const char *s)
{
	struct tj j = {s, 0};

	if (!s || !tj_value(&j))
		return false;
	tj_ws(&j);
	return *j.p == '\0';
}

/* ---- capturing output ------------------------------------------------------ */

/* godiag_dump into a malloc'd string (caller frees); NULL on failure. */
__attribute__((unused)) static char *td_dump_text(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	int err = godiag_dump(f);

	fclose(f);
	if (err) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* Redirect fd 2 into a temporary file; td_stderr_end restores it and
 * returns what was written (malloc'd). */
struct td_capture {
	int saved, fd;
};

__attribute__((unused)) static bool td_stderr_begin(struct td_capture *c)
{
	char path[] = "/tmp/gochan-diag-XXXXXX";

	fflush(stderr);
	c->fd = mkstemp(path);
	if (c->fd < 0)
		return false;
	unlink(path);
	c->saved = dup(2);
	return c->saved >= 0 && dup2(c->fd, 2) == 2;
}

__attribute__((unused)) static char *td_stderr_end(struct td_capture *c)
{
	fflush(stderr);
	dup2(c->saved, 2);
	close(c->saved);
	off_t n = lseek(c->fd, 0, SEEK_END);
	char *buf = malloc((size_t)n + 1);

	if (buf && pread(c->fd, buf, (size_t)n, 0) == n)
		buf[n] = '\0';
	else if (buf)
		buf[0] = '\0';
	close(c->fd);
	return buf;
}

#endif

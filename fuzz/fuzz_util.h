/*
 * fuzz/fuzz_util.h - what the harnesses share: reading the input one byte at
 * a time (zeros past the end, so every input is a complete program) and
 * appending to a bounded text buffer (the trace printed on a divergence).
 */
#ifndef GOCHAN_FUZZ_UTIL_H
#define GOCHAN_FUZZ_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The next input byte, or 0 once the input is exhausted. */
static inline uint8_t fz_next(const uint8_t *d, size_t n, size_t *pos)
{
	return *pos < n ? d[(*pos)++] : 0;
}

/* printf into buf[*len..cap), truncating silently; *len never passes cap-1. */
static inline void fz_vappendf(char *buf, size_t cap, size_t *len, const char *fmt, va_list ap)
{
	size_t room = cap - *len;
	int k = vsnprintf(buf + *len, room, fmt, ap);

	if (k > 0)
		*len += (size_t)k < room ? (size_t)k : room - 1;
}

#endif

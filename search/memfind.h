/*
 * search/memfind.h - the byte-level primitives the matcher runs over every
 * byte searched: a substring search (the literal fast path, and the
 * required-literal prefilter of a regex) and a newline count.
 *
 * memfind compares two of the needle's rarest bytes (by a fixed table of
 * byte frequencies in text and code) 32 or 16 positions at a time (AVX2 or
 * SSE2 where the compiler targets them, a scalar loop elsewhere) and checks
 * the whole needle only where both match: glibc's memmem (two-way, a byte
 * at a time) was 13% of a literal scan's profile, its memchr called once a
 * line to count newlines 17%.
 */
#ifndef GOCHAN_SEARCH_MEMFIND_H
#define GOCHAN_SEARCH_MEMFIND_H

#include <stddef.h>

struct needle {
	const unsigned char *p; /* the bytes (not owned; outlive the needle) */
	size_t len;             /* >= 1 */
	size_t i1, i2;          /* offsets of the two rarest bytes (i1 == i2 when len == 1) */
};

/* Prepare @len (>= 1) bytes at @p. */
void needle_init(struct needle *nd, const void *p, size_t len);

/* The first occurrence of the needle in h[0, n), or NULL. */
const char *memfind(const char *h, size_t n, const struct needle *nd);

/* Number of '\n' bytes in p[0, n). */
size_t count_newlines(const char *p, size_t n);

#endif

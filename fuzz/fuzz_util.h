/*
 * fuzz/fuzz_util.h - what the harnesses share: reading the input one byte at
 * a time (zeros past the end, so every input is a complete program) and
 * appending to a bounded text buffer (the trace printed on a divergence),
 * and what a bubble-mode run's report says is wrong.
 */
#ifndef GOCHAN_FUZZ_UTIL_H
#define GOCHAN_FUZZ_UTIL_H

#include <gochan/bubble.h>
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

/*
 * What a bubble-mode run's @rep says went wrong, written into buf[0..cap),
 * or NULL when nothing did: a verdict other than OK (every operation of the
 * scripts has a deadline, so nothing may stay blocked: the bubble's verdict
 * is the watchdog), or any contact with the outside (the run would not
 * replay).  Shared by the harnesses' bubble modes.
 */
static inline const char *fz_bubble_problem(const gobubble_report *rep, char *buf, size_t cap)
{
	if (rep->verdict != GOBUBBLE_OK)
		snprintf(buf, cap,
			 "bubble verdict %s (seed %llu, %llu fibers blocked; listing above)",
			 rep->verdict == GOBUBBLE_DEADLOCK ? "DEADLOCK" : "LEAK",
			 (unsigned long long)rep->seed, (unsigned long long)rep->blocked);
	else if (rep->outside || rep->thread_wakes || rep->worker_blocks)
		snprintf(buf, cap,
			 "the bubble saw the outside (%llu outside readies, %llu thread wakes, "
			 "%llu worker blocks): not replayable",
			 (unsigned long long)rep->outside, (unsigned long long)rep->thread_wakes,
			 (unsigned long long)rep->worker_blocks);
	else
		return NULL;
	return buf;
}

#endif

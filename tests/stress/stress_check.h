/*
 * tests/stress/stress_check.h - the CHECK counter shared by the stress
 * programs that count their assertions: every CHECK adds to passed or
 * failed (relaxed: the counts are read after every thread is joined, and
 * the join orders them), and the first 20 failures are printed.
 */
#ifndef GOCHAN_TESTS_STRESS_CHECK_H
#define GOCHAN_TESTS_STRESS_CHECK_H

#include <stdatomic.h>
#include <stdio.h>

static atomic_long passed, failed;

#define CHECK(cond, ...)                                                                        \
	do {                                                                                    \
		if (cond) {                                                                     \
			atomic_fetch_add_explicit(&passed, 1, memory_order_relaxed);            \
		} else {                                                                        \
			if (atomic_fetch_add_explicit(&failed, 1, memory_order_relaxed) < 20) { \
				fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
				fprintf(stderr, __VA_ARGS__);                                   \
				fputc('\n', stderr);                                            \
			}                                                                       \
		}                                                                               \
	} while (0)

#endif

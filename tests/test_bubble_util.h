/*
 * tests/test_bubble_util.h - one test body, two runs (issue 19): on the
 * test's own thread in real time, and again as the first fiber of a bubble
 * (gochan/bubble.h) on its virtual clock.
 *
 *   TB_SUITE(s)                  the leak-checked suites s and s_bubble
 *   TB_TEST(s, name, .timeout = N) { body }
 *                                Test(s, name) runs the body on the test's
 *                                thread; Test(s_bubble, name) runs the same
 *                                body in gobubble_run (seed 0, or
 *                                GOCHAN_SEED) and asserts that the bubble
 *                                ended cleanly and replayably: verdict OK,
 *                                no fiber left blocked, no ready from
 *                                outside, no thread wait on its worker.
 *   tb_in_bubble()               whether the body runs in the bubble now
 *   TB_EXACT(got, want)          in the bubble, got == want (the virtual
 *                                clock is exact); on a thread nothing (the
 *                                body's own bounds are what hold there)
 *
 * With TB_TIMES set in the environment, each run writes a line to stderr:
 * "tb-time SUITE/NAME thread|bubble REAL_NS [VIRTUAL_NS]", the real time of
 * the body (of gobubble_run, for the bubble) and the bubble's virtual time:
 * figures for the table in docs/design-bubble.md, never asserted.
 *
 * In the bubble every wait in the body (tt_recv, tt_flush, a deadline) ends
 * when the virtual clock reaches it, at once in real time, and chan_now()
 * moves only by those jumps: a value a thread run can only bound from
 * below (a timer's due time, the instant a deadline passed) is exact there.
 * A body that starts threads, reads the thread-only counters
 * (gotime__threads_live) or waits on a real fd cannot run there: such tests
 * stay plain Test()s (docs/design-bubble.md lists them, and why).
 */
#ifndef GOCHAN_TESTS_TEST_BUBBLE_UTIL_H
#define GOCHAN_TESTS_TEST_BUBBLE_UTIL_H

#include <criterion/criterion.h>
#include <gochan/bubble.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "tests/leakcheck.h"

struct tb_body {
	void (*fn)(void);
};

static inline void tb_trampoline(void *arg)
{
	((struct tb_body *)arg)->fn();
}

static inline bool tb_in_bubble(void)
{
	return gobubble_now() >= 0;
}

static inline int64_t tb_real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Run @fn on this thread (real time). */
static inline void tb_run_on_thread(void (*fn)(void), const char *name)
{
	int64_t t0 = tb_real_ns();

	fn();
	if (getenv("TB_TIMES"))
		fprintf(stderr, "tb-time %s thread %lld\n", name, (long long)(tb_real_ns() - t0));
}

/* Run @fn as the first fiber of a bubble and check the run was clean. */
static inline void tb_run_in_bubble(void (*fn)(void), const char *name)
{
	struct tb_body body = {fn};
	gobubble_opts o = {.dump = stderr};
	gobubble_report r;
	int64_t t0 = tb_real_ns();

	cr_assert_eq(gobubble_run(&o, tb_trampoline, &body, &r), 0, "%s: gobubble_run", name);
	if (getenv("TB_TIMES"))
		fprintf(stderr, "tb-time %s bubble %lld %lld\n", name,
			(long long)(tb_real_ns() - t0), (long long)r.elapsed_ns);
	cr_assert_eq(r.verdict, GOBUBBLE_OK, "%s (seed %llu): verdict %d", name,
		     (unsigned long long)r.seed, (int)r.verdict);
	cr_assert_eq(r.blocked, 0, "%s: fibers left blocked", name);
	cr_assert_eq(r.outside, 0, "%s: readies from outside the bubble", name);
	cr_assert_eq(r.worker_blocks, 0, "%s: a thread wait on the bubble's worker", name);
}

#define TB_SUITE(suite)               \
	TU_LEAK_CHECKED_SUITE(suite); \
	TU_LEAK_CHECKED_SUITE(suite##_bubble)

/* The body is a static function; the two Test()s call it. */
#define TB_TEST(suite, name, ...)                                             \
	static void tb_body_##suite##_##name(void);                           \
	Test(suite, name, __VA_ARGS__)                                        \
	{                                                                     \
		tb_run_on_thread(tb_body_##suite##_##name, #suite "/" #name); \
	}                                                                     \
	Test(suite##_bubble, name, __VA_ARGS__)                               \
	{                                                                     \
		tb_run_in_bubble(tb_body_##suite##_##name, #suite "/" #name); \
	}                                                                     \
	static void tb_body_##suite##_##name(void)

#define TB_EXACT(got, want)                                                            \
	do {                                                                           \
		if (tb_in_bubble())                                                    \
			cr_assert_eq((long long)(got), (long long)(want),              \
				     "virtual clock: %s = %lld, want %s = %lld", #got, \
				     (long long)(got), #want, (long long)(want));      \
	} while (0)

#endif

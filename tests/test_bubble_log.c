/*
 * tests/test_bubble_log.c - the bubble's decision log (gochan/bubble.h,
 * issue 19): a recorded list replays to the same trace (byte for byte,
 * 100 of 100), its text form reads back equal, a list that no longer fits
 * is clamped and counted and past its end every draw answers 0, fuzz bytes
 * are a source of their own, and gobubble_shrink returns a list that still
 * fails and is not longer.
 */
#include <criterion/criterion.h>
#include <gochan/bubble.h>
#include <gochan/chan.h>
#include <gochan/fiber.h>
#include <gochan/select.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/leakcheck.h"

TU_LEAK_CHECKED_SUITE(bubble_log);

/* ---- a program whose output is its schedule (as tests/test_bubble.c) ---- */

#define WORKERS 3
#define ROUNDS 4

#include "tests/test_bubble_prog.h"

/* One run with @o (ignore_env forced); its output into @out. */
static void run_with(gobubble_opts o, char *out, size_t cap, gobubble_report *r)
{
	struct prog p = {.a = chan_new(sizeof(long), 0),
			 .b = chan_new(sizeof(long), 0),
			 .done = chan_new(sizeof(long), 0)};

	o.ignore_env = true;
	cr_assert(p.a && p.b && p.done);
	cr_assert_eq(gobubble_run(&o, program, &p, r), 0);
	cr_assert_eq(r->verdict, GOBUBBLE_OK);
	p.out[p.len] = '\0';
	snprintf(out, cap, "%s", p.out);
	chan_unref(p.a);
	chan_unref(p.b);
	chan_unref(p.done);
}

Test(bubble_log, recorded_list_replays_the_same_trace)
{
	for (uint64_t seed = 1; seed <= 5; seed++) {
		char first[512], again[512];
		gobubble_report r, rr;

		run_with((gobubble_opts){.seed = seed, .record = true}, first, sizeof first, &r);
		cr_assert_gt(r.log_len, 0);
		cr_assert_eq(r.log_len, r.decisions, "one log entry per draw");
		cr_assert(!r.log_short);
		for (size_t i = 0; i < r.log_len; i++)
			if (r.log[i].kind != GOBUBBLE_BITS)
				cr_assert_lt(r.log[i].chosen, r.log[i].n);
		for (int i = 0; i < 100; i++) {
			/* A different seed: the list, not the seed, decides. */
			run_with((gobubble_opts){.seed = seed + 1000,
						 .replay = r.log,
						 .replay_len = r.log_len,
						 .record = true},
				 again, sizeof again, &rr);
			cr_assert_str_eq(again, first, "seed %llu replay %d",
					 (unsigned long long)seed, i);
			cr_assert_eq(rr.misfits, 0);
			cr_assert_eq(rr.past_end, 0);
			cr_assert_eq(rr.log_len, r.log_len);
			cr_assert_eq(memcmp(rr.log, r.log, r.log_len * sizeof *r.log), 0,
				     "the replay's own log equals the list");
			free(rr.log);
		}
		free(r.log);
	}
}

Test(bubble_log, text_round_trip)
{
	gobubble_report r;
	char out[512];
	gobubble_decision *back = NULL;
	size_t n = 0;
	FILE *f = tmpfile();

	cr_assert(f);
	run_with((gobubble_opts){.seed = 9, .record = true}, out, sizeof out, &r);
	cr_assert_eq(gobubble_decisions_write(f, r.log, r.log_len), 0);
	rewind(f);
	cr_assert_eq(gobubble_decisions_read(f, &back, &n), 0);
	cr_assert_eq(n, r.log_len);
	cr_assert_eq(memcmp(back, r.log, n * sizeof *back), 0);
	fclose(f);
	free(back);
	free(r.log);

	/* Malformed: an unknown kind, a missing number, trailing junk. */
	static const char *const bad[] = {"jump 2 1\n", "pick 2\n", "pick 2 1 x\n"};

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		f = tmpfile();
		cr_assert(f);
		fputs("# comment\n\npick 3 2\n", f);
		fputs(bad[i], f);
		rewind(f);
		back = NULL;
		cr_assert_eq(gobubble_decisions_read(f, &back, &n), EINVAL, "%s", bad[i]);
		cr_assert_null(back);
		fclose(f);
	}
}

/* Past the end every draw answers 0: an empty list is the all-default
 * schedule, the same as a list of zeros, and misfits are clamped. */
Test(bubble_log, past_end_and_misfits)
{
	gobubble_report r, z, m;
	char empty[512], zeros[512], clamped[512], last[512];
	gobubble_decision none[1];

	run_with((gobubble_opts){.replay = none, .replay_len = 0, .record = true}, empty,
		 sizeof empty, &r);
	cr_assert_gt(r.past_end, 0);
	cr_assert_eq(r.past_end, r.decisions);
	for (size_t i = 0; i < r.log_len; i++)
		cr_assert_eq(r.log[i].chosen, 0);
	run_with((gobubble_opts){.replay = r.log, .replay_len = r.log_len}, zeros, sizeof zeros,
		 &z);
	cr_assert_str_eq(zeros, empty);
	cr_assert_eq(z.past_end, 0);

	/* Every entry too big: each choice becomes n - 1, counted. */
	gobubble_decision *big = malloc(r.log_len * sizeof *big);
	gobubble_decision *top = malloc(r.log_len * sizeof *top);

	cr_assert(big && top);
	for (size_t i = 0; i < r.log_len; i++)
		big[i] = (gobubble_decision){.kind = GOBUBBLE_OTHER, .n = 0, .chosen = 1000};
	run_with((gobubble_opts){.replay = big, .replay_len = r.log_len, .record = true}, clamped,
		 sizeof clamped, &m);
	cr_assert_gt(m.misfits, 0);
	for (size_t i = 0; i < m.log_len && i < r.log_len; i++)
		top[i] = m.log[i];
	/* The clamped run's own log replays it with no misfit. */
	gobubble_report t;

	run_with((gobubble_opts){.replay = top,
				 .replay_len = m.log_len < r.log_len ? m.log_len : r.log_len},
		 last, sizeof last, &t);
	if (m.log_len <= r.log_len) {
		cr_assert_str_eq(last, clamped);
		cr_assert_eq(t.misfits, 0);
	}
	free(big);
	free(top);
	free(m.log);
	free(r.log);
}

Test(bubble_log, fuzz_bytes_are_a_source)
{
	static const uint8_t in[] = {7, 200, 3, 99, 1, 0, 255, 17, 42, 42, 9, 128};
	char first[512], again[512], other[512];
	gobubble_report r, rr;

	run_with((gobubble_opts){.fuzz_input = in, .fuzz_len = sizeof in, .record = true}, first,
		 sizeof first, &r);
	cr_assert_gt(r.past_end, 0, "a 12-byte input runs out");
	run_with((gobubble_opts){.seed = 5, .fuzz_input = in, .fuzz_len = sizeof in}, again,
		 sizeof again, &rr);
	cr_assert_str_eq(again, first, "the bytes, not the seed, decide");
	/* The recorded log replays the fuzzed run. */
	run_with((gobubble_opts){.replay = r.log, .replay_len = r.log_len}, other, sizeof other,
		 &rr);
	cr_assert_str_eq(other, first);
	free(r.log);
}

/* ---- shrinking a lost update ---- */

struct counter {
	int value;
	chan_t *log;
};

static void increment(void *arg)
{
	struct counter *c = arg;
	int x = c->value;
	long one = 1;

	(void)chan_send(c->log, &one); /* buffered: never blocks; a switch point */
	c->value = x + 1;
}

static void many_increments(void *arg)
{
	gofiber_group_t *g = gofiber_group_new();

	cr_assert(g);
	for (int i = 0; i < 6; i++)
		cr_assert_eq(gofiber_go(g, increment, arg), 0);
	cr_assert_eq(gofiber_group_wait(g), 0);
	gofiber_group_free(g);
}

static int lost_update(gobubble_opts o, gobubble_report *r)
{
	struct counter c = {0, chan_new(sizeof(long), 8)};

	o.ignore_env = true;
	o.switch_points = true;
	cr_assert_eq(gobubble_run(&o, many_increments, &c, r), 0);
	cr_assert_eq(r->verdict, GOBUBBLE_OK);
	chan_unref(c.log);
	return c.value;
}

static bool loses_update(const gobubble_decision *list, size_t n, void *ctx)
{
	gobubble_report r;

	(void)ctx;
	return lost_update((gobubble_opts){.replay = list, .replay_len = n}, &r) != 6;
}

static bool never_fails(const gobubble_decision *list, size_t n, void *ctx)
{
	(void)list;
	(void)n;
	(void)ctx;
	return false;
}

Test(bubble_log, shrink_keeps_the_failure)
{
	gobubble_report r;
	uint64_t seed = 0;

	for (uint64_t s = 1; s <= 200 && !seed; s++)
		if (lost_update((gobubble_opts){.seed = s}, &r) != 6)
			seed = s;
	cr_assert_neq(seed, 0, "no seed of 200 lost an update");
	cr_assert_neq(lost_update((gobubble_opts){.seed = seed, .record = true}, &r), 6);
	size_t before = r.log_len, n = r.log_len;
	uint64_t runs = 0;

	cr_assert_eq(gobubble_shrink(r.log, &n, loses_update, NULL, 0, &runs), 0);
	cr_assert_leq(n, before);
	cr_assert_gt(runs, 0);
	for (int i = 0; i < 100; i++)
		cr_assert(loses_update(r.log, n, NULL), "the shrunk list fails (replay %d)", i);
	/* Every entry left is needed at its value: a shorter list does not
	 * fail by dropping the last one (1-minimality at the end). */
	if (n > 0)
		cr_assert(!loses_update(r.log, n - 1, NULL));
	free(r.log);

	gobubble_decision one = {GOBUBBLE_PICK, 2, 1};
	size_t k = 1;

	cr_assert_eq(gobubble_shrink(&one, &k, never_fails, NULL, 0, NULL), EINVAL,
		     "a list that does not fail");
	cr_assert_eq(k, 1);
}

/*
 * tests/test_bubble.c - the bubble (gochan/bubble.h, issue 19): a seed
 * replays an execution exactly (the same output byte for byte over 100
 * runs) and different seeds give different ones; seed 0 is FIFO; virtual
 * time (a 30 s timeout completes at exactly 30 s on the bubble's clock);
 * the deadlock and leak verdicts.  No assertion on real time anywhere.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <gochan/bubble.h>
#include <gochan/chan.h>
#include <gochan/context.h>
#include <gochan/diag.h>
#include <gochan/fiber.h>
#include <gochan/select.h>
#include <gochan/time.h>
#include <stdio.h>
#include <string.h>

#include "fiber/sanitize.h" /* gofiber__lsan_keep */
#include "tests/leakcheck.h"

TU_LEAK_CHECKED_SUITE(bubble);
/* The deadlock and leak verdicts leave fibers parked on purpose (each
 * Criterion test runs in its own process): not leak-checked. */
TestSuite(bubble_verdict);

/* ---- a program whose output is its schedule ---- */

#define WORKERS 4
#define ROUNDS 5

#include "tests/test_bubble_prog.h"

static void run_program(uint64_t seed, char *out, size_t cap)
{
	struct prog p = {.a = chan_new(sizeof(long), 0),
			 .b = chan_new(sizeof(long), 0),
			 .done = chan_new(sizeof(long), 0)};
	gobubble_opts o = {.seed = seed, .ignore_env = true, .dump = stderr};
	gobubble_report r;

	cr_assert(p.a && p.b && p.done);
	cr_assert_eq(gobubble_run(&o, program, &p, &r), 0);
	cr_assert_eq(r.verdict, GOBUBBLE_OK, "seed %llu: verdict %d", (unsigned long long)seed,
		     (int)r.verdict);
	cr_assert_eq(r.blocked, 0);
	cr_assert_eq(r.fibers, 1 + WORKERS);
	cr_assert_eq(r.seed, seed);
	p.out[p.len] = '\0';
	snprintf(out, cap, "%s", p.out);
	chan_unref(p.a);
	chan_unref(p.b);
	chan_unref(p.done);
}

Test(bubble, same_seed_same_output)
{
	static const uint64_t seeds[] = {1, 42, 0xdeadbeef};

	for (size_t s = 0; s < sizeof seeds / sizeof *seeds; s++) {
		char first[512], again[512];

		run_program(seeds[s], first, sizeof first);
		for (int i = 0; i < 100; i++) {
			run_program(seeds[s], again, sizeof again);
			cr_assert_str_eq(again, first, "seed %llu run %d differs",
					 (unsigned long long)seeds[s], i);
		}
	}
}

Test(bubble, different_seeds_differ)
{
	char outs[20][512];
	int distinct = 0;

	for (int s = 0; s < 20; s++) {
		run_program((uint64_t)s + 1, outs[s], sizeof outs[s]);
		bool seen = false;

		for (int t = 0; t < s && !seen; t++)
			seen = strcmp(outs[t], outs[s]) == 0;
		distinct += !seen;
	}
	/* 20 seeds over thousands of possible schedules: a collision of a few
	 * is possible, a single schedule for all would mean no seeding. */
	cr_assert_geq(distinct, 10, "only %d distinct outputs of 20 seeds", distinct);
}

/* Seed 0 is the default order: FIFO, the workers' first letters in the
 * order they were started. */
Test(bubble, seed_zero_is_fifo)
{
	char out[512];

	run_program(0, out, sizeof out);
	cr_assert_eq(strncmp(out, "abcd", 4), 0, "output %s", out);
}

/* ---- virtual time ---- */

struct timeout {
	int err;
	int64_t start, end, api_now;
};

static void wait_30s(void *arg)
{
	struct timeout *t = arg;
	chan_t *c = chan_new(sizeof(long), 0);
	long v;
	bool ok;

	t->start = chan_now();
	t->err = chan_recv_until(c, &v, &ok, chan_deadline_in(30 * INT64_C(1000000000)));
	t->end = chan_now();
	t->api_now = gobubble_now();
	chan_unref(c);
}

Test(bubble, timeout_30s_virtual)
{
	struct timeout t = {0};
	gobubble_report r;
	gobubble_opts o = {.ignore_env = true, .dump = stderr};

	cr_assert_eq(gobubble_run(&o, wait_30s, &t, &r), 0);
	cr_assert_eq(r.verdict, GOBUBBLE_OK);
	cr_assert_eq(t.err, ETIMEDOUT);
	cr_assert_eq(t.start, GOBUBBLE_EPOCH);
	cr_assert_eq(t.end - t.start, 30 * INT64_C(1000000000));
	cr_assert_eq(t.api_now, t.end);
	cr_assert_eq(r.elapsed_ns, 30 * INT64_C(1000000000));
	cr_assert_eq(gobubble_now(), -1); /* outside: no bubble clock */
}

/* Two sleepers and a sender: the clock visits each deadline in order, and
 * a receive completed before its deadline does not move the clock. */
struct sleeper {
	chan_t *c;
	int64_t ns;
	int err;
	int64_t woke;
};

static void sleeper(void *arg)
{
	struct sleeper *s = arg;
	long v;
	bool ok;

	s->err = chan_recv_until(s->c, &v, &ok, chan_deadline_in(s->ns));
	s->woke = chan_now() - GOBUBBLE_EPOCH;
}

static void sleepers(void *arg)
{
	struct sleeper *s = arg;
	gofiber_group_t *g = gofiber_group_new();
	long v = 1;

	for (int i = 0; i < 3; i++)
		cr_assert_eq(gofiber_go(g, sleeper, &s[i]), 0);
	/* Let all three park, then satisfy the third before any deadline. */
	gofiber_yield();
	cr_assert_eq(chan_send(s[2].c, &v), 0);
	cr_assert_eq(gofiber_group_wait(g), 0);
	gofiber_group_free(g);
}

Test(bubble, deadlines_in_order)
{
	chan_t *c0 = chan_new(sizeof(long), 0), *c1 = chan_new(sizeof(long), 0),
	       *c2 = chan_new(sizeof(long), 0);
	struct sleeper s[3] = {{c0, 5 * INT64_C(1000000000), -1, 0},
			       {c1, 2 * INT64_C(1000000000), -1, 0},
			       {c2, 9 * INT64_C(1000000000), -1, 0}};
	gobubble_report r;
	gobubble_opts o = {.ignore_env = true, .dump = stderr};

	cr_assert_eq(gobubble_run(&o, sleepers, s, &r), 0);
	cr_assert_eq(r.verdict, GOBUBBLE_OK);
	cr_assert_eq(s[0].err, ETIMEDOUT);
	cr_assert_eq(s[0].woke, 5 * INT64_C(1000000000));
	cr_assert_eq(s[1].err, ETIMEDOUT);
	cr_assert_eq(s[1].woke, 2 * INT64_C(1000000000));
	cr_assert_eq(s[2].err, 0);
	cr_assert_eq(s[2].woke, 0);
	cr_assert_eq(r.elapsed_ns, 5 * INT64_C(1000000000));
	chan_unref(c0);
	chan_unref(c1);
	chan_unref(c2);
}

/* ---- timers, tickers, AfterFunc and context deadlines on the clock ---- */

#define SEC INT64_C(1000000000)

struct timed {
	int64_t timer_val, timer_at;
	int64_t ticks[3], tick_at[3];
	int64_t after_at;
	int ctx_err;
	int64_t ctx_at;
	int64_t func_at;
	uint64_t func_fiber;
	chan_t *func_done;
};

static void on_after_func(void *arg)
{
	struct timed *t = arg;
	long one = 1;

	t->func_at = chan_now() - GOBUBBLE_EPOCH;
	t->func_fiber = gofiber_id(); /* run as a fiber of the bubble */
	(void)chan_send(t->func_done, &one);
}

static void use_timers(void *arg)
{
	struct timed *t = arg;
	bool ok;
	long v;

	/* A one-shot timer: its value is the virtual instant it fired. */
	gotime_timer_t *tm = gotime_timer_new(30 * SEC);

	cr_assert(tm);
	cr_assert_eq(chan_recv(gotime_timer_chan(tm), &t->timer_val, &ok), 0);
	t->timer_at = chan_now() - GOBUBBLE_EPOCH;
	gotime_timer_free(tm);

	/* A ticker: three ticks one second apart. */
	gotime_ticker_t *tk = gotime_ticker_new(SEC);

	cr_assert(tk);
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(chan_recv(gotime_ticker_chan(tk), &t->ticks[i], &ok), 0);
		t->tick_at[i] = chan_now() - GOBUBBLE_EPOCH;
	}
	gotime_ticker_stop(tk);
	gotime_ticker_free(tk);

	/* gotime_after. */
	chan_t *after = gotime_after(2 * SEC);
	int64_t when;

	cr_assert(after);
	cr_assert_eq(chan_recv(after, &when, &ok), 0);
	t->after_at = when - GOBUBBLE_EPOCH;
	chan_unref(after);

	/* A context deadline, 10 s from now. */
	ctx_t *c = ctx_with_timeout(ctx_background(), 10 * SEC);

	cr_assert(c);
	cr_assert_eq(chan_recv(ctx_done(c), &v, &ok), 0);
	t->ctx_err = ctx_err(c);
	t->ctx_at = chan_now() - GOBUBBLE_EPOCH;
	ctx_cancel_release(c);

	/* AfterFunc: a fiber of the bubble, 5 s from now. */
	t->func_done = chan_new(sizeof(long), 0);
	gotime_timer_t *af = gotime_after_func(5 * SEC, on_after_func, t);

	cr_assert(af);
	cr_assert_eq(chan_recv(t->func_done, &v, &ok), 0);
	gotime_timer_free(af);
	chan_unref(t->func_done);
}

Test(bubble, timers_on_the_virtual_clock)
{
	struct timed t = {0};
	gobubble_report r;
	gobubble_opts o = {.ignore_env = true, .dump = stderr};

	cr_assert_eq(gobubble_run(&o, use_timers, &t, &r), 0);
	cr_assert_eq(r.verdict, GOBUBBLE_OK);
	cr_assert_eq(t.timer_val, GOBUBBLE_EPOCH + 30 * SEC);
	cr_assert_eq(t.timer_at, 30 * SEC);
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(t.ticks[i], GOBUBBLE_EPOCH + (31 + i) * SEC, "tick %d", i);
		cr_assert_eq(t.tick_at[i], (31 + i) * SEC);
	}
	cr_assert_eq(t.after_at, 35 * SEC);
	cr_assert_eq(t.ctx_err, CTX_DEADLINE_EXCEEDED);
	cr_assert_eq(t.ctx_at, 45 * SEC);
	cr_assert_eq(t.func_at, 50 * SEC);
	cr_assert_neq(t.func_fiber, 0);
	cr_assert_eq(r.elapsed_ns, 50 * SEC);
	cr_assert_eq(r.fibers, 2); /* fn and the AfterFunc's fiber */
}

/* ---- gobubble_wait (synctest.Wait) ---- */

struct waiters {
	chan_t *c[3];
	int arrived;
	int seen;
	int64_t at;
};

static void arrive_and_block(void *arg)
{
	struct waiters *w = arg;
	int me = w->arrived++;
	long v;
	bool ok;

	(void)chan_recv(w->c[me], &v, &ok);
}

static void wait_for_all(void *arg)
{
	struct waiters *w = arg;

	for (int i = 0; i < 3; i++)
		cr_assert_eq(gofiber_go(NULL, arrive_and_block, w), 0);
	cr_assert_eq(gobubble_wait(), 0);
	w->seen = w->arrived; /* all three ran up to their receive */
	w->at = chan_now();
	for (int i = 0; i < 3; i++)
		cr_assert_eq(chan_close(w->c[i]), 0);
}

Test(bubble, wait_until_all_blocked)
{
	struct waiters w = {0};
	gobubble_report r;

	for (int i = 0; i < 3; i++)
		w.c[i] = chan_new(sizeof(long), 0);
	for (uint64_t seed = 0; seed < 20; seed++) {
		gobubble_opts o = {.seed = seed, .ignore_env = true, .dump = stderr};

		w.arrived = w.seen = 0;
		cr_assert_eq(gobubble_run(&o, wait_for_all, &w, &r), 0);
		cr_assert_eq(r.verdict, GOBUBBLE_OK);
		cr_assert_eq(w.seen, 3, "seed %llu", (unsigned long long)seed);
		cr_assert_eq(w.at, GOBUBBLE_EPOCH); /* the clock did not move */
		for (int i = 0; i < 3; i++) {
			chan_unref(w.c[i]);
			w.c[i] = chan_new(sizeof(long), 0);
		}
	}
	for (int i = 0; i < 3; i++)
		chan_unref(w.c[i]);
	cr_assert_eq(gobubble_wait(), EINVAL); /* not on a bubble fiber */
}

/* ---- switch points ---- */

/* A lost update: read, a channel operation (a switch point), write back.
 * Cooperative scheduling never switches inside; switch points do. */
struct counter {
	int value;
	chan_t *log;
};

static void increment(void *arg)
{
	struct counter *c = arg;
	int x = c->value;
	long one = 1;

	(void)chan_send(c->log, &one); /* buffered: never blocks */
	c->value = x + 1;
}

static void two_increments(void *arg)
{
	gofiber_group_t *g = gofiber_group_new();

	cr_assert(g);
	cr_assert_eq(gofiber_go(g, increment, arg), 0);
	cr_assert_eq(gofiber_go(g, increment, arg), 0);
	cr_assert_eq(gofiber_group_wait(g), 0);
	gofiber_group_free(g);
}

static int lost_update_with(uint64_t seed, bool switches, gobubble_strategy st)
{
	struct counter c = {0, chan_new(sizeof(long), 4)};
	gobubble_opts o = {.seed = seed,
			   .ignore_env = true,
			   .switch_points = switches,
			   .strategy = st,
			   .pct_depth = 2,
			   .pct_steps = 8};
	gobubble_report r;

	cr_assert_eq(gobubble_run(&o, two_increments, &c, &r), 0);
	cr_assert_eq(r.verdict, GOBUBBLE_OK);
	if (!switches)
		cr_assert_eq(r.switches, 0);
	chan_unref(c.log);
	return c.value;
}

static int lost_update(uint64_t seed, bool switches)
{
	return lost_update_with(seed, switches, GOBUBBLE_RANDOM);
}

/* PCT with depth 2 (one change point) finds the lost update, and its seed
 * replays. */
Test(bubble, pct_finds_and_replays)
{
	uint64_t failing = 0;
	int found = 0;

	for (uint64_t seed = 1; seed <= 200; seed++)
		if (lost_update_with(seed, true, GOBUBBLE_PCT) != 2 && found++ == 0)
			failing = seed;
	cr_assert_neq(failing, 0, "PCT found no lost update in 200 seeds");
	for (int i = 0; i < 100; i++)
		cr_assert_eq(lost_update_with(failing, true, GOBUBBLE_PCT), 1);
}

Test(bubble, switch_points_open_windows)
{
	uint64_t failing = 0;

	for (uint64_t seed = 1; seed <= 64; seed++)
		cr_assert_eq(lost_update(seed, false), 2, "seed %llu", (unsigned long long)seed);
	for (uint64_t seed = 1; seed <= 64 && !failing; seed++)
		if (lost_update(seed, true) != 2)
			failing = seed;
	cr_assert_neq(failing, 0, "no seed of 64 lost an update with switch points");
	for (int i = 0; i < 100; i++)
		cr_assert_eq(lost_update(failing, true), 1, "seed %llu replay %d",
			     (unsigned long long)failing, i);
}

/* A reply that is only slow: without time jumps the 1 s timeout never
 * fires first (no virtual time passes while the server can run); a time
 * jump at the server's switch point lets it. */
struct slow {
	chan_t *reply, *log;
};

static void slow_server(void *arg)
{
	struct slow *s = arg;
	long v = 1;

	(void)chan_send(s->log, &v);       /* a switch point: "work" */
	(void)chan_try_send(s->reply, &v); /* room for one: never blocks */
}

static void client(void *arg)
{
	struct slow *s = arg;
	long v;
	bool ok;

	cr_assert_eq(gofiber_go(NULL, slow_server, s), 0);
	if (chan_recv_until(s->reply, &v, &ok, chan_deadline_in(SEC)) == ETIMEDOUT)
		(void)chan_send(s->log, &v); /* log the timeout: 2 entries */
	(void)chan_close(s->log);
}

static bool timed_out_first(uint64_t seed, bool jumps)
{
	struct slow s = {chan_new(sizeof(long), 1), chan_new(sizeof(long), 4)};
	gobubble_opts o = {
		.seed = seed, .ignore_env = true, .switch_points = true, .time_jumps = jumps};
	gobubble_report r;
	long n = 0, v;
	bool ok;

	cr_assert_eq(gobubble_run(&o, client, &s, &r), 0);
	cr_assert_eq(r.verdict, GOBUBBLE_OK);
	while (chan_recv(s.log, &v, &ok) == 0 && ok)
		n++;
	if (!jumps)
		cr_assert_eq(r.jumps, 0);
	chan_unref(s.reply);
	chan_unref(s.log);
	return n == 2;
}

Test(bubble, time_jumps_let_a_timeout_win)
{
	uint64_t failing = 0;

	for (uint64_t seed = 1; seed <= 64; seed++)
		cr_assert(!timed_out_first(seed, false), "seed %llu", (unsigned long long)seed);
	for (uint64_t seed = 1; seed <= 64 && !failing; seed++)
		if (timed_out_first(seed, true))
			failing = seed;
	cr_assert_neq(failing, 0, "no seed of 64 let the timeout win with time jumps");
	for (int i = 0; i < 100; i++)
		cr_assert(timed_out_first(failing, true), "seed %llu replay %d",
			  (unsigned long long)failing, i);
}

/* ---- verdicts ---- */

static void recv_forever(void *arg)
{
	long v;
	bool ok;

	(void)chan_recv(arg, &v, &ok);
}

Test(bubble_verdict, deadlock)
{
	chan_t *c = chan_new(sizeof(long), 0);
	gobubble_report r;
	gobubble_opts o = {.ignore_env = true};

	cr_assert_eq(gobubble_run(&o, recv_forever, c, &r), 0);
	/* c stays: the bubble's blocked fiber waits on it for ever (the leak
	 * this test makes); LeakSanitizer does not scan a parked fiber's stack. */
	gofiber__lsan_keep(c);
	cr_assert_eq(r.verdict, GOBUBBLE_DEADLOCK);
	cr_assert_eq(r.blocked, 1);
	cr_assert_eq(godiag_blocked(), 1); /* the parked fiber, listed */
}

static void leak_one(void *arg)
{
	cr_assert_eq(gofiber_go(NULL, recv_forever, arg), 0);
}

Test(bubble_verdict, leak)
{
	chan_t *c = chan_new(sizeof(long), 0);
	gobubble_report r;
	char buf[4096] = {0};
	FILE *dump = fmemopen(buf, sizeof buf - 1, "w");
	gobubble_opts o = {.ignore_env = true, .dump = dump};

	cr_assert_eq(gobubble_run(&o, leak_one, c, &r), 0);
	/* c stays: the bubble's blocked fiber waits on it for ever (the leak
	 * this test makes); LeakSanitizer does not scan a parked fiber's stack. */
	gofiber__lsan_keep(c);
	fclose(dump);
	cr_assert_eq(r.verdict, GOBUBBLE_LEAK);
	cr_assert_eq(r.blocked, 1);
	cr_assert_eq(r.fibers, 2);
	cr_assert(strstr(buf, "fibers leaked"), "dump: %s", buf);
	cr_assert(strstr(buf, "fiber"), "dump: %s", buf);
}

Test(bubble_verdict, refuses_nesting_and_null)
{
	cr_assert_eq(gobubble_run(NULL, NULL, NULL, NULL), EINVAL);
}

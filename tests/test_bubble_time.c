/*
 * tests/test_bubble_time.c - a bubble's timers and its limits (issue 19,
 * gochan/bubble.h): timers due at one virtual instant fire in an order the
 * seed chooses (seed 0: arming order; some seed another; each seed replays),
 * and the ways out of a bubble that it detects are reported: a thread wait
 * on its worker (on a fiber, and on its scheduler), a plain thread woken
 * from inside, a ready from outside.  No assertion on real time.
 */
#include <criterion/criterion.h>
#include <gochan/bubble.h>
#include <gochan/chan.h>
#include <gochan/fiber.h>
#include <gochan/select.h>
#include <gochan/time.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fiber/stack.h" /* gofiber__stack_counts */
#include "tests/leakcheck.h"
#include "testutil.h"
#include "wait/bubble.h" /* gowait__mono_now */
#include "wait/cond.h"
#include "wait/debug.h"

TU_LEAK_CHECKED_SUITE(bubble_time);

#define SEC GOTIME_SECOND
#define NTIMERS 4

/* ---- timers due together: the seed's order ---- */

struct order {
	char fired[NTIMERS + 1];
	int n;
	int64_t at[NTIMERS];
};

struct mark {
	struct order *o;
	char name;
};

/* An after_func_at function: runs on the bubble's scheduler, in firing order. */
static void mark_fn(void *arg)
{
	struct mark *m = arg;

	m->o->at[m->o->n] = chan_now();
	m->o->fired[m->o->n++] = m->name;
}

static void arm_ties(void *arg)
{
	struct order *o = arg;
	struct mark m[NTIMERS];
	gotime_timer_t *t[NTIMERS];
	int64_t due = chan_now() + SEC;
	chan_t *probe;

	for (int i = 0; i < NTIMERS; i++) {
		m[i] = (struct mark){o, (char)('a' + i)};
		t[i] = gotime_after_func_at(due, mark_fn, &m[i]);
		cr_assert_not_null(t[i]);
	}
	/* A channel timer one tick later: every tie has fired when it does. */
	probe = gotime_after(SEC + 1);
	cr_assert_not_null(probe);
	cr_assert_eq(chan_recv(probe, NULL, NULL), 0);
	chan_unref(probe);
	for (int i = 0; i < NTIMERS; i++)
		gotime_timer_free(t[i]);
}

static void tie_order(uint64_t seed, char out[NTIMERS + 1], gobubble_report *r)
{
	struct order o = {0};
	gobubble_opts opts = {.seed = seed, .ignore_env = true, .dump = stderr};

	cr_assert_eq(gobubble_run(&opts, arm_ties, &o, r), 0);
	cr_assert_eq(r->verdict, GOBUBBLE_OK);
	cr_assert_eq(o.n, NTIMERS);
	for (int i = 0; i < NTIMERS; i++) /* all at the one virtual instant */
		cr_assert_eq(o.at[i], GOBUBBLE_EPOCH + SEC, "seed %llu: timer %d at %lld",
			     (unsigned long long)seed, i, (long long)o.at[i]);
	memcpy(out, o.fired, NTIMERS + 1);
}

Test(bubble_time, ties_fire_in_seeded_order)
{
	char first[NTIMERS + 1], again[NTIMERS + 1];
	gobubble_report r;

	/* Seed 0: arming order, and each firing among several was a decision
	 * (4 + 3 + 2 timers due: three decisions with a choice). */
	tie_order(0, first, &r);
	cr_assert_str_eq(first, "abcd");
	cr_assert_geq(r.decisions, NTIMERS - 1);

	/* Some seed fires them in another order, and every seed replays. */
	int other = 0, distinct_first = 0;
	bool seen_first[NTIMERS] = {false};

	for (uint64_t seed = 1; seed <= 40; seed++) {
		tie_order(seed, first, &r);
		tie_order(seed, again, &r);
		cr_assert_str_eq(again, first, "seed %llu does not replay",
				 (unsigned long long)seed);
		other += strcmp(first, "abcd") != 0;
		if (!seen_first[first[0] - 'a']) {
			seen_first[first[0] - 'a'] = true;
			distinct_first++;
		}
	}
	/* 40 seeds, each order of 4 with probability 1/24: arming order
	 * every time, or one timer never first, would be a broken draw. */
	cr_assert_gt(other, 0, "no seed changed the order of tied timers");
	cr_assert_eq(distinct_first, NTIMERS, "some tied timer never fired first");
}

/* ---- a thread wait on the worker ---- */

static pthread_mutex_t cv_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv;

/* A fiber that waits on a condition variable: the worker blocks (here for
 * no time: the deadline 0 has passed in real time). */
static void cond_waiter(void *arg)
{
	(void)arg;
	gowait__cond_init(&cv);
	/* Ranked as diag/signal.c's count wait, whose rank it borrows (the
	 * debug build checks that a condition wait holds its ranked mutex). */
	gowait__mutex_lock(&cv_mu, GOWAIT_LOCKRANK_DIAG_SIGNAL);
	(void)gowait__cond_wait_until(&cv, &cv_mu, 0);
	gowait__mutex_unlock(&cv_mu, GOWAIT_LOCKRANK_DIAG_SIGNAL);
	pthread_cond_destroy(&cv);
}

/* An after_func_at function (it runs on the bubble's scheduler, outside
 * every fiber) doing select {} with a real deadline 1 ms ahead: a thread
 * sleep on the worker. */
static void never_fn(void *arg)
{
	(void)arg;
	(void)chan_select(NULL, 0, gowait__mono_now() + GOTIME_MILLISECOND);
}

static void select_never_on_scheduler(void *arg)
{
	(void)arg;
	gotime_timer_t *t = gotime_after_func_at(chan_now() + SEC, never_fn, NULL);
	chan_t *probe = gotime_after(2 * SEC);

	cr_assert(t && probe);
	cr_assert_eq(chan_recv(probe, NULL, NULL), 0);
	chan_unref(probe);
	gotime_timer_free(t);
}

static void run_capturing(void (*fn)(void *), gobubble_report *r, char *text, size_t cap)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	gobubble_opts o = {.ignore_env = true, .dump = f};

	cr_assert_not_null(f);
	cr_assert_eq(gobubble_run(&o, fn, NULL, r), 0);
	fclose(f);
	snprintf(text, cap, "%s", buf ? buf : "");
	free(buf);
}

Test(bubble_time, thread_wait_on_worker_reported)
{
	gobubble_report r;
	char text[2048];

	run_capturing(cond_waiter, &r, text, sizeof text);
	cr_assert_eq(r.verdict, GOBUBBLE_OK);
	cr_assert_eq(r.worker_blocks, 1);
	cr_assert_eq(r.outside, 0);
	cr_assert_eq(r.thread_wakes, 0);
	cr_assert(strstr(text, "not replayable: a condition variable wait"), "%s", text);
	cr_assert(strstr(text, "on a fiber"), "%s", text);
	cr_assert(strstr(text, "1 thread wait(s) on its worker"), "%s", text);

	run_capturing(select_never_on_scheduler, &r, text, sizeof text);
	cr_assert_eq(r.verdict, GOBUBBLE_OK);
	cr_assert_eq(r.worker_blocks, 1);
	cr_assert(strstr(text, "select {} on a thread blocks the bubble's worker"), "%s", text);
	cr_assert(strstr(text, "on its scheduler"), "%s", text);
}

/* A clean run says nothing and counts nothing. */
static void clean(void *arg)
{
	(void)arg;
	chan_t *c = gotime_after(SEC);

	cr_assert_eq(chan_recv(c, NULL, NULL), 0);
	chan_unref(c);
}

Test(bubble_time, clean_run_reports_nothing)
{
	gobubble_report r;
	char text[256];

	run_capturing(clean, &r, text, sizeof text);
	cr_assert_eq(r.verdict, GOBUBBLE_OK);
	cr_assert_eq(r.worker_blocks + r.thread_wakes + r.outside, 0);
	cr_assert_str_eq(text, "");
	cr_assert_eq(r.elapsed_ns, SEC);
}

/* ---- a channel shared with a thread outside ---- */

struct shared {
	chan_t *c;
	tu_blocker_t blk;
	long got;
};

/* A plain thread that receives once; announces itself for tu_wait_blocked. */
static void *outside_receiver(void *arg)
{
	struct shared *s = arg;
	bool ok;

	tu_about_to_block(&s->blk);
	(void)chan_recv(s->c, &s->got, &ok);
	return NULL;
}

static void send_to_outside(void *arg)
{
	struct shared *s = arg;
	long v = 42;

	cr_assert_eq(chan_send(s->c, &v), 0);
}

/* A plain thread that sends once (the bubble's fiber is already parked). */
static void *outside_sender(void *arg)
{
	struct shared *s = arg;
	long v = 7;

	tu_about_to_block(&s->blk);
	(void)chan_send(s->c, &v);
	return NULL;
}

static void recv_from_outside(void *arg)
{
	struct shared *s = arg;
	bool ok;
	tu_go_t th;

	/* The thread starts from here so that its send finds this fiber parked
	 * (or not yet: then the bubble's recv completes it, a thread wake).
	 * A thread in fiber mode too: the test counts a thread's wakes. */
	th = tu_spawn_thread(outside_sender, s);
	cr_assert_eq(chan_recv(s->c, &s->got, &ok), 0);
	tu_join(th);
}

Test(bubble_time, shared_channel_reported)
{
	struct shared s = {.c = chan_new(sizeof(long), 0)};
	gobubble_report r;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	gobubble_opts o = {.ignore_env = true, .dump = f};

	cr_assert(s.c && f);
	/* A plain thread parked in a receive; a bubble fiber completes it. */
	atomic_store_explicit(&s.blk.tid, 0, memory_order_relaxed);
	/* A thread in fiber mode too: the test counts a thread's wakes. */
	tu_go_t th = tu_spawn_thread(outside_receiver, &s);

	cr_assert(tu_wait_blocked(&s.blk, TU_BLOCK_TIMEOUT_NS), "receiver never parked");
	cr_assert_eq(gobubble_run(&o, send_to_outside, &s, &r), 0);
	tu_join(th);
	cr_assert_eq(s.got, 42);
	cr_assert_eq(r.verdict, GOBUBBLE_OK);
	cr_assert_eq(r.thread_wakes, 1);
	cr_assert_eq(r.worker_blocks, 0);

	/* A bubble fiber that receives from a plain thread: the bubble waits
	 * for it in real time (outside_wait_ns) and counts its ready. */
	atomic_store_explicit(&s.blk.tid, 0, memory_order_relaxed);
	o.outside_wait_ns = 10 * SEC; /* real time, only while nothing can run */
	cr_assert_eq(gobubble_run(&o, recv_from_outside, &s, &r), 0);
	cr_assert_eq(s.got, 7);
	cr_assert_eq(r.verdict, GOBUBBLE_OK);
	cr_assert_eq(r.outside + r.thread_wakes, 1, "outside %llu, thread wakes %llu",
		     (unsigned long long)r.outside, (unsigned long long)r.thread_wakes);
	fclose(f);
	cr_assert(strstr(buf, "not replayable: 0 ready(s) from outside the bubble, 1 plain "
			      "thread(s) woken from inside"),
		  "%s", buf);
	cr_assert(strstr(buf, "not replayable"), "%s", buf);
	free(buf);
	chan_unref(s.c);
}

/* ---- the stack cache at the bubble's idle point ---- */

#define MANY 600 /* > GOFIBER_STACK_CACHE */

static void park_on(void *arg)
{
	(void)chan_recv(arg, NULL, NULL); /* until the close */
}

/* MANY fibers alive at once (MANY stacks mapped), then all end. */
static void many_fibers(void *arg)
{
	chan_t *gate = chan_new(0, 0);

	(void)arg;
	cr_assert_not_null(gate);
	for (int i = 0; i < MANY; i++)
		cr_assert_eq(gofiber_go(NULL, park_on, gate), 0);
	cr_assert_eq(gobubble_wait(), 0); /* every one parked: MANY stacks in use */
	chan_close(gate);
	chan_unref(gate);
}

static long stacks(void)
{
	long c[3];

	gofiber__stack_counts(c);
	return c[0] + c[1] + c[2];
}

Test(bubble_time, idle_point_trims_stack_cache)
{
	gobubble_report r;
	gobubble_opts o = {.ignore_env = true, .dump = stderr};
	long before = stacks();

	cr_assert_eq(gobubble_run(&o, many_fibers, NULL, &r), 0);
	cr_assert_eq(r.verdict, GOBUBBLE_OK);
	cr_assert_eq(r.fibers, MANY + 1);
	/* Their stacks went back to the cache as they ended; the trim when
	 * the run ended kept at most GOFIBER_STACK_CACHE of them. */
	long after = stacks();

	cr_assert_leq(after, before > GOFIBER_STACK_CACHE ? before : GOFIBER_STACK_CACHE,
		      "%ld stacks kept after the bubble (%ld before)", after, before);
}

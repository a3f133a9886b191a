/*
 * tests/test_fiber_waits.c - every gochan wait parks a fiber, not its worker
 * (issue 18, "One wait, two kinds of waiter"): gowg_wait and the errgroup's
 * waits (wait/word.h), the timer module's wait for AfterFunc functions, and
 * the fiber waits that reach the wait layer through a channel: a poll wait
 * (the poller readies the fiber), a timer's channel (the timer thread
 * readies it), a context's Done (a cancel readies it), an errgroup start
 * at its limit.
 *
 * How "the worker is not blocked" is shown: fiber A enters the wait and, in
 * the same breath, raises a gate; fiber B, on the same (single) worker, waits
 * for the gate (yielding) and only then does what A's wake-up needs.  B can
 * run only while A is parked, so if A's wait blocked the worker thread, B
 * would never run and A would wait for ever: A's wait has a deadline (only a
 * failure detector, far beyond any correct run), so such a failure is
 * reported as ETIMEDOUT instead of hanging.
 *
 * Then threads and fibers on both sides of one WaitGroup (a thread's done
 * wakes a fiber's wait and the other way round, the WaitGroup freed at once
 * by the waiter), deadlines on fibers (exact results), the deadline/wake
 * race decided once, and a fiber blocked in gowg_wait listed by the dump.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <gochan/chan.h>
#include <gochan/context.h>
#include <gochan/diag.h>
#include <gochan/fiber.h>
#include <gochan/group.h>
#include <gochan/poll.h>
#include <gochan/select.h>
#include <gochan/time.h>
#include <gochan/waitgroup.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/leakcheck.h"

/* "The same (single) worker" above: the M:N runtime reads GOFIBER_WORKERS
 * once, at its first gofiber_go; a constructor sets it before any test's
 * process starts (Criterion forks each test from this one, environment
 * included).  With several workers B could run beside a worker that A's
 * wait blocked, and the gate tests would prove nothing. */
__attribute__((constructor)) static void one_worker(void)
{
	setenv("GOFIBER_WORKERS", "1", 1);
}
#include "timer/timer_internal.h"

TU_LEAK_CHECKED_SUITE(fiber_waits);

/* A's failure detector: a correct run never gets near it. */
#define STUCK_NS ((int64_t)30000000000)

static int64_t stuck_deadline(void)
{
	return chan_now() + STUCK_NS;
}

/* ---- the gate: B acts only while A is parked ---------------------------- */

struct gate {
	atomic_int raised;
};

/* A: right before its wait (nothing in between yields). */
static void gate_raise(struct gate *g)
{
	atomic_store(&g->raised, 1);
}

/* B: yield until A has raised the gate.  On one worker, B runs again only
 * when A yields, parks or returns, and A does none of these between its
 * raise and its wait: so once B passes, A is parked in its wait. */
static void gate_pass(struct gate *g)
{
	while (!atomic_load(&g->raised))
		gofiber_yield();
}

/* ---- gowg_wait ----------------------------------------------------------- */

struct wg_case {
	gowg_t *wg;
	struct gate gate;
	int rc;
	atomic_int done_by_b; /* B's done came before A's wake-up */
};

static void wg_waiter(void *p)
{
	struct wg_case *c = p;

	gate_raise(&c->gate);
	c->rc = gowg_wait_until(c->wg, stuck_deadline());
}

static void wg_doner(void *p)
{
	struct wg_case *c = p;

	gate_pass(&c->gate);
	atomic_store(&c->done_by_b, 1);
	cr_expect_eq(gowg_done(c->wg), 0);
}

Test(fiber_waits, wg_wait_parks_the_fiber)
{
	struct wg_case c = {.wg = gowg_new(), .rc = -1};
	gofiber_group_t *g = gofiber_group_new();

	cr_assert(c.wg && g);
	cr_assert_eq(gowg_add(c.wg, 1), 0);
	cr_assert_eq(gofiber_go(g, wg_waiter, &c), 0);
	cr_assert_eq(gofiber_go(g, wg_doner, &c), 0);
	cr_assert_eq(gofiber_group_wait(g), 0);
	cr_expect_eq(c.rc, 0, "the waiting fiber blocked its worker (rc %d)", c.rc);
	cr_expect_eq(atomic_load(&c.done_by_b), 1);
	cr_expect_eq(gowg_free(c.wg), 0);
	gofiber_group_free(g);
}

/* Deadlines on a fiber: passed, short, none needed (count 0), EINVAL. */
struct wg_dl {
	gowg_t *wg;
	int rc_past, rc_neg, rc_short, rc_zero, rc_now;
};

static void wg_deadlines(void *p)
{
	struct wg_dl *d = p;

	d->rc_past = gowg_wait_until(d->wg, chan_now() - 1);
	d->rc_neg = gowg_wait_until(d->wg, -5); /* negative, not CHAN_FOREVER: passed */
	d->rc_now = gowg_wait_until(d->wg, CHAN_NOWAIT);
	d->rc_short = gowg_wait_until(d->wg, chan_now() + 2000000);
	cr_expect_eq(gowg_done(d->wg), 0);
	d->rc_zero = gowg_wait_until(d->wg, chan_now() - 1);
}

Test(fiber_waits, wg_wait_until_on_a_fiber)
{
	struct wg_dl d = {gowg_new(), -1, -1, -1, -1, -1};
	gofiber_group_t *g = gofiber_group_new();

	cr_assert_eq(gowg_add(d.wg, 1), 0);
	cr_assert_eq(gofiber_go(g, wg_deadlines, &d), 0);
	cr_assert_eq(gofiber_group_wait(g), 0);
	cr_expect_eq(d.rc_past, ETIMEDOUT);
	cr_expect_eq(d.rc_neg, ETIMEDOUT);
	cr_expect_eq(d.rc_now, ETIMEDOUT);
	cr_expect_eq(d.rc_short, ETIMEDOUT);
	cr_expect_eq(d.rc_zero, 0);
	cr_expect_eq(gowg_free(d.wg), 0);
	gofiber_group_free(g);
}

/* A thread's done wakes a fiber's wait; the fiber frees the WaitGroup as
 * soon as its wait returns (the waker may still be inside its wake). */
#define MIX_ROUNDS 2000

struct mix {
	chan_t *handoff; /* the fiber hands each round's WaitGroup to the thread */
	atomic_long bad;
};

static void fiber_waits_for_thread(void *p)
{
	struct mix *m = p;

	for (int i = 0; i < MIX_ROUNDS; i++) {
		gowg_t *wg = gowg_new();
		long work = 0;

		if (!wg || gowg_add(wg, 1) != 0) {
			atomic_fetch_add(&m->bad, 1);
			return;
		}
		void *msg[2] = {wg, &work};
		if (chan_send(m->handoff, msg) != 0 || gowg_wait(wg) != 0 || work != i + 1 ||
		    gowg_free(wg) != 0)
			atomic_fetch_add(&m->bad, 1);
	}
	chan_close(m->handoff);
}

Test(fiber_waits, thread_done_wakes_fiber_wait)
{
	struct mix m = {chan_new(2 * sizeof(void *), 0), 0};
	gofiber_group_t *g = gofiber_group_new();
	void *msg[2];
	bool ok;

	cr_assert(m.handoff && g);
	cr_assert_eq(gofiber_go(g, fiber_waits_for_thread, &m), 0);
	for (long i = 1; chan_recv(m.handoff, msg, &ok) == 0 && ok; i++) {
		*(long *)msg[1] = i; /* published by the done's release */
		cr_assert_eq(gowg_done(msg[0]), 0);
	}
	cr_assert_eq(gofiber_group_wait(g), 0);
	cr_expect_eq(atomic_load(&m.bad), 0);
	chan_unref(m.handoff);
	gofiber_group_free(g);
}

struct fdone {
	gowg_t *wg;
	long *work;
	long val;
};

static void fiber_does_done(void *p)
{
	struct fdone *d = p;

	*d->work = d->val;
	gowg_done(d->wg);
	free(d);
}

Test(fiber_waits, fiber_done_wakes_thread_wait)
{
	for (long i = 0; i < MIX_ROUNDS; i++) {
		gowg_t *wg = gowg_new();
		struct fdone *d = malloc(sizeof *d);
		long work = -1;

		cr_assert(wg && d);
		*d = (struct fdone){wg, &work, i};
		cr_assert_eq(gowg_add(wg, 1), 0);
		cr_assert_eq(gofiber_go(NULL, fiber_does_done, d), 0);
		cr_assert_eq(gowg_wait(wg), 0);
		cr_assert_eq(work, i);
		/* At once: the fiber may still be inside gowg_done's wake. */
		cr_assert_eq(gowg_free(wg), 0);
	}
}

/*
 * The deadline against the wake, decided once: a fiber waits on WaitGroup i
 * with deadlines 20 us apart while a thread does the dones one after the
 * other.  A wait that returns 0 saw its done (and what came before it); one
 * that timed out was abandoned cleanly: waiting again without a deadline
 * returns 0 once the done comes.  No wake is lost and none is doubled.
 */
#define RACE_N 3000

struct race {
	gowg_t *wg[RACE_N];
	int64_t deadline[RACE_N];
	int rc[RACE_N];
	atomic_int flag[RACE_N];
	atomic_long bad;
};

static void race_fiber(void *p)
{
	struct race *r = p;

	for (int i = 0; i < RACE_N; i++) {
		r->rc[i] = gowg_wait_until(r->wg[i], r->deadline[i]);
		if (r->rc[i] == 0 && !atomic_load_explicit(&r->flag[i], memory_order_relaxed))
			atomic_fetch_add(&r->bad, 1); /* returned 0 before the done */
		if (r->rc[i] != 0 && r->rc[i] != ETIMEDOUT)
			atomic_fetch_add(&r->bad, 1);
	}
	for (int i = 0; i < RACE_N; i++)
		if (r->rc[i] == ETIMEDOUT && gowg_wait(r->wg[i]) != 0)
			atomic_fetch_add(&r->bad, 1);
}

Test(fiber_waits, deadline_and_wake_race_is_consistent, .timeout = 60)
{
	static struct race r;
	gofiber_group_t *g = gofiber_group_new();
	int64_t t = chan_now();
	int timed_out = 0;

	for (int i = 0; i < RACE_N; i++) {
		r.wg[i] = gowg_new();
		cr_assert(r.wg[i]);
		cr_assert_eq(gowg_add(r.wg[i], 1), 0);
		r.deadline[i] = t + (int64_t)(i + 1) * 20000;
		atomic_init(&r.flag[i], 0);
	}
	cr_assert_eq(gofiber_go(g, race_fiber, &r), 0);
	for (int i = 0; i < RACE_N; i++) {
		/* Paced by the clock only to make the two sides meet near
		 * each deadline; any pace gives a valid run. */
		while (chan_now() < r.deadline[i] - 10000)
			sched_yield();
		atomic_store_explicit(&r.flag[i], 1, memory_order_relaxed);
		cr_assert_eq(gowg_done(r.wg[i]), 0);
	}
	cr_assert_eq(gofiber_group_wait(g), 0);
	cr_expect_eq(atomic_load(&r.bad), 0);
	for (int i = 0; i < RACE_N; i++) {
		timed_out += r.rc[i] == ETIMEDOUT;
		cr_expect_eq(gowg_free(r.wg[i]), 0);
	}
	cr_log_info("deadline/wake race: %d of %d waits timed out", timed_out, RACE_N);
	gofiber_group_free(g);
}

/* ---- the errgroup ---------------------------------------------------------- */

struct eg_case {
	gogroup_t *eg;
	chan_t *go_on; /* the task waits for B's value here */
	struct gate gate;
	int rc, first;
};

static int eg_task(void *p)
{
	struct eg_case *c = p;
	long v = 0;
	bool ok;

	return chan_recv(c->go_on, &v, &ok) == 0 && ok ? (int)v : -1;
}

static void eg_waiter(void *p)
{
	struct eg_case *c = p;

	gate_raise(&c->gate);
	c->rc = gogroup_wait_until(c->eg, stuck_deadline(), &c->first);
}

static void eg_feeder(void *p)
{
	struct eg_case *c = p;
	long v = 7;

	gate_pass(&c->gate);
	cr_expect_eq(chan_send(c->go_on, &v), 0);
}

Test(fiber_waits, errgroup_wait_parks_the_fiber)
{
	struct eg_case c = {gogroup_new(), chan_new(sizeof(long), 0), {0}, -1, -1};
	gofiber_group_t *g = gofiber_group_new();

	cr_assert(c.eg && c.go_on && g);
	cr_assert_eq(gogroup_go(c.eg, eg_task, &c), 0); /* on a library thread */
	cr_assert_eq(gofiber_go(g, eg_waiter, &c), 0);
	cr_assert_eq(gofiber_go(g, eg_feeder, &c), 0);
	cr_assert_eq(gofiber_group_wait(g), 0);
	cr_expect_eq(c.rc, 0, "the waiting fiber blocked its worker (rc %d)", c.rc);
	cr_expect_eq(c.first, 7);
	cr_expect_eq(gogroup_free(c.eg), 0);
	chan_unref(c.go_on);
	gofiber_group_free(g);
}

/* A start at the limit parks the fiber (the limit is a channel), and a
 * cancel by another fiber ends it exactly: CTX_CANCELED, nothing started. */
struct eg_limit {
	gogroup_t *eg;
	ctx_t *ctx;
	chan_t *go_on;
	struct gate gate;
	int rc_ctx, rc_wait, first;
	atomic_int ran;
};

static int eg_counted(void *p)
{
	struct eg_limit *c = p;
	long v;
	bool ok;

	atomic_fetch_add(&c->ran, 1);
	return chan_recv(c->go_on, &v, &ok) == 0 ? 0 : -1;
}

static void eg_limited_starter(void *p)
{
	struct eg_limit *c = p;

	cr_expect_eq(gogroup_go(c->eg, eg_counted, c), 0); /* takes the one slot */
	gate_raise(&c->gate);
	c->rc_ctx = gogroup_go_ctx(c->eg, c->ctx, eg_counted, c); /* parks: no slot */
	chan_close(c->go_on);                                     /* let the first end */
	c->rc_wait = gogroup_wait_until(c->eg, stuck_deadline(), &c->first);
}

static void eg_canceller(void *p)
{
	struct eg_limit *c = p;

	gate_pass(&c->gate);
	cr_expect_eq(ctx_cancel(c->ctx), 0);
}

Test(fiber_waits, errgroup_start_at_the_limit_parks_and_cancels_exactly)
{
	struct eg_limit c = {.eg = gogroup_new(), .go_on = chan_new(sizeof(long), 0)};
	gofiber_group_t *g = gofiber_group_new();

	c.ctx = ctx_with_cancel(ctx_background());
	cr_assert(c.eg && c.go_on && c.ctx && g);
	cr_assert_eq(gogroup_set_limit(c.eg, 1), 0);
	cr_assert_eq(gofiber_go(g, eg_limited_starter, &c), 0);
	cr_assert_eq(gofiber_go(g, eg_canceller, &c), 0);
	cr_assert_eq(gofiber_group_wait(g), 0);
	cr_expect_eq(c.rc_ctx, CTX_CANCELED);
	cr_expect_eq(c.rc_wait, 0);
	cr_expect_eq(c.first, 0);
	cr_expect_eq(atomic_load(&c.ran), 1);
	cr_expect_eq(gogroup_free(c.eg), 0);
	ctx_cancel_release(c.ctx);
	chan_unref(c.go_on);
	gofiber_group_free(g);
}

/* ---- the timer module ------------------------------------------------------ */

/* gotime__wait_afterfuncs on a fiber while the AfterFunc function (on its
 * own thread) waits for fiber B. */
struct af_case {
	chan_t *started, *go_on;
	struct gate gate;
	int rc;
	atomic_int fn_returned;
	gotime_timer_t *t;
};

static void af_fn(void *p)
{
	struct af_case *c = p;
	long v = 1;
	bool ok;

	(void)chan_send(c->started, &v);
	(void)chan_recv(c->go_on, &v, &ok);
	atomic_store(&c->fn_returned, 1);
}

static void af_waiter(void *p)
{
	struct af_case *c = p;
	long v;
	bool ok;

	cr_expect_eq(chan_recv(c->started, &v, &ok), 0); /* the function runs */
	gate_raise(&c->gate);
	c->rc = gotime__wait_afterfuncs(stuck_deadline());
	cr_expect_eq(atomic_load(&c->fn_returned), 1);
}

static void af_releaser(void *p)
{
	struct af_case *c = p;
	long v = 2;

	gate_pass(&c->gate);
	cr_expect_eq(chan_send(c->go_on, &v), 0);
}

Test(fiber_waits, afterfunc_wait_parks_the_fiber)
{
	struct af_case c = {chan_new(sizeof(long), 1), chan_new(sizeof(long), 0), {0}, -1, 0, NULL};
	gofiber_group_t *g = gofiber_group_new();

	cr_assert(c.started && c.go_on && g);
	c.t = gotime_after_func(0, af_fn, &c);
	cr_assert(c.t);
	cr_assert_eq(gofiber_go(g, af_waiter, &c), 0);
	cr_assert_eq(gofiber_go(g, af_releaser, &c), 0);
	cr_assert_eq(gofiber_group_wait(g), 0);
	cr_assert_eq(gofiber_group_free(g), 0);
	cr_expect_eq(c.rc, 0, "the waiting fiber blocked its worker (rc %d)", c.rc);
	gotime_timer_free(c.t);
	chan_unref(c.started);
	chan_unref(c.go_on);
}

/* The timer thread readies a fiber receiving from a timer's channel; the
 * timer is armed by fiber B while A is parked on it. */
struct tm_case {
	gotime_timer_t *t;
	struct gate gate;
	int rc;
};

static void tm_waiter(void *p)
{
	struct tm_case *c = p;
	int64_t when = 0;
	bool ok;

	gate_raise(&c->gate);
	c->rc = chan_recv_until(gotime_timer_chan(c->t), &when, &ok, stuck_deadline());
}

static void tm_armer(void *p)
{
	struct tm_case *c = p;

	gate_pass(&c->gate);
	gotime_timer_reset(c->t, 1000000); /* 1 ms: fired by the timer thread */
}

Test(fiber_waits, timer_thread_readies_a_fiber)
{
	struct tm_case c = {gotime_timer_new(INT64_MAX / 4), {0}, -1};
	gofiber_group_t *g = gofiber_group_new();

	cr_assert(c.t && g);
	cr_assert_eq(gofiber_go(g, tm_waiter, &c), 0);
	cr_assert_eq(gofiber_go(g, tm_armer, &c), 0);
	cr_assert_eq(gofiber_group_wait(g), 0);
	cr_assert_eq(gofiber_group_free(g), 0);
	cr_expect_eq(c.rc, 0);
	gotime_timer_free(c.t);
}

/* gotime_shutdown on a fiber waits (parked) for the timer thread, which is
 * running a callback that waits for fiber B: the shutdown's wait for the
 * service thread parks the fiber (service/service.c).  A shutdown has no
 * deadline, so a blocked worker shows as this test's timeout. */
struct sd_case {
	chan_t *started, *go_on;
	struct gate gate;
	int rc;
	gotime_timer_t *t;
};

static void sd_callback(void *p) /* on the timer thread */
{
	struct sd_case *c = p;
	long v = 1;
	bool ok;

	(void)chan_send(c->started, &v);
	(void)chan_recv(c->go_on, &v, &ok);
}

static void sd_waiter(void *p)
{
	struct sd_case *c = p;
	long v;
	bool ok;

	cr_expect_eq(chan_recv(c->started, &v, &ok), 0); /* the callback runs */
	gate_raise(&c->gate);
	c->rc = gotime_shutdown();
}

static void sd_releaser(void *p)
{
	struct sd_case *c = p;
	long v = 2;

	gate_pass(&c->gate);
	cr_expect_eq(chan_send(c->go_on, &v), 0);
}

Test(fiber_waits, timer_shutdown_parks_the_fiber, .timeout = 60)
{
	struct sd_case c = {chan_new(sizeof(long), 1), chan_new(sizeof(long), 0), {0}, -1, NULL};
	gofiber_group_t *g = gofiber_group_new();

	cr_assert(c.started && c.go_on && g);
	c.t = gotime_after_func_at(chan_now(), sd_callback, &c);
	cr_assert(c.t);
	cr_assert_eq(gofiber_go(g, sd_waiter, &c), 0);
	cr_assert_eq(gofiber_go(g, sd_releaser, &c), 0);
	cr_assert_eq(gofiber_group_wait(g), 0);
	cr_assert_eq(gofiber_group_free(g), 0);
	cr_expect_eq(c.rc, 0, "rc %d", c.rc);
	cr_expect_eq(gotime__threads_live(), 0);
	gotime_timer_free(c.t);
	chan_unref(c.started);
	chan_unref(c.go_on);
}

/* ---- contexts ---------------------------------------------------------------- */

struct cx_case {
	ctx_t *ctx;
	chan_t *never;
	struct gate gate;
	int rc;
};

static void cx_waiter(void *p)
{
	struct cx_case *c = p;
	long v;
	bool ok;

	gate_raise(&c->gate);
	c->rc = ctx_recv(c->ctx, c->never, &v, &ok);
}

static void cx_canceller(void *p)
{
	struct cx_case *c = p;

	gate_pass(&c->gate);
	ctx_cancel(c->ctx);
}

Test(fiber_waits, cancel_readies_a_fiber_in_ctx_recv)
{
	struct cx_case c = {
		ctx_with_timeout(ctx_background(), STUCK_NS), chan_new(sizeof(long), 0), {0}, -1};
	gofiber_group_t *g = gofiber_group_new();

	cr_assert(c.ctx && c.never && g);
	cr_assert_eq(gofiber_go(g, cx_waiter, &c), 0);
	cr_assert_eq(gofiber_go(g, cx_canceller, &c), 0);
	cr_assert_eq(gofiber_group_wait(g), 0);
	cr_assert_eq(gofiber_group_free(g), 0);
	cr_expect_eq(c.rc, CTX_CANCELED, "rc %d", c.rc);
	ctx_cancel_release(c.ctx);
	chan_unref(c.never);
}

/* ---- the poller ---------------------------------------------------------------- */

struct pl_case {
	int fds[2];
	struct gate gate;
	int rc;
	unsigned revents;
};

static void pl_waiter(void *p)
{
	struct pl_case *c = p;

	gate_raise(&c->gate);
	c->rc = gopoll_wait(NULL, c->fds[0], GOPOLL_READ, stuck_deadline(), &c->revents);
}

static void pl_writer(void *p)
{
	struct pl_case *c = p;

	gate_pass(&c->gate);
	cr_expect_eq(write(c->fds[1], "x", 1), 1);
}

Test(fiber_waits, poller_readies_a_fiber_in_gopoll_wait)
{
	struct pl_case c = {{-1, -1}, {0}, -1, 0};
	gofiber_group_t *g = gofiber_group_new();

	cr_assert_eq(pipe(c.fds), 0);
	cr_assert_eq(gofiber_go(g, pl_waiter, &c), 0);
	cr_assert_eq(gofiber_go(g, pl_writer, &c), 0);
	cr_assert_eq(gofiber_group_wait(g), 0);
	cr_assert_eq(gofiber_group_free(g), 0);
	cr_expect_eq(c.rc, 0, "rc %d", c.rc);
	cr_expect(c.revents & GOPOLL_READ);
	close(c.fds[0]);
	close(c.fds[1]);
	cr_expect_eq(gopoll_shutdown(), 0);
}

/* ---- diagnostics ---------------------------------------------------------------- */

/* A fiber and a thread blocked in gowg_wait are both listed by the dump
 * ("waitgroup_wait") and counted by godiag_blocked(). */
static void wg_plain_wait(void *p)
{
	cr_expect_eq(gowg_wait(p), 0);
}

static void *wg_thread_wait(void *p)
{
	cr_expect_eq(gowg_wait(p), 0);
	return NULL;
}

Test(fiber_waits, wg_waits_are_listed_by_the_dump)
{
	gowg_t *wg = gowg_new();
	gofiber_group_t *g = gofiber_group_new();
	pthread_t t;

	cr_assert(wg && g);
	cr_assert_eq(gowg_add(wg, 1), 0);
	cr_assert_eq(gofiber_go(g, wg_plain_wait, wg), 0);
	cr_assert_eq(pthread_create(&t, NULL, wg_thread_wait, wg), 0);
	/* Both are listed once they park: waiting for that is synchronisation
	 * on the record itself, not a sleep (the deadline only reports a wait
	 * that is never listed). */
	int64_t stuck = stuck_deadline();

	while (godiag_blocked() < 2 && chan_now() < stuck)
		sched_yield();
	cr_expect_eq(godiag_blocked(), 2);
	char *j = godiag_dump_json();

	cr_assert(j);
	cr_expect(strstr(j, "\"op\":\"waitgroup_wait\""), "%s", j);
	cr_expect(strstr(j, "\"fiber\":\"0x"), "%s", j);
	free(j);
	cr_assert_eq(gowg_done(wg), 0);
	cr_assert_eq(gofiber_group_wait(g), 0);
	pthread_join(t, NULL);
	cr_expect_eq(gowg_free(wg), 0);
	gofiber_group_free(g);
}

/*
 * tests/stress/stress_group.c - thread groups under concurrent use, for
 * ThreadSanitizer and ASan/UBSan: several starters racing every start form
 * (go, go_ctx, go_until, try_go) on one limited errgroup while tasks fail,
 * start children, a canceller cancels the starters' context, a waiter polls
 * gogroup_wait_until, and another thread keeps trying gogroup_set_limit;
 * then WaitGroups with add/done, gowg_go and waiters racing; each round
 * with another idle timeout of the thread pool (default, off, 20 us).
 *
 * Invariants checked (each check counts one pass or one failure):
 *   - every start returns 0 or an error its form allows (EAGAIN only from
 *     try_go, ETIMEDOUT only from go_until, CTX_CANCELED only from go_ctx);
 *   - every started task ran exactly once and no refused one ran;
 *   - at most `limit` tasks ran at once;
 *   - gogroup_set_limit while tasks run is EBUSY (or 0 when it found the
 *     group idle); gogroup_wait_until is 0 or ETIMEDOUT;
 *   - Wait returns the first error (0 or a code a task returned), and then
 *     the group's context is cancelled with that code as its cause (unless
 *     a wait that found the group idle midway cancelled it first);
 *   - WaitGroup waits return only at zero (every Done before it is seen);
 *   - free succeeds after Wait, and no library thread is left.
 *
 * Usage: stress_group [rounds] [seed].  Prints "N passed, N failed" last and
 * exits non-zero if anything failed.
 */
#include <errno.h>
#include <gochan/chan.h>
#include <gochan/context.h>
#include <gochan/group.h>
#include <gochan/waitgroup.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "../testutil.h"
#include "group/group_internal.h"
#include "service/threads.h"

#define MS ((int64_t)1000000)
#define SECOND ((int64_t)1000000000)

enum {
	STARTERS = 3,
	STARTS = 40, /* per starter per round */
	MAXTASKS = STARTERS * STARTS * 2,
	FAILCODE = 5000
};

#include "stress_check.h"

/* ---- one errgroup round ------------------------------------------------------- */

struct round;

struct task {
	struct round *r;
	int fail;  /* non-zero: the code this task returns */
	int spawn; /* whether it tries to start a child */
	atomic_int ran;
};

struct round {
	gogroup_t *g;
	ctx_t *gctx;      /* the group's context */
	ctx_t *start_ctx; /* the starters' go_ctx context, cancelled midway */
	int limit;
	atomic_int active, max_active;
	atomic_int started; /* tasks started (children included) */
	atomic_int ran;     /* tasks that ran */
	atomic_int next;    /* next free slot of tasks[] */
	atomic_int stop;    /* the helpers' stop flag */
	atomic_int waited;  /* a wait_until returned 0 (and so cancelled gctx) */
	struct task tasks[MAXTASKS];
	unsigned seed[STARTERS];
};

static int task_fn(void *p);

/* Claim a fresh task slot (NULL when full). */
static struct task *new_task(struct round *r, unsigned *seed)
{
	int i = atomic_fetch_add(&r->next, 1);
	if (i >= MAXTASKS)
		return NULL;
	struct task *t = &r->tasks[i];
	t->r = r;
	t->fail = rand_r(seed) % 40 == 0 ? FAILCODE + i : 0;
	t->spawn = rand_r(seed) % 8 == 0;
	atomic_init(&t->ran, 0);
	return t;
}

static int task_fn(void *p)
{
	struct task *t = p;
	struct round *r = t->r;
	int n = atomic_fetch_add(&r->active, 1) + 1;
	int m = atomic_load(&r->max_active);
	while (n > m && !atomic_compare_exchange_weak(&r->max_active, &m, n))
		;
	atomic_fetch_add(&t->ran, 1);
	atomic_fetch_add(&r->ran, 1);
	tu_yield();
	if (t->spawn) {
		/* A task starting a task in its own group; the slot we hold is
		 * not free, so at a limit of 1 this must be EAGAIN. */
		unsigned seed = (unsigned)(uintptr_t)t;
		struct task *c = new_task(r, &seed);
		if (c) {
			c->spawn = 0;
			int rc = gogroup_try_go(r->g, task_fn, c);
			CHECK(rc == 0 || rc == EAGAIN, "child try_go: %d", rc);
			CHECK(rc == EAGAIN || r->limit != 1, "a second task at limit 1");
			if (rc == 0)
				atomic_fetch_add(&r->started, 1);
		}
	}
	atomic_fetch_sub(&r->active, 1);
	return t->fail;
}

struct starter {
	struct round *r;
	int id;
};

static void *starter(void *p)
{
	struct starter *s = p;
	struct round *r = s->r;
	unsigned *seed = &r->seed[s->id];
	for (int i = 0; i < STARTS; i++) {
		struct task *t = new_task(r, seed);
		if (!t)
			break;
		int mode = rand_r(seed) % 4, rc;
		switch (mode) {
		case 0:
			rc = gogroup_go(r->g, task_fn, t);
			CHECK(rc == 0, "go: %d", rc);
			break;
		case 1:
			rc = gogroup_go_ctx(r->g, r->start_ctx, task_fn, t);
			CHECK(rc == 0 || rc == CTX_CANCELED, "go_ctx: %d", rc);
			break;
		case 2:
			rc = gogroup_go_until(r->g, chan_now() + (rand_r(seed) % 3) * MS, task_fn,
					      t);
			CHECK(rc == 0 || rc == ETIMEDOUT, "go_until: %d", rc);
			break;
		default:
			rc = gogroup_try_go(r->g, task_fn, t);
			CHECK(rc == 0 || rc == EAGAIN, "try_go: %d", rc);
			break;
		}
		if (rc == 0)
			atomic_fetch_add(&r->started, 1);
		if (i == STARTS / 2 && s->id == 0)
			ctx_cancel(r->start_ctx); /* midway: go_ctx gives up from now */
	}
	return NULL;
}

static void *waiter(void *p)
{
	struct round *r = p;
	while (!atomic_load(&r->stop)) {
		int first = -1;
		int rc = gogroup_wait_until(r->g, chan_now() + MS, &first);
		CHECK(rc == 0 || rc == ETIMEDOUT, "wait_until: %d", rc);
		CHECK(rc != 0 || first == 0 || first >= FAILCODE, "first error %d", first);
		if (rc == 0)
			atomic_store(&r->waited, 1);
		tu_fiber_yield(); /* an idle group's wait does not park */
	}
	return NULL;
}

static void *limiter(void *p)
{
	struct round *r = p;
	while (!atomic_load(&r->stop)) {
		/* The same limit: the swap of the slot channel races the
		 * starts, the number stays what max_active is checked against. */
		int rc = gogroup_set_limit(r->g, r->limit);
		CHECK(rc == 0 || rc == EBUSY, "set_limit: %d", rc);
		tu_yield();
	}
	return NULL;
}

static void errgroup_round(unsigned seed)
{
	struct round *r = calloc(1, sizeof *r);
	if (!r) {
		CHECK(0, "calloc");
		return;
	}
	r->limit = 1 + (int)(seed % 6);
	r->g = gogroup_with_context(ctx_background(), &r->gctx);
	r->start_ctx = ctx_with_cancel(ctx_background());
	CHECK(r->g && r->gctx && r->start_ctx, "constructors");
	if (!r->g || !r->start_ctx)
		return;
	CHECK(gogroup_set_limit(r->g, r->limit) == 0, "set_limit on an idle group");
	for (int i = 0; i < STARTERS; i++)
		r->seed[i] = seed * 31 + (unsigned)i;

	tu_go_t th[STARTERS], w, l;
	struct starter st[STARTERS];
	w = tu_spawn(waiter, r);
	l = tu_spawn(limiter, r);
	for (int i = 0; i < STARTERS; i++) {
		st[i] = (struct starter){r, i};
		th[i] = tu_spawn(starter, &st[i]);
	}
	for (int i = 0; i < STARTERS; i++)
		tu_join(th[i]);
	int first = gogroup_wait(r->g);
	atomic_store(&r->stop, 1);
	tu_join(w);
	tu_join(l);

	int want_first_min = FAILCODE, any_fail = 0;
	int used = atomic_load(&r->next);
	if (used > MAXTASKS)
		used = MAXTASKS;
	int ran_once = 0;
	for (int i = 0; i < used; i++) {
		int ran = atomic_load(&r->tasks[i].ran);
		CHECK(ran == 0 || ran == 1, "task %d ran %d times", i, ran);
		ran_once += ran;
		if (ran && r->tasks[i].fail)
			any_fail = 1;
	}
	CHECK(ran_once == atomic_load(&r->started), "ran %d, started %d", ran_once,
	      atomic_load(&r->started));
	CHECK(atomic_load(&r->ran) == atomic_load(&r->started), "ran count");
	CHECK(atomic_load(&r->max_active) <= r->limit, "max active %d > limit %d",
	      atomic_load(&r->max_active), r->limit);
	if (any_fail) {
		CHECK(first >= want_first_min, "first %d", first);
		CHECK(first < want_first_min || r->tasks[first - FAILCODE].fail == first,
		      "first error is a task's");
		/* A wait that found the group idle midway cancelled the
		 * context already (Go's Wait does): its cause came first. */
		int cause = ctx_cause(r->gctx, NULL);
		CHECK(cause == first || (atomic_load(&r->waited) && cause == CTX_CANCELED),
		      "cause %d, first %d", cause, first);
	} else {
		CHECK(first == 0, "no task failed, Wait returned %d", first);
		CHECK(ctx_cause(r->gctx, NULL) == CTX_CANCELED, "Wait cancels");
	}
	CHECK(ctx_err(r->gctx) == CTX_CANCELED, "group context cancelled after Wait");
	CHECK(gogroup_free(r->g) == 0, "free after Wait");
	ctx_release(r->gctx);
	ctx_cancel_release(r->start_ctx);
	free(r);
}

/* ---- one WaitGroup round ---------------------------------------------------------- */

struct wground {
	gowg_t *wg;
	atomic_int done; /* work units finished */
	atomic_int stop;
};

static void wg_unit(void *p)
{
	struct wground *w = p;
	atomic_fetch_add_explicit(&w->done, 1, memory_order_relaxed);
}

enum {
	WG_ADDERS = 3,
	WG_UNITS = 60
};

static void *wg_adder(void *p)
{
	struct wground *w = p;
	for (int i = 0; i < WG_UNITS; i++) {
		if (i % 2) {
			int rc = gowg_go(w->wg, wg_unit, w);
			CHECK(rc == 0, "gowg_go: %d", rc);
		} else {
			/* Manual Add then Done on this thread. */
			CHECK(gowg_add(w->wg, 1) == 0, "add");
			wg_unit(w);
			CHECK(gowg_done(w->wg) == 0, "done");
		}
	}
	return NULL;
}

static void *wg_waiter(void *p)
{
	struct wground *w = p;
	while (!atomic_load(&w->stop)) {
		int rc = gowg_wait_until(w->wg, chan_now() + MS);
		CHECK(rc == 0 || rc == ETIMEDOUT, "wait_until: %d", rc);
		tu_fiber_yield(); /* a wait at zero does not park */
	}
	return NULL;
}

static void wg_round(void)
{
	struct wground w = {.wg = gowg_new()};
	CHECK(w.wg != NULL, "gowg_new");
	if (!w.wg)
		return;
	atomic_init(&w.done, 0);
	atomic_init(&w.stop, 0);
	/* The main thread holds one count for the whole round, so the waiters
	 * cannot see zero before every adder finished its adds. */
	CHECK(gowg_add(w.wg, 1) == 0, "hold");
	tu_go_t a[WG_ADDERS], wt = tu_spawn(wg_waiter, &w);
	for (int i = 0; i < WG_ADDERS; i++)
		a[i] = tu_spawn(wg_adder, &w);
	for (int i = 0; i < WG_ADDERS; i++)
		tu_join(a[i]);
	CHECK(gowg_wait_until(w.wg, CHAN_NOWAIT) == ETIMEDOUT, "held");
	CHECK(gowg_done(w.wg) == 0, "release the hold");
	CHECK(gowg_wait(w.wg) == 0, "wait");
	/* Relaxed load: the wait's acquire orders every unit before it. */
	CHECK(atomic_load_explicit(&w.done, memory_order_relaxed) == WG_ADDERS * WG_UNITS,
	      "units %d", atomic_load_explicit(&w.done, memory_order_relaxed));
	atomic_store(&w.stop, 1);
	tu_join(wt);
	CHECK(gowg_done(w.wg) == EINVAL, "the counter is exactly 0");
	CHECK(gowg_free(w.wg) == 0, "free");
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 200;
	unsigned seed = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 0) : (unsigned)time(NULL);
	printf("stress_group: %d rounds, seed %u\n", rounds, seed);
	fflush(stdout);
	int64_t t0 = chan_now();
	/* Rotate the pool's idle timeout: the default, off (a fresh thread
	 * per task), and 20 us (idle threads time out while tasks are being
	 * handed to them: the timeout races the hand-off). */
	static const int64_t idle_ns[] = {GROUP_POOL_IDLE_NS, 0, 20000};
	for (int i = 0; i < rounds; i++) {
		group__pool_set_idle_ns(idle_ns[i % 3]);
		errgroup_round(seed + (unsigned)i);
		wg_round();
	}
	group__pool_set_idle_ns(GROUP_POOL_IDLE_NS);
	CHECK(gosvc__threads_wait(chan_now() + 30 * SECOND) == 0, "library threads left: %u",
	      gosvc__threads_alive(GODIAG_THREAD_KINDS));
	printf("stress_group: %.2f s\n", (double)(chan_now() - t0) / 1e9);
	CHECK(tu_no_leaks(), "leak check (dump above)");
	long p = atomic_load(&passed), f = atomic_load(&failed);
	printf("%ld passed, %ld failed\n", p, f);
	return f ? 1 : 0;
}

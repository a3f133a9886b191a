/*
 * tests/test_context_patterns.c - the ways Go programs use context, in C:
 *   - workers that stop when a 200 ms timeout passes, with "context deadline
 *     exceeded";
 *   - a blocking call under an already-cancelled context returns at once;
 *   - a three-stage pipeline that shuts down completely (every thread
 *     joined) when its context is cancelled mid-stream;
 *   - a tree of 10,000 contexts with 1,000 threads blocked in selects on
 *     their Done channels: one cancel at the root wakes them all (the time
 *     from the cancel to the last wake-up is printed: a measurement, not an
 *     assertion).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <gochan/chan.h>
#include <gochan/context.h>
#include <gochan/select.h>
#include <gochan/time.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "context/ctx_internal.h"
#include "test_context_util.h"
#include "tests/leakcheck.h"
#include "testutil.h"

TU_LEAK_CHECKED_SUITE(context_patterns);

#define MS GOTIME_MILLISECOND
#define VERY_LONG (1000 * GOTIME_HOUR)

/* ---- workers stop on a 200 ms timeout ------------------------------------ */

struct work {
	ctx_t *ctx;
	chan_t *jobs;
	tu_barrier_t *warm; /* the producer and the workers, after the first jobs */
	int rc;
	long handled;
};

enum {
	WORKERS = 4
};

/* The first WORKERS jobs go out with plain sends, one to each worker's plain
 * first receive (a worker waits at the barrier after it, so none takes two):
 * every worker handles a job whatever the machine's speed (a thread that
 * first ran after the 200 ms would otherwise handle none).  Then the loops
 * under the context, which stop when its deadline passes. */
static void *producer(void *arg)
{
	struct work *w = arg;
	for (int i = 0; i < WORKERS; i++) {
		if (chan_send(w->jobs, &i))
			return NULL;
		w->handled++;
	}
	tu_barrier_wait(w->warm);
	for (int i = WORKERS;; i++) {
		w->rc = ctx_send(w->ctx, w->jobs, &i);
		if (w->rc)
			return NULL;
		w->handled++;
	}
}

static void *worker(void *arg)
{
	struct work *w = arg;
	int first;
	if (chan_recv(w->jobs, &first, NULL))
		return NULL;
	w->handled++;
	tu_barrier_wait(w->warm);
	for (;;) {
		int v;
		bool ok;
		w->rc = ctx_recv(w->ctx, w->jobs, &v, &ok);
		if (w->rc)
			return NULL;
		cr_assert(ok);
		w->handled++;
	}
}

Test(context_patterns, workers_stop_on_timeout, .timeout = 30)
{
	for (int iter = 0; iter < 3; iter++) {
		int64_t t0 = chan_now();
		ctx_t *ctx = ctx_with_timeout(ctx_background(), 200 * MS);
		chan_t *jobs = chan_new(sizeof(int), 0);
		tu_barrier_t warm;
		tu_barrier_init(&warm, WORKERS + 1);
		struct work p = {.ctx = ctx, .jobs = jobs, .warm = &warm}, ws[WORKERS];
		tu_go_t pt = tu_spawn(producer, &p), wt[WORKERS];
		for (int i = 0; i < WORKERS; i++) {
			ws[i] = (struct work){.ctx = ctx, .jobs = jobs, .warm = &warm};
			wt[i] = tu_spawn(worker, &ws[i]);
		}
		tu_join(pt);
		long total = 0;
		for (int i = 0; i < WORKERS; i++) {
			tu_join(wt[i]);
			cr_assert_eq(ws[i].rc, CTX_DEADLINE_EXCEEDED, "worker %d: %s", i,
				     ctx_strerror(ws[i].rc));
			total += ws[i].handled;
		}
		int64_t el = chan_now() - t0;
		tu_barrier_destroy(&warm);
		cr_assert_eq(p.rc, CTX_DEADLINE_EXCEEDED, "producer: %s", ctx_strerror(p.rc));
		cr_assert_str_eq(ctx_strerror(p.rc), "context deadline exceeded");
		cr_assert_eq(ctx_err(ctx), CTX_DEADLINE_EXCEEDED);
		cr_assert_eq(total, p.handled, "every job sent was received exactly once");
		cr_assert_geq(total, WORKERS, "each worker handled its first job");
		cr_assert_geq(el, 200 * MS, "stopped before the timeout: %lld ns", (long long)el);
		cr_assert_lt(el, 3 * GOTIME_SECOND, "stopped late: %lld ns", (long long)el);
		cr_assert_eq(chan_unref(jobs), 0);
		ctx_cancel_release(ctx);
	}
	cr_assert(wait_no_live(10 * GOTIME_SECOND), "contexts still alive: %ld", (long)ctx__live());
}

/* ---- a blocking call under a cancelled context returns at once ----------- */

/* A call that would block forever: nobody ever sends on @never. */
static int fetch(ctx_t *ctx, chan_t *never)
{
	int v;
	return ctx_recv(ctx, never, &v, NULL);
}

Test(context_patterns, blocking_call_returns_at_once_when_cancelled, .timeout = 10)
{
	static const int key;
	chan_t *never = chan_new(sizeof(int), 0);
	ctx_t *root = ctx_with_cancel(ctx_background());
	ctx_t *mid = ctx_with_value(root, &key, NULL);
	ctx_t *leaf = ctx_with_timeout(mid, VERY_LONG);
	ctx_cancel(root); /* the grandparent */
	int64_t t0 = chan_now();
	enum {
		N = 10000
	};
	for (int i = 0; i < N; i++)
		cr_assert_eq(fetch(i % 2 ? leaf : mid, never), CTX_CANCELED);
	int64_t el = chan_now() - t0;
	fprintf(stderr, "context_patterns: %d calls under a cancelled context: %.1f ns each\n", N,
		(double)el / N);
	cr_assert_lt(el, 2 * GOTIME_SECOND, "calls under a cancelled context blocked");
	ctx_cancel_release(leaf);
	ctx_release(mid);
	ctx_cancel_release(root);
	chan_unref(never);
}

/* ---- a three-stage pipeline shut down mid-stream ------------------------- */

struct stage {
	ctx_t *ctx;
	chan_t *in, *out;
	int rc;
};

/* Stage 1: 0, 1, 2, ... until cancelled; closes its output (Go's defer close). */
static void *gen(void *arg)
{
	struct stage *s = arg;
	for (int i = 0;; i++) {
		s->rc = ctx_send(s->ctx, s->out, &i);
		if (s->rc)
			break;
	}
	chan_close(s->out);
	return NULL;
}

/* Stage 2: squares; stops when cancelled or when its input is closed. */
static void *sq(void *arg)
{
	struct stage *s = arg;
	for (;;) {
		int v;
		bool ok;
		s->rc = ctx_recv(s->ctx, s->in, &v, &ok);
		if (s->rc || !ok)
			break;
		v *= v;
		s->rc = ctx_send(s->ctx, s->out, &v);
		if (s->rc)
			break;
	}
	chan_close(s->out);
	return NULL;
}

Test(context_patterns, pipeline_shuts_down_on_cancel, .timeout = 60)
{
	for (int iter = 0; iter < 100; iter++) {
		ctx_t *ctx = ctx_with_cancel(ctx_background());
		chan_t *a = chan_new(sizeof(int), iter % 3);
		chan_t *b = chan_new(sizeof(int), iter % 2);
		struct stage s1 = {.ctx = ctx, .out = a}, s2 = {.ctx = ctx, .in = a, .out = b};
		tu_go_t t1 = tu_spawn_stack(gen, &s1, 64 * 1024);
		tu_go_t t2 = tu_spawn_stack(sq, &s2, 64 * 1024);
		/* Stage 3 (this thread): take some values, then cancel. */
		int want = 1 + iter % 40;
		for (int i = 0; i < want; i++) {
			int v;
			bool ok;
			cr_assert_eq(ctx_recv(ctx, b, &v, &ok), 0);
			cr_assert(ok);
			cr_assert_eq(v, i * i, "pipeline value %d: %d", i, v);
		}
		ctx_cancel(ctx);
		tu_join(t1);
		tu_join(t2);
		cr_assert_eq(s1.rc, CTX_CANCELED, "gen: %s", ctx_strerror(s1.rc));
		/* sq either saw the cancel or gen's close first. */
		cr_assert(s2.rc == CTX_CANCELED || s2.rc == 0, "sq: %s", ctx_strerror(s2.rc));
		/* Both channels were closed by their stages: the shutdown is complete. */
		cr_assert(chan_is_closed(a) && chan_is_closed(b));
		cr_assert_eq(chan_unref(a), 0);
		cr_assert_eq(chan_unref(b), 0);
		ctx_cancel_release(ctx);
	}
	cr_assert(wait_no_live(10 * GOTIME_SECOND), "contexts still alive: %ld", (long)ctx__live());
}

/* ---- 10,000 contexts, 1,000 blocked threads, one cancel ------------------ */

struct waiter {
	ctx_t *ctx;
	chan_t *never;
	tu_blocker_t b;
	int rc;
	int64_t woke;
};

static void *tree_waiter(void *arg)
{
	struct waiter *w = arg;
	tu_about_to_block(&w->b);
	/* select { case <-ctx.Done(): case <-never: } */
	int r = CHAN_SELECT(CHAN_FOREVER, CHAN_RECV(ctx_done(w->ctx), NULL, NULL),
			    CHAN_RECV(w->never, NULL, NULL));
	w->woke = chan_now();
	w->rc = r == 0 ? ctx_err(w->ctx) : -1;
	return NULL;
}

Test(context_patterns, tree_of_10000_one_cancel_wakes_1000_threads, .timeout = 120)
{
	enum {
		NCTX = 10000,
		FANOUT = 10,
		NTHREADS = 1000
	};
	static const int key;
	ctx_t **all = calloc(NCTX, sizeof(ctx_t *));
	struct waiter *ws = calloc(NTHREADS, sizeof(struct waiter));
	tu_go_t *th = calloc(NTHREADS, sizeof(tu_go_t));
	cr_assert(all && ws && th);

	/* Breadth first: node i's parent is node (i - 1) / FANOUT.  The kinds
	 * cycle through cancel, deadline (a pending timer each) and value. */
	all[0] = ctx_with_cancel(ctx_background());
	int nt = 0;
	for (int i = 1; i < NCTX; i++) {
		ctx_t *p = all[(i - 1) / FANOUT];
		switch (i % 3) {
		case 0:
			all[i] = ctx_with_cancel(p);
			break;
		case 1:
			all[i] = ctx_with_timeout(p, VERY_LONG - (int64_t)i * MS);
			nt += ctx__timer_pending(all[i]);
			break;
		default:
			all[i] = ctx_with_value(p, &key, NULL);
			break;
		}
		cr_assert_not_null(all[i]);
	}
	chan_t *never = chan_new(0, 0);

	/* The threads wait on the deepest contexts, with small stacks; if the
	 * machine refuses more threads, fewer. */
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 128 * 1024);
	int n = 0;
	for (; n < NTHREADS; n++) {
		ws[n] = (struct waiter){
			.ctx = all[NCTX - 1 - n], .never = never, .b = TU_BLOCKER_INIT};
		if (tu_fiber_mode()) /* fiber mode: 1000 fibers, on their own stacks */
			th[n] = tu_spawn(tree_waiter, &ws[n]);
		else if (pthread_create(&th[n].th, &attr, tree_waiter, &ws[n]) != 0)
			break;
	}
	pthread_attr_destroy(&attr);
	cr_assert_gt(n, 0, "no thread could be started");
	for (int i = 0; i < n; i++)
		cr_assert(tu_wait_blocked(&ws[i].b, 30 * GOTIME_SECOND), "waiter %d never blocked",
			  i);

	int64_t t0 = chan_now();
	ctx_cancel(all[0]);
	int64_t t1 = chan_now();
	int64_t last = t0;
	for (int i = 0; i < n; i++) {
		tu_join(th[i]);
		cr_assert_eq(ws[i].rc, CTX_CANCELED, "waiter %d: rc %d", i, ws[i].rc);
		if (ws[i].woke > last)
			last = ws[i].woke;
	}
	fprintf(stderr,
		"context_patterns: tree of %d contexts (%d timers), %d blocked threads: "
		"cancel call %.2f ms, cancel to last wake-up %.2f ms\n",
		NCTX, nt, n, (double)(t1 - t0) / 1e6, (double)(last - t0) / 1e6);
	for (int i = 0; i < NCTX; i++) {
		cr_assert_eq(ctx_err(all[i]), CTX_CANCELED);
		cr_assert_eq(ctx__nchildren(all[i]), 0);
		cr_assert_not(ctx__timer_pending(all[i]));
	}
	for (int i = 0; i < NCTX; i++)
		ctx_cancel_release(all[i]);
	cr_assert(wait_no_live(10 * GOTIME_SECOND), "contexts still alive: %ld", (long)ctx__live());
	chan_unref(never);
	free(all);
	free(ws);
	free(th);
}

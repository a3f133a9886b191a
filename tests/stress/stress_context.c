/*
 * tests/stress/stress_context.c - random context trees, cancelled from
 * several threads at once while children are being created, with values,
 * deadlines (timers firing during the round), WithoutCancel, AfterFunc
 * registrations being stopped, and threads blocked on Done.  Meant to run
 * under ThreadSanitizer and AddressSanitizer (leaks: every context is
 * accounted for at the end of each round).
 *
 * Invariants checked (each check counts one pass or one failure):
 *   - a child of a context that was already done when the child was made is
 *     done at once (unless WithoutCancel), with an error;
 *   - a child's deadline is never later than its parent's;
 *   - ctx_value finds the innermost value for a shared key and each value
 *     context's own key from any descendant (through WithoutCancel too);
 *   - when ctx_cancel(X) returns, X and every descendant published so far
 *     (not behind a WithoutCancel) are done and X has no registered child;
 *   - Err is only ever CTX_CANCELED or CTX_DEADLINE_EXCEEDED, never changes
 *     once set, and the cause matches it (a cancel cause only with
 *     CTX_CANCELED, a deadline cause only with CTX_DEADLINE_EXCEEDED);
 *   - threads blocked on Done wake with the context's error;
 *   - after the root is cancelled every context under it is done, its Done
 *     closed, no child registered, no timer pending;
 *   - every AfterFunc registration either was stopped (stop returned true
 *     exactly once) or ran exactly once - never both, never neither;
 *   - once everything is released no context object is left alive.
 *
 * Usage: stress_context [rounds] [seed].  Prints "N passed, N failed" last
 * and exits non-zero if anything failed.
 */
#include <errno.h>
#include <gochan/chan.h>
#include <gochan/context.h>
#include <gochan/select.h>
#include <gochan/time.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../test_context_util.h"
#include "../testutil.h"

#define MS GOTIME_MILLISECOND
#define VERY_LONG (1000 * GOTIME_HOUR)

enum {
	MAXN = 400,
	MAXA = 120,
	CREATORS = 2,
	CANCELLERS = 2,
	WAITERS = 3
};
enum {
	K_CANCEL,
	K_TIMEOUT,
	K_VALUE,
	K_WITHOUT
};
enum {
	CANCEL_CAUSE = 1000,
	DEADLINE_CAUSE = 2000
};

#include "stress_check.h"

/* One context of the tree.  Written by its creator before it is published
 * (under the round's mutex) and never changed afterwards. */
struct node {
	ctx_t *c;
	int parent; /* index, -1 for the root */
	int kind;
	bool under_without; /* WithoutCancel on the path to the root */
	int shared_id;      /* nearest value node on the path keyed by shared_key, -1 */
	int own_id;         /* nearest value node keyed by its own_key slot, -1 */
};

/* The value of the key shared by every value context, and each value
 * context's own key (the address of its slot). */
static const char shared_key;
static char own_key[MAXN];

struct reg {
	ctx_after_t *a;
	atomic_int runs;
	atomic_int stops; /* ctx_after_stop() calls that returned true */
	bool may_fire;    /* its context is not behind a WithoutCancel */
};

struct round {
	pthread_mutex_t mu; /* guards n, na and publishing */
	struct node nodes[MAXN];
	int n;
	struct reg regs[MAXA];
	int na;
	atomic_bool stop_creating;
	chan_t *never;
	unsigned seed;
};

static bool is_ancestor(struct round *r, int anc, int i)
{
	/* Whether @anc is @i or an ancestor of @i, and no WithoutCancel lies
	 * strictly between them (so @anc's cancel reaches @i). */
	while (i >= 0) {
		if (i == anc)
			return true;
		if (r->nodes[i].kind == K_WITHOUT)
			return false;
		i = r->nodes[i].parent;
	}
	return false;
}

static void check_err_cause(ctx_t *c, const char *when)
{
	int e = ctx_err(c);
	int cause = ctx_cause(c, NULL);
	if (e == 0)
		return;
	CHECK(e == CTX_CANCELED || e == CTX_DEADLINE_EXCEEDED, "%s: err %d", when, e);
	if (e == CTX_CANCELED)
		CHECK(cause == CTX_CANCELED || (cause >= CANCEL_CAUSE && cause < DEADLINE_CAUSE),
		      "%s: canceled with cause %d", when, cause);
	else
		CHECK(cause == CTX_DEADLINE_EXCEEDED || cause >= DEADLINE_CAUSE,
		      "%s: deadline exceeded with cause %d", when, cause);
	CHECK(ctx_err(c) == e, "%s: err changed", when);
}

/* Pick a published node and take a reference to it. */
static int pick(struct round *r, unsigned *seed, ctx_t **c)
{
	pthread_mutex_lock(&r->mu);
	int i = (int)(rand_r(seed) % (unsigned)r->n);
	*c = ctx_ref(r->nodes[i].c);
	pthread_mutex_unlock(&r->mu);
	return i;
}

static void noop_after(void *arg)
{
	struct reg *g = arg;
	atomic_fetch_add_explicit(&g->runs, 1, memory_order_relaxed);
}

static void *creator(void *arg)
{
	struct round *r = arg;
	unsigned seed = r->seed ^ (unsigned)(uintptr_t)pthread_self();
	while (!atomic_load_explicit(&r->stop_creating, memory_order_relaxed)) {
		ctx_t *p;
		int pi = pick(r, &seed, &p);
		struct node pn;
		pthread_mutex_lock(&r->mu);
		pn = r->nodes[pi];
		pthread_mutex_unlock(&r->mu);

		if (rand_r(&seed) % 10 == 0) {
			/* Fire and forget: a short deadline child released at once,
			 * so only its timer holds it while the tree around it is
			 * being cancelled (the timer firing during a parent's cancel
			 * must neither free it early nor leak it). */
			ctx_t *ff =
				ctx_with_timeout_cause(p, (int64_t)(rand_r(&seed) % 2000) * 1000,
						       DEADLINE_CAUSE + 1, NULL);
			CHECK(ff != NULL, "fire-and-forget: errno %d", errno);
			if (ff && rand_r(&seed) % 2) {
				ctx_t *g = ctx_with_cancel(ff); /* a grandchild too */
				ctx_release(g);
			}
			ctx_release(ff);
			ctx_release(p);
			continue;
		}
		if (rand_r(&seed) % 8 == 0) { /* an AfterFunc registration */
			pthread_mutex_lock(&r->mu);
			int ai = r->na < MAXA ? r->na++ : -1;
			pthread_mutex_unlock(&r->mu);
			if (ai >= 0) {
				struct reg *g = &r->regs[ai];
				g->may_fire = !pn.under_without;
				ctx_after_t *a = ctx_after_func(p, noop_after, g);
				CHECK(a != NULL, "ctx_after_func: errno %d", errno);
				pthread_mutex_lock(&r->mu);
				g->a = a; /* published for the cancellers' stops */
				pthread_mutex_unlock(&r->mu);
			}
			ctx_release(p);
			continue;
		}

		struct node nd = {.parent = pi,
				  .under_without = pn.under_without,
				  .shared_id = pn.shared_id,
				  .own_id = pn.own_id};
		int before = ctx_err(p);
		int64_t pd = 0;
		bool phas = ctx_deadline(p, &pd);
		unsigned k = rand_r(&seed) % 20;
		if (k < 7) {
			nd.kind = K_CANCEL;
			nd.c = ctx_with_cancel_cause(p);
		} else if (k < 12) {
			nd.kind = K_TIMEOUT;
			int64_t d = rand_r(&seed) % 4 ? (int64_t)(rand_r(&seed) % 3000) * 1000
						      : VERY_LONG;
			nd.c = rand_r(&seed) % 2 ? ctx_with_timeout(p, d)
						 : ctx_with_timeout_cause(
							   p, d, DEADLINE_CAUSE + (int)k, NULL);
		} else if (k < 19) {
			nd.kind = K_VALUE;
		} else {
			nd.kind = K_WITHOUT;
			nd.under_without = true;
			nd.c = ctx_without_cancel(p);
		}

		pthread_mutex_lock(&r->mu);
		int i = r->n < MAXN ? r->n : -1;
		if (i >= 0 && nd.kind == K_VALUE) {
			/* The value needs the slot index: made under the lock.
			 * Half use the shared key (shadowing the outer ones). */
			if (k % 2) {
				nd.c = ctx_with_value(p, &shared_key, (void *)(intptr_t)(i + 1));
				nd.shared_id = i;
			} else {
				nd.c = ctx_with_value(p, &own_key[i], (void *)(intptr_t)(i + 1));
				nd.own_id = i;
			}
		}
		if (i >= 0 && nd.c) {
			r->nodes[i] = nd;
			r->n++;
		}
		pthread_mutex_unlock(&r->mu);
		if (i < 0) { /* the tree is full */
			ctx_cancel_release(nd.c);
			ctx_release(p);
			atomic_store_explicit(&r->stop_creating, true, memory_order_relaxed);
			break;
		}
		CHECK(nd.c != NULL, "constructor kind %d: errno %d", nd.kind, errno);
		if (!nd.c) {
			ctx_release(p);
			continue;
		}
		/* A child of a done parent is done at once. */
		if (before && nd.kind != K_WITHOUT)
			CHECK(ctx_err(nd.c) != 0 && done_now(nd.c),
			      "child (kind %d) of a done parent not done", nd.kind);
		if (nd.kind == K_WITHOUT)
			CHECK(ctx_err(nd.c) == 0 && ctx_done(nd.c) == NULL &&
				      !ctx_deadline(nd.c, NULL),
			      "WithoutCancel is cancelable");
		/* Never later than the parent's deadline. */
		int64_t cd = 0;
		bool chas = ctx_deadline(nd.c, &cd);
		if (phas && nd.kind != K_WITHOUT)
			CHECK(chas && cd <= pd, "child deadline %lld after parent's %lld",
			      (long long)cd, (long long)pd);
		/* Values: innermost for the shared key, the nearest value
		 * node's own key. */
		CHECK(ctx_value(nd.c, &shared_key) ==
			      (nd.shared_id >= 0 ? (void *)(intptr_t)(nd.shared_id + 1) : NULL),
		      "innermost shared-key lookup");
		if (nd.own_id >= 0)
			CHECK(ctx_value(nd.c, &own_key[nd.own_id]) ==
				      (void *)(intptr_t)(nd.own_id + 1),
			      "own-key lookup");
		check_err_cause(nd.c, "new child");
		ctx_release(p);
	}
	return NULL;
}

static void *canceller(void *arg)
{
	struct round *r = arg;
	unsigned seed = r->seed * 7919u ^ (unsigned)(uintptr_t)pthread_self();
	while (!atomic_load_explicit(&r->stop_creating, memory_order_relaxed)) {
		ctx_t *c;
		int i = pick(r, &seed, &c);
		pthread_mutex_lock(&r->mu);
		int kind = r->nodes[i].kind;
		pthread_mutex_unlock(&r->mu);

		unsigned what = rand_r(&seed) % 10;
		if (what == 0) { /* stop a random AfterFunc */
			pthread_mutex_lock(&r->mu);
			struct reg *g = r->na ? &r->regs[rand_r(&seed) % (unsigned)r->na] : NULL;
			ctx_after_t *a = g ? g->a : NULL;
			pthread_mutex_unlock(&r->mu);
			if (a && ctx_after_stop(a))
				atomic_fetch_add_explicit(&g->stops, 1, memory_order_relaxed);
		} else if (kind == K_CANCEL || kind == K_TIMEOUT) {
			if (what < 5)
				ctx_cancel(c);
			else
				ctx_cancel_cause(c, CANCEL_CAUSE + (int)what, NULL);
			/* Synchronous: c and every descendant published so far. */
			CHECK(done_now(c) && ctx_err(c) != 0, "cancelled context not done");
			CHECK(ctx__nchildren(c) == 0, "cancelled context still has children");
			pthread_mutex_lock(&r->mu);
			int n = r->n;
			pthread_mutex_unlock(&r->mu);
			for (int j = 0; j < n; j++) {
				pthread_mutex_lock(&r->mu);
				bool desc = is_ancestor(r, i, j);
				ctx_t *dc = desc ? ctx_ref(r->nodes[j].c) : NULL;
				pthread_mutex_unlock(&r->mu);
				if (!dc)
					continue;
				CHECK(ctx_err(dc) != 0 && done_now(dc),
				      "descendant %d of cancelled %d not done", j, i);
				check_err_cause(dc, "descendant");
				ctx_release(dc);
			}
		} else {
			check_err_cause(c, "random");
			CHECK(ctx_cancel(c) == EINVAL, "cancel of a non-cancelable kind %d", kind);
		}
		ctx_release(c);
		tu_yield();
	}
	return NULL;
}

struct waiter {
	struct round *r;
	ctx_t *c;
};

static void *waiter(void *arg)
{
	struct waiter *w = arg;
	int v;
	int rc = ctx_recv(w->c, w->r->never, &v, NULL);
	CHECK(rc == CTX_CANCELED || rc == CTX_DEADLINE_EXCEEDED, "waiter rc %d", rc);
	CHECK(rc == ctx_err(w->c), "waiter rc %d but err %d", rc, ctx_err(w->c));
	CHECK(done_now(w->c), "waiter woke but Done open");
	ctx_release(w->c);
	return NULL;
}

static bool wait_until(bool (*cond)(void *), void *arg, int64_t patience)
{
	int64_t end = chan_now() + patience;
	while (!cond(arg)) {
		if (chan_now() > end)
			return false;
		struct timespec ts = {0, 200000};
		nanosleep(&ts, NULL);
	}
	return true;
}

static bool regs_settled(void *arg)
{
	struct round *r = arg;
	for (int i = 0; i < r->na; i++) {
		struct reg *g = &r->regs[i];
		if (atomic_load(&g->runs) + atomic_load(&g->stops) == 0)
			return false;
	}
	return true;
}

static void run_round(unsigned seed)
{
	struct round *r = calloc(1, sizeof(*r));
	pthread_mutex_init(&r->mu, NULL);
	r->seed = seed;
	r->never = chan_new(sizeof(int), 0);
	atomic_init(&r->stop_creating, false);
	for (int i = 0; i < MAXA; i++) {
		atomic_init(&r->regs[i].runs, 0);
		atomic_init(&r->regs[i].stops, 0);
	}
	/* The root: sometimes with a deadline of its own that may pass during
	 * the round. */
	r->nodes[0] = (struct node){.parent = -1, .shared_id = -1, .own_id = -1};
	if (seed % 3 == 0) {
		r->nodes[0].kind = K_TIMEOUT;
		r->nodes[0].c = ctx_with_timeout(ctx_background(), (int64_t)(seed % 20) * MS);
	} else {
		r->nodes[0].kind = K_CANCEL;
		r->nodes[0].c = ctx_with_cancel(ctx_background());
	}
	r->n = 1;

	tu_go_t cr[CREATORS], ca[CANCELLERS], wt[WAITERS];
	struct waiter ws[WAITERS];
	for (int i = 0; i < CREATORS; i++)
		cr[i] = tu_spawn(creator, r);
	for (int i = 0; i < CANCELLERS; i++)
		ca[i] = tu_spawn(canceller, r);
	/* Waiters on contexts made early (not behind a WithoutCancel, so the
	 * root's cancel reaches them). */
	unsigned wseed = seed;
	for (int i = 0; i < WAITERS; i++) {
		ws[i].r = r;
		for (;;) {
			int j = pick(r, &wseed, &ws[i].c);
			pthread_mutex_lock(&r->mu);
			bool ok = !r->nodes[j].under_without;
			pthread_mutex_unlock(&r->mu);
			if (ok)
				break;
			ctx_release(ws[i].c);
		}
		wt[i] = tu_spawn(waiter, &ws[i]);
	}
	for (int i = 0; i < CREATORS; i++)
		tu_join(cr[i]);
	for (int i = 0; i < CANCELLERS; i++)
		tu_join(ca[i]);

	/* Cancel the root: everything under it (not behind WithoutCancel). */
	ctx_cancel_cause(r->nodes[0].c, CANCEL_CAUSE + 99, NULL);
	for (int i = 0; i < WAITERS; i++)
		tu_join(wt[i]);
	for (int i = 0; i < r->n; i++) {
		struct node *nd = &r->nodes[i];
		if (nd->under_without)
			continue;
		CHECK(ctx_err(nd->c) != 0 && done_now(nd->c), "node %d not done", i);
		CHECK(ctx__nchildren(nd->c) == 0, "node %d still has children", i);
		CHECK(!ctx__timer_pending(nd->c), "node %d timer still pending", i);
		check_err_cause(nd->c, "after root cancel");
	}
	/* AfterFuncs: stopped or ran, exactly one of them, exactly once.  Those
	 * behind a WithoutCancel are stopped now, unless a context between
	 * the WithoutCancel and them was cancelled: then they ran. */
	for (int i = 0; i < r->na; i++) {
		struct reg *g = &r->regs[i];
		if (!g->may_fire && ctx_after_stop(g->a))
			atomic_fetch_add(&g->stops, 1);
	}
	CHECK(wait_until(regs_settled, r, 20 * GOTIME_SECOND), "AfterFuncs never ran");
	for (int i = 0; i < r->na; i++) {
		struct reg *g = &r->regs[i];
		int runs = atomic_load(&g->runs), stops = atomic_load(&g->stops);
		CHECK(runs + stops == 1, "AfterFunc %d: ran %d, stopped %d", i, runs, stops);
		CHECK(!ctx_after_stop(g->a), "AfterFunc %d stopped after settling", i);
		ctx_after_release(g->a);
	}
	for (int i = r->n - 1; i >= 0; i--)
		ctx_cancel_release(r->nodes[i].c);
	CHECK(wait_no_live(20 * GOTIME_SECOND), "contexts leaked: %ld alive", ctx__live());
	chan_unref(r->never);
	pthread_mutex_destroy(&r->mu);
	free(r);
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 300;
	unsigned seed = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 0) : (unsigned)time(NULL);
	fprintf(stderr, "stress_context: %d rounds, seed %u\n", rounds, seed);
	int64_t t0 = chan_now();
	for (int i = 0; i < rounds; i++)
		run_round(seed + (unsigned)i);
	/* No library thread left behind for leak checkers: AfterFunc threads
	 * have released their contexts (checked above), the timer thread goes. */
	int64_t end = chan_now() + 10 * GOTIME_SECOND;
	while (gotime_shutdown() == EBUSY && chan_now() < end)
		tu_yield();
	fprintf(stderr, "stress_context: %.2f s\n", (double)(chan_now() - t0) / 1e9);
	atomic_fetch_add(tu_no_leaks() ? &passed : &failed, 1);
	printf("%ld passed, %ld failed\n", atomic_load(&passed), atomic_load(&failed));
	return atomic_load(&failed) ? 1 : 0;
}

/*
 * tests/stress/stress_service.c - every service thread of the library
 * (service/service.h) cycled through start, idle exit or shutdown, and
 * restart, thousands of times, under ThreadSanitizer and AddressSanitizer
 * too: after each shutdown (or the wait for an idle exit) the library's
 * thread count (godiag_threads(), per kind too) is 0 at once, with no
 * waiting.  Every round is synchronised on events (a value received, a
 * function's signal, a wait that returns when the thread has gone), never on
 * sleeps.
 *
 * Services and what a round does (mode chosen at random per round):
 *   timer:      an After(0) received, then gotime_shutdown(); or, with the
 *               linger at 0, the idle exit waited for; or a second After
 *               started while the first thread may be leaving, then
 *               gotime_shutdown();
 *   afterfunc:  gotime_after_func(0) signals, gotime__wait_afterfuncs()
 *               returns: its thread is already uncounted; gotime_shutdown();
 *   ctx after:  ctx_after_func on a cancelled context signals, its thread
 *               is waited for (ctx__after_wait_threads);
 *   poller:     a pipe watch fires, then gopoll_shutdown(); or the idle
 *               exit (linger 0); or a second watch on the leaving poller;
 *   group:      gowg_go tasks waited for, then group__pool_shutdown(); or
 *               no reuse (idle timeout 0) and the exit waited for;
 *   dump:       godiag_signal(SIGUSR1) and godiag_signal(0), with a dump
 *               every 50th round (raised, waited for).
 * Then a race: a thread starts and receives timers, AfterFuncs and watches
 * while the main thread calls the shutdowns (0 or EBUSY, never anything
 * else); afterwards every shutdown returns 0 and the count is 0.
 *
 * Usage: stress_service [scale] [seed].  Prints "N passed, N failed" last and
 * exits non-zero if anything failed.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <gochan/chan.h>
#include <gochan/context.h>
#include <gochan/diag.h>
#include <gochan/poll.h>
#include <gochan/time.h>
#include <gochan/waitgroup.h>

#include "context/ctx_internal.h"
#include "diag/diag_internal.h"
#include "service/threads.h"
#include "group/group_internal.h"
#include "poll/poll_internal.h"
#include "timer/timer_internal.h"

#include "stress_check.h"

static int scale = 1;
static unsigned seed = 1;

#define ROUNDS (2000 * scale)

/* Nothing of @k, and nothing at all, counted now. */
#define CHECK_NONE(k, what, round)                                                                 \
	do {                                                                                       \
		CHECK(gosvc__threads_alive(k) == 0, "%s round %d: %u %s thread(s) counted", what, \
		      round, gosvc__threads_alive(k), gosvc__thread_kind_name(k));               \
		CHECK(godiag_threads() == 0, "%s round %d: %u library thread(s)", what, round,     \
		      godiag_threads());                                                           \
	} while (0)

static void recv_one(chan_t *c)
{
	int64_t v;
	bool ok;
	int err = chan_recv(c, &v, &ok);
	CHECK(err == 0, "chan_recv: %d", err);
}

/* ---- timer ---------------------------------------------------------------- */

static void timer_rounds(void)
{
	for (int r = 0; r < ROUNDS; r++) {
		int mode = rand_r(&seed) % 3;
		gotime__set_linger_ns(mode == 0 ? GOTIME_IDLE_LINGER_NS : 0);
		chan_t *c = gotime_after(0);
		CHECK(c != NULL, "gotime_after");
		if (!c)
			continue;
		recv_one(c);
		chan_unref(c);
		if (mode == 1) {
			CHECK(gotime__wait_thread_exit(CHAN_FOREVER) == 0, "idle exit");
		} else {
			if (mode == 2) { /* the first thread may be leaving now */
				c = gotime_after(0);
				CHECK(c != NULL, "gotime_after");
				if (c) {
					recv_one(c);
					chan_unref(c);
				}
			}
			int err = gotime_shutdown();
			CHECK(err == 0, "timer round %d: gotime_shutdown %d", r, err);
		}
		CHECK(gotime__threads_live() == 0, "timer round %d: live", r);
		CHECK_NONE(GODIAG_THREAD_TIMER, "timer", r);
	}
	gotime__set_linger_ns(GOTIME_IDLE_LINGER_NS);
}

/* ---- AfterFunc (timers) --------------------------------------------------- */

static void signal_fn(void *arg)
{
	int64_t v = 1;
	int err = chan_send(arg, &v);
	CHECK(err == 0, "signal send %d", err);
}

static void afterfunc_rounds(chan_t *ev)
{
	for (int r = 0; r < ROUNDS; r++) {
		gotime_timer_t *t = gotime_after_func(0, signal_fn, ev);
		CHECK(t != NULL, "gotime_after_func");
		if (!t)
			continue;
		recv_one(ev);
		/* The function has returned and its thread is gone. */
		CHECK(gotime__wait_afterfuncs(CHAN_FOREVER) == 0, "wait_afterfuncs");
		CHECK(gosvc__threads_alive(GODIAG_THREAD_AFTERFUNC) == 0,
		      "afterfunc round %d: %u AfterFunc thread(s) after wait_afterfuncs", r,
		      gosvc__threads_alive(GODIAG_THREAD_AFTERFUNC));
		gotime_timer_free(t);
		int err = gotime_shutdown();
		CHECK(err == 0, "afterfunc round %d: gotime_shutdown %d", r, err);
		CHECK_NONE(GODIAG_THREAD_AFTERFUNC, "afterfunc", r);
	}
}

/* ---- AfterFunc (contexts) ------------------------------------------------- */

static void ctx_after_rounds(chan_t *ev)
{
	uint64_t started = ctx__after_threads_started();
	for (int r = 0; r < ROUNDS; r++) {
		ctx_t *c = ctx_with_cancel(ctx_background());
		CHECK(c != NULL, "ctx_with_cancel");
		if (!c)
			continue;
		ctx_after_t *a = ctx_after_func(c, signal_fn, ev);
		CHECK(a != NULL, "ctx_after_func");
		ctx_cancel(c);
		if (a)
			recv_one(ev);
		CHECK(ctx__after_wait_threads(CHAN_FOREVER) == 0, "ctx after wait");
		CHECK(ctx__after_threads_live() == 0, "ctx after round %d: live", r);
		ctx_after_release(a);
		ctx_cancel_release(c);
		CHECK_NONE(GODIAG_THREAD_AFTERFUNC, "ctx after", r);
	}
	CHECK(ctx__after_threads_started() - started <= (uint64_t)ROUNDS, "ctx after: started");
}

/* ---- poller --------------------------------------------------------------- */

static void watch_fire(int p[2])
{
	char b = 'x';
	gopoll_t *w = gopoll_watch(p[0], GOPOLL_READ);
	CHECK(w != NULL, "gopoll_watch");
	if (!w)
		return;
	CHECK(write(p[1], &b, 1) == 1, "write");
	bool ok = true;
	CHECK(chan_recv(gopoll_chan(w), NULL, &ok) == 0 && !ok, "watch"); /* closed when it fires */
	CHECK(gopoll_revents(w) & GOPOLL_READ, "revents");
	CHECK(read(p[0], &b, 1) == 1, "read");
	CHECK(gopoll_free(w) == 0, "gopoll_free");
}

static void poller_rounds(void)
{
	int p[2];
	if (pipe(p) != 0) {
		CHECK(0, "pipe");
		return;
	}
	for (int r = 0; r < ROUNDS; r++) {
		int mode = rand_r(&seed) % 3;
		gopoll__set_linger_ns(mode == 0 ? GOPOLL_IDLE_LINGER_NS : 0);
		watch_fire(p);
		if (mode == 1) {
			CHECK(gopoll__wait_thread_exit(CHAN_FOREVER) == 0, "idle exit");
		} else {
			if (mode == 2)
				watch_fire(p); /* the first thread may be leaving now */
			int err = gopoll_shutdown();
			CHECK(err == 0, "poller round %d: gopoll_shutdown %d", r, err);
		}
		CHECK(gopoll__threads_live() == 0, "poller round %d: live", r);
		CHECK_NONE(GODIAG_THREAD_POLLER, "poller", r);
	}
	gopoll__set_linger_ns(GOPOLL_IDLE_LINGER_NS);
	close(p[0]);
	close(p[1]);
}

/* ---- group pool ----------------------------------------------------------- */

static void task(void *arg)
{
	atomic_fetch_add_explicit((atomic_long *)arg, 1, memory_order_relaxed);
}

static void group_rounds(void)
{
	atomic_long ran = 0;
	long want = 0;
	int64_t idle0 = group__pool_set_idle_ns(0);
	group__pool_set_idle_ns(idle0);
	for (int r = 0; r < ROUNDS; r++) {
		int mode = rand_r(&seed) % 3;
		int n = mode == 2 ? 4 : 1;
		group__pool_set_idle_ns(mode == 1 ? 0 : idle0);
		gowg_t *wg = gowg_new();
		CHECK(wg != NULL, "gowg_new");
		if (!wg)
			continue;
		for (int i = 0; i < n; i++) {
			int err = gowg_go(wg, task, &ran);
			CHECK(err == 0, "gowg_go %d", err);
			want += err == 0;
		}
		CHECK(gowg_wait(wg) == 0, "gowg_wait");
		CHECK(gowg_free(wg) == 0, "gowg_free");
		if (mode == 1) {
			CHECK(group__pool_wait_threads(CHAN_FOREVER) == 0, "idle exit");
		} else {
			int err = group__pool_shutdown();
			CHECK(err == 0, "group round %d: group__pool_shutdown %d", r, err);
		}
		CHECK(group__pool_threads() == 0, "group round %d: live", r);
		CHECK_NONE(GODIAG_THREAD_GROUP, "group", r);
	}
	group__pool_set_idle_ns(idle0);
	CHECK(atomic_load_explicit(&ran, memory_order_relaxed) == want, "group: tasks lost");
}

/* ---- dump thread ---------------------------------------------------------- */

static void dump_rounds(void)
{
	unsigned long dumps = godiag__signal_dumps();
	for (int r = 0; r < ROUNDS; r++) {
		int err = godiag_signal(SIGUSR1);
		CHECK(err == 0, "godiag_signal %d", err);
		CHECK(gosvc__threads_alive(GODIAG_THREAD_DIAG) == 1, "dump thread counted");
		if (r % 50 == 0 && err == 0) {
			raise(SIGUSR1);
			CHECK(godiag__signal_wait_dumps(++dumps, CHAN_FOREVER) == 0, "dump");
		}
		CHECK(godiag_signal(0) == 0, "godiag_signal(0)");
		CHECK_NONE(GODIAG_THREAD_DIAG, "dump", r);
	}
}

/* ---- the race ------------------------------------------------------------- */

static atomic_bool racing;

static void *racer_main(void *arg)
{
	chan_t *ev = arg;
	int p[2];
	CHECK(pipe(p) == 0, "pipe");
	for (int r = 0; r < ROUNDS / 4; r++) {
		chan_t *c = gotime_after(0);
		if (c) {
			recv_one(c);
			chan_unref(c);
		}
		gotime_timer_t *t = gotime_after_func(0, signal_fn, ev);
		if (t) {
			recv_one(ev);
			gotime_timer_free(t);
		}
		watch_fire(p);
	}
	close(p[0]);
	close(p[1]);
	/* Release: pairs with the main thread's acquire. */
	atomic_store_explicit(&racing, false, memory_order_release);
	return NULL;
}

static void race(chan_t *ev)
{
	pthread_t th;
	long shut = 0;

	atomic_store_explicit(&racing, true, memory_order_relaxed);
	if (pthread_create(&th, NULL, racer_main, ev) != 0) {
		CHECK(0, "pthread_create");
		return;
	}
	while (atomic_load_explicit(&racing, memory_order_acquire)) {
		int a = gotime_shutdown(), b = gopoll_shutdown();
		CHECK(a == 0 || a == EBUSY, "racing gotime_shutdown %d", a);
		CHECK(b == 0 || b == EBUSY, "racing gopoll_shutdown %d", b);
		shut += a == 0;
	}
	pthread_join(th, NULL);
	CHECK(gotime__wait_afterfuncs(CHAN_FOREVER) == 0, "wait_afterfuncs");
	CHECK(gotime_shutdown() == 0, "gotime_shutdown after the race");
	CHECK(gopoll_shutdown() == 0, "gopoll_shutdown after the race");
	CHECK_NONE(GODIAG_THREAD_KINDS, "race", 0);
	fprintf(stderr, "stress_service: race: %ld successful timer shutdowns\n", shut);
}

int main(int argc, char **argv)
{
	if (argc > 1)
		scale = atoi(argv[1]) > 0 ? atoi(argv[1]) : 1;
	if (argc > 2)
		seed = (unsigned)strtoul(argv[2], NULL, 0);

	chan_t *ev = chan_new(sizeof(int64_t), 1);
	if (!ev)
		return 2;
	timer_rounds();
	fprintf(stderr, "stress_service: timer done\n");
	afterfunc_rounds(ev);
	fprintf(stderr, "stress_service: afterfunc done\n");
	ctx_after_rounds(ev);
	fprintf(stderr, "stress_service: ctx after done\n");
	poller_rounds();
	fprintf(stderr, "stress_service: poller done\n");
	group_rounds();
	fprintf(stderr, "stress_service: group done\n");
	dump_rounds();
	fprintf(stderr, "stress_service: dump done\n");
	race(ev);
	chan_unref(ev);
	CHECK(godiag_verify_none(CHAN_FOREVER) == 0, "verify_none");

	long f = atomic_load_explicit(&failed, memory_order_relaxed);
	printf("%ld passed, %ld failed\n", atomic_load_explicit(&passed, memory_order_relaxed), f);
	return f ? 1 : 0;
}

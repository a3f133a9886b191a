/*
 * tests/stress/stress_time.c - timers under concurrency, for
 * ThreadSanitizer: threads creating, stopping, resetting and freeing timers,
 * tickers and function timers while others receive from their channels and
 * the timer thread fires them, and dropping After/Tick channels (orphans
 * the timer thread then stops) while gotime_shutdown() races, and releasing
 * handles (gotime_timer_release) while the timers fire.  Each phase
 * checks the rules that must hold whatever the interleaving, and the
 * program prints "N passed, N failed" last (exit status 1 if any failed).
 *
 * No sleeps: threads meet at barriers and finish by joining; "nothing more
 * arrives" is checked after a probe timer (see flush()).
 */
#include <errno.h>
#include <gochan/chan.h>
#include <gochan/select.h>
#include <gochan/time.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "../testutil.h"
#include "timer/timer_internal.h"

#define US GOTIME_MICROSECOND
#define MS GOTIME_MILLISECOND
#define PATIENCE (30 * GOTIME_SECOND)

static int passed, failed;

static void check(bool ok, const char *what)
{
	if (ok) {
		passed++;
	} else {
		failed++;
		printf("FAIL: %s\n", what);
	}
	fflush(stdout);
}

/* @n threads running fn(&args[i]) (elements of @argsz bytes), and their
 * joins: testutil.h's tu_spawn/tu_join, which abort on failure. */
static void start_all(tu_go_t *th, int n, void *(*fn)(void *), void *args, size_t argsz)
{
	for (int i = 0; i < n; i++)
		th[i] = tu_spawn(fn, (char *)args + i * argsz);
}

static void join_all(tu_go_t *th, int n)
{
	for (int i = 0; i < n; i++)
		tu_join(th[i]);
}

/* Wait until every timer due before now + d has been handled by the timer
 * thread (testutil.h).  Returns false if the probe never ran. */
static bool flush(int64_t d)
{
	return tu_timers_flush(d, PATIENCE);
}

static bool has_value(chan_t *c)
{
	int64_t v;
	return chan_try_recv(c, &v, NULL) == 0;
}

/* ---- phase 1: many threads, many timers, each value exactly once -------- */
static void phase_many_timers(void)
{
	enum {
		T = 4
	};
	tu_go_t th[T];
	tu_timers_arg_t a[T];
	for (int i = 0; i < T; i++)
		a[i] = (tu_timers_arg_t){.seed = (unsigned)i + 1,
					 .rounds = 20,
					 .batch = 25,
					 .dmin = -50 * US,
					 .dspan = 300 * US,
					 .patience = PATIENCE};
	start_all(th, T, tu_timers_worker, a, sizeof a[0]);
	join_all(th, T);
	long bad = 0;
	for (int i = 0; i < T; i++)
		bad += a[i].bad;
	check(bad == 0, "many timers: every value once, not early, Stop false after receipt");
}

/* ---- phase 2: shared timers, Stop/Reset racing receivers and delivery ---- */
enum {
	P2_TIMERS = 4,
	P2_MUT = 3,
	P2_RECV = 2
};
struct p2_shared {
	gotime_timer_t *ts[P2_TIMERS];
	tu_barrier_t bar;
	atomic_int mutators_left;
	atomic_long delivered; /* values the receivers got so far */
	int64_t start;
};
struct p2 {
	struct p2_shared *s;
	unsigned seed;
	long received, bad;
};

static void *p2_mutator(void *p)
{
	struct p2 *a = p;
	tu_barrier_wait(&a->s->bar);
	/* 20,000 operations, and on until a value has been delivered while
	 * they run (on a fast machine the 20,000 can be over before the timer
	 * thread delivered any; PATIENCE without one is a failure, below). */
	for (int i = 0;
	     i < 20000 || (atomic_load_explicit(&a->s->delivered, memory_order_relaxed) == 0 &&
			   chan_now() < a->s->start + PATIENCE);
	     i++) {
		/* Stop and Reset never park: as fibers, let the receivers run. */
		if (i % 64 == 0)
			tu_fiber_yield();
		gotime_timer_t *t = a->s->ts[rand_r(&a->seed) % P2_TIMERS];
		switch (rand_r(&a->seed) % 4) {
		case 0:
			gotime_timer_stop(t);
			break;
		case 1:
			gotime_timer_reset(t, 0);
			break;
		default:
			gotime_timer_reset(t, rand_r(&a->seed) % (50 * US));
			break;
		}
	}
	/* release: the receivers' acquire load sees the mutators are done */
	atomic_fetch_sub_explicit(&a->s->mutators_left, 1, memory_order_release);
	return NULL;
}

static void *p2_receiver(void *p)
{
	struct p2 *a = p;
	chan_case_t cases[P2_TIMERS];
	int64_t vals[P2_TIMERS];
	bool oks[P2_TIMERS];
	for (int i = 0; i < P2_TIMERS; i++)
		cases[i] = CHAN_RECV(gotime_timer_chan(a->s->ts[i]), &vals[i], &oks[i]);
	tu_barrier_wait(&a->s->bar);
	/* acquire: pairs with the mutators' release decrements */
	while (atomic_load_explicit(&a->s->mutators_left, memory_order_acquire) > 0) {
		int r = chan_select(cases, P2_TIMERS, chan_now() + MS);
		if (r >= 0) {
			a->received++;
			atomic_fetch_add_explicit(&a->s->delivered, 1, memory_order_relaxed);
			if (!oks[r] || vals[r] < a->s->start)
				a->bad++;
		} else if (r != CHAN_TIMEOUT) {
			a->bad++;
		}
	}
	return NULL;
}

static void phase_stop_reset_race(void)
{
	struct p2_shared s;
	tu_go_t th[P2_MUT + P2_RECV];
	struct p2 a[P2_MUT + P2_RECV];
	s.start = chan_now();
	for (int i = 0; i < P2_TIMERS; i++)
		s.ts[i] = gotime_timer_new(GOTIME_HOUR);
	atomic_init(&s.mutators_left, P2_MUT);
	atomic_init(&s.delivered, 0);
	tu_barrier_init(&s.bar, P2_MUT + P2_RECV);
	for (int i = 0; i < P2_MUT + P2_RECV; i++)
		a[i] = (struct p2){.s = &s, .seed = (unsigned)i * 31 + 7};
	start_all(th, P2_MUT, p2_mutator, a, sizeof a[0]);
	start_all(th + P2_MUT, P2_RECV, p2_receiver, a + P2_MUT, sizeof a[0]);
	join_all(th, P2_MUT + P2_RECV);
	long received = 0, bad = 0;
	for (int i = P2_MUT; i < P2_MUT + P2_RECV; i++) {
		received += a[i].received;
		bad += a[i].bad;
	}
	check(bad == 0, "stop/reset race: every value received is a due time of a setting");
	check(received > 0, "stop/reset race: values were delivered while Stop/Reset raced");
	bool stale = false;
	for (int i = 0; i < P2_TIMERS; i++) {
		gotime_timer_stop(s.ts[i]);
		stale |= has_value(gotime_timer_chan(s.ts[i]));
	}
	check(!stale, "stop/reset race: no value after the final Stop");
	check(flush(100 * US), "stop/reset race: probe ran");
	for (int i = 0; i < P2_TIMERS; i++) {
		stale |= has_value(gotime_timer_chan(s.ts[i]));
		gotime_timer_free(s.ts[i]);
	}
	check(!stale, "stop/reset race: no late value after the final Stop");
	tu_barrier_destroy(&s.bar);
}

/* ---- phase 3: unreceived one-shot timers: Stop/Reset is always "pending" - */
struct p3 {
	unsigned seed;
	long bad;
};

static void *p3_worker(void *p)
{
	struct p3 *a = p;
	for (int i = 0; i < 1500; i++) {
		int64_t d = rand_r(&a->seed) % (20 * US);
		int64_t aim = chan_now() + d + rand_r(&a->seed) % (40 * US) - 20 * US;
		gotime_timer_t *t = gotime_timer_new(d);
		if (!t) {
			a->bad++;
			continue;
		}
		while (chan_now() < aim)
			; /* aim at the expiry (not synchronisation) */
		bool pending = i % 2 ? gotime_timer_stop(t) : gotime_timer_reset(t, GOTIME_HOUR);
		if (!pending || has_value(gotime_timer_chan(t)))
			a->bad++;
		gotime_timer_free(t);
	}
	return NULL;
}

static void phase_unreceived_pending(void)
{
	enum {
		T = 3
	};
	tu_go_t th[T];
	struct p3 a[T];
	for (int i = 0; i < T; i++)
		a[i] = (struct p3){.seed = (unsigned)i + 100};
	start_all(th, T, p3_worker, a, sizeof a[0]);
	join_all(th, T);
	long bad = 0;
	for (int i = 0; i < T; i++)
		bad += a[i].bad;
	check(bad == 0, "unreceived timer: Stop/Reset at expiry returns true, leaves no value");
}

/* ---- phase 4: function timers: ran + stopped == created, free racing fire */
struct p4 {
	unsigned seed;
	atomic_long *runs;
	long stopped;
	long bad;
};

static void p4_fn(void *p)
{
	/* relaxed: the total is read after flush(), whose channel orders it */
	atomic_fetch_add_explicit((atomic_long *)p, 1, memory_order_relaxed);
}

static void *p4_worker(void *p)
{
	struct p4 *a = p;
	for (int i = 0; i < 1500; i++) {
		int64_t dl = chan_now() + rand_r(&a->seed) % (20 * US);
		gotime_timer_t *t = i % 4 == 3 ? gotime_after_func(dl - chan_now(), p4_fn, a->runs)
					       : gotime_after_func_at(dl, p4_fn, a->runs);
		if (!t) {
			a->bad++;
			continue;
		}
		while (chan_now() < dl - 10 * US + rand_r(&a->seed) % (20 * US))
			;
		if (i % 3 == 0) {
			if (gotime_timer_reset(t, rand_r(&a->seed) % (10 * US)))
				a->stopped++; /* the earlier setting will not run ... */
			a->stopped--;         /* ... but the new one will */
		}
		if (gotime_timer_stop(t))
			a->stopped++;
		gotime_timer_free(t); /* may race the callback: must be safe */
	}
	return NULL;
}

static void phase_func_timers(void)
{
	enum {
		T = 3,
		N = 1500
	};
	tu_go_t th[T];
	struct p4 a[T];
	atomic_long runs = 0;
	for (int i = 0; i < T; i++)
		a[i] = (struct p4){.seed = (unsigned)i + 200, .runs = &runs};
	start_all(th, T, p4_worker, a, sizeof a[0]);
	join_all(th, T);
	/* AfterFunc threads may still be running p4_fn: wait for them. */
	bool quiet = flush(0) && gotime__wait_afterfuncs(chan_now() + PATIENCE) == 0;
	long stopped = 0, bad = 0;
	for (int i = 0; i < T; i++) {
		stopped += a[i].stopped;
		bad += a[i].bad;
	}
	check(quiet && bad == 0, "function timers: created and freed");
	check(atomic_load_explicit(&runs, memory_order_acquire) + stopped == (long)T * N,
	      "function timers: runs + successful stops == settings");
}

/* ---- phase 5: tickers created, read, reset, stopped, freed concurrently -- */
struct p5 {
	unsigned seed;
	long bad;
};

static void *p5_worker(void *p)
{
	struct p5 *a = p;
	for (int i = 0; i < 60; i++) {
		int64_t d = 20 * US + rand_r(&a->seed) % (100 * US);
		gotime_ticker_t *tk = gotime_ticker_new(d);
		if (!tk) {
			a->bad++;
			continue;
		}
		chan_t *c = gotime_ticker_chan(tk);
		int64_t prev = 0, v;
		bool ok = false;
		for (int k = 0; k < 3; k++) {
			if (chan_recv_until(c, &v, &ok, chan_now() + PATIENCE) || !ok || v <= prev)
				a->bad++;
			prev = v;
		}
		if (gotime_ticker_reset(tk, d / 2 + 1))
			a->bad++;
		if (chan_recv_until(c, &v, &ok, chan_now() + PATIENCE) || !ok)
			a->bad++;
		gotime_ticker_stop(tk);
		if (has_value(c))
			a->bad++;
		gotime_ticker_free(tk);
	}
	return NULL;
}

static void phase_tickers(void)
{
	enum {
		T = 3
	};
	tu_go_t th[T];
	struct p5 a[T];
	for (int i = 0; i < T; i++)
		a[i] = (struct p5){.seed = (unsigned)i + 300};
	start_all(th, T, p5_worker, a, sizeof a[0]);
	join_all(th, T);
	long bad = 0;
	for (int i = 0; i < T; i++)
		bad += a[i].bad;
	check(bad == 0, "tickers: ordered ticks, Reset, no tick after Stop");
}

/* ---- phase 6: After channels dropped before and after firing ------------ */
static void *p6_worker(void *p)
{
	long *bad = p;
	for (int i = 0; i < 500; i++) {
		chan_t *c = gotime_after(i % 50 * US);
		if (!c) {
			++*bad;
			continue;
		}
		if (i % 2 && chan_recv_until(c, NULL, NULL, chan_now() + PATIENCE))
			++*bad;
		if (chan_unref(c)) /* the timer keeps its own reference */
			++*bad;
	}
	return NULL;
}

static void phase_after_orphans(void)
{
	enum {
		T = 3
	};
	tu_go_t th[T];
	long bad[T] = {0};
	start_all(th, T, p6_worker, bad, sizeof bad[0]);
	join_all(th, T);
	check(bad[0] + bad[1] + bad[2] == 0, "After: channels dropped before or after firing");
	check(flush(100 * US), "After: all fired");
	check(gotime__pending() == 0, "After: no timer left pending");
}

/* ---- phase 7: shutdown racing everything else ---------------------------- */
static void *p7_worker(void *p)
{
	atomic_int *done = p;
	for (int i = 0; i < 300; i++) {
		chan_t *c = gotime_after(i % 2 ? 0 : 5 * US);
		if (c) {
			chan_recv_until(c, NULL, NULL, chan_now() + PATIENCE);
			chan_unref(c);
		}
	}
	/* release: ends the shutdown loop */
	atomic_fetch_add_explicit(done, 1, memory_order_release);
	return NULL;
}

static void phase_shutdown_race(void)
{
	enum {
		T = 2
	};
	tu_go_t th[T];
	atomic_int done = 0;
	for (int i = 0; i < T; i++)
		th[i] = tu_spawn(p7_worker, &done);
	bool bad = false;
	/* acquire: pairs with the workers' release increments */
	while (atomic_load_explicit(&done, memory_order_acquire) < T) {
		int rc = gotime_shutdown();
		bad |= rc != 0 && rc != EBUSY;
	}
	join_all(th, T);
	check(!bad, "shutdown racing timers: 0 or EBUSY");
}

/* ---- phase 8: Tick and After channels dropped, racing shutdown ---------- */
struct p8 {
	unsigned seed;
	atomic_int *done;
	long bad;
};

static void *p8_worker(void *p)
{
	struct p8 *a = p;
	for (int i = 0; i < 300; i++) {
		int64_t d = 1 + rand_r(&a->seed) % (30 * US);
		chan_t *c = i % 3 ? gotime_tick(d) : gotime_after(d);
		int64_t v;
		bool ok = false;
		if (!c) {
			a->bad++;
			continue;
		}
		/* Receive 0..2 values (an After has only one), then drop the
		 * channel: the timer is then an orphan. */
		int k = rand_r(&a->seed) % 3;
		if (i % 3 == 0 && k > 1)
			k = 1;
		while (k-- > 0)
			if (chan_recv_until(c, &v, &ok, chan_now() + PATIENCE) || !ok)
				a->bad++;
		if (chan_unref(c))
			a->bad++;
	}
	/* release: ends the shutdown loop */
	atomic_fetch_add_explicit(a->done, 1, memory_order_release);
	return NULL;
}

static void phase_orphans(void)
{
	enum {
		T = 3
	};
	tu_go_t th[T];
	struct p8 a[T];
	atomic_int done = 0;
	for (int i = 0; i < T; i++)
		a[i] = (struct p8){.seed = (unsigned)i + 800, .done = &done};
	start_all(th, T, p8_worker, a, sizeof a[0]);
	bool bad_rc = false;
	/* acquire: pairs with the workers' release increments */
	while (atomic_load_explicit(&done, memory_order_acquire) < T) {
		int rc = gotime_shutdown();
		bad_rc |= rc != 0 && rc != EBUSY;
	}
	join_all(th, T);
	long bad = 0;
	for (int i = 0; i < T; i++)
		bad += a[i].bad;
	check(bad == 0 && !bad_rc, "orphans: Tick/After dropped while shutdown races");
	/* Every dropped Tick stops at its next tick: the thread then idles out. */
	check(gotime__wait_thread_exit(chan_now() + PATIENCE) == 0,
	      "orphans: the timer thread exits once every Tick is dropped");
	check(gotime__heap_reserved() == 0, "orphans: every dropped timer freed");
}

/* ---- phase 9: the orphan sweep racing creations and firings -------------
 * Threads make far Afters and Ticks and drop them (each creation may sweep
 * the others' orphans), keep a few far Afters referenced (never swept),
 * and receive short Afters (firing while sweeps run).  No shutdown races
 * them (phases 7 and 8 do), since it frees orphans too.  The far timers
 * never fire here, so without the sweep every dropped one would still be
 * alive at the end: the bound below is a count, not a time. */
enum {
	P9_T = 3,
	P9_N = 2000,
	P9_KEEP = 8
};

struct p9 {
	unsigned seed;
	long bad;
};

static void *p9_worker(void *p)
{
	struct p9 *a = p;
	chan_t *keep[P9_KEEP] = {0};

	for (int i = 0; i < P9_N; i++) {
		int64_t v;
		bool ok = false;
		chan_t *c;

		switch (rand_r(&a->seed) % 4) {
		case 0: /* kept for a while: a live handleless timer */
			c = gotime_after(GOTIME_HOUR);
			if (!c || (keep[i % P9_KEEP] && chan_unref(keep[i % P9_KEEP])))
				a->bad++;
			keep[i % P9_KEEP] = c;
			continue;
		case 1:
			c = gotime_after(GOTIME_HOUR);
			break;
		case 2:
			c = gotime_tick(GOTIME_HOUR);
			break;
		default:
			c = gotime_after(rand_r(&a->seed) % (20 * US));
			if (c && (chan_recv_until(c, &v, &ok, chan_now() + PATIENCE) || !ok))
				a->bad++;
			break;
		}
		if (!c || chan_unref(c))
			a->bad++;
	}
	for (int k = 0; k < P9_KEEP; k++) {
		int64_t v;
		/* A referenced far After was never swept nor fired. */
		if (keep[k] && (chan_try_recv(keep[k], &v, NULL) != EAGAIN || chan_unref(keep[k])))
			a->bad++;
	}
	return NULL;
}

static void phase_sweep(void)
{
	tu_go_t th[P9_T];
	struct p9 a[P9_T];
	for (int i = 0; i < P9_T; i++)
		a[i] = (struct p9){.seed = (unsigned)i + 900};
	start_all(th, P9_T, p9_worker, a, sizeof a[0]);
	join_all(th, P9_T);
	long bad = 0;
	for (int i = 0; i < P9_T; i++)
		bad += a[i].bad;
	check(bad == 0, "sweep: After/Tick made, kept, received, dropped");
	/* About 3 * P9_N / 2 far timers were dropped; the sweeps leave at most
	 * their threshold of orphans beside the kept ones. */
	size_t left = gotime__heap_reserved();
	check(left <= 4 * (P9_T * (P9_KEEP + 1) + GOTIME__ORPHAN_SWEEP_MIN),
	      "sweep: the dropped far timers were swept as they piled up");
	check(gotime_shutdown() == 0 && gotime__heap_reserved() == 0,
	      "sweep: shutdown frees the rest");
}

/* ---- phase 10: handles released (not stopped) while the timers fire -------
 * Function timers of both kinds released near their expiry (a spin on the
 * clock aims the release at the firing), detached AfterFuncs, and channel
 * timers released with their channel kept, received, or dropped at once
 * (an orphan the release frees) or a little later (one the firing frees):
 * every function runs exactly once, every value kept is received, and no
 * timer object is left (TSan: the release racing the firing's reference;
 * ASan: no use after free, no double free). */
enum {
	P10_T = 3,
	P10_N = 1200
};

struct p10 {
	unsigned seed;
	atomic_long *runs;
	long made; /* functions armed */
	long bad;
};

static void *p10_worker(void *p)
{
	struct p10 *a = p;

	for (int i = 0; i < P10_N; i++) {
		int64_t d = rand_r(&a->seed) % (20 * US), dl = chan_now() + d;
		gotime_timer_t *t = NULL;
		chan_t *c = NULL;
		int64_t v;
		bool ok = false;

		switch (i % 5) {
		case 0:
			t = gotime_after_func(d, p4_fn, a->runs);
			break;
		case 1:
			t = gotime_after_func_at(dl, p4_fn, a->runs);
			break;
		case 2:
			if (gotime_after_func_detached(d, p4_fn, a->runs) != 0)
				a->bad++;
			else
				a->made++;
			continue;
		default:
			t = gotime_timer_new(d);
			if (t && i % 5 == 3)
				c = chan_ref(gotime_timer_chan(t));
			break;
		}
		if (!t) {
			a->bad++;
			continue;
		}
		if (i % 5 < 2)
			a->made++;
		while (chan_now() < dl - 10 * US + rand_r(&a->seed) % (20 * US))
			;
		if (gotime_timer_release(t) != 0)
			a->bad++;
		if (c && rand_r(&a->seed) % 2) {
			/* Kept: the released timer still delivers. */
			if (chan_recv_until(c, &v, &ok, chan_now() + PATIENCE) || !ok || v < dl)
				a->bad++;
		}
		if (c && chan_unref(c))
			a->bad++;
	}
	return NULL;
}

static void phase_release(void)
{
	tu_go_t th[P10_T];
	struct p10 a[P10_T];
	atomic_long runs = 0;
	long made = 0, bad = 0;

	for (int i = 0; i < P10_T; i++)
		a[i] = (struct p10){.seed = (unsigned)i + 1000, .runs = &runs};
	start_all(th, P10_T, p10_worker, a, sizeof a[0]);
	join_all(th, P10_T);
	/* Every released timer was due within 20 us of its creation: once the
	 * probe has run and the AfterFunc threads are done, all have run. */
	bool quiet = flush(0) && gotime__wait_afterfuncs(chan_now() + PATIENCE) == 0;
	for (int i = 0; i < P10_T; i++) {
		made += a[i].made;
		bad += a[i].bad;
	}
	check(quiet && bad == 0, "release: made, released, kept values received");
	check(atomic_load_explicit(&runs, memory_order_acquire) == made,
	      "release: every released function ran exactly once");
	check(gotime__pending() == 0, "release: nothing released stayed armed");
	check(gotime_shutdown() == 0 && gotime__heap_reserved() == 0,
	      "release: every released timer freed");
}

int main(void)
{
	phase_many_timers();
	phase_stop_reset_race();
	phase_unreceived_pending();
	phase_func_timers();
	phase_tickers();
	phase_after_orphans();
	phase_shutdown_race();
	phase_orphans();
	phase_sweep();
	phase_release();

	check(gotime__pending() == 0, "end: no timer pending");
	check(gotime__heap_reserved() == 0, "end: every timer object freed");
	check(gotime_shutdown() == 0, "end: shutdown");
	check(gotime__threads_live() == 0, "end: no timer thread");
	check(tu_no_leaks(), "end: leak check");
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}

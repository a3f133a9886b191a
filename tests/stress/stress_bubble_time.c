/*
 * tests/stress/stress_bubble_time.c - a bubble's timers beside the real
 * ones, as threaded code (built for ThreadSanitizer too: zig build tsan).
 * Four threads each run bubbles whose timers tie at one virtual instant
 * (the seeded firing order must replay), while a plain thread arms and
 * receives real timers: both kinds share the one timer heap and its mutex
 * (timer/bubble.c scans it on each bubble's worker, the timer thread pops
 * it).  Then bubble fibers that wake a plain thread parked on a shared
 * channel (report.thread_wakes, counted on the worker only).
 */
#include <gochan/bubble.h>
#include <gochan/chan.h>
#include <gochan/time.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "stress_check.h"

#define THREADS 4
#define SEEDS 100
#define TIES 5

struct ties {
	char order[TIES + 1];
	int n;
};

struct tie {
	struct ties *t;
	char name;
};

static void tie_fired(void *arg)
{
	struct tie *e = arg;

	e->t->order[e->t->n++] = e->name;
}

/* TIES function timers due together, a channel timer one tick later. */
static void arm_ties(void *arg)
{
	struct ties *t = arg;
	struct tie e[TIES];
	gotime_timer_t *tm[TIES];
	int64_t due = chan_now() + GOTIME_SECOND;

	for (int i = 0; i < TIES; i++) {
		e[i] = (struct tie){t, (char)('a' + i)};
		tm[i] = gotime_after_func_at(due, tie_fired, &e[i]);
		CHECK(tm[i] != NULL, "after_func_at");
	}
	chan_t *probe = gotime_after(GOTIME_SECOND + 1);

	CHECK(probe && chan_recv(probe, NULL, NULL) == 0, "probe");
	chan_unref(probe);
	for (int i = 0; i < TIES; i++)
		gotime_timer_free(tm[i]);
}

static void tie_order(uint64_t seed, char out[TIES + 1])
{
	struct ties t = {{0}, 0};
	gobubble_opts o = {.seed = seed, .ignore_env = true};
	gobubble_report r;

	CHECK(gobubble_run(&o, arm_ties, &t, &r) == 0, "run");
	CHECK(r.verdict == GOBUBBLE_OK && t.n == TIES, "seed %llu: verdict %d, %d fired",
	      (unsigned long long)seed, (int)r.verdict, t.n);
	memcpy(out, t.order, TIES + 1);
}

static void *replays(void *arg)
{
	long id = (long)arg;

	for (uint64_t s = 0; s < SEEDS; s++) {
		char a[TIES + 1], b[TIES + 1];

		tie_order(s * THREADS + (uint64_t)id, a);
		tie_order(s * THREADS + (uint64_t)id, b);
		CHECK(strcmp(a, b) == 0, "thread %ld seed %llu: %s vs %s", id,
		      (unsigned long long)s, a, b);
	}
	return NULL;
}

static atomic_bool stop_real;

/* Real timers on the timer thread meanwhile, each value checked. */
static void *real_timers(void *arg)
{
	(void)arg;
	/* relaxed: a flag, the join orders the rest */
	while (!atomic_load_explicit(&stop_real, memory_order_relaxed)) {
		int64_t t0 = chan_now(), v = 0;
		chan_t *c = gotime_after(20000);

		CHECK(c && chan_recv(c, &v, NULL) == 0 && v >= t0 + 20000, "real timer");
		chan_unref(c);
	}
	return NULL;
}

/* ---- a bubble fiber wakes a plain thread ---- */

struct shared {
	chan_t *c;
	long got;
};

static void *receiver(void *arg)
{
	struct shared *s = arg;
	bool ok;

	CHECK(chan_recv(s->c, &s->got, &ok) == 0 && ok, "thread recv");
	return NULL;
}

static void send_one(void *arg)
{
	struct shared *s = arg;
	long v = 9;

	CHECK(chan_send(s->c, &v) == 0, "bubble send");
}

int main(void)
{
	pthread_t th[THREADS], real;

	CHECK(pthread_create(&real, NULL, real_timers, NULL) == 0, "real thread");
	for (long t = 0; t < THREADS; t++)
		CHECK(pthread_create(&th[t], NULL, replays, (void *)t) == 0, "thread");
	for (long t = 0; t < THREADS; t++)
		pthread_join(th[t], NULL);
	atomic_store_explicit(&stop_real, true, memory_order_relaxed);
	pthread_join(real, NULL);

	for (int i = 0; i < 200; i++) {
		struct shared s = {.c = chan_new(sizeof(long), 0)};
		/* The bubble may send before the thread waits: then it parks,
		 * the thread readies it from outside, and the bubble waits. */
		gobubble_opts o = {.seed = (uint64_t)i,
				   .ignore_env = true,
				   .outside_wait_ns = 60 * INT64_C(1000000000)};
		gobubble_report r;
		pthread_t t;

		CHECK(s.c != NULL, "chan");
		CHECK(pthread_create(&t, NULL, receiver, &s) == 0, "receiver");
		CHECK(gobubble_run(&o, send_one, &s, &r) == 0, "run");
		pthread_join(t, NULL);
		CHECK(r.verdict == GOBUBBLE_OK && s.got == 9, "verdict %d got %ld", (int)r.verdict,
		      s.got);
		/* One crossing, seen from whichever side came second: the bubble
		 * completed the thread (thread_wakes), or the thread completed
		 * the fiber (outside: through the inbox, or before the fiber's
		 * park committed, wait/park.c). */
		CHECK(r.thread_wakes + r.outside == 1,
		      "thread wakes %llu outside %llu",
		      (unsigned long long)r.thread_wakes, (unsigned long long)r.outside);
		chan_unref(s.c);
	}
	printf("stress_bubble_time: %ld checks passed, %ld failed\n", atomic_load(&passed),
	       atomic_load(&failed));
	return atomic_load(&failed) ? 1 : 0;
}

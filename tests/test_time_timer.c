/*
 * tests/test_time_timer.c - one-shot channel timers (gotime_after,
 * gotime_timer_*): ports of Go's time tests (TestAfterTimes, TestAfterQueuing,
 * TestTimerStopStress, testTimerChan's synchronous-channel checks) and the
 * Go 1.23 rules of include/gochan/time.h: len/cap 0, Stop/Reset return
 * values, no stale value after Stop/Reset, d <= 0 fires at once.
 *
 * Waiting for a timer to expire is the behaviour under test; a timer that
 * must expire unreceived is waited for with tt_flush() (a later probe
 * timer), never with a sleep.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "tests/leakcheck.h"
#include "tests/test_bubble_util.h"
#include "tests/test_time_util.h"
#include "timer/timer_internal.h"

TB_SUITE(time_timer);

/* TestAfterTimes: After(d) fires no earlier than d, with its due time. */
TB_TEST(time_timer, after_fires_no_earlier, .timeout = 20)
{
	static const int64_t ds[] = {0,         1,         1000,       100000,    1 * TT_MS,
				     2 * TT_MS, 5 * TT_MS, 10 * TT_MS, 20 * TT_MS};
	for (int round = 0; round < 3; round++) {
		for (size_t i = 0; i < sizeof ds / sizeof ds[0]; i++) {
			int64_t t0 = chan_now();
			chan_t *c = gotime_after(ds[i]);
			cr_assert_not_null(c);
			int64_t v = tt_recv(c);
			int64_t t1 = chan_now();
			cr_assert_geq(t1 - t0, ds[i], "After(%lld) fired after %lld ns",
				      (long long)ds[i], (long long)(t1 - t0));
			cr_assert_geq(v, t0 + ds[i], "value %lld before due %lld", (long long)v,
				      (long long)(t0 + ds[i]));
			cr_assert_leq(v, t1, "value is later than its receipt");
			TB_EXACT(v, t0 + ds[i]);  /* fired at its due time */
			TB_EXACT(t1 - t0, ds[i]); /* and received then */
			cr_assert_eq(chan_unref(c), 0);
		}
	}
}

/* d <= 0 fires at once: the value is in the channel when the call returns,
 * and it is the time of the call. */
TB_TEST(time_timer, nonpositive_duration_fires_at_once, .timeout = 10)
{
	static const int64_t ds[] = {0, -1, -GOTIME_SECOND, INT64_MIN};
	for (size_t i = 0; i < sizeof ds / sizeof ds[0]; i++) {
		int64_t t0 = chan_now(), v;
		chan_t *c = gotime_after(ds[i]);
		cr_assert_not_null(c);
		cr_assert(tt_ready(c, &v), "After(%lld) not ready at once", (long long)ds[i]);
		cr_assert_geq(v, t0);
		cr_assert_leq(v, chan_now());
		TB_EXACT(v, t0);
		cr_assert(!tt_ready(c, NULL), "a one-shot timer sent twice");
		cr_assert_eq(chan_unref(c), 0);

		gotime_timer_t *t = gotime_timer_new(ds[i]);
		cr_assert_not_null(t);
		cr_assert(tt_ready(gotime_timer_chan(t), &v));
		cr_assert(!gotime_timer_stop(t), "received timer still pending");
		gotime_timer_free(t);
	}
}

/* Go 1.23: timer channels report len 0 and cap 0, even holding a value. */
TB_TEST(time_timer, len_cap_zero, .timeout = 10)
{
	gotime_timer_t *t = gotime_timer_new(TT_FAR);
	cr_assert_not_null(t);
	chan_t *c = gotime_timer_chan(t);
	cr_assert_not_null(c);
	cr_assert_eq(chan_len(c), 0);
	cr_assert_eq(chan_cap(c), 0);
	cr_assert_eq(chan_elem_size(c), sizeof(int64_t));
	gotime_timer_reset(t, 1);
	tt_flush(1);
	cr_assert_eq(chan_len(c), 0, "expired unreceived value shows in len");
	cr_assert_eq(chan_cap(c), 0);
	cr_assert(tt_ready(c, NULL), "value not delivered");
	gotime_timer_free(t);
}

TB_TEST(time_timer, stop_pending_then_stopped, .timeout = 10)
{
	gotime_timer_t *t = gotime_timer_new(TT_FAR);
	cr_assert_not_null(t);
	cr_assert(gotime_timer_stop(t), "Stop of a pending timer");
	cr_assert(!gotime_timer_stop(t), "second Stop");
	cr_assert(!tt_ready(gotime_timer_chan(t), NULL));
	gotime_timer_free(t);
	cr_assert(!gotime_timer_stop(NULL));
	cr_assert(!gotime_timer_reset(NULL, 1));
	cr_assert_null(gotime_timer_chan(NULL));
	gotime_timer_free(NULL);
}

/* Go 1.23: an expired but unreceived value counts as pending; Stop discards it. */
TB_TEST(time_timer, stop_expired_unreceived_true_and_discards, .timeout = 10)
{
	for (int i = 0; i < 50; i++) {
		gotime_timer_t *t = gotime_timer_new(i % 2 ? 1 : 0);
		cr_assert_not_null(t);
		tt_flush(1);
		cr_assert(gotime_timer_stop(t), "Stop of an expired, unreceived timer");
		cr_assert(!tt_ready(gotime_timer_chan(t), NULL), "stale value after Stop");
		cr_assert(!gotime_timer_stop(t));
		tt_flush(1);
		cr_assert(!tt_ready(gotime_timer_chan(t), NULL), "value after Stop");
		gotime_timer_free(t);
	}
}

TB_TEST(time_timer, stop_after_receive_false, .timeout = 10)
{
	gotime_timer_t *t = gotime_timer_new(1);
	cr_assert_not_null(t);
	tt_recv(gotime_timer_chan(t));
	cr_assert(!gotime_timer_stop(t), "Stop after the value was received");
	cr_assert(!gotime_timer_reset(t, TT_FAR), "Reset after the value was received");
	cr_assert(gotime_timer_stop(t));
	gotime_timer_free(t);
}

/* Reset: return value, the new due time, and no stale value. */
TB_TEST(time_timer, reset_semantics, .timeout = 10)
{
	gotime_timer_t *t = gotime_timer_new(TT_FAR);
	cr_assert_not_null(t);
	chan_t *c = gotime_timer_chan(t);

	cr_assert(gotime_timer_reset(t, TT_FAR), "Reset of a pending timer");
	cr_assert(!tt_ready(c, NULL));

	/* Expire unreceived, Reset far: true, the old value is gone. */
	cr_assert(gotime_timer_reset(t, 1));
	tt_flush(1);
	cr_assert(gotime_timer_reset(t, TT_FAR), "Reset of an expired unreceived timer");
	cr_assert(!tt_ready(c, NULL), "stale value after Reset");

	/* Reset to soon: the value is the new due time. */
	int64_t t0 = chan_now();
	cr_assert(gotime_timer_reset(t, 2 * TT_MS));
	int64_t v = tt_recv(c);
	cr_assert_geq(v, t0 + 2 * TT_MS);
	cr_assert_geq(chan_now(), v);
	TB_EXACT(v, t0 + 2 * TT_MS);
	TB_EXACT(chan_now(), v);

	/* Reset after the value was received: false, fires again. */
	cr_assert(!gotime_timer_reset(t, 1));
	tt_recv(c);

	/* Stopped, then Reset: false, fires. */
	cr_assert(!gotime_timer_stop(t));
	cr_assert(!gotime_timer_reset(t, 0));
	cr_assert(tt_ready(c, NULL), "Reset(0) not ready at once");

	/* Reset(0) over an unreceived value: true, and exactly one value. */
	cr_assert(!gotime_timer_reset(t, 0));
	cr_assert(gotime_timer_reset(t, 0));
	cr_assert(tt_ready(c, NULL));
	cr_assert(!tt_ready(c, NULL), "two values after Reset(0) twice");
	gotime_timer_free(t);
}

/* Reset to an earlier time than the one the timer thread sleeps toward. */
TB_TEST(time_timer, reset_earlier_wakes_thread, .timeout = 10)
{
	gotime_timer_t *far = gotime_timer_new(TT_FAR);
	gotime_timer_t *t = gotime_timer_new(TT_FAR / 2);
	cr_assert_not_null(far);
	cr_assert_not_null(t);
	int64_t t0 = chan_now();
	cr_assert(gotime_timer_reset(t, 3 * TT_MS));
	int64_t v = tt_recv(gotime_timer_chan(t));
	cr_assert_geq(v, t0 + 3 * TT_MS);
	TB_EXACT(v, t0 + 3 * TT_MS);
	gotime_timer_free(t);
	gotime_timer_free(far);
}

/* TestAfterQueuing (channel half): timers created in any order each fire
 * no earlier than their due time, with it as the value.  The order itself is
 * checked deterministically with function timers in test_time_func.c. */
TB_TEST(time_timer, after_queuing_order, .timeout = 20)
{
	static const int slots[] = {5, 3, 6, 6, 6, 1, 1, 2, 7, 9, 4, 8, 0};
	enum {
		N = sizeof slots / sizeof slots[0]
	};
	const int64_t delta = 3 * TT_MS;
	chan_t *cs[N];
	int64_t due[N];
	for (int i = 0; i < N; i++) {
		int64_t t0 = chan_now();
		cs[i] = gotime_after(slots[i] * delta);
		cr_assert_not_null(cs[i]);
		due[i] = t0 + slots[i] * delta;
	}
	for (int k = 0; k < N; k++) {
		/* Receive from all still-open cases: each must carry its own due time. */
		chan_case_t cases[N];
		int64_t vals[N];
		for (int i = 0; i < N; i++)
			cases[i] = CHAN_RECV(cs[i], &vals[i], NULL);
		int r = chan_select(cases, N, chan_now() + TT_PATIENCE);
		cr_assert(r >= 0 && r < N, "select: %d", r);
		cr_assert_geq(vals[r], due[r], "slot %d fired early", slots[r]);
		cr_assert_geq(chan_now(), vals[r]);
		TB_EXACT(vals[r], due[r]);
		TB_EXACT(chan_now(), due[r]); /* each received when it fell due */
		cr_assert_eq(chan_unref(cs[r]), 0);
		cs[r] = NULL; /* a nil case from now on */
	}
}

/* TestTimerStopStress: timers stopped before their time never fire. */
TB_TEST(time_timer, stop_stress, .timeout = 20)
{
	enum {
		N = 100
	};
	gotime_timer_t *ts[N];
	for (int i = 0; i < N; i++) {
		ts[i] = gotime_timer_new(20 * TT_MS + i * 100000);
		cr_assert_not_null(ts[i]);
	}
	for (int i = 0; i < N; i++)
		cr_assert(gotime_timer_stop(ts[i]), "timer %d had fired", i);
	tt_flush(40 * TT_MS);
	for (int i = 0; i < N; i++) {
		cr_assert(!tt_ready(gotime_timer_chan(ts[i]), NULL), "stopped timer %d fired", i);
		gotime_timer_free(ts[i]);
	}
}

/* A one-shot timer nobody receives from is pending until Stop, whatever the
 * race with its delivery: the first Stop (or Reset) returns true and no value
 * is received afterwards.  The call is aimed around the moment of expiry. */
Test(time_timer, stop_races_delivery_no_stale, .timeout = 30)
{
	unsigned seed = 12345;
	for (int i = 0; i < 3000; i++) {
		int64_t d = rand_r(&seed) % 30000; /* 0 - 30 us */
		int64_t aim = chan_now() + d + rand_r(&seed) % 60000 - 30000;
		gotime_timer_t *t = gotime_timer_new(d);
		cr_assert_not_null(t);
		while (chan_now() < aim)
			; /* aim the call at the expiry (this is not synchronisation) */
		bool pending = i % 2 ? gotime_timer_stop(t) : gotime_timer_reset(t, TT_FAR);
		cr_assert(pending, "iteration %d: unreceived timer reported not pending", i);
		cr_assert(!tt_ready(gotime_timer_chan(t), NULL), "iteration %d: stale value", i);
		if (i % 100 == 0) {
			/* and nothing arrives late */
			tt_flush(30000);
			cr_assert(!tt_ready(gotime_timer_chan(t), NULL), "iteration %d: late value",
				  i);
		}
		gotime_timer_free(t);
	}
}

/* Stop and Reset from several threads at once on one timer, with a
 * receiver: afterwards a Stop leaves nothing to receive, and every value
 * received is the due time of some setting (not before the first one).
 * Threads report through their struct; the test asserts after joining. */
struct race_arg {
	gotime_timer_t *t;
	tu_barrier_t *bar;
	atomic_bool *done;
	atomic_long *delivered; /* the receiver's count so far, for the mutators */
	unsigned seed;
	int64_t first;
	long received;
	long bad; /* values that broke a rule */
};

static void *race_mutator(void *p)
{
	struct race_arg *a = p;
	tu_barrier_wait(a->bar);
	/* 3,000 operations, and on until a value was delivered while they run
	 * (a fast machine can be done with 3,000 before the timer thread
	 * delivered any); TT_PATIENCE without one fails the test. */
	for (int i = 0;
	     i < 3000 || (atomic_load_explicit(a->delivered, memory_order_relaxed) == 0 &&
			  chan_now() < a->first + TT_PATIENCE);
	     i++) {
		/* Stop and Reset never park: as fibers, let the receiver run. */
		if (i % 64 == 0)
			tu_fiber_yield();
		switch (rand_r(&a->seed) % 3) {
		case 0:
			gotime_timer_stop(a->t);
			break;
		case 1:
			gotime_timer_reset(a->t, rand_r(&a->seed) % 20000);
			break;
		default:
			gotime_timer_reset(a->t, 0);
			break;
		}
	}
	return NULL;
}

static void *race_receiver(void *p)
{
	struct race_arg *a = p;
	chan_t *c = gotime_timer_chan(a->t);
	tu_barrier_wait(a->bar);
	/* acquire: pairs with the main thread's release store after joining
	 * the mutators. */
	while (!atomic_load_explicit(a->done, memory_order_acquire)) {
		int64_t v;
		bool ok = false;
		if (chan_recv_until(c, &v, &ok, chan_now() + TT_MS) == 0) {
			if (!ok || v < a->first)
				a->bad++;
			a->received++;
			atomic_fetch_add_explicit(a->delivered, 1, memory_order_relaxed);
		}
	}
	return NULL;
}

Test(time_timer, stop_reset_threads_race, .timeout = 60)
{
	for (int round = 0; round < 10; round++) {
		enum {
			M = 3
		};
		tu_barrier_t bar;
		atomic_bool done = false;
		atomic_long delivered = 0;
		struct race_arg a[M + 1];
		tu_go_t th[M + 1];
		int64_t first = chan_now();
		gotime_timer_t *t = gotime_timer_new(TT_FAR);
		cr_assert_not_null(t);
		tu_barrier_init(&bar, M + 1);
		for (int i = 0; i <= M; i++) {
			a[i] = (struct race_arg){.t = t,
						 .bar = &bar,
						 .done = &done,
						 .delivered = &delivered,
						 .seed = (unsigned)(round * 10 + i),
						 .first = first};
			th[i] = tu_spawn(i < M ? race_mutator : race_receiver, &a[i]);
		}
		for (int i = 0; i < M; i++)
			tu_join(th[i]);
		/* release: pairs with the receiver's acquire load. */
		atomic_store_explicit(&done, true, memory_order_release);
		tu_join(th[M]);
		cr_assert_eq(a[M].bad, 0, "round %d: %ld bad values", round, a[M].bad);
		cr_assert_gt(a[M].received, 0, "round %d: the race never delivered anything",
			     round);
		gotime_timer_stop(t);
		cr_assert(!tt_ready(gotime_timer_chan(t), NULL), "value after the final Stop");
		tt_flush(30000);
		cr_assert(!tt_ready(gotime_timer_chan(t), NULL), "late value after the final Stop");
		cr_assert(!gotime_timer_stop(t));
		gotime_timer_free(t);
		tu_barrier_destroy(&bar);
	}
}

/* Many threads creating timers and receiving their values: each value is
 * received exactly once and is not before the timer's due time. */
Test(time_timer, many_threads_many_timers, .timeout = 60)
{
	enum {
		T = 4
	};
	tu_go_t th[T];
	tu_timers_arg_t a[T];
	for (int i = 0; i < T; i++) {
		a[i] = (tu_timers_arg_t){.seed = (unsigned)i + 1,
					 .rounds = 10,
					 .batch = 40,
					 .dspan = 2 * TT_MS,
					 .patience = TT_PATIENCE};
		th[i] = tu_spawn(tu_timers_worker, &a[i]);
	}
	for (int i = 0; i < T; i++)
		tu_join(th[i]);
	for (int i = 0; i < T; i++)
		cr_assert_eq(a[i].bad, 0, "thread %d: %ld bad values", i, a[i].bad);
}

/* gotime_after's timer frees itself after firing even if the channel is
 * never read, and the channel outlives it while the caller holds it. */
TB_TEST(time_timer, after_channel_ownership, .timeout = 10)
{
	chan_t *c = gotime_after(1);
	cr_assert_not_null(c);
	tt_flush(1);
	cr_assert(tt_ready(c, NULL));
	cr_assert_eq(chan_unref(c), 0);
	/* Dropped before it fires: the timer still owns a reference. */
	c = gotime_after(2 * TT_MS);
	cr_assert_not_null(c);
	cr_assert_eq(chan_unref(c), 0);
	tt_flush(2 * TT_MS);
}

/* 100,000 pending timers: the heap takes them, stops them in any order, and
 * gives its memory back.  (Timing is measured in bench/timer_bench.c.) */
TB_TEST(time_timer, hundred_thousand_pending, .timeout = 60)
{
	enum {
		N = 100000
	};
	gotime_timer_t **ts = malloc(N * sizeof *ts);
	cr_assert_not_null(ts);
	size_t base = gotime__pending();
	for (int i = 0; i < N; i++) {
		ts[i] = gotime_timer_new(TT_FAR + (int64_t)((i * 7919) % N) * 1000);
		cr_assert_not_null(ts[i]);
	}
	cr_assert_eq(gotime__pending(), base + N);
	cr_assert_geq(gotime__heap_capacity(), (size_t)N);
	/* A short timer still fires on time among them. */
	int64_t t0 = chan_now();
	chan_t *c = gotime_after(TT_MS);
	int64_t v = tt_recv(c);
	cr_assert_geq(v, t0 + TT_MS);
	TB_EXACT(v, t0 + TT_MS);
	chan_unref(c);
	for (int i = 0; i < N; i += 2)
		cr_assert(gotime_timer_stop(ts[i]));
	for (int i = N - 1; i >= 0; i -= 2)
		cr_assert(gotime_timer_reset(ts[i], TT_FAR - i));
	cr_assert_eq(gotime__pending(), base + N / 2);
	for (int i = 0; i < N; i++)
		gotime_timer_free(ts[i]);
	cr_assert_eq(gotime__pending(), base);
	cr_assert_lt(gotime__heap_capacity(), (size_t)N / 2, "heap storage not given back");
	free(ts);
}

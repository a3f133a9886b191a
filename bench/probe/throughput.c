/*
 * bench/probe/throughput.c - a channel throughput probe for
 * bench/loadswitch.sh (issue 21): one producer thread sends 64-bit values
 * as fast as it can through one channel to one consumer thread, and the
 * main thread prints, every INTERVAL_MS, the operations completed in that
 * interval as a rate:
 *
 *   <CLOCK_REALTIME seconds> <ops per second>
 *
 * (the realtime clock, so that a script can line the samples up with its
 * own `$EPOCHREALTIME`).  The shape is crossbeam_suite's bounded1_spsc
 * (capacity 1) or bounded0_spsc (capacity 0).  The consumer checks that the
 * values arrive in order.
 *
 *   throughput SECONDS [INTERVAL_MS [CAP]]     defaults: 100 ms, capacity 1
 *
 * BENCH_IMPL=naive runs it on the naive channel (bench/prog_chan.h).
 * Not a bench family (run.sh builds the top-level bench programs only): loadswitch.sh builds
 * it against run.sh's libgochan.a.
 */
#include <sched.h>
#include <stdatomic.h>

#include "../bench.h"
#include "../naive/naive_chan.c"
#include "../prog_chan.h"
#include "wait/stats.h"
#include "wait/yield.h"

struct probe {
	pc_chan_t *c;
	atomic_bool stop;   /* main -> producer: relaxed, only ends the loop */
	atomic_llong count; /* consumer's running count; main reads it relaxed */
	/* Where the pair runs (sched_getcpu every CPU_EVERY values): each
	 * thread's last CPU, and the consumer's count of looks that found the
	 * producer's last CPU equal to its own.  Relaxed: a diagnostic. */
	atomic_int cpu_p, cpu_c;
	atomic_llong looks, same;
};

#define CPU_EVERY 64

static void *producer(void *arg)
{
	struct probe *p = arg;
	for (int64_t v = 0; !atomic_load_explicit(&p->stop, memory_order_relaxed); v++) {
		BENCH_OK(pc->send(p->c, &v));
		if (v % CPU_EVERY == 0)
			atomic_store_explicit(&p->cpu_p, sched_getcpu(), memory_order_relaxed);
	}
	BENCH_OK(pc->close(p->c));
	return NULL;
}

static void *consumer(void *arg)
{
	struct probe *p = arg;
	int64_t v, want = 0;
	bool ok;
	for (;;) {
		BENCH_OK(pc->recv(p->c, &v, &ok));
		if (!ok)
			break;
		BENCH_CHECK(v == want);
		want++;
		/* One writer: a relaxed store of its own count, no read-modify-write. */
		atomic_store_explicit(&p->count, want, memory_order_relaxed);
		if (want % CPU_EVERY == 0) {
			int me = sched_getcpu();
			atomic_store_explicit(&p->cpu_c, me, memory_order_relaxed);
			/* One writer each: relaxed load + store. */
			atomic_store_explicit(
				&p->looks,
				atomic_load_explicit(&p->looks, memory_order_relaxed) + 1,
				memory_order_relaxed);
			if (me == atomic_load_explicit(&p->cpu_p, memory_order_relaxed))
				atomic_store_explicit(
					&p->same,
					atomic_load_explicit(&p->same, memory_order_relaxed) + 1,
					memory_order_relaxed);
		}
	}
	return NULL;
}

static double realtime_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 4) {
		fprintf(stderr, "usage: %s SECONDS [INTERVAL_MS [CAP]]\n", argv[0]);
		return 2;
	}
	double seconds = atof(argv[1]);
	long interval_ms = argc > 2 ? atol(argv[2]) : 100;
	long cap = argc > 3 ? atol(argv[3]) : 1;
	pc = pc_from_env();
	if (!pc || seconds <= 0 || interval_ms <= 0 || cap < 0) {
		fprintf(stderr, "%s: bad arguments or BENCH_IMPL\n", argv[0]);
		return 2;
	}
	struct probe p = {.c = pc->make(sizeof(int64_t), (size_t)cap)};
	BENCH_CHECK(p.c);
	pthread_t tp, tc;
	bench_spawn(&tc, consumer, &p);
	bench_spawn(&tp, producer, &p);

	/* Sleep to absolute deadlines, so that the samples do not drift. */
	struct timespec next;
	clock_gettime(CLOCK_MONOTONIC, &next);
	int64_t start = bench_now_ns(), last_ns = start;
	long long last = 0, last_looks = 0, last_same = 0;
	uint64_t st0[GOWAIT_ST_N], st[GOWAIT_ST_N];
	int stats = gowait__stats_read(st0);
	while (bench_now_ns() - start < (int64_t)(seconds * 1e9)) {
		next.tv_nsec += interval_ms * 1000000L;
		while (next.tv_nsec >= 1000000000L) {
			next.tv_nsec -= 1000000000L;
			next.tv_sec++;
		}
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR)
			;
		int64_t now = bench_now_ns();
		long long c = atomic_load_explicit(&p.count, memory_order_relaxed);
		printf("%.3f %.0f", realtime_s(),
		       (double)(c - last) * 1e9 / (double)(now - last_ns));
		/* The wait strategy's counts in this interval (a GOWAIT_STATS
		 * build), where the pair ran, and the gate now. */
		if (stats) {
			gowait__stats_read(st);
			for (int i = 0; i < GOWAIT_ST_N; i++)
				printf(" %s=%llu", gowait__stat_names[i],
				       (unsigned long long)(st[i] - st0[i]));
			memcpy(st0, st, sizeof st);
			printf(" gate=%s", gowait__yield_on(chan_now()) ? "on" : "off");
		}
		long long looks = atomic_load_explicit(&p.looks, memory_order_relaxed);
		long long same = atomic_load_explicit(&p.same, memory_order_relaxed);
		printf(" same_cpu=%.2f cpus=%d,%d\n",
		       looks > last_looks
			       ? (double)(same - last_same) / (double)(looks - last_looks)
			       : -1.0,
		       atomic_load_explicit(&p.cpu_p, memory_order_relaxed),
		       atomic_load_explicit(&p.cpu_c, memory_order_relaxed));
		last_looks = looks;
		last_same = same;
		fflush(stdout);
		last = c;
		last_ns = now;
	}
	atomic_store_explicit(&p.stop, true, memory_order_relaxed);
	bench_join(tp);
	bench_join(tc);
	pc->free(p.c);
	return 0;
}

/*
 * bench/probe/cacheline.c - how long one cache line takes to go from one
 * CPU to another and back on this machine, right now.
 *
 * Two threads bounce one atomic counter (each waits for the other's
 * increment, then increments): one round trip is two line transfers.  On
 * a VM this figure is not a constant: on the 2-vCPU machines of this
 * project it was seen at 60-100 ns in one hour and 300-770 ns in the next
 * (the host moving the vCPUs).  Every OS-thread hand-off in gochan or
 * crossbeam-channel costs a few such transfers, while Go's goroutine pairs
 * mostly run on one P and pay none, so bench/run.sh prints this figure
 * beside its table: a blocking case's ratio to Go depends on it.
 *
 * Usage: cacheline [round trips]   prints "cacheline_roundtrip_ns=<ns>" (the
 * mean) and "cacheline_median_batch_ns=<ns>" (the median of batches of 500)
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static _Alignas(64) _Atomic long ball;
static long trips = 1000000;

static void *other(void *arg)
{
	(void)arg;
	for (long i = 1; i <= trips; i++) {
		/* acquire/release: the two threads only hand the counter back
		 * and forth; the ordering is not what is measured. */
		while (atomic_load_explicit(&ball, memory_order_acquire) != 2 * i - 1)
			;
		atomic_store_explicit(&ball, 2 * i, memory_order_release);
	}
	return NULL;
}

enum {
	BATCH = 500
}; /* round trips per timed batch */

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;
	return (a > b) - (a < b);
}

static double now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

int main(int argc, char **argv)
{
	pthread_t th;

	if (argc > 1)
		trips = atol(argv[1]);
	long nb = trips / BATCH;
	double *batch = malloc(sizeof(double) * (size_t)(nb > 0 ? nb : 1));
	if (trips <= 0 || !batch || pthread_create(&th, NULL, other, NULL) != 0)
		return 1;
	double a = now_ns(), t = a;
	for (long i = 1; i <= trips; i++) {
		atomic_store_explicit(&ball, 2 * i - 1, memory_order_release);
		while (atomic_load_explicit(&ball, memory_order_acquire) != 2 * i)
			;
		if (i % BATCH == 0) {
			double u = now_ns();
			batch[i / BATCH - 1] = (u - t) / BATCH;
			t = u;
		}
	}
	double b = now_ns();
	pthread_join(th, NULL);
	/* The mean over the whole run includes the start (the second thread
	 * placed on a CPU, perhaps sharing the first one's for a slice) and any
	 * preemption; the median batch is the line's cost while both threads
	 * ran, the figure a short run (bench/loadswitch.sh's 20,000 trips) can
	 * report reliably. */
	printf("cacheline_roundtrip_ns=%.1f\n", (b - a) / (double)trips);
	if (nb > 0) {
		qsort(batch, (size_t)nb, sizeof(double), cmp_double);
		printf("cacheline_median_batch_ns=%.1f\n", batch[nb / 2]);
	}
	free(batch);
	return 0;
}

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
 * Usage: cacheline [round trips]   prints "cacheline_roundtrip_ns=<ns>"
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

int main(int argc, char **argv)
{
	pthread_t th;
	struct timespec a, b;

	if (argc > 1)
		trips = atol(argv[1]);
	if (trips <= 0 || pthread_create(&th, NULL, other, NULL) != 0)
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (long i = 1; i <= trips; i++) {
		atomic_store_explicit(&ball, 2 * i - 1, memory_order_release);
		while (atomic_load_explicit(&ball, memory_order_acquire) != 2 * i)
			;
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	pthread_join(th, NULL);
	printf("cacheline_roundtrip_ns=%.1f\n",
	       ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / (double)trips);
	return 0;
}

/*
 * bench/probe/handoff_floor.c - the floor under any OS-thread channel: what
 * one hand-off between two threads costs on this machine, right now, with
 * no channel at all.
 *
 * Two threads pass a token back and forth through one word (a capacity-1
 * or unbuffered hand-off reduced to its synchronisation).  Each waits for
 * the token in one of three ways:
 *
 *   futex  sleep at once (FUTEX_WAIT) and wake the other (FUTEX_WAKE) when
 *          it may be asleep: the kernel runs every hand-off.  This is what
 *          a waiter that does not spin pays, and what every thread library
 *          pays once its spinning stops paying.
 *   yield  sched_yield until the token comes (crossbeam's backoff without
 *          its park): fast when both threads have a CPU, one time slice
 *          of another process per yield when they do not.
 *   spin   a pure busy-wait: the best any implementation can do while both
 *          threads are on CPU, and unbounded (a time slice per hand-off or
 *          worse) when the other thread is not running.
 *
 * Every mode stops after ROUNDS round trips or after LIMIT_MS of wall time,
 * whichever comes first, so a mode that starves (spin beside busy loops)
 * reports its rate instead of running for minutes.  Go's goroutine hand-off
 * has no kernel floor: both goroutines run on Ps in user space, so beside
 * busy loops Go pays its share of the CPU but no wake-up per value.  This
 * probe gives the number a thread library cannot go below (issue 21:
 * "within 2x of Go, loaded"), measured the same way in the same run.
 *
 * Usage: handoff_floor [mode [round trips [limit ms]]]
 *   prints "handoff_<mode>_rt_ns=<ns per round trip> trips=<n>": a round trip
 *   is two hand-offs, like one op of pingpong_c0 in bench/chan_bench.c and its Go twin.
 */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

enum mode {
	M_FUTEX,
	M_YIELD,
	M_SPIN
};

/* The token: 2*i+1 means thread B may run round i, 2*i+2 thread A may run
 * round i+1.  stop is set by A when the wall-clock limit passes. */
static _Alignas(64) _Atomic unsigned token;
static _Alignas(64) _Atomic unsigned sleepers; /* futex mode: someone may sleep */
static _Alignas(64) _Atomic int stop;
static enum mode mode;
static long trips = 200000;
static long limit_ms = 3000;

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void futex_wait(_Atomic unsigned *w, unsigned v)
{
	syscall(SYS_futex, (unsigned *)w, FUTEX_WAIT_PRIVATE, v, NULL, NULL, 0);
}

static void futex_wake(_Atomic unsigned *w)
{
	syscall(SYS_futex, (unsigned *)w, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/* Wait until token == want (or stop).  Acquire: pairs with pass()'s release
 * store, so what the other thread did before passing is visible. */
static int await(unsigned want)
{
	unsigned v;

	while ((v = atomic_load_explicit(&token, memory_order_acquire)) != want) {
		if (atomic_load_explicit(&stop, memory_order_relaxed))
			return -1;
		switch (mode) {
		case M_FUTEX:
			/* seq_cst on both sides (here and in pass) so that either the
			 * passer sees sleepers != 0 or we see the new token: the
			 * classic store/load (Dekker) pairing. */
			atomic_fetch_add_explicit(&sleepers, 1, memory_order_seq_cst);
			if (atomic_load_explicit(&token, memory_order_seq_cst) == v)
				futex_wait(&token, v);
			atomic_fetch_sub_explicit(&sleepers, 1, memory_order_relaxed);
			break;
		case M_YIELD:
			sched_yield();
			break;
		case M_SPIN:
			break;
		}
	}
	return 0;
}

static void pass(unsigned next)
{
	atomic_store_explicit(&token, next, memory_order_seq_cst);
	if (mode == M_FUTEX && atomic_load_explicit(&sleepers, memory_order_seq_cst))
		futex_wake(&token);
}

static void *thread_b(void *arg)
{
	(void)arg;
	for (long i = 0;; i++) {
		if (await((unsigned)(2 * i + 1)) < 0)
			return NULL;
		pass((unsigned)(2 * i + 2));
	}
}

int main(int argc, char **argv)
{
	const char *names[] = {"futex", "yield", "spin"};
	pthread_t b;
	long done = 0;

	if (argc > 1) {
		if (!strcmp(argv[1], "futex"))
			mode = M_FUTEX;
		else if (!strcmp(argv[1], "yield"))
			mode = M_YIELD;
		else if (!strcmp(argv[1], "spin"))
			mode = M_SPIN;
		else {
			fprintf(stderr, "usage: %s [futex|yield|spin [trips [limit_ms]]]\n",
				argv[0]);
			return 2;
		}
	}
	if (argc > 2)
		trips = atol(argv[2]);
	if (argc > 3)
		limit_ms = atol(argv[3]);
	if (trips <= 0 || limit_ms <= 0) {
		fprintf(stderr, "%s: trips and limit_ms must be positive\n", argv[0]);
		return 2;
	}
	if (pthread_create(&b, NULL, thread_b, NULL) != 0) {
		perror("pthread_create");
		return 1;
	}
	int64_t t0 = now_ns(), deadline = t0 + limit_ms * 1000000;

	for (long i = 0; i < trips; i++) {
		pass((unsigned)(2 * i + 1));
		if (await((unsigned)(2 * i + 2)) < 0)
			break;
		done++;
		/* Check the clock every 64 trips: cheap, and a starving mode
		 * needs milliseconds per trip anyway. */
		if ((i & 63) == 63 && now_ns() > deadline)
			break;
	}
	int64_t t1 = now_ns();

	atomic_store_explicit(&stop, 1, memory_order_relaxed);
	/* Unblock B whatever it waits for: it sees stop after at most one
	 * futex wake or one spin/yield iteration. */
	atomic_fetch_add_explicit(&token, 1u << 30, memory_order_seq_cst);
	futex_wake(&token);
	pthread_join(b, NULL);
	if (done == 0) {
		printf("handoff_%s_rt_ns=inf trips=0\n", names[mode]);
		return 0;
	}
	printf("handoff_%s_rt_ns=%.0f trips=%ld\n", names[mode], (double)(t1 - t0) / (double)done,
	       done);
	return 0;
}

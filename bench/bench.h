/*
 * bench/bench.h - the small harness shared by every benchmark program in bench/.
 *
 * Each benchmark program is one family of cases (chan_bench, select_bench,
 * timer_bench, ...) built as its own executable, so everything here is
 * static inline: no extra object file to link.
 *
 * The protocol every program follows (bench/run.sh relies on it, and each
 * Go twin in bench/go/ follows it too):
 *
 *   prog --list          one line per case: "<case> <default_n>"
 *   prog <case> <n>      runs the case with n operations and prints one line
 *                        "case=<case> impl=gochan n=<n> ns_per_op=<x>"
 *                        (n as actually run: cases round it down to a
 *                        multiple of their thread count); exit status 0.
 *   anything else        a message on stderr and exit status 2.
 *
 * A case function gets n and returns the elapsed wall-clock nanoseconds of
 * its timed region (thread start-up and tear-down excluded: threads meet at
 * a barrier before the clock starts).  It also checks its own result (every
 * value received, counts add up) and aborts through BENCH_CHECK if not, so a
 * fast but wrong implementation cannot produce a number.
 *
 * "Parallel" cases mirror Go's b.RunParallel: bench_procs() threads share the
 * n operations; that width is $BENCH_PROCS if set, else the number of online
 * CPUs (Go's default GOMAXPROCS), and the Go twins use the same rule.
 */
#ifndef GOCHAN_BENCH_H
#define GOCHAN_BENCH_H

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Abort with the failing expression: a benchmark that computes the wrong
 * thing must not print a number. */
#define BENCH_CHECK(expr)                                                                        \
	do {                                                                                     \
		if (!(expr)) {                                                                   \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #expr); \
			abort();                                                                 \
		}                                                                                \
	} while (0)

/* Check that a gochan call returned 0 (they return positive errno values). */
#define BENCH_OK(call)                                                                             \
	do {                                                                                       \
		int bench_rc_ = (call);                                                            \
		if (bench_rc_ != 0) {                                                              \
			fprintf(stderr, "%s:%d: %s returned %d (%s)\n", __FILE__, __LINE__, #call, \
				bench_rc_, strerror(bench_rc_));                                   \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/** CLOCK_MONOTONIC now, in nanoseconds. */
static inline int64_t bench_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/** Width of the parallel cases: $BENCH_PROCS, else the online CPU count. */
static inline int bench_procs(void)
{
	const char *s = getenv("BENCH_PROCS");
	if (s && *s) {
		int p = atoi(s);
		if (p > 0)
			return p;
	}
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (int)n : 1;
}

/*
 * Go's "local work" loop from runtime/chan_test.go: foo *= 2; foo /= 2, iters
 * times.  The empty asm statements make foo opaque to the optimiser, so the
 * loop is really executed (as Go's compiler executes it) and not folded.
 */
static inline int64_t bench_local_work(int64_t foo, int iters)
{
	for (int i = 0; i < iters; i++) {
		__asm__ volatile("" : "+r"(foo));
		foo *= 2;
		__asm__ volatile("" : "+r"(foo));
		foo /= 2;
	}
	return foo;
}

/** Start a thread with a small (256 KiB) stack, so hundreds are cheap. */
static inline void bench_spawn(pthread_t *t, void *(*fn)(void *), void *arg)
{
	pthread_attr_t attr;
	BENCH_OK(pthread_attr_init(&attr));
	BENCH_OK(pthread_attr_setstacksize(&attr, 256 * 1024));
	BENCH_OK(pthread_create(t, &attr, fn, arg));
	pthread_attr_destroy(&attr);
}

static inline void bench_join(pthread_t t)
{
	BENCH_OK(pthread_join(t, NULL));
}

/*
 * The start line: bench_start_init(s, nthreads) for nthreads workers; each
 * worker calls bench_start_wait(s) before its timed loop; the main thread
 * calls bench_start_go(s), which returns the start time once every worker has
 * arrived (the workers are released at the same moment).
 *
 * Two barriers: the clock is read between "all ready" and "go", so a main
 * thread preempted right after the release cannot start the clock late (with
 * one barrier, a loaded machine could let the workers finish before main read
 * the clock: a 0 ns result).  Go's twin does the same (goNow reads the time
 * before closing the gate).
 */
typedef struct bench_start {
	pthread_barrier_t ready, go;
} bench_start_t;

static inline void bench_start_init(bench_start_t *s, int nthreads)
{
	BENCH_OK(pthread_barrier_init(&s->ready, NULL, (unsigned)nthreads + 1));
	BENCH_OK(pthread_barrier_init(&s->go, NULL, (unsigned)nthreads + 1));
}

static inline void bench_barrier(pthread_barrier_t *b)
{
	int rc = pthread_barrier_wait(b);
	BENCH_CHECK(rc == 0 || rc == PTHREAD_BARRIER_SERIAL_THREAD);
}

static inline void bench_start_wait(bench_start_t *s)
{
	bench_barrier(&s->ready);
	bench_barrier(&s->go);
}

static inline int64_t bench_start_go(bench_start_t *s)
{
	bench_barrier(&s->ready);
	int64_t t0 = bench_now_ns();
	bench_barrier(&s->go);
	return t0;
}

static inline void bench_start_destroy(bench_start_t *s)
{
	pthread_barrier_destroy(&s->ready);
	pthread_barrier_destroy(&s->go);
}

typedef void *(*bench_thread_fn)(void *);

/*
 * Time k worker threads from one start line: thread i runs even(arg) for even
 * i and odd(arg) for odd i (even(arg) for all when odd is NULL), so a pair of
 * roles (ping and echo, producer and consumer) alternates.  Each worker must
 * call bench_start_wait(start) once, when its set-up is done.  Initialises and
 * destroys *start; returns the ns from the moment every worker is ready to
 * the moment the last has been joined.
 */
static inline int64_t bench_run_threads(bench_start_t *start, int k, bench_thread_fn even,
					bench_thread_fn odd, void *arg)
{
	pthread_t th[k];
	bench_start_init(start, k);
	for (int i = 0; i < k; i++)
		bench_spawn(&th[i], i % 2 && odd ? odd : even, arg);
	int64_t t0 = bench_start_go(start);
	for (int i = 0; i < k; i++)
		bench_join(th[i]);
	int64_t t1 = bench_now_ns();
	bench_start_destroy(start);
	return t1 - t0;
}

/*
 * Go's b.RunParallel: bench_procs() threads run fn(arg) and share the *n ops,
 * *per_thread = max(*n / P, 1) each; *n is set to what they do in all.
 * per_thread and start live in arg's struct, where the workers read them.
 */
static inline int64_t bench_run_parallel(long *n, long *per_thread, bench_start_t *start,
					 bench_thread_fn fn, void *arg)
{
	int p = bench_procs();
	*per_thread = *n / p;
	if (*per_thread == 0)
		*per_thread = 1;
	*n = *per_thread * p;
	return bench_run_threads(start, p, fn, NULL, arg);
}

/** One case of a family: its name, default n, and the function to time. */
typedef struct bench_case {
	const char *name;
	long default_n;
	/* Runs *n operations (it may round *n down) and returns elapsed ns. */
	int64_t (*run)(long *n);
} bench_case_t;

/**
 * The main() of a bench program whose cases run on the implementation
 * @impl (printed as impl=<impl>; bench/goprogs.c runs gochan or the naive
 * channel): see the protocol at the top.
 */
static inline int bench_main_impl(int argc, char **argv, const bench_case_t *cases, size_t ncases,
				  const char *impl)
{
	if (argc == 2 && strcmp(argv[1], "--list") == 0) {
		for (size_t i = 0; i < ncases; i++)
			printf("%s %ld\n", cases[i].name, cases[i].default_n);
		return 0;
	}
	if (argc != 3) {
		fprintf(stderr, "usage: %s --list | %s <case> <n>\n", argv[0], argv[0]);
		return 2;
	}
	char *end;
	errno = 0;
	long n = strtol(argv[2], &end, 10);
	if (errno || *end || n <= 0) {
		fprintf(stderr, "%s: bad iteration count '%s'\n", argv[0], argv[2]);
		return 2;
	}
	for (size_t i = 0; i < ncases; i++) {
		if (strcmp(cases[i].name, argv[1]) != 0)
			continue;
		int64_t ns = cases[i].run(&n);
		BENCH_CHECK(n > 0);
		printf("case=%s impl=%s n=%ld ns_per_op=%.2f\n", cases[i].name, impl, n,
		       (double)ns / (double)n);
		fflush(stdout);
		return 0;
	}
	fprintf(stderr, "%s: unknown case '%s'\n", argv[0], argv[1]);
	return 2;
}

/** The main() of every bench program: see the protocol at the top. */
static inline int bench_main(int argc, char **argv, const bench_case_t *cases, size_t ncases)
{
	return bench_main_impl(argc, argv, cases, ncases, "gochan");
}

#endif /* GOCHAN_BENCH_H */

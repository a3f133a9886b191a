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
 *
 * Goroutines as fibers (issue 18).  A family whose cases start their
 * goroutines only through bench_go/bench_go_join, bench_run_threads or
 * bench_run_parallel, and meet only at the start line below (never a
 * pthread primitive that blocks), calls bench_main_goroutines() instead of
 * bench_main(): `prog --impls` then lists "gochan fiber", and with
 * BENCH_IMPL=fiber every case runs with its goroutines as fibers
 * (gochan/fiber.h) and its body, Go's benchmark goroutine, on a fiber too,
 * printing impl=fiber (bench/run.sh's fiber column, BENCH_FIBER=1).  The
 * start line is then made of channels (a pthread barrier would block the
 * fiber runtime's worker, and with it every fiber).
 */
#ifndef GOCHAN_BENCH_H
#define GOCHAN_BENCH_H

#include <errno.h>
#include <gochan/chan.h>
#include <gochan/fiber.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
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

/* Whether the goroutines are fibers (BENCH_IMPL=fiber, set by
 * bench_main_goroutines before the case runs; read-only afterwards). */
static bool bench_fibers;

typedef void *(*bench_thread_fn)(void *);

/* A goroutine of a case: a thread, or (bench_fibers) a fiber with its own
 * group to wait on. */
typedef struct bench_go {
	pthread_t th;
	gofiber_group_t *g; /* NULL: a thread */
} bench_go_t;

struct bench_go_fiber {
	bench_thread_fn fn;
	void *arg;
};

static inline void bench_go_fiber_main(void *p)
{
	struct bench_go_fiber s = *(struct bench_go_fiber *)p;

	free(p);
	(void)s.fn(s.arg);
}

/** Start fn(arg) as a goroutine: a small-stack thread, or a fiber. */
static inline void bench_go(bench_go_t *t, bench_thread_fn fn, void *arg)
{
	if (!bench_fibers) {
		t->g = NULL;
		bench_spawn(&t->th, fn, arg);
		return;
	}
	struct bench_go_fiber *s = (struct bench_go_fiber *)malloc(sizeof *s);

	BENCH_CHECK(s && (t->g = gofiber_group_new()));
	s->fn = fn;
	s->arg = arg;
	BENCH_OK(gofiber_go(t->g, bench_go_fiber_main, s));
}

/** Wait for a goroutine of bench_go to return. */
static inline void bench_go_join(bench_go_t t)
{
	if (!t.g) {
		bench_join(t.th);
		return;
	}
	BENCH_OK(gofiber_group_wait(t.g));
	BENCH_OK(gofiber_group_free(t.g));
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
	/* bench_fibers: the same two steps with channels.  Each worker
	 * decrements left (acq_rel: the last one's decrement sees every
	 * worker's set-up, and its send on ready_ch, received by
	 * bench_start_go, passes that on: a channel's send happens before the
	 * receive); closing go_ch releases them all. */
	int n;
	atomic_int left;
	chan_t *ready_ch, *go_ch;
} bench_start_t;

static inline void bench_start_init(bench_start_t *s, int nthreads)
{
	if (bench_fibers) {
		s->n = nthreads;
		atomic_init(&s->left, nthreads);
		BENCH_CHECK((s->ready_ch = chan_new(0, 1)) && (s->go_ch = chan_new(0, 0)));
		return;
	}
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
	if (bench_fibers) {
		bool ok;

		if (atomic_fetch_sub_explicit(&s->left, 1, memory_order_acq_rel) == 1)
			BENCH_OK(chan_send(s->ready_ch, NULL));
		BENCH_OK(chan_recv(s->go_ch, NULL, &ok));
		BENCH_CHECK(!ok);
		return;
	}
	bench_barrier(&s->ready);
	bench_barrier(&s->go);
}

static inline int64_t bench_start_go(bench_start_t *s)
{
	if (bench_fibers) {
		bool ok;

		if (s->n > 0) { /* the last worker's "all ready" */
			BENCH_OK(chan_recv(s->ready_ch, NULL, &ok));
			BENCH_CHECK(ok);
		}
		int64_t t0 = bench_now_ns();

		BENCH_OK(chan_close(s->go_ch));
		return t0;
	}
	bench_barrier(&s->ready);
	int64_t t0 = bench_now_ns();
	bench_barrier(&s->go);
	return t0;
}

static inline void bench_start_destroy(bench_start_t *s)
{
	if (bench_fibers) {
		BENCH_OK(chan_unref(s->ready_ch));
		BENCH_OK(chan_unref(s->go_ch));
		return;
	}
	pthread_barrier_destroy(&s->ready);
	pthread_barrier_destroy(&s->go);
}

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
	bench_go_t th[k];
	bench_start_init(start, k);
	for (int i = 0; i < k; i++)
		bench_go(&th[i], i % 2 && odd ? odd : even, arg);
	int64_t t0 = bench_start_go(start);
	for (int i = 0; i < k; i++)
		bench_go_join(th[i]);
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

struct bench_fiber_case {
	const bench_case_t *c;
	long n;
	int64_t ns;
};

static inline void bench_fiber_case_main(void *p)
{
	struct bench_fiber_case *r = (struct bench_fiber_case *)p;

	r->ns = r->c->run(&r->n);
}

/* Run case @c on a fiber (Go's benchmark goroutine) and wait for it here. */
static inline int64_t bench_run_on_fiber(const bench_case_t *c, long *n)
{
	struct bench_fiber_case r = {c, *n, 0};
	gofiber_group_t *g = gofiber_group_new();

	BENCH_CHECK(g);
	BENCH_OK(gofiber_go(g, bench_fiber_case_main, &r));
	BENCH_OK(gofiber_group_wait(g));
	BENCH_OK(gofiber_group_free(g));
	*n = r.n;
	return r.ns;
}

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
		int64_t ns = bench_fibers ? bench_run_on_fiber(&cases[i], &n) : cases[i].run(&n);
		BENCH_CHECK(n > 0);
		printf("case=%s impl=%s n=%ld ns_per_op=%.2f\n", cases[i].name, impl, n,
		       (double)ns / (double)n);
		fflush(stdout);
		return 0;
	}
	fprintf(stderr, "%s: unknown case '%s'\n", argv[0], argv[1]);
	return 2;
}

/**
 * The main() of a family that can run its goroutines as fibers (see
 * "Goroutines as fibers" at the top): `--impls` lists gochan and fiber;
 * BENCH_IMPL (unset, empty or gochan: threads; fiber: fibers) picks one.
 */
static inline int bench_main_goroutines(int argc, char **argv, const bench_case_t *cases,
					size_t ncases)
{
	const char *impl = getenv("BENCH_IMPL");

	if (argc == 2 && strcmp(argv[1], "--impls") == 0) {
		printf("gochan fiber\n");
		return 0;
	}
	if (impl && strcmp(impl, "fiber") == 0) {
		bench_fibers = true;
	} else if (impl && *impl && strcmp(impl, "gochan") != 0) {
		fprintf(stderr, "%s: unknown BENCH_IMPL '%s' (gochan or fiber)\n", argv[0], impl);
		return 2;
	}
	return bench_main_impl(argc, argv, cases, ncases, bench_fibers ? "fiber" : "gochan");
}

/** The main() of every bench program: see the protocol at the top. */
static inline int bench_main(int argc, char **argv, const bench_case_t *cases, size_t ncases)
{
	return bench_main_impl(argc, argv, cases, ncases, "gochan");
}

#endif /* GOCHAN_BENCH_H */

/*
 * bench/group_bench.c - what a thread-group task costs (issue 8 section 2):
 * an empty task's go+wait through gowg_go and gogroup_go, against a bare
 * pthread_create+pthread_join of an empty thread, with the library's reuse
 * of idle threads (group/spawn.c) on and off, one at a time and in batches.
 * Go twin: bench/go/group_bench.go (the same cases with goroutines: what
 * the `go` statement costs in Go).
 *
 * Cases (ns_per_op is per task):
 *   go_wait_pthread      pthread_create(empty) + pthread_join, one at a time
 *   go_wait_gowg         gowg_go(empty) + gowg_wait
 *   go_wait_group        gogroup_go(empty) + gogroup_wait
 *   batch100_pthread     100 pthread_create, then 100 pthread_join
 *   batch100_group       100 gogroup_go, then one gogroup_wait
 *   limit8_group         tasks through gogroup_set_limit(g, 8), one wait at
 *                        the end (the 10,000-task test's shape)
 *   *_fresh              the case above with the pool's thread reuse off
 *                        (group__pool_set_idle_ns(0): every task gets a new
 *                        thread that exits when it returns), so one run
 *                        shows what the reuse buys
 *
 * Besides bench/run.sh's protocol (bench/bench.h), `group_bench --compare
 * [rounds]` runs every case `rounds` times (default 7) interleaved, rotating
 * the order each round, and prints median and min-max ns per task and the
 * ratio of medians to the pthread case of the same shape: the side-by-side
 * figure, in one run.  (The limit8 cases are compared with batch100_pthread.)
 */
#include "bench.h"

#include "group/group_internal.h"

#include <gochan/chan.h>
#include <gochan/group.h>
#include <gochan/waitgroup.h>
#include <stdatomic.h>
#include <stdbool.h>

static void *empty_thread(void *arg)
{
	return arg;
}

/* ---- bare pthreads --------------------------------------------------------------- */

static int64_t go_wait_pthread(long *n)
{
	int64_t t0 = bench_now_ns();
	for (long i = 0; i < *n; i++) {
		pthread_t t;
		BENCH_OK(pthread_create(&t, NULL, empty_thread, NULL));
		BENCH_OK(pthread_join(t, NULL));
	}
	return bench_now_ns() - t0;
}

enum {
	BATCH = 100
};

static int64_t batch100_pthread(long *n)
{
	pthread_t t[BATCH];
	*n = (*n / BATCH) * BATCH;
	int64_t t0 = bench_now_ns();
	for (long i = 0; i < *n; i += BATCH) {
		for (int j = 0; j < BATCH; j++)
			BENCH_OK(pthread_create(&t[j], NULL, empty_thread, NULL));
		for (int j = 0; j < BATCH; j++)
			BENCH_OK(pthread_join(t[j], NULL));
	}
	return bench_now_ns() - t0;
}

/* ---- gowg / gogroup ------------------------------------------------------------------ */

static atomic_long ran; /* tasks that ran (relaxed; read after a wait) */

static void counted_void(void *arg)
{
	(void)arg;
	atomic_fetch_add_explicit(&ran, 1, memory_order_relaxed);
}

static int counted(void *arg)
{
	counted_void(arg);
	return 0;
}

static int64_t go_wait_gowg(long *n)
{
	gowg_t *wg = gowg_new();
	BENCH_CHECK(wg);
	atomic_store(&ran, 0);
	int64_t t0 = bench_now_ns();
	for (long i = 0; i < *n; i++) {
		BENCH_OK(gowg_go(wg, counted_void, NULL));
		BENCH_OK(gowg_wait(wg));
	}
	int64_t ns = bench_now_ns() - t0;
	BENCH_CHECK(atomic_load(&ran) == *n);
	BENCH_OK(gowg_free(wg));
	return ns;
}

static int64_t go_wait_group(long *n)
{
	gogroup_t *g = gogroup_new();
	BENCH_CHECK(g);
	atomic_store(&ran, 0);
	int64_t t0 = bench_now_ns();
	for (long i = 0; i < *n; i++) {
		BENCH_OK(gogroup_go(g, counted, NULL));
		BENCH_OK(gogroup_wait(g));
	}
	int64_t ns = bench_now_ns() - t0;
	BENCH_CHECK(atomic_load(&ran) == *n);
	BENCH_OK(gogroup_free(g));
	return ns;
}

static int64_t batch100_group(long *n)
{
	gogroup_t *g = gogroup_new();
	BENCH_CHECK(g);
	atomic_store(&ran, 0);
	*n = (*n / BATCH) * BATCH;
	int64_t t0 = bench_now_ns();
	for (long i = 0; i < *n; i += BATCH) {
		for (int j = 0; j < BATCH; j++)
			BENCH_OK(gogroup_go(g, counted, NULL));
		BENCH_OK(gogroup_wait(g));
	}
	int64_t ns = bench_now_ns() - t0;
	BENCH_CHECK(atomic_load(&ran) == *n);
	BENCH_OK(gogroup_free(g));
	return ns;
}

static int64_t limit8_group(long *n)
{
	gogroup_t *g = gogroup_new();
	BENCH_CHECK(g);
	BENCH_OK(gogroup_set_limit(g, 8));
	atomic_store(&ran, 0);
	int64_t t0 = bench_now_ns();
	for (long i = 0; i < *n; i++)
		BENCH_OK(gogroup_go(g, counted, NULL));
	BENCH_OK(gogroup_wait(g));
	int64_t ns = bench_now_ns() - t0;
	BENCH_CHECK(atomic_load(&ran) == *n);
	BENCH_OK(gogroup_free(g));
	return ns;
}

/* ---- the same with thread reuse off: a fresh thread per task ------------------------------ */

/* Run @fn with the pool's idle timeout at 0 (every task thread exits when its
 * task returns, as without a pool), then restore it. */
static int64_t fresh(long *n, int64_t (*fn)(long *))
{
	int64_t old = group__pool_set_idle_ns(0);
	int64_t ns = fn(n);
	group__pool_set_idle_ns(old);
	return ns;
}

static int64_t go_wait_gowg_fresh(long *n)
{
	return fresh(n, go_wait_gowg);
}

static int64_t go_wait_group_fresh(long *n)
{
	return fresh(n, go_wait_group);
}

static int64_t batch100_group_fresh(long *n)
{
	return fresh(n, batch100_group);
}

static int64_t limit8_group_fresh(long *n)
{
	return fresh(n, limit8_group);
}

/* Default n: ~0.2-1 s per run on a 2-vCPU VM with a fresh thread per task. */
static const bench_case_t cases[] = {
	{"go_wait_pthread", 20000, go_wait_pthread},
	{"go_wait_gowg", 20000, go_wait_gowg},
	{"go_wait_gowg_fresh", 20000, go_wait_gowg_fresh},
	{"go_wait_group", 20000, go_wait_group},
	{"go_wait_group_fresh", 20000, go_wait_group_fresh},
	{"batch100_pthread", 20000, batch100_pthread},
	{"batch100_group", 20000, batch100_group},
	{"batch100_group_fresh", 20000, batch100_group_fresh},
	{"limit8_group", 20000, limit8_group},
	{"limit8_group_fresh", 20000, limit8_group_fresh},
};
#define NCASES (sizeof cases / sizeof cases[0])

/* The pthread case each case is compared with (same shape). */
static const char *baseline_of(const char *name)
{
	return strncmp(name, "go_wait", 7) == 0 ? "go_wait_pthread" : "batch100_pthread";
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static int compare(int rounds)
{
	double res[NCASES][rounds];
	double med[NCASES];
	for (int r = 0; r < rounds; r++) {
		for (size_t k = 0; k < NCASES; k++) {
			size_t c = (k + (size_t)r) % NCASES; /* rotate the order */
			long n = cases[c].default_n;
			int64_t ns = cases[c].run(&n);
			res[c][r] = (double)ns / (double)n;
		}
		fprintf(stderr, "round %d/%d done\n", r + 1, rounds);
	}
	printf("ns per task: median (min-max) of %d interleaved rounds; ratio of medians to the "
	       "pthread case of the same shape\n",
	       rounds);
	printf("%-22s %8s  %-22s %s\n", "case", "n", "ns/task", "ratio");
	for (size_t c = 0; c < NCASES; c++) {
		qsort(res[c], (size_t)rounds, sizeof(double), cmp_double);
		med[c] = rounds % 2 ? res[c][rounds / 2]
				    : (res[c][rounds / 2 - 1] + res[c][rounds / 2]) / 2;
	}
	for (size_t c = 0; c < NCASES; c++) {
		double base = 0;
		for (size_t b = 0; b < NCASES; b++)
			if (strcmp(cases[b].name, baseline_of(cases[c].name)) == 0)
				base = med[b];
		char range[64];
		snprintf(range, sizeof range, "%.0f (%.0f-%.0f)", med[c], res[c][0],
			 res[c][rounds - 1]);
		printf("%-22s %8ld  %-22s %.2f\n", cases[c].name, cases[c].default_n, range,
		       base > 0 ? med[c] / base : 0.0);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "--compare") == 0) {
		int rounds = argc > 2 ? atoi(argv[2]) : 7;
		if (rounds < 1) {
			fprintf(stderr, "%s: bad round count\n", argv[0]);
			return 2;
		}
		return compare(rounds);
	}
	return bench_main(argc, argv, cases, NCASES);
}

/*
 * bench/timer_bench.c - timer benchmarks (issue "context and timer channels").
 * Protocol and harness: bench/bench.h.  Go twin: bench/go/timer_bench.go
 * (time.NewTimer/Reset/Stop, time.AfterFunc; see its header for the
 * mapping).  The _timers0/_timers100k pairs are also compared with each
 * other (--compare below).
 *
 * The question these answer: do 100,000 pending timers slow anything down?
 * Each "_timers100k" case first arms 100,000 far-future timers (untimed set
 * up: one heap, one sleeping timer thread) and then runs exactly the same
 * loop as its "_timers0" twin.  A heap of n timers costs O(log n) per timer
 * operation and nothing at all per channel operation.
 *
 *   select2_*           one thread, two cap-1 channels, one token passed
 *                       between them by a two-case select (Go's
 *                       SelectUncontended on one thread): select cost.
 *   select2_pingpong_*  a sender thread and a selecting thread on two
 *                       unbuffered channels: the blocking select path.
 *   reset_stop_*        Reset(t, far) + Stop(t) on one timer: a heap insert
 *                       and a heap removal (what a context with a deadline
 *                       costs when it is cancelled before its deadline).
 *   new_free            gotime_timer_new(far) + gotime_timer_free: with the
 *                       timer's channel allocation.
 *   func_new_stop_free  gotime_after_func_at(far) + stop + free (context's
 *                       WithDeadline + cancel, minus the context).
 *   fire_func           n function timers all due now: time until the timer
 *                       thread has run them all (insert + pop + callback).
 *
 *   timer_bench --compare [rounds]
 *       runs select2_timers0/100k, select2_pingpong_timers0/100k and
 *       reset_stop_timers0/100k interleaved (default 5 rounds) and prints
 *       medians, minimums and the 100k/0 ratios (on a shared, loaded
 *       machine the minimum is the steadier estimate).
 */
#include "bench.h"

#include <gochan/chan.h>
#include <gochan/select.h>
#include <gochan/time.h>
#include <stdatomic.h>
#include <stdbool.h>

#define PENDING 100000
#define FAR GOTIME_HOUR

/* ---- the pending-timer load ------------------------------------------- */

static gotime_timer_t **load;

/* Arm @n far-future timers at scattered deadlines (a realistic heap, not a
 * sorted one), or nothing for n == 0. */
static void load_start(int n)
{
	if (n == 0)
		return;
	load = malloc((size_t)n * sizeof *load);
	BENCH_CHECK(load);
	for (int i = 0; i < n; i++) {
		load[i] = gotime_timer_new(FAR + (int64_t)((i * 7919L) % n) * GOTIME_MICROSECOND);
		BENCH_CHECK(load[i]);
	}
}

static void load_stop(int n)
{
	for (int i = 0; i < n; i++)
		gotime_timer_free(load[i]);
	free(load);
	load = NULL;
}

/* ---- select2: one thread, token between two cap-1 channels ------------ */

static int64_t select2(long *n, int pending)
{
	chan_t *c1 = chan_new(sizeof(int64_t), 1), *c2 = chan_new(sizeof(int64_t), 1);
	int64_t zero = 0, v;
	BENCH_CHECK(c1 && c2);
	BENCH_OK(chan_send(c1, &zero));
	load_start(pending);
	int64_t t0 = bench_now_ns();
	for (long i = 0; i < *n; i++) {
		switch (CHAN_SELECT(CHAN_FOREVER, CHAN_RECV(c1, &v, NULL),
				    CHAN_RECV(c2, &v, NULL))) {
		case 0:
			BENCH_OK(chan_send(c2, &zero));
			break;
		case 1:
			BENCH_OK(chan_send(c1, &zero));
			break;
		default:
			BENCH_CHECK(!"select failed");
		}
	}
	int64_t t1 = bench_now_ns();
	load_stop(pending);
	BENCH_CHECK(chan_len(c1) + chan_len(c2) == 1);
	BENCH_OK(chan_unref(c1));
	BENCH_OK(chan_unref(c2));
	return t1 - t0;
}

static int64_t select2_timers0(long *n)
{
	return select2(n, 0);
}
static int64_t select2_timers100k(long *n)
{
	return select2(n, PENDING);
}

/* ---- select2_pingpong: sender thread vs selecting thread ---------------- */

struct pp {
	chan_t *a, *b;
	long n;
	bench_start_t start;
};

static void *pp_sender(void *arg)
{
	struct pp *p = arg;
	bench_start_wait(&p->start);
	for (long i = 0; i < p->n; i++) {
		int64_t v = i;
		BENCH_OK(chan_send(i % 2 ? p->b : p->a, &v));
	}
	return NULL;
}

static int64_t select2_pingpong(long *n, int pending)
{
	struct pp p = {
		.a = chan_new(sizeof(int64_t), 0), .b = chan_new(sizeof(int64_t), 0), .n = *n};
	pthread_t th;
	int64_t sum = 0, v;
	BENCH_CHECK(p.a && p.b);
	load_start(pending);
	bench_start_init(&p.start, 1);
	bench_spawn(&th, pp_sender, &p);
	int64_t t0 = bench_start_go(&p.start);
	for (long i = 0; i < *n; i++) {
		int r = CHAN_SELECT(CHAN_FOREVER, CHAN_RECV(p.a, &v, NULL),
				    CHAN_RECV(p.b, &v, NULL));
		BENCH_CHECK(r == 0 || r == 1);
		sum += v;
	}
	int64_t t1 = bench_now_ns();
	bench_join(th);
	bench_start_destroy(&p.start);
	load_stop(pending);
	BENCH_CHECK(sum == (int64_t)*n * (*n - 1) / 2);
	BENCH_OK(chan_unref(p.a));
	BENCH_OK(chan_unref(p.b));
	return t1 - t0;
}

static int64_t select2_pingpong_timers0(long *n)
{
	return select2_pingpong(n, 0);
}
static int64_t select2_pingpong_timers100k(long *n)
{
	return select2_pingpong(n, PENDING);
}

/* ---- timer operations ----------------------------------------------------- */

static int64_t reset_stop(long *n, int pending)
{
	gotime_timer_t *t = gotime_timer_new(FAR);
	BENCH_CHECK(t);
	BENCH_CHECK(gotime_timer_stop(t));
	load_start(pending);
	int64_t t0 = bench_now_ns();
	for (long i = 0; i < *n; i++) {
		/* deadlines spread over the load's range: sifts of every depth */
		gotime_timer_reset(t, FAR + (i * 7919L) % PENDING * GOTIME_MICROSECOND);
		BENCH_CHECK(gotime_timer_stop(t));
	}
	int64_t t1 = bench_now_ns();
	load_stop(pending);
	gotime_timer_free(t);
	return t1 - t0;
}

static int64_t reset_stop_timers0(long *n)
{
	return reset_stop(n, 0);
}
static int64_t reset_stop_timers100k(long *n)
{
	return reset_stop(n, PENDING);
}

static int64_t new_free(long *n)
{
	int64_t t0 = bench_now_ns();
	for (long i = 0; i < *n; i++) {
		gotime_timer_t *t = gotime_timer_new(FAR);
		BENCH_CHECK(t);
		gotime_timer_free(t);
	}
	return bench_now_ns() - t0;
}

static void nop(void *arg)
{
	(void)arg;
}

static int64_t func_new_stop_free(long *n)
{
	int64_t t0 = bench_now_ns();
	for (long i = 0; i < *n; i++) {
		gotime_timer_t *t = gotime_after_func_at(chan_now() + FAR, nop, NULL);
		BENCH_CHECK(t);
		BENCH_CHECK(gotime_timer_stop(t));
		gotime_timer_free(t);
	}
	return bench_now_ns() - t0;
}

struct fire {
	atomic_long left;
	chan_t *done;
};

static void fire_fn(void *arg)
{
	struct fire *f = arg;
	/* acq_rel: the last callback sees every earlier one's decrement */
	if (atomic_fetch_sub_explicit(&f->left, 1, memory_order_acq_rel) == 1)
		BENCH_OK(chan_close(f->done));
}

static int64_t fire_func(long *n)
{
	struct fire f = {.done = chan_new(0, 0)};
	gotime_timer_t **ts = malloc((size_t)*n * sizeof *ts);
	bool ok = true;
	BENCH_CHECK(ts && f.done);
	atomic_init(&f.left, *n);
	int64_t t0 = bench_now_ns();
	int64_t due = chan_now();
	for (long i = 0; i < *n; i++) {
		ts[i] = gotime_after_func_at(due, fire_fn, &f);
		BENCH_CHECK(ts[i]);
	}
	BENCH_OK(chan_recv(f.done, NULL, &ok));
	int64_t t1 = bench_now_ns();
	BENCH_CHECK(!ok);
	for (long i = 0; i < *n; i++)
		gotime_timer_free(ts[i]);
	free(ts);
	BENCH_OK(chan_unref(f.done));
	return t1 - t0;
}

static const bench_case_t cases[] = {
	{"select2_timers0", 2000000, select2_timers0},
	{"select2_timers100k", 2000000, select2_timers100k},
	{"select2_pingpong_timers0", 200000, select2_pingpong_timers0},
	{"select2_pingpong_timers100k", 200000, select2_pingpong_timers100k},
	{"reset_stop_timers0", 1000000, reset_stop_timers0},
	{"reset_stop_timers100k", 1000000, reset_stop_timers100k},
	{"new_free", 500000, new_free},
	{"func_new_stop_free", 1000000, func_new_stop_free},
	{"fire_func", 200000, fire_func},
};

/* ---- --compare: the 100k/0 pairs, interleaved, medians --------------------- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v, int k)
{
	qsort(v, (size_t)k, sizeof *v, cmp_double);
	return k % 2 ? v[k / 2] : (v[k / 2 - 1] + v[k / 2]) / 2;
}

static int compare(int rounds)
{
	static const int pairs[][2] = {{0, 1}, {2, 3}, {4, 5}};
	enum {
		MAXR = 99
	};
	if (rounds < 1 || rounds > MAXR) {
		fprintf(stderr, "rounds: 1..%d\n", MAXR);
		return 2;
	}
	printf("ns/op over %d interleaved rounds: median (min); ratio of the medians and of the mins\n",
	       rounds);
	printf("%-20s %20s %20s %7s %7s\n", "case", "no timers", "100k timers", "ratio", "min");
	for (size_t p = 0; p < sizeof pairs / sizeof pairs[0]; p++) {
		double r0[MAXR], r1[MAXR];
		const bench_case_t *c0 = &cases[pairs[p][0]], *c1 = &cases[pairs[p][1]];
		for (int r = 0; r < rounds; r++) {
			for (int k = 0; k < 2; k++) {
				/* alternate which one goes first */
				const bench_case_t *c = (r + k) % 2 ? c1 : c0;
				long n = c->default_n;
				double ns = (double)c->run(&n) / (double)n;
				if (c == c0)
					r0[r] = ns;
				else
					r1[r] = ns;
			}
		}
		/* median() sorts: the minimum is then the first element */
		double m0 = median(r0, rounds), m1 = median(r1, rounds);
		char a[32], b[32];
		snprintf(a, sizeof a, "%.1f (%.1f)", m0, r0[0]);
		snprintf(b, sizeof b, "%.1f (%.1f)", m1, r1[0]);
		/* the case name without its _timers0 suffix */
		int len = (int)(strstr(c0->name, "_timers0") - c0->name);
		printf("%-20.*s %20s %20s %7.2f %7.2f\n", len, c0->name, a, b, m1 / m0,
		       r1[0] / r0[0]);
		fflush(stdout);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "--compare") == 0)
		return compare(argc >= 3 ? atoi(argv[2]) : 5);
	return bench_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}

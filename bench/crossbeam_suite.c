/*
 * bench/crossbeam_suite.c - crossbeam-channel's own benchmark suite
 * (crossbeam-channel/benchmarks/crossbeam-channel.rs and its go.go twin),
 * against gochan.
 * Go twin: bench/go/crossbeam_suite.go; crossbeam twin:
 * bench/rust/src/bin/crossbeam_suite.rs (same cases, logic and n).
 * Protocol and harness: bench/bench.h; what each case means: bench/README.md.
 *
 * Messages are 8-byte values (crossbeam's Message([usize; 1]), Go's int).
 * n is the number of messages (crossbeam's MESSAGES, 5,000,000 by default;
 * bench/run.sh's SUITE_N overrides it) and T = 4 threads a side (crossbeam's
 * THREADS).  The capacities are 0 (bounded0_*), 1 (bounded1_*) and n itself
 * (boundedN_*, crossbeam's "bounded_*": the buffer never fills).
 *
 *   seq          one thread sends n values, then receives them (boundedN only)
 *   spsc         one producer, one consumer
 *   mpsc         T producers (n/T each), one consumer
 *   mpmc         T producers, T consumers (n/T each)
 *   select_rx    T channels, producer k sends n/T on channel k; one consumer
 *                receives n values with a T-case receive select
 *   select_both  T channels; T producers each send n/T values with a T-case
 *                send select, T consumers each receive n/T with a T-case
 *                receive select
 *
 * One op is one message.  Unlike crossbeam's suite (which only times), every
 * case checks what it received: the count and the sum of the values, and for
 * spsc/seq the exact order.  The consumer of spsc/mpsc/select_rx is a thread
 * like the others (crossbeam uses the main thread): all start at one barrier.
 */
#include "bench.h"

#include <gochan/chan.h>
#include <gochan/select.h>
#include <stdatomic.h>
#include <stdbool.h>

#define T 4 /* crossbeam's THREADS */

struct suite {
	chan_t *c[T];    /* c[0] for the single-channel cases */
	long per;        /* messages per producer (and per consumer in mpmc) */
	long nrecv;      /* messages per consumer */
	bool order;      /* consumer checks the exact sequence (one producer) */
	atomic_long got; /* messages received, summed over consumers (relaxed) */
	atomic_long sum; /* their values, summed (relaxed; read after joins) */
	bench_start_t start;
};

/* The sum of the values of p producers each sending 0..per-1. */
static long expected_sum(long per, long p)
{
	return p * (per * (per - 1) / 2);
}

static void account(struct suite *s, long got, long sum)
{
	/* Relaxed: the joins order these before the final reads. */
	atomic_fetch_add_explicit(&s->got, got, memory_order_relaxed);
	atomic_fetch_add_explicit(&s->sum, sum, memory_order_relaxed);
}

static void *producer(void *arg)
{
	struct suite *s = arg;
	bench_start_wait(&s->start);
	for (int64_t i = 0; i < s->per; i++)
		BENCH_OK(chan_send(s->c[0], &i));
	return NULL;
}

static void *consumer(void *arg)
{
	struct suite *s = arg;
	long sum = 0;
	bench_start_wait(&s->start);
	for (long i = 0; i < s->nrecv; i++) {
		int64_t v;
		bool ok;
		BENCH_OK(chan_recv(s->c[0], &v, &ok));
		BENCH_CHECK(ok);
		if (s->order)
			BENCH_CHECK(v == i);
		sum += v;
	}
	account(s, s->nrecv, sum);
	return NULL;
}

static void setup(struct suite *s, long *n, size_t cap, int nchan, long producers)
{
	s->per = *n / producers;
	*n = s->per * producers;
	atomic_init(&s->got, 0);
	atomic_init(&s->sum, 0);
	for (int k = 0; k < nchan; k++) {
		s->c[k] = chan_new(sizeof(int64_t), cap == SIZE_MAX ? (size_t)*n : cap);
		BENCH_CHECK(s->c[k]);
	}
}

static void teardown(struct suite *s, long n, int nchan, long producers)
{
	BENCH_CHECK(atomic_load_explicit(&s->got, memory_order_relaxed) == n);
	BENCH_CHECK(atomic_load_explicit(&s->sum, memory_order_relaxed) ==
		    expected_sum(s->per, producers));
	for (int k = 0; k < nchan; k++) {
		BENCH_CHECK(chan_len(s->c[k]) == 0);
		BENCH_OK(chan_unref(s->c[k]));
	}
}

/* cap SIZE_MAX stands for "n" (boundedN). */
static int64_t seq(long *n, size_t cap)
{
	struct suite s = {0};
	setup(&s, n, cap, 1, 1);
	int64_t t0 = bench_now_ns();
	for (int64_t i = 0; i < *n; i++)
		BENCH_OK(chan_send(s.c[0], &i));
	long sum = 0;
	for (int64_t i = 0; i < *n; i++) {
		int64_t v;
		BENCH_OK(chan_recv(s.c[0], &v, NULL));
		BENCH_CHECK(v == i);
		sum += v;
	}
	int64_t ns = bench_now_ns() - t0;
	account(&s, *n, sum);
	teardown(&s, *n, 1, 1);
	return ns;
}

/* p producers and q consumers on one channel. */
static int64_t pc(long *n, size_t cap, int p, int q)
{
	struct suite s = {0};
	setup(&s, n, cap, 1, p);
	BENCH_CHECK(*n % q == 0);
	s.nrecv = *n / q;
	s.order = p == 1 && q == 1;
	bench_go_t th[2 * T];
	bench_start_init(&s.start, p + q);
	for (int i = 0; i < p; i++)
		bench_go(&th[i], producer, &s);
	for (int i = 0; i < q; i++)
		bench_go(&th[p + i], consumer, &s);
	int64_t t0 = bench_start_go(&s.start);
	for (int i = 0; i < p + q; i++)
		bench_go_join(th[i]);
	int64_t ns = bench_now_ns() - t0;
	bench_start_destroy(&s.start);
	teardown(&s, *n, 1, p);
	return ns;
}

/* ---- select cases: T channels ------------------------------------------- */

struct sel_producer {
	struct suite *s;
	int k; /* select_rx: the channel this producer sends on */
};

static void *select_rx_producer(void *arg)
{
	struct sel_producer *sp = arg;
	struct suite *s = sp->s;
	bench_start_wait(&s->start);
	for (int64_t i = 0; i < s->per; i++)
		BENCH_OK(chan_send(s->c[sp->k], &i));
	return NULL;
}

/* Receive s->nrecv values, each with a T-case receive select. */
static void *select_consumer(void *arg)
{
	struct suite *s = arg;
	int64_t v;
	bool ok;
	chan_case_t cases[T];
	long sum = 0;
	for (int k = 0; k < T; k++)
		cases[k] = CHAN_RECV(s->c[k], &v, &ok);
	bench_start_wait(&s->start);
	for (long i = 0; i < s->nrecv; i++) {
		int r = chan_select(cases, T, CHAN_FOREVER);
		BENCH_CHECK(r >= 0 && r < T && ok);
		sum += v;
	}
	account(s, s->nrecv, sum);
	return NULL;
}

/* Send s->per values, each with a T-case send select. */
static void *select_producer(void *arg)
{
	struct suite *s = arg;
	int64_t v;
	chan_case_t cases[T];
	for (int k = 0; k < T; k++)
		cases[k] = CHAN_SEND(s->c[k], &v, NULL);
	bench_start_wait(&s->start);
	for (v = 0; v < s->per; v++) {
		int r = chan_select(cases, T, CHAN_FOREVER);
		BENCH_CHECK(r >= 0 && r < T);
	}
	return NULL;
}

static int64_t select_rx(long *n, size_t cap)
{
	struct suite s = {0};
	struct sel_producer sp[T];
	bench_go_t th[T + 1];
	setup(&s, n, cap, T, T);
	s.nrecv = *n;
	bench_start_init(&s.start, T + 1);
	for (int k = 0; k < T; k++) {
		sp[k] = (struct sel_producer){&s, k};
		bench_go(&th[k], select_rx_producer, &sp[k]);
	}
	bench_go(&th[T], select_consumer, &s);
	int64_t t0 = bench_start_go(&s.start);
	for (int i = 0; i < T + 1; i++)
		bench_go_join(th[i]);
	int64_t ns = bench_now_ns() - t0;
	bench_start_destroy(&s.start);
	teardown(&s, *n, T, T);
	return ns;
}

static int64_t select_both(long *n, size_t cap)
{
	struct suite s = {0};
	bench_go_t th[2 * T];
	setup(&s, n, cap, T, T);
	s.nrecv = s.per;
	bench_start_init(&s.start, 2 * T);
	for (int k = 0; k < T; k++) {
		bench_go(&th[k], select_producer, &s);
		bench_go(&th[T + k], select_consumer, &s);
	}
	int64_t t0 = bench_start_go(&s.start);
	for (int i = 0; i < 2 * T; i++)
		bench_go_join(th[i]);
	int64_t ns = bench_now_ns() - t0;
	bench_start_destroy(&s.start);
	teardown(&s, *n, T, T);
	return ns;
}

#define N_CAP SIZE_MAX

#define FLAVOR(prefix, cap)                          \
	static int64_t prefix##_spsc(long *n)        \
	{                                            \
		return pc(n, cap, 1, 1);             \
	}                                            \
	static int64_t prefix##_mpsc(long *n)        \
	{                                            \
		return pc(n, cap, T, 1);             \
	}                                            \
	static int64_t prefix##_mpmc(long *n)        \
	{                                            \
		return pc(n, cap, T, T);             \
	}                                            \
	static int64_t prefix##_select_rx(long *n)   \
	{                                            \
		return select_rx(n, cap);            \
	}                                            \
	static int64_t prefix##_select_both(long *n) \
	{                                            \
		return select_both(n, cap);          \
	}

FLAVOR(bounded0, 0)
FLAVOR(bounded1, 1)
FLAVOR(boundedN, N_CAP)

static int64_t boundedN_seq(long *n)
{
	return seq(n, N_CAP);
}

#define MESSAGES 5000000

static const bench_case_t cases[] = {
	{"bounded0_spsc", MESSAGES, bounded0_spsc},
	{"bounded0_mpsc", MESSAGES, bounded0_mpsc},
	{"bounded0_mpmc", MESSAGES, bounded0_mpmc},
	{"bounded0_select_rx", MESSAGES, bounded0_select_rx},
	{"bounded0_select_both", MESSAGES, bounded0_select_both},
	{"bounded1_spsc", MESSAGES, bounded1_spsc},
	{"bounded1_mpsc", MESSAGES, bounded1_mpsc},
	{"bounded1_mpmc", MESSAGES, bounded1_mpmc},
	{"bounded1_select_rx", MESSAGES, bounded1_select_rx},
	{"bounded1_select_both", MESSAGES, bounded1_select_both},
	{"boundedN_seq", MESSAGES, boundedN_seq},
	{"boundedN_spsc", MESSAGES, boundedN_spsc},
	{"boundedN_mpsc", MESSAGES, boundedN_mpsc},
	{"boundedN_mpmc", MESSAGES, boundedN_mpmc},
	{"boundedN_select_rx", MESSAGES, boundedN_select_rx},
	{"boundedN_select_both", MESSAGES, boundedN_select_both},
};

int main(int argc, char **argv)
{
	return bench_main_goroutines(argc, argv, cases, sizeof cases / sizeof cases[0]);
}

/*
 * bench/chan_bench.c - channel benchmarks (issue "Foundation").
 * Go twin: bench/go/chan_bench.go (same cases, same logic, same n).
 * Protocol and harness: bench/bench.h.  What each case means: bench/README.md.
 *
 * Element type everywhere is int64_t (Go's int on amd64).
 */
#include "bench.h"

#include <gochan/chan.h>
#include <stdatomic.h>
#include <stdbool.h>

/* ---- ping-pong: two threads, one round trip per op ---------------------- */

struct pingpong {
	chan_t *ping, *pong;
	long n;
	bench_start_t start;
};

static void *pingpong_echo(void *arg)
{
	struct pingpong *pp = arg;
	bench_start_wait(&pp->start);
	for (long i = 0; i < pp->n; i++) {
		int64_t v;
		bool ok;
		BENCH_OK(chan_recv(pp->ping, &v, &ok));
		BENCH_CHECK(ok && v == i);
		BENCH_OK(chan_send(pp->pong, &v));
	}
	return NULL;
}

static void *pingpong_serve(void *arg)
{
	struct pingpong *pp = arg;
	bench_start_wait(&pp->start);
	for (long i = 0; i < pp->n; i++) {
		int64_t v = i, back;
		BENCH_OK(chan_send(pp->ping, &v));
		BENCH_OK(chan_recv(pp->pong, &back, NULL));
		BENCH_CHECK(back == i);
	}
	return NULL;
}

static int64_t pingpong(long n, size_t cap)
{
	struct pingpong pp = {.n = n};
	pp.ping = chan_new(sizeof(int64_t), cap);
	pp.pong = chan_new(sizeof(int64_t), cap);
	BENCH_CHECK(pp.ping && pp.pong);
	int64_t ns = bench_run_threads(&pp.start, 2, pingpong_serve, pingpong_echo, &pp);
	BENCH_OK(chan_unref(pp.ping));
	BENCH_OK(chan_unref(pp.pong));
	return ns;
}

static int64_t pingpong_c0(long *n)
{
	return pingpong(*n, 0);
}
static int64_t pingpong_c1(long *n)
{
	return pingpong(*n, 1);
}

/* ---- producer/consumer: T producers, T consumers, n messages in all ------ */
/*
 * Go's benchmarkChanProdCons shape: every producer sends its share of 1s,
 * then one 0; every consumer receives until it gets a 0.  Each consumer takes
 * exactly one 0, and since a producer's values precede its 0 in the channel's
 * order, all n values are received before the last consumer stops.  With
 * work > 0 (Go's localWork), a producer runs Go's foo *= 2; foo /= 2 loop
 * work times before each send and a consumer after each receive of a 1.  Go
 * hands the messages out to its producers in batches of CallsPerSched = 1000
 * through an atomic counter; here each producer has its fixed n/T share.
 */
struct prodcons {
	chan_t *c;
	long per_producer;
	int work;
	atomic_long received; /* relaxed adds; read after every join */
	bench_start_t start;
};

static void *prodcons_producer(void *arg)
{
	struct prodcons *pc = arg;
	int64_t one = 1, zero = 0, foo = 0;
	bench_start_wait(&pc->start);
	for (long i = 0; i < pc->per_producer; i++) {
		foo = bench_local_work(foo, pc->work);
		BENCH_OK(chan_send(pc->c, &one));
	}
	BENCH_OK(chan_send(pc->c, &zero));
	BENCH_CHECK(foo == 0); /* 0 * 2 / 2, every time */
	return NULL;
}

static void *prodcons_consumer(void *arg)
{
	struct prodcons *pc = arg;
	long got = 0;
	int64_t foo = 0;
	bench_start_wait(&pc->start);
	for (;;) {
		int64_t v;
		bool ok;
		BENCH_OK(chan_recv(pc->c, &v, &ok));
		BENCH_CHECK(ok);
		if (v == 0)
			break;
		got++;
		foo = bench_local_work(foo, pc->work);
	}
	BENCH_CHECK(foo == 0);
	/* Relaxed: the joins in prodcons() order this before the final read. */
	atomic_fetch_add_explicit(&pc->received, got, memory_order_relaxed);
	return NULL;
}

static int64_t prodcons_work(long *n, size_t cap, int t, int work)
{
	struct prodcons pc = {.per_producer = *n / t, .work = work};
	*n = pc.per_producer * t;
	atomic_init(&pc.received, 0);
	pc.c = chan_new(sizeof(int64_t), cap);
	BENCH_CHECK(pc.c);
	int64_t ns = bench_run_threads(&pc.start, 2 * t, prodcons_producer, prodcons_consumer, &pc);
	BENCH_CHECK(atomic_load_explicit(&pc.received, memory_order_relaxed) == *n);
	BENCH_CHECK(chan_len(pc.c) == 0);
	BENCH_OK(chan_unref(pc.c));
	return ns;
}

static int64_t prodcons(long *n, size_t cap, int t)
{
	return prodcons_work(n, cap, t, 0);
}

static int64_t prodcons_c0_t1(long *n)
{
	return prodcons(n, 0, 1);
}
static int64_t prodcons_c0_t2(long *n)
{
	return prodcons(n, 0, 2);
}
static int64_t prodcons_c0_t4(long *n)
{
	return prodcons(n, 0, 4);
}
static int64_t prodcons_c1_t1(long *n)
{
	return prodcons(n, 1, 1);
}
static int64_t prodcons_c1_t2(long *n)
{
	return prodcons(n, 1, 2);
}
/* Go's BenchmarkChanProdCons10 on two CPUs (GOMAXPROCS pairs: 2). */
static int64_t prodcons_c10_t2(long *n)
{
	return prodcons(n, 10, 2);
}
static int64_t prodcons_c64_t1(long *n)
{
	return prodcons(n, 64, 1);
}
static int64_t prodcons_c64_t2(long *n)
{
	return prodcons(n, 64, 2);
}
static int64_t prodcons_c64_t4(long *n)
{
	return prodcons(n, 64, 4);
}
/* Go's BenchmarkChanProdCons100 on two CPUs (GOMAXPROCS pairs: 2). */
static int64_t prodcons_c100_t2(long *n)
{
	return prodcons(n, 100, 2);
}
/* Go's BenchmarkChanProdConsWork0/10/100: P producer/consumer pairs (Go's
 * GOMAXPROCS), 100 iterations of local work per message on each side. */
static int64_t prodcons_work_c0(long *n)
{
	return prodcons_work(n, 0, bench_procs(), 100);
}
static int64_t prodcons_work_c10(long *n)
{
	return prodcons_work(n, 10, bench_procs(), 100);
}
static int64_t prodcons_work_c100(long *n)
{
	return prodcons_work(n, 100, bench_procs(), 100);
}

/* ---- Go's BenchmarkChanSync: two threads, one unbuffered channel --------- */
/*
 * Each "call" of Go's benchmark is a receive then a send on one goroutine and
 * a send then a receive on the other, so the two alternate roles in lockstep
 * over one unbuffered channel: one op is one message (n in all, n/2 calls
 * each).  Go hands out the calls in batches through an atomic counter; with
 * two goroutines that settles into exactly this fixed split.
 */
struct chansync {
	chan_t *c;
	long calls;
	bench_start_t start;
};

static void *chansync_even(void *arg)
{
	struct chansync *cs = arg;
	int64_t v = 0;
	bench_start_wait(&cs->start);
	for (long i = 0; i < cs->calls; i++) {
		BENCH_OK(chan_recv(cs->c, &v, NULL));
		BENCH_OK(chan_send(cs->c, &v));
	}
	return NULL;
}

static void *chansync_odd(void *arg)
{
	struct chansync *cs = arg;
	int64_t v = 0;
	bench_start_wait(&cs->start);
	for (long i = 0; i < cs->calls; i++) {
		BENCH_OK(chan_send(cs->c, &v));
		BENCH_OK(chan_recv(cs->c, &v, NULL));
	}
	return NULL;
}

static int64_t chan_sync(long *n)
{
	struct chansync cs = {.calls = *n / 2};
	*n = cs.calls * 2;
	cs.c = chan_new(sizeof(int64_t), 0);
	BENCH_CHECK(cs.c);
	int64_t ns = bench_run_threads(&cs.start, 2, chansync_even, chansync_odd, &cs);
	BENCH_CHECK(chan_len(cs.c) == 0);
	BENCH_OK(chan_unref(cs.c));
	return ns;
}

/* ---- parallel cases (Go's b.RunParallel): P threads share n ops ---------- */

struct par {
	chan_t *shared; /* the one channel all threads use, if any */
	long per_thread;
	atomic_long sum; /* what the workers add up, if anything (relaxed adds) */
	bench_start_t start;
};

/* *sum, unless NULL, gets par.sum after every worker has been joined. */
static int64_t run_parallel(long *n, chan_t *shared, void *(*fn)(void *), long *sum)
{
	struct par par = {.shared = shared};
	atomic_init(&par.sum, 0);
	int64_t ns = bench_run_parallel(n, &par.per_thread, &par.start, fn, &par);
	if (sum)
		*sum = atomic_load_explicit(&par.sum, memory_order_relaxed);
	return ns;
}

/* Go's BenchmarkChanNonblocking: select { case <-myc: default: } on a shared
 * empty unbuffered channel, i.e. a try-receive that finds nothing. */
static void *nonblocking_worker(void *arg)
{
	struct par *par = arg;
	bench_start_wait(&par->start);
	for (long i = 0; i < par->per_thread; i++) {
		int64_t v;
		int rc = chan_try_recv(par->shared, &v, NULL);
		BENCH_CHECK(rc == EAGAIN);
	}
	return NULL;
}

static int64_t nonblocking(long *n)
{
	chan_t *c = chan_new(sizeof(int64_t), 0);
	BENCH_CHECK(c);
	int64_t ns = run_parallel(n, c, nonblocking_worker, NULL);
	BENCH_OK(chan_unref(c));
	return ns;
}

/* Go's BenchmarkChanCreation: make(chan int, 1); send; receive; (GC) free. */
static void *creation_worker(void *arg)
{
	struct par *par = arg;
	bench_start_wait(&par->start);
	for (long i = 0; i < par->per_thread; i++) {
		chan_t *c = chan_new(sizeof(int64_t), 1);
		BENCH_CHECK(c);
		int64_t v = i, w;
		BENCH_OK(chan_send(c, &v));
		BENCH_OK(chan_recv(c, &w, NULL));
		BENCH_CHECK(w == i);
		BENCH_OK(chan_unref(c));
	}
	return NULL;
}

static int64_t creation(long *n)
{
	return run_parallel(n, NULL, creation_worker, NULL);
}

/* Go's BenchmarkChanUncontended: each thread its own cap-100 channel; one op
 * is 100 sends then 100 receives (the buffered fast path, no contention). */
static void *uncontended_worker(void *arg)
{
	struct par *par = arg;
	chan_t *c = chan_new(sizeof(int64_t), 100);
	BENCH_CHECK(c);
	bench_start_wait(&par->start);
	for (long i = 0; i < par->per_thread; i++) {
		int64_t v = 0;
		for (int k = 0; k < 100; k++)
			BENCH_OK(chan_send(c, &v));
		for (int k = 0; k < 100; k++)
			BENCH_OK(chan_recv(c, &v, NULL));
	}
	BENCH_OK(chan_unref(c));
	return NULL;
}

static int64_t uncontended_c100(long *n)
{
	return run_parallel(n, NULL, uncontended_worker, NULL);
}

/* Go's BenchmarkChanContended: one channel of capacity 100 * P shared by the
 * P threads; one op is 100 sends then 100 receives on it (the buffer never
 * fills, so nothing blocks, but every operation contends for one ring).  Each
 * thread sends 1..100 and adds up what it receives, which may be the others'
 * values: the sum over all threads must be 5050 per op. */
static void *contended_worker(void *arg)
{
	struct par *par = arg;
	long sum = 0;
	bench_start_wait(&par->start);
	for (long i = 0; i < par->per_thread; i++) {
		for (int64_t k = 1; k <= 100; k++)
			BENCH_OK(chan_send(par->shared, &k));
		for (int k = 0; k < 100; k++) {
			int64_t v;
			bool ok;
			BENCH_OK(chan_recv(par->shared, &v, &ok));
			BENCH_CHECK(ok);
			sum += v;
		}
	}
	atomic_fetch_add_explicit(&par->sum, sum, memory_order_relaxed);
	return NULL;
}

static int64_t chan_contended(long *n)
{
	chan_t *c = chan_new(sizeof(int64_t), 100 * (size_t)bench_procs());
	BENCH_CHECK(c);
	long sum;
	int64_t ns = run_parallel(n, c, contended_worker, &sum);
	BENCH_CHECK(sum == *n * 5050);
	BENCH_CHECK(chan_len(c) == 0);
	BENCH_OK(chan_unref(c));
	return ns;
}

/* Go's BenchmarkChanSem: a chan struct{} of capacity P used as a semaphore;
 * one op is a send (acquire) then a receive (release).  Never blocks. */
static void *sem_worker(void *arg)
{
	struct par *par = arg;
	long got = 0;
	bench_start_wait(&par->start);
	for (long i = 0; i < par->per_thread; i++) {
		bool ok;
		BENCH_OK(chan_send(par->shared, NULL));
		BENCH_OK(chan_recv(par->shared, NULL, &ok));
		BENCH_CHECK(ok);
		got++;
	}
	atomic_fetch_add_explicit(&par->sum, got, memory_order_relaxed);
	return NULL;
}

static int64_t chan_sem(long *n)
{
	chan_t *c = chan_new(0, (size_t)bench_procs());
	BENCH_CHECK(c);
	long got;
	int64_t ns = run_parallel(n, c, sem_worker, &got);
	BENCH_CHECK(got == *n);
	BENCH_CHECK(chan_len(c) == 0);
	BENCH_OK(chan_unref(c));
	return ns;
}

/* Go's BenchmarkChanClosed: select { case <-myc: default: } on a closed
 * unbuffered chan struct{}; the receive must succeed at once with ok false. */
static void *closed_worker(void *arg)
{
	struct par *par = arg;
	bench_start_wait(&par->start);
	for (long i = 0; i < par->per_thread; i++) {
		bool ok = true;
		BENCH_OK(chan_try_recv(par->shared, NULL, &ok));
		BENCH_CHECK(!ok);
	}
	return NULL;
}

static int64_t chan_closed(long *n)
{
	chan_t *c = chan_new(0, 0);
	BENCH_CHECK(c);
	BENCH_OK(chan_close(c));
	int64_t ns = run_parallel(n, c, closed_worker, NULL);
	BENCH_OK(chan_unref(c));
	return ns;
}

/* Default n: one run takes 0.05-1 s with either implementation on a 2-vCPU
 * VM, so a full bench/run.sh stays near 5 minutes.  The Go twin lists the
 * same n; run.sh passes this list's n to both. */
static const bench_case_t cases[] = {
	{"pingpong_c0", 200000, pingpong_c0},
	{"pingpong_c1", 200000, pingpong_c1},
	{"prodcons_c0_t1", 400000, prodcons_c0_t1},
	{"prodcons_c0_t2", 400000, prodcons_c0_t2},
	{"prodcons_c0_t4", 200000, prodcons_c0_t4},
	{"prodcons_c1_t1", 400000, prodcons_c1_t1},
	{"prodcons_c1_t2", 500000, prodcons_c1_t2},
	{"prodcons_c10_t2", 1000000, prodcons_c10_t2},
	{"prodcons_c64_t1", 2000000, prodcons_c64_t1},
	{"prodcons_c64_t2", 2000000, prodcons_c64_t2},
	{"prodcons_c64_t4", 2000000, prodcons_c64_t4},
	{"prodcons_c100_t2", 2000000, prodcons_c100_t2},
	{"chan_sync", 400000, chan_sync},
	{"nonblocking", 50000000, nonblocking},
	{"creation", 2000000, creation},
	{"uncontended_c100", 100000, uncontended_c100},
	{"chan_contended", 50000, chan_contended},
	{"chan_sem", 5000000, chan_sem},
	{"chan_closed", 10000000, chan_closed},
	{"prodcons_work_c0", 500000, prodcons_work_c0},
	{"prodcons_work_c10", 1000000, prodcons_work_c10},
	{"prodcons_work_c100", 1000000, prodcons_work_c100},
};

int main(int argc, char **argv)
{
	return bench_main_goroutines(argc, argv, cases, sizeof cases / sizeof cases[0]);
}

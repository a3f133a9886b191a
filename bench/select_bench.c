/*
 * bench/select_bench.c - select benchmarks (issue "select").
 * Go twin: bench/go/select_bench.go (same cases, same logic, same n).
 * Most cases mirror Go's runtime/chan_test.go benchmarks of the same name;
 * protocol and harness: bench/bench.h; what each case means: bench/README.md.
 *
 * Element type everywhere is int64_t (Go's int on amd64).
 */
#include "bench.h"

#include <gochan/chan.h>
#include <gochan/select.h>
#include <stdatomic.h>
#include <stdbool.h>

/* ---- parallel cases (Go's b.RunParallel): P threads share n ops ---------- */

struct par {
	chan_t *c[4]; /* channels shared by every worker, per case */
	long per_thread;
	bench_start_t start;
};

static int64_t run_parallel(long *n, struct par *par, void *(*fn)(void *))
{
	return bench_run_parallel(n, &par->per_thread, &par->start, fn, par);
}

static void unref_all(struct par *par)
{
	for (int i = 0; i < 4; i++)
		if (par->c[i])
			BENCH_OK(chan_unref(par->c[i]));
}

/* Go's BenchmarkSelectUncontended: each thread owns two cap-1 channels and
 * passes one token between them with a two-case select (never blocks). */
static void *uncontended_worker(void *arg)
{
	struct par *par = arg;
	chan_t *c1 = chan_new(sizeof(int64_t), 1);
	chan_t *c2 = chan_new(sizeof(int64_t), 1);
	BENCH_CHECK(c1 && c2);
	int64_t zero = 0, v;
	BENCH_OK(chan_send(c1, &zero));
	bench_start_wait(&par->start);
	for (long i = 0; i < par->per_thread; i++) {
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
	BENCH_CHECK(chan_len(c1) + chan_len(c2) == 1);
	BENCH_OK(chan_unref(c1));
	BENCH_OK(chan_unref(c2));
	return NULL;
}

static int64_t select_uncontended(long *n)
{
	struct par par = {0};
	return run_parallel(n, &par, uncontended_worker);
}

/* Go's BenchmarkSelectSyncContended: every worker has a helper thread that
 * offers 0 on three shared unbuffered channels (or stops on done); the
 * workers receive with a three-case select.  2P threads in all. */
struct sync_contended {
	struct par par;
	chan_t *done;
};

static void *sync_contended_helper(void *arg)
{
	struct sync_contended *sc = arg;
	int64_t zero = 0;
	for (;;) {
		int r = CHAN_SELECT(CHAN_FOREVER, CHAN_SEND(sc->par.c[0], &zero, NULL),
				    CHAN_SEND(sc->par.c[1], &zero, NULL),
				    CHAN_SEND(sc->par.c[2], &zero, NULL),
				    CHAN_RECV(sc->done, NULL, NULL));
		BENCH_CHECK(r >= 0 && r <= 3);
		if (r == 3)
			return NULL;
	}
}

static void *sync_contended_worker(void *arg)
{
	struct par *par = arg;
	bench_start_wait(&par->start);
	for (long i = 0; i < par->per_thread; i++) {
		int64_t v = -1;
		int r = CHAN_SELECT(CHAN_FOREVER, CHAN_RECV(par->c[0], &v, NULL),
				    CHAN_RECV(par->c[1], &v, NULL), CHAN_RECV(par->c[2], &v, NULL));
		BENCH_CHECK(r >= 0 && r <= 2 && v == 0);
	}
	return NULL;
}

static int64_t select_sync_contended(long *n)
{
	struct sync_contended sc = {0};
	for (int i = 0; i < 3; i++)
		BENCH_CHECK(sc.par.c[i] = chan_new(sizeof(int64_t), 0));
	BENCH_CHECK(sc.done = chan_new(0, 0));
	int p = bench_procs();
	bench_go_t helpers[p];
	for (int i = 0; i < p; i++)
		bench_go(&helpers[i], sync_contended_helper, &sc);
	int64_t ns = run_parallel(n, &sc.par, sync_contended_worker);
	BENCH_OK(chan_close(sc.done));
	for (int i = 0; i < p; i++)
		bench_go_join(helpers[i]);
	unref_all(&sc.par);
	BENCH_OK(chan_unref(sc.done));
	return ns;
}

/* Go's BenchmarkSelectAsyncContended: P tokens circulate between two shared
 * cap-P channels; each worker moves one per op with a two-case select. */
static void *async_contended_worker(void *arg)
{
	struct par *par = arg;
	int64_t zero = 0, v;
	BENCH_OK(chan_send(par->c[0], &zero));
	bench_start_wait(&par->start);
	for (long i = 0; i < par->per_thread; i++) {
		switch (CHAN_SELECT(CHAN_FOREVER, CHAN_RECV(par->c[0], &v, NULL),
				    CHAN_RECV(par->c[1], &v, NULL))) {
		case 0:
			BENCH_OK(chan_send(par->c[1], &zero));
			break;
		case 1:
			BENCH_OK(chan_send(par->c[0], &zero));
			break;
		default:
			BENCH_CHECK(!"select failed");
		}
	}
	return NULL;
}

static int64_t select_async_contended(long *n)
{
	struct par par = {0};
	size_t p = (size_t)bench_procs();
	BENCH_CHECK(par.c[0] = chan_new(sizeof(int64_t), p));
	BENCH_CHECK(par.c[1] = chan_new(sizeof(int64_t), p));
	int64_t ns = run_parallel(n, &par, async_contended_worker);
	BENCH_CHECK(chan_len(par.c[0]) + chan_len(par.c[1]) == p);
	unref_all(&par);
	return ns;
}

/* Go's BenchmarkSelectNonblock: per op, four one-case selects with a default
 * branch: receive from and send to an unbuffered channel nobody else uses,
 * receive from an empty cap-1 channel, send to a (soon full) cap-1 channel. */
static void *nonblock_worker(void *arg)
{
	struct par *par = arg;
	bench_start_wait(&par->start);
	for (long i = 0; i < par->per_thread; i++) {
		int64_t v, zero = 0;
		int r;
		r = CHAN_SELECT(CHAN_NOWAIT, CHAN_RECV(par->c[0], &v, NULL));
		BENCH_CHECK(r == CHAN_DEFAULT);
		r = CHAN_SELECT(CHAN_NOWAIT, CHAN_SEND(par->c[1], &zero, NULL));
		BENCH_CHECK(r == CHAN_DEFAULT);
		r = CHAN_SELECT(CHAN_NOWAIT, CHAN_RECV(par->c[2], &v, NULL));
		BENCH_CHECK(r == CHAN_DEFAULT);
		r = CHAN_SELECT(CHAN_NOWAIT, CHAN_SEND(par->c[3], &zero, NULL));
		BENCH_CHECK(r == CHAN_DEFAULT || r == 0);
	}
	return NULL;
}

static int64_t select_nonblock(long *n)
{
	struct par par = {0};
	BENCH_CHECK(par.c[0] = chan_new(sizeof(int64_t), 0));
	BENCH_CHECK(par.c[1] = chan_new(sizeof(int64_t), 0));
	BENCH_CHECK(par.c[2] = chan_new(sizeof(int64_t), 1));
	BENCH_CHECK(par.c[3] = chan_new(sizeof(int64_t), 1));
	int64_t ns = run_parallel(n, &par, nonblock_worker);
	BENCH_CHECK(chan_len(par.c[3]) == 1);
	unref_all(&par);
	return ns;
}

/* Not in Go's suite: one two-case select with default on two empty channels
 * (unbuffered and cap 1).  Go compiles a one-case select with default to a
 * plain non-blocking operation; with two cases it runs the full select
 * (shuffle, lock both channels, poll), and so must gochan. */
static void *nonblock2_worker(void *arg)
{
	struct par *par = arg;
	bench_start_wait(&par->start);
	for (long i = 0; i < par->per_thread; i++) {
		int64_t v;
		int r = CHAN_SELECT(CHAN_NOWAIT, CHAN_RECV(par->c[0], &v, NULL),
				    CHAN_RECV(par->c[1], &v, NULL));
		BENCH_CHECK(r == CHAN_DEFAULT);
	}
	return NULL;
}

static int64_t select_nonblock2(long *n)
{
	struct par par = {0};
	BENCH_CHECK(par.c[0] = chan_new(sizeof(int64_t), 0));
	BENCH_CHECK(par.c[1] = chan_new(sizeof(int64_t), 1));
	int64_t ns = run_parallel(n, &par, nonblock2_worker);
	unref_all(&par);
	return ns;
}

/* ---- select ping-pong: two threads, every operation is a select ---------- */
/*
 * One round trip per op over two unbuffered channels; each send and each
 * receive is a two-case select whose other case is an idle channel, so the
 * blocking select path (register on both, park, be claimed) is what's timed.
 */
struct spp {
	chan_t *ping, *pong, *idle;
	long n;
	bench_start_t start;
};

static void *spp_serve(void *arg)
{
	struct spp *s = arg;
	bench_start_wait(&s->start);
	for (long i = 0; i < s->n; i++) {
		int64_t v = i, back = -1;
		int r = CHAN_SELECT(CHAN_FOREVER, CHAN_SEND(s->ping, &v, NULL),
				    CHAN_RECV(s->idle, NULL, NULL));
		BENCH_CHECK(r == 0);
		r = CHAN_SELECT(CHAN_FOREVER, CHAN_RECV(s->pong, &back, NULL),
				CHAN_RECV(s->idle, NULL, NULL));
		BENCH_CHECK(r == 0 && back == i);
	}
	return NULL;
}

static void *spp_echo(void *arg)
{
	struct spp *s = arg;
	bench_start_wait(&s->start);
	for (long i = 0; i < s->n; i++) {
		int64_t v = -1;
		int r = CHAN_SELECT(CHAN_FOREVER, CHAN_RECV(s->ping, &v, NULL),
				    CHAN_RECV(s->idle, NULL, NULL));
		BENCH_CHECK(r == 0 && v == i);
		r = CHAN_SELECT(CHAN_FOREVER, CHAN_SEND(s->pong, &v, NULL),
				CHAN_RECV(s->idle, NULL, NULL));
		BENCH_CHECK(r == 0);
	}
	return NULL;
}

static int64_t select_pingpong_c0(long *n)
{
	struct spp s = {.n = *n};
	BENCH_CHECK(s.ping = chan_new(sizeof(int64_t), 0));
	BENCH_CHECK(s.pong = chan_new(sizeof(int64_t), 0));
	BENCH_CHECK(s.idle = chan_new(0, 0));
	int64_t ns = bench_run_threads(&s.start, 2, spp_serve, spp_echo, &s);
	BENCH_OK(chan_unref(s.ping));
	BENCH_OK(chan_unref(s.pong));
	BENCH_OK(chan_unref(s.idle));
	return ns;
}

/* ---- Go's BenchmarkSelectProdCons ----------------------------------------- */
/*
 * P producers and P consumers on one cap-128 channel; 100 iterations of local
 * work per message on each side; every send and receive is a three-case
 * select whose other cases never fire: a per-thread cap-1 channel (Go uses
 * time.After(time.Hour), which in Go 1.19 is a cap-1 channel nobody sends on
 * within the benchmark) and a shared unbuffered "close" channel.  Each
 * producer sends its share of 1s then a plain 0; consumers stop on a 0.
 */
struct sprodcons {
	chan_t *c, *myclose;
	long per_producer;
	atomic_long received; /* relaxed adds; read after every join */
	atomic_long sink;     /* keeps the local work observable */
	bench_start_t start;
};

static void *sprodcons_producer(void *arg)
{
	struct sprodcons *s = arg;
	chan_t *mytimer = chan_new(sizeof(int64_t), 1);
	BENCH_CHECK(mytimer);
	int64_t foo = 0, one = 1, zero = 0;
	bench_start_wait(&s->start);
	for (long i = 0; i < s->per_producer; i++) {
		foo = bench_local_work(foo, 100);
		int r = CHAN_SELECT(CHAN_FOREVER, CHAN_SEND(s->c, &one, NULL),
				    CHAN_RECV(mytimer, NULL, NULL),
				    CHAN_RECV(s->myclose, NULL, NULL));
		BENCH_CHECK(r == 0);
	}
	BENCH_OK(chan_send(s->c, &zero));
	atomic_fetch_add_explicit(&s->sink, foo == 42, memory_order_relaxed);
	BENCH_OK(chan_unref(mytimer));
	return NULL;
}

static void *sprodcons_consumer(void *arg)
{
	struct sprodcons *s = arg;
	chan_t *mytimer = chan_new(sizeof(int64_t), 1);
	BENCH_CHECK(mytimer);
	int64_t foo = 0;
	long got = 0;
	bench_start_wait(&s->start);
	for (;;) {
		int64_t v = -1;
		int r = CHAN_SELECT(CHAN_FOREVER, CHAN_RECV(s->c, &v, NULL),
				    CHAN_RECV(mytimer, NULL, NULL),
				    CHAN_RECV(s->myclose, NULL, NULL));
		BENCH_CHECK(r == 0);
		if (v == 0)
			break;
		got++;
		foo = bench_local_work(foo, 100);
	}
	/* Relaxed: the joins in select_prodcons() order these before the reads. */
	atomic_fetch_add_explicit(&s->received, got, memory_order_relaxed);
	atomic_fetch_add_explicit(&s->sink, foo == 42, memory_order_relaxed);
	BENCH_OK(chan_unref(mytimer));
	return NULL;
}

static int64_t select_prodcons(long *n)
{
	int p = bench_procs();
	struct sprodcons s = {.per_producer = *n / p};
	*n = s.per_producer * p;
	atomic_init(&s.received, 0);
	atomic_init(&s.sink, 0);
	BENCH_CHECK(s.c = chan_new(sizeof(int64_t), 128));
	BENCH_CHECK(s.myclose = chan_new(0, 0));
	int64_t ns = bench_run_threads(&s.start, 2 * p, sprodcons_producer, sprodcons_consumer, &s);
	BENCH_CHECK(atomic_load_explicit(&s.received, memory_order_relaxed) == *n);
	BENCH_CHECK(atomic_load_explicit(&s.sink, memory_order_relaxed) == 0);
	BENCH_OK(chan_unref(s.c));
	BENCH_OK(chan_unref(s.myclose));
	return ns;
}

/* ---- Go's BenchmarkChanPopular -------------------------------------------- */
/*
 * POPULAR threads each loop on select { <-c (shared, never sent on) ; <-d
 * (its own) }; one op is one round in which the main thread sends once on
 * every d.  So every shared-channel wait queue holds POPULAR waiters and each
 * wake must dequeue from it.  Go uses 1000 goroutines; 1000 OS threads is
 * heavy on a small VM, so both twins use POPULAR.
 */
#define POPULAR 200

struct popular {
	chan_t *c;
	chan_t *d[POPULAR];
	long rounds;
	bench_start_t start;
};

struct popular_arg {
	struct popular *pop;
	int i;
};

static void *popular_worker(void *arg)
{
	struct popular_arg *pa = arg;
	struct popular *pop = pa->pop;
	bench_start_wait(&pop->start);
	for (long i = 0; i < pop->rounds; i++) {
		bool v = false;
		int r = CHAN_SELECT(CHAN_FOREVER, CHAN_RECV(pop->c, NULL, NULL),
				    CHAN_RECV(pop->d[pa->i], &v, NULL));
		BENCH_CHECK(r == 1 && v);
	}
	return NULL;
}

static int64_t chan_popular(long *n)
{
	static struct popular pop; /* ~2 KiB of channel pointers: not on a stack */
	static struct popular_arg args[POPULAR];
	bench_go_t th[POPULAR];
	pop.rounds = *n;
	BENCH_CHECK(pop.c = chan_new(sizeof(bool), 0));
	bench_start_init(&pop.start, POPULAR);
	for (int j = 0; j < POPULAR; j++) {
		BENCH_CHECK(pop.d[j] = chan_new(sizeof(bool), 0));
		args[j] = (struct popular_arg){.pop = &pop, .i = j};
		bench_go(&th[j], popular_worker, &args[j]);
	}
	int64_t t0 = bench_start_go(&pop.start);
	bool t = true;
	for (long i = 0; i < pop.rounds; i++)
		for (int j = 0; j < POPULAR; j++)
			BENCH_OK(chan_send(pop.d[j], &t));
	for (int j = 0; j < POPULAR; j++)
		bench_go_join(th[j]);
	int64_t t1 = bench_now_ns();
	bench_start_destroy(&pop.start);
	for (int j = 0; j < POPULAR; j++)
		BENCH_OK(chan_unref(pop.d[j]));
	BENCH_OK(chan_unref(pop.c));
	return t1 - t0;
}

/* Default n: one run takes 0.05-1 s with either implementation on a 2-vCPU
 * VM, so a full bench/run.sh stays near 5 minutes.  The Go twin lists the
 * same n; run.sh passes this list's n to both. */
static const bench_case_t cases[] = {
	{"select_uncontended", 5000000, select_uncontended},
	{"select_pingpong_c0", 200000, select_pingpong_c0},
	{"select_sync_contended", 300000, select_sync_contended},
	{"select_async_contended", 1000000, select_async_contended},
	{"select_prodcons", 500000, select_prodcons},
	{"select_nonblock", 10000000, select_nonblock},
	{"select_nonblock2", 2000000, select_nonblock2},
	{"chan_popular_200", 1000, chan_popular},
};

int main(int argc, char **argv)
{
	return bench_main_goroutines(argc, argv, cases, sizeof cases / sizeof cases[0]);
}

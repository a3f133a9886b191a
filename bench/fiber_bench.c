/*
 * bench/fiber_bench.c - what a fiber costs (issue 18): go + wait of an empty
 * task, unbuffered ping-pong and skynet, with fibers (on however many
 * workers the runtime has) and, for comparison in the same run, across a
 * fiber and a thread.  Go twin: bench/go/fiber_bench.go (goroutines; Go has
 * no threads, so its *_thread_fiber cases are its fiber cases again).
 *
 * The other fiber figures of issue 18's table come from the chan, select
 * and crossbeam families run with their goroutines as fibers (bench.h's
 * "Goroutines as fibers"; bench/run.sh's fiber column, BENCH_FIBER=1 or
 * `bench/run.sh fiber`): chan_popular_200, bounded1_*, prodcons_c1_t1,
 * pingpong_c1, chan_sync.
 *
 * Cases (bench/bench.h's protocol; ns_per_op is per task, round trip or leaf):
 *   go_wait_fiber         a fiber starts an empty fiber and waits for it
 *                         (gofiber_go + gofiber_group_wait), one at a time
 *   go_wait_thread_fiber  the same from a thread (each wait is a futex
 *                         sleep and a wake across threads)
 *   batch100_fiber        a fiber starts 100 empty fibers, then one wait
 *   pingpong_fiber        two fibers, one round trip (two unbuffered
 *                         messages) per op: Go's pingpong (chan_bench's
 *                         pingpong_c0 shape)
 *   pingpong_thread_fiber the same between a thread and a fiber
 *   skynet                the skynet benchmark (github.com/atemerev/skynet):
 *                         a fiber per node of a 10-ary tree with n leaves
 *                         (n rounded down to a power of 10; default
 *                         1,000,000 leaves, 1,111,111 fibers), each leaf
 *                         sending its number to its parent over the
 *                         parent's unbuffered channel, each inner node
 *                         sending the sum of its 10 children's; the root's
 *                         sum is checked.  Prints "maxrss_kib=" (getrusage
 *                         after the run) on stderr, as its Go twin does.
 */
#include "bench.h"

#include <gochan/chan.h>
#include <gochan/fiber.h>
#include <sys/resource.h>

static void empty(void *arg)
{
	(void)arg;
}

struct drive {
	long n;
	int64_t ns;
	void (*body)(struct drive *);
	chan_t *ping, *pong;
};

static void run_body(void *p)
{
	struct drive *d = p;

	d->body(d);
}

/* Run d->body on a fiber and wait for it from this thread. */
static int64_t on_fiber(struct drive *d)
{
	gofiber_group_t *g = gofiber_group_new();

	BENCH_CHECK(g);
	BENCH_OK(gofiber_go(g, run_body, d));
	BENCH_OK(gofiber_group_wait(g));
	BENCH_OK(gofiber_group_free(g));
	return d->ns;
}

static void go_wait_body(struct drive *d)
{
	gofiber_group_t *g = gofiber_group_new();
	int64_t t = bench_now_ns();

	for (long i = 0; i < d->n; i++) {
		BENCH_OK(gofiber_go(g, empty, NULL));
		BENCH_OK(gofiber_group_wait(g));
	}
	d->ns = bench_now_ns() - t;
	BENCH_OK(gofiber_group_free(g));
}

static void batch_body(struct drive *d)
{
	gofiber_group_t *g = gofiber_group_new();
	int64_t t = bench_now_ns();

	for (long i = 0; i < d->n; i += 100) {
		for (int k = 0; k < 100; k++)
			BENCH_OK(gofiber_go(g, empty, NULL));
		BENCH_OK(gofiber_group_wait(g));
	}
	d->ns = bench_now_ns() - t;
	BENCH_OK(gofiber_group_free(g));
}

static int64_t go_wait_fiber(long *n)
{
	struct drive d = {.n = *n, .body = go_wait_body};

	return on_fiber(&d);
}

static int64_t batch100_fiber(long *n)
{
	*n -= *n % 100;
	struct drive d = {.n = *n, .body = batch_body};

	return on_fiber(&d);
}

static int64_t go_wait_thread_fiber(long *n)
{
	struct drive d = {.n = *n};

	go_wait_body(&d);
	return d.ns;
}

/* The echo side: answers every ping until the ping channel closes. */
static void echo(void *p)
{
	struct drive *d = p;
	long v;
	bool ok;

	while (chan_recv(d->ping, &v, &ok) == 0 && ok)
		BENCH_OK(chan_send(d->pong, &v));
}

static void serve_body(struct drive *d)
{
	bool ok;
	int64_t t = bench_now_ns();

	for (long i = 0; i < d->n; i++) {
		long v = i;

		BENCH_OK(chan_send(d->ping, &v));
		BENCH_OK(chan_recv(d->pong, &v, &ok));
		BENCH_CHECK(ok && v == i);
	}
	d->ns = bench_now_ns() - t;
}

static int64_t pingpong(long *n, bool serve_on_fiber)
{
	struct drive d = {.n = *n, .body = serve_body};
	gofiber_group_t *g = gofiber_group_new();
	int64_t ns;

	d.ping = chan_new(sizeof(long), 0);
	d.pong = chan_new(sizeof(long), 0);
	BENCH_CHECK(g && d.ping && d.pong);
	BENCH_OK(gofiber_go(g, echo, &d));
	if (serve_on_fiber) {
		ns = on_fiber(&d);
	} else {
		serve_body(&d);
		ns = d.ns;
	}
	BENCH_OK(chan_close(d.ping));
	BENCH_OK(gofiber_group_wait(g));
	BENCH_OK(gofiber_group_free(g));
	chan_unref(d.ping);
	chan_unref(d.pong);
	return ns;
}

static int64_t pingpong_fiber(long *n)
{
	return pingpong(n, true);
}

static int64_t pingpong_thread_fiber(long *n)
{
	return pingpong(n, false);
}

/* ---- skynet ---- */

struct sky {
	chan_t *parent; /* where this node sends its sum (a reference it owns) */
	long num, size;
};

static void skynet_node(void *p);

/* Start a node; the record is freed by the node. */
static void sky_go(chan_t *parent, long num, long size)
{
	struct sky *k = malloc(sizeof *k);

	BENCH_CHECK(k);
	k->parent = chan_ref(parent);
	k->num = num;
	k->size = size;
	BENCH_OK(gofiber_go(NULL, skynet_node, k));
}

static void skynet_node(void *p)
{
	struct sky *k = p;
	long sum = k->num;

	if (k->size > 1) {
		chan_t *rc = chan_new(sizeof(long), 0);
		long sub = k->size / 10;
		bool ok;

		BENCH_CHECK(rc);
		for (long i = 0; i < 10; i++)
			sky_go(rc, k->num + i * sub, sub);
		sum = 0;
		for (int i = 0; i < 10; i++) {
			long v;

			BENCH_OK(chan_recv(rc, &v, &ok));
			BENCH_CHECK(ok);
			sum += v;
		}
		BENCH_OK(chan_unref(rc));
	}
	BENCH_OK(chan_send(k->parent, &sum));
	BENCH_OK(chan_unref(k->parent));
	free(k);
}

static int64_t skynet(long *n)
{
	long size = 1;
	chan_t *c = chan_new(sizeof(long), 0);
	long sum;
	bool ok;
	struct rusage ru;

	while (size <= *n / 10)
		size *= 10;
	*n = size;
	BENCH_CHECK(c);
	int64_t t = bench_now_ns();

	sky_go(c, 0, size);
	BENCH_OK(chan_recv(c, &sum, &ok)); /* on this thread: the root's sum */
	t = bench_now_ns() - t;
	BENCH_CHECK(ok && sum == size * (size - 1) / 2);
	BENCH_OK(chan_unref(c));
	BENCH_OK(getrusage(RUSAGE_SELF, &ru) ? errno : 0);
	fprintf(stderr, "maxrss_kib=%ld\n", (long)ru.ru_maxrss);
	return t;
}

static const bench_case_t cases[] = {
	{"go_wait_fiber", 200000, go_wait_fiber},
	{"go_wait_thread_fiber", 20000, go_wait_thread_fiber},
	{"batch100_fiber", 200000, batch100_fiber},
	{"pingpong_fiber", 200000, pingpong_fiber},
	{"pingpong_thread_fiber", 20000, pingpong_thread_fiber},
	{"skynet", 1000000, skynet},
};

int main(int argc, char **argv)
{
	return bench_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}

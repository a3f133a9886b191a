/*
 * bench/fiber_bench.c - what a fiber costs (issue 18): go + wait of an empty
 * task and unbuffered ping-pong, with fibers on the one worker of milestone
 * 1 and, for comparison in the same run, across a fiber and a thread.
 * No Go twin yet (bench/go/ has Go's group and ping-pong cases).
 *
 * Cases (bench/bench.h's protocol; ns_per_op is per task or per round trip):
 *   go_wait_fiber         a fiber starts an empty fiber and waits for it
 *                         (gofiber_go + gofiber_group_wait), one at a time
 *   go_wait_thread_fiber  the same from a thread (each wait is a futex
 *                         sleep and a wake across threads)
 *   batch100_fiber        a fiber starts 100 empty fibers, then one wait
 *   pingpong_fiber        two fibers, one round trip (two unbuffered
 *                         messages) per op
 *   pingpong_thread_fiber the same between a thread and a fiber
 */
#include "bench.h"

#include <gochan/chan.h>
#include <gochan/fiber.h>

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

static const bench_case_t cases[] = {
	{"go_wait_fiber", 200000, go_wait_fiber},
	{"go_wait_thread_fiber", 20000, go_wait_thread_fiber},
	{"batch100_fiber", 200000, batch100_fiber},
	{"pingpong_fiber", 200000, pingpong_fiber},
	{"pingpong_thread_fiber", 20000, pingpong_thread_fiber},
};

int main(int argc, char **argv)
{
	return bench_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}

/*
 * bench/poll_bench.c - the poller: how soon a request's context learns that
 * its client left, and what a hangup context costs.
 * Go twin: bench/go/poll_bench.go (same cases, same n).
 * Protocol and harness: bench/bench.h.
 *
 * Latency cases run n trials, one TCP connection over loopback each: a
 * "handler" thread blocks until the client's side is seen closed, the main
 * thread (the client) takes t0 and close()s, and the handler takes t1 as soon
 * as it wakes.  The handler is given 200 us to fall asleep first (a handler
 * waiting on a backend is asleep, not spinning).  For these cases ns_per_op
 * is the MEDIAN latency t1 - t0 over the n trials; the median, p99, min and
 * max are also printed to stderr:
 *
 *   hangup_latency     gopoll_hangup_ctx(background, server fd); the handler
 *                      blocks on ctx_done().  Path: the kernel wakes the
 *                      poller thread, which cancels the context, whose
 *                      chan_close wakes the handler (two thread wake-ups).
 *                      Go: net/http's r.Context().Done() in a handler
 *                      (the background read's EOF cancels it).
 *   hangup_done_latency the same context, but the client itself waits on
 *                      Done right after its close() (chan_recv, which spins
 *                      and yields briefly before it sleeps): close -> Done
 *                      closed, without a sleeping handler's wake-up.  Go: the
 *                      handler hands r.Context() to the client, which waits
 *                      on <-ctx.Done() after its Close.
 *   read_eof_latency   the floor: the handler blocks in poll(2) on the server
 *                      fd itself (one wake-up, no library).  Go: a goroutine
 *                      blocked in conn.Read, woken with EOF by the netpoller.
 *
 * Cost case:
 *   hangup_ctx_cycle   gopoll_hangup_ctx + ctx_cancel_release on one idle
 *                      socket, per op (a context, a poll(2), one epoll ADD and
 *                      one DEL).  Go twin: WithCancel + cancel (Go's
 *                      per-request context; net/http's own registration is in
 *                      its netpoller and not separable).
 */
#include "bench.h"

#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <sys/socket.h>

#include <gochan/chan.h>
#include <gochan/context.h>
#include <gochan/poll.h>

#include "tests/test_poll_util.h"

#define SETTLE_NS 200000

enum handler_kind {
	H_CTX,
	H_POLL,
	H_NONE /* the client watches Done itself */
};

struct trial {
	enum handler_kind kind;
	chan_t *start; /* int: the server fd, -1: stop */
	chan_t *ready; /* handler: about to block */
	chan_t *woke;  /* int64_t: t1 */
	ctx_t *ctx;    /* H_CTX: the trial's hangup context */
};

static void *handler(void *p)
{
	struct trial *t = p;
	int fd;
	bool ok;
	while (chan_recv(t->start, &fd, &ok) == 0 && ok && fd >= 0) {
		BENCH_OK(chan_send(t->ready, NULL));
		if (t->kind == H_CTX) {
			bool dok = true;
			BENCH_OK(chan_recv(ctx_done(t->ctx), NULL, &dok));
			BENCH_CHECK(!dok);
		} else {
			struct pollfd pf = {.fd = fd, .events = POLLIN | POLLRDHUP};
			BENCH_CHECK(poll(&pf, 1, -1) == 1);
		}
		int64_t t1 = bench_now_ns();
		BENCH_OK(chan_send(t->woke, &t1));
	}
	return NULL;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* Run n trials; return n * median (so that ns_per_op is the median). */
static int64_t latency_case(const char *name, enum handler_kind kind, long n)
{
	struct trial t = {.kind = kind,
			  .start = chan_new(sizeof(int), 0),
			  .ready = chan_new(0, 0),
			  .woke = chan_new(sizeof(int64_t), 0)};
	BENCH_CHECK(t.start && t.ready && t.woke);
	int64_t *lat = malloc((size_t)n * sizeof *lat);
	BENCH_CHECK(lat);
	pthread_t th;
	if (kind != H_NONE)
		bench_spawn(&th, handler, &t);
	for (long i = 0; i < n; i++) {
		int cl, sv;
		BENCH_CHECK(tp_tcp_pair(&cl, &sv));
		if (kind != H_POLL) {
			t.ctx = gopoll_hangup_ctx(ctx_background(), sv);
			BENCH_CHECK(t.ctx && ctx_done(t.ctx));
		}
		if (kind != H_NONE) {
			BENCH_OK(chan_send(t.start, &sv));
			BENCH_OK(chan_recv(t.ready, NULL, NULL));
		}
		struct timespec settle = {0, SETTLE_NS};
		nanosleep(&settle, NULL);
		int64_t t0 = bench_now_ns(), t1;
		close(cl);
		if (kind != H_NONE) {
			BENCH_OK(chan_recv(t.woke, &t1, NULL));
		} else {
			bool dok = true;
			BENCH_OK(chan_recv(ctx_done(t.ctx), NULL, &dok));
			BENCH_CHECK(!dok);
			t1 = bench_now_ns();
		}
		lat[i] = t1 - t0;
		if (kind != H_POLL) {
			BENCH_CHECK(ctx_cause(t.ctx, NULL) == GOPOLL_HANGUP);
			ctx_cancel_release(t.ctx);
		}
		close(sv);
	}
	if (kind != H_NONE) {
		int stop = -1;
		BENCH_OK(chan_send(t.start, &stop));
		bench_join(th);
	}
	qsort(lat, (size_t)n, sizeof *lat, cmp_i64);
	int64_t med = lat[n / 2], p99 = lat[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1];
	fprintf(stderr, "%s: trials=%ld median_ns=%lld p99_ns=%lld min_ns=%lld max_ns=%lld\n", name,
		n, (long long)med, (long long)p99, (long long)lat[0], (long long)lat[n - 1]);
	free(lat);
	chan_unref(t.start);
	chan_unref(t.ready);
	chan_unref(t.woke);
	return med * n;
}

static int64_t hangup_latency(long *n)
{
	return latency_case("hangup_latency", H_CTX, *n);
}

static int64_t hangup_done_latency(long *n)
{
	return latency_case("hangup_done_latency", H_NONE, *n);
}

static int64_t read_eof_latency(long *n)
{
	return latency_case("read_eof_latency", H_POLL, *n);
}

static int64_t hangup_ctx_cycle(long *n)
{
	int sv[2];
	BENCH_CHECK(tp_pair(sv));
	/* One context first, so that the poller thread is running throughout. */
	ctx_t *keep = gopoll_hangup_ctx(ctx_background(), sv[1]);
	BENCH_CHECK(keep);
	int64_t t0 = bench_now_ns();
	for (long i = 0; i < *n; i++) {
		ctx_t *c = gopoll_hangup_ctx(ctx_background(), sv[0]);
		BENCH_CHECK(c);
		ctx_cancel_release(c);
	}
	int64_t t1 = bench_now_ns();
	ctx_cancel_release(keep);
	close(sv[0]);
	close(sv[1]);
	return t1 - t0;
}

int main(int argc, char **argv)
{
	static const bench_case_t cases[] = {
		{"hangup_latency", 1000, hangup_latency},
		{"hangup_done_latency", 1000, hangup_done_latency},
		{"read_eof_latency", 1000, read_eof_latency},
		{"hangup_ctx_cycle", 200000, hangup_ctx_cycle},
	};
	return bench_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}

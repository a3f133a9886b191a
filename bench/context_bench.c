/*
 * bench/context_bench.c - context benchmarks (issue "context and timer channels").
 * Go twin: bench/go/context_bench.go (same cases, same logic, same n).
 * Protocol and harness: bench/bench.h.  What each case means: bench/README.md.
 *
 * Modelled on Go's src/context/benchmark_test.go (WithTimeout, CancelTree,
 * CheckCanceled, DeepValue).  Every case runs on one thread: they measure the
 * cost of the context operations themselves, not contention.  Go frees with
 * its garbage collector; the C twin frees explicitly (ctx_cancel_release),
 * inside the timed loop, so both pay for their memory management.
 */
#include "bench.h"

#include <gochan/chan.h>
#include <gochan/context.h>
#include <gochan/time.h>
#include <stdbool.h>

/* ---- withcancel_cancel: WithCancel(Background) + cancel, per op ---------- */
/* Background is never cancelled, so the child links into no parent (Go:
 * propagateCancel returns at once).  Done is never asked for, so neither
 * side makes a channel: the cancel stores the shared closed one. */
static int64_t withcancel_cancel(long *n)
{
	ctx_t *bg = ctx_background();
	int64_t t0 = bench_now_ns();
	for (long i = 0; i < *n; i++) {
		ctx_t *c = ctx_with_cancel(bg);
		BENCH_CHECK(c);
		ctx_cancel_release(c);
	}
	return bench_now_ns() - t0;
}

/* ---- withcancel_nested_cancel: WithCancel(cancelable parent) + cancel ---- */
/* The propagation path: each child is linked into a live cancelable parent
 * (Go: its children map) and unlinked again by its cancel. */
static int64_t withcancel_nested_cancel(long *n)
{
	ctx_t *parent = ctx_with_cancel(ctx_background());
	BENCH_CHECK(parent);
	int64_t t0 = bench_now_ns();
	for (long i = 0; i < *n; i++) {
		ctx_t *c = ctx_with_cancel(parent);
		BENCH_CHECK(c);
		ctx_cancel_release(c);
	}
	int64_t t1 = bench_now_ns();
	BENCH_CHECK(ctx_err(parent) == 0);
	ctx_cancel_release(parent);
	return t1 - t0;
}

/* ---- withtimeout_cancel: WithTimeout(Background, 1 h) + cancel, per op --- */
/* A timer heap insert (arming the deadline timer) and a removal (the cancel
 * stops it) per op, plus the context itself. */
static int64_t withtimeout_cancel(long *n)
{
	ctx_t *bg = ctx_background();
	int64_t t0 = bench_now_ns();
	for (long i = 0; i < *n; i++) {
		ctx_t *c = ctx_with_timeout(bg, GOTIME_HOUR);
		BENCH_CHECK(c);
		ctx_cancel_release(c);
	}
	return bench_now_ns() - t0;
}

/* ---- value_depth10: Value through 10 WithValue contexts ----------------- */
/* The key looked up is the one of the first WithValue (next to Background),
 * so the lookup walks the whole chain of 10 value contexts: the worst hit
 * (Go's DeepValue benchmarks look up a missing key: one step further). */
#define VALUE_DEPTH 10

static int64_t value_depth10(long *n)
{
	static int64_t keys[VALUE_DEPTH], vals[VALUE_DEPTH];
	ctx_t *chain[VALUE_DEPTH];
	ctx_t *c = ctx_background();
	for (int d = 0; d < VALUE_DEPTH; d++) {
		chain[d] = c = ctx_with_value(c, &keys[d], &vals[d]);
		BENCH_CHECK(c);
	}
	const void *key = &keys[0];
	void *want = &vals[0];
	long hits = 0;
	int64_t t0 = bench_now_ns();
	for (long i = 0; i < *n; i++)
		hits += ctx_value(c, key) == want;
	int64_t t1 = bench_now_ns();
	BENCH_CHECK(hits == *n);
	for (int d = VALUE_DEPTH - 1; d >= 0; d--)
		ctx_release(chain[d]);
	return t1 - t0;
}

/* ---- err_uncancelled: Err() of a live WithCancel context ---------------- */
/* Go's BenchmarkCheckCanceled/Err shape, on a context that is not done. */
static int64_t err_uncancelled(long *n)
{
	ctx_t *c = ctx_with_cancel(ctx_background());
	BENCH_CHECK(c);
	long errs = 0;
	int64_t t0 = bench_now_ns();
	for (long i = 0; i < *n; i++)
		errs += ctx_err(c) != 0;
	int64_t t1 = bench_now_ns();
	BENCH_CHECK(errs == 0);
	ctx_cancel_release(c);
	return t1 - t0;
}

/* ---- cancel_fanout_1000: cancel a parent of 1,000 WithCancel children ---- */
/*
 * One op: a WithCancel parent (of Background) with FANOUT WithCancel
 * children, each of whose Done channel has been asked for (as if someone
 * were about to wait on it, so every cancel closes a real channel), is
 * cancelled.  Only the cancel of the parent is timed, op by op: building the
 * tree, checking that every child's Done is closed and freeing it all happen
 * outside the clock.  (Two clock reads per op, ~tens of ns, against a
 * fan-out of ~tens of us.)
 */
#define FANOUT 1000

static int64_t cancel_fanout_1000(long *n)
{
	static ctx_t *kids[FANOUT];
	static chan_t *done[FANOUT];
	int64_t total = 0;
	for (long i = 0; i < *n; i++) {
		ctx_t *parent = ctx_with_cancel(ctx_background());
		BENCH_CHECK(parent);
		for (int k = 0; k < FANOUT; k++) {
			kids[k] = ctx_with_cancel(parent);
			BENCH_CHECK(kids[k]);
			done[k] = ctx_done(kids[k]);
			BENCH_CHECK(done[k]);
		}
		int64_t t0 = bench_now_ns();
		BENCH_OK(ctx_cancel(parent));
		total += bench_now_ns() - t0;
		for (int k = 0; k < FANOUT; k++) {
			/* Done closed: a receive does not block and reports !ok. */
			bool ok = true;
			BENCH_OK(chan_try_recv(done[k], NULL, &ok));
			BENCH_CHECK(!ok);
			BENCH_CHECK(ctx_err(kids[k]) == CTX_CANCELED);
			ctx_cancel_release(kids[k]);
		}
		ctx_cancel_release(parent);
	}
	return total;
}

static const bench_case_t cases[] = {
	{"withcancel_cancel", 2000000, withcancel_cancel},
	{"withcancel_nested_cancel", 2000000, withcancel_nested_cancel},
	{"withtimeout_cancel", 1000000, withtimeout_cancel},
	{"value_depth10", 20000000, value_depth10},
	{"err_uncancelled", 50000000, err_uncancelled},
	{"cancel_fanout_1000", 1000, cancel_fanout_1000},
};

int main(int argc, char **argv)
{
	return bench_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}

/*
 * bench/diag_bench.c - what the diagnostics registry costs a parked
 * operation (issue 8: at most 2% on the ping-pong and producer/consumer
 * benchmarks).  C only: Go's runtime always records a blocked goroutine's
 * wait state, so there is no Go twin to compare with.
 *
 *   park_record      one gowait__block_begin + gowait__block_end pair, as
 *                    gowait__park_wait does around every park (registered
 *                    thread, no dumper, backtrace mode off)
 *   park_record_bt   the same in the opt-in backtrace mode
 *   clock_read       one chan_now(), for scale: every park reads the clock
 *                    at least once anyway
 *
 * The A/B of the whole park path (interleaved, chan_bench before and after
 * the registry) is bench/ab.sh; these cases isolate the added work, which
 * the scheduler noise of a loaded 2-CPU machine hides in the A/B.
 */
#include "bench.h"

#include <gochan/chan.h>
#include <gochan/diag.h>

#include "wait/record.h"

static int64_t park_record_n(long n, bool bt)
{
	chan_t *c = chan_new(8, 0);
	struct gowait__site site = {GOWAIT_OP_RECV, c, NULL, __builtin_return_address(0)};

	BENCH_CHECK(c);
	godiag_set_backtrace(bt);
	gowait__block_end(gowait__block_begin(&site, chan_now(), NULL)); /* registers */
	int64_t t0 = bench_now_ns();
	for (long i = 0; i < n; i++) {
		struct gowait__rec *r = gowait__block_begin(&site, t0, NULL);
		gowait__block_end(r);
	}
	int64_t t1 = bench_now_ns();
	godiag_set_backtrace(false);
	BENCH_OK(chan_unref(c));
	return t1 - t0;
}

static int64_t park_record(long *n)
{
	return park_record_n(*n, false);
}

static int64_t park_record_bt(long *n)
{
	return park_record_n(*n, true);
}

static int64_t clock_read(long *n)
{
	int64_t sum = 0, t0 = bench_now_ns();
	for (long i = 0; i < *n; i++)
		sum += chan_now();
	int64_t t1 = bench_now_ns();
	BENCH_CHECK(sum != 0);
	return t1 - t0;
}

static const bench_case_t cases[] = {
	{"park_record", 20000000, park_record},
	{"park_record_bt", 200000, park_record_bt},
	{"clock_read", 20000000, clock_read},
};

int main(int argc, char **argv)
{
	return bench_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}

/*
 * tests/test_fuzz_regress.c - unit tests for the bugs the fuzz harnesses
 * (fuzz/fuzz_*.c) found.  Each test names the regression input that first
 * showed the bug (fuzz/regressions/<harness>/<name>) and states the rule it
 * checks; a test stays here after the fix so the bug cannot come back.
 *
 * Found so far:
 *   - ctx_timeout_negative_deadline (context/: ctx_with_timeout clamped a
 *     negative timeout to "now" instead of now + timeout; fixed in 8862187).
 *   - bubble_switch_inside_ctx_cancel (chan/: a bubble switch point inside
 *     the library's own close of a context's done channel, under the
 *     context's mutex; found by fuzz/fuzz_bubble.c).
 */
#include "tests/leakcheck.h"
#include <criterion/criterion.h>
#include <errno.h>
#include <gochan/bubble.h>
#include <gochan/chan.h>
#include <gochan/context.h>
#include <gochan/fiber.h>
#include <gochan/select.h>
#include <stdint.h>

TU_LEAK_CHECKED_SUITE(fuzz_regress);

/*
 * fuzz/regressions/context/timeout-negative-deadline (fixed in 8862187).
 * Go: WithTimeout(parent, d) is WithDeadline(parent, time.Now().Add(d)), so
 * for d < 0 Deadline() reports a time d before the call; gochan/context.h
 * says the same (ctx_with_deadline(parent, chan_now() + timeout_ns),
 * saturating).  context.c's ctx_deadline_after() returned chan_now() for any
 * timeout_ns <= 0, so the deadline read as "now", 1 ms later than it should.
 * (The context is done at once either way; only the reported deadline and
 * comparisons with other deadlines are off.)
 */
Test(fuzz_regress, ctx_timeout_negative_deadline, .timeout = 10)
{
	for (int i = 0; i < 100; i++) {
		int64_t off = -1000000 - (int64_t)i * 1000; /* 1 ms and more in the past */
		int64_t before = chan_now();
		ctx_t *c = ctx_with_timeout(ctx_background(), off);
		int64_t after = chan_now();
		cr_assert_not_null(c);
		int64_t d = 0;
		cr_assert(ctx_deadline(c, &d));
		cr_assert_eq(ctx_err(c), CTX_DEADLINE_EXCEEDED);
		cr_assert(d >= before + off && d <= after + off,
			  "ctx_with_timeout(%lld): deadline %lld ns from the call, want %lld",
			  (long long)off, (long long)(d - before), (long long)off);
		ctx_cancel_release(c);
	}
}

/* The same rule through the _cause form and under a cancelable parent. */
Test(fuzz_regress, ctx_timeout_cause_negative_deadline, .timeout = 10)
{
	ctx_t *p = ctx_with_cancel(ctx_background());
	cr_assert_not_null(p);
	static int data;
	int64_t before = chan_now();
	ctx_t *c = ctx_with_timeout_cause(p, -5000000, 77, &data);
	int64_t after = chan_now();
	cr_assert_not_null(c);
	int64_t d = 0;
	cr_assert(ctx_deadline(c, &d));
	void *gd = NULL;
	cr_assert_eq(ctx_cause(c, &gd), 77);
	cr_assert_eq(gd, &data);
	cr_assert(d >= before - 5000000 && d <= after - 5000000,
		  "deadline %lld ns from the call, want -5 ms", (long long)(d - before));
	ctx_cancel_release(c);
	ctx_cancel_release(p);
}

/*
 * fuzz/regressions/bubble/zombie-scan-switch-inside-ctx-cancel-hang.
 * A switch point (gochan/bubble.h, switch_points) must never come while the
 * library holds a lock: a fiber switched out there leaves the bubble's one
 * worker to block on that lock when the next fiber takes it.  ctx_cancel
 * closes the context's done channel under the context's mutex (ctx_mark),
 * and that close (chan__close_owned) was a switch point: a fiber blocked in
 * ctx_send (it reads ctx_err, under the same mutex) then hung the bubble.
 * Every seed must now end the run (a hang is the test's timeout).
 */
struct cancel_vs_send {
	ctx_t *ctx;
	chan_t *ch;
	int send_err;
};

static void cvs_cancel(void *arg)
{
	struct cancel_vs_send *r = arg;

	ctx_cancel(r->ctx);
}

static void cvs_send(void *arg)
{
	struct cancel_vs_send *r = arg;
	int v = 1;

	r->send_err = ctx_send(r->ctx, r->ch, &v); /* nobody receives: ECANCELED */
}

static void cancel_vs_send(void *arg)
{
	gofiber_group_t *g = gofiber_group_new();

	cr_assert(g);
	cr_assert_eq(gofiber_go(g, cvs_send, arg), 0);
	cr_assert_eq(gofiber_go(g, cvs_cancel, arg), 0);
	cr_assert_eq(gofiber_go(g, cvs_send, arg), 0);
	cr_assert_eq(gofiber_group_wait(g), 0);
	gofiber_group_free(g);
}

Test(fuzz_regress, bubble_switch_inside_ctx_cancel, .timeout = 30)
{
	for (uint64_t seed = 1; seed <= 300; seed++) {
		struct cancel_vs_send r = {.ctx = ctx_with_cancel(ctx_background()),
					   .ch = chan_new(sizeof(int), 0)};
		gobubble_opts o = {.seed = seed, .ignore_env = true, .switch_points = true};
		gobubble_report rep;

		cr_assert(r.ctx && r.ch);
		cr_assert_not_null(ctx_done(r.ctx)); /* the channel the cancel closes */
		cr_assert_eq(gobubble_run(&o, cancel_vs_send, &r, &rep), 0);
		cr_assert_eq(rep.verdict, GOBUBBLE_OK, "seed %llu", (unsigned long long)seed);
		cr_assert_eq(r.send_err, ECANCELED, "seed %llu", (unsigned long long)seed);
		ctx_release(r.ctx);
		chan_unref(r.ch);
	}
}

/*
 * tests/test_chan_owned.c - misuse that Go's types forbid and C's do not:
 *
 *  - channels the library owns (ctx_done, the timer and ticker channels,
 *    gotime_after/gotime_tick, gopoll_chan) refuse a user's send, close and
 *    an unref that would drop the library's own reference with EPERM, on
 *    every path (plain, try, until, select with one case and with several,
 *    CHAN_SELECT's inline default path, ctx_send), and still work for the
 *    library afterwards (issue 20: chan_unref(ctx_done(c)) used to free the
 *    Done channel, and ctx_cancel then closed whatever chan_new() put at
 *    that address);
 *  - CHAN_RECV / CHAN_SEND / CHAN_RANGE check sizeof *ptr against the
 *    channel's element size (EINVAL) before anything is copied; void and
 *    char pointers, NULL and zero-size channels are not checked.
 *
 * The asan step runs this file under ASan + UBSan: any write past an object
 * or use after free here is a report, not a silent pass.
 *
 * The pragmas make this file a compile-time check of the header macros too:
 * nested CHAN_RANGE under -Wshadow, CHAN_SEND of a const value under
 * -Wcast-qual.
 */
#pragma GCC diagnostic error "-Wshadow"
#pragma GCC diagnostic error "-Wcast-qual"

#include <errno.h>
#include <gochan.h>
#include <gochan/diag.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/leakcheck.h"

TU_LEAK_CHECKED_SUITE(chan_owned);

/* Every user path that would send on, close or drop the library's reference
 * of @c: EPERM each time, and nothing changes (the caller checks that the
 * library can still use @c). */
static void assert_owned_refuses(chan_t *c)
{
	int64_t v = 42;
	const int64_t cv = 7;
	bool ok = true;
	ctx_t *bg = ctx_background();

	cr_assert_not_null(c);
	size_t es = chan_elem_size(c);
	const void *val = es ? (const void *)&v : NULL;

	cr_assert_eq(chan_send(c, val), EPERM);
	cr_assert_eq(chan_try_send(c, val), EPERM);
	cr_assert_eq(chan_send_until(c, val, chan_deadline_in(1000000)), EPERM);
	cr_assert_eq(chan_send_until(c, val, CHAN_NOWAIT), EPERM);
	cr_assert_eq(chan_close(c), EPERM);
	cr_assert_eq(chan_unref(c), EPERM, "the library's own reference was dropped");
	cr_assert_eq(chan_unref(c), EPERM);

	/* select: one case (select_one), one case with CHAN_NOWAIT (the
	 * inline path, chan_select_try_send), several cases (select_multi). */
	chan_t *other = chan_new(sizeof(int64_t), 1);
	cr_assert_not_null(other);
	cr_assert_eq(CHAN_SELECT(CHAN_FOREVER, CHAN_SEND(c, es ? &cv : NULL, &ok)), -EPERM);
	cr_assert_eq(CHAN_SELECT(CHAN_NOWAIT, CHAN_SEND(c, es ? &cv : NULL, &ok)), -EPERM);
	cr_assert_eq(CHAN_SELECT(chan_deadline_in(1000000), CHAN_RECV(other, &v, NULL),
				 CHAN_SEND(c, es ? &cv : NULL, &ok)),
		     -EPERM);
	chan_case_t plain = {.chan = c, .elem = es ? &v : NULL, .ok = NULL, .op = CHAN_OP_SEND};
	cr_assert_eq(chan_select(&plain, 1, CHAN_NOWAIT), -EPERM);
	cr_assert_eq(chan_select_try_send(c, es ? &v : NULL, 0), EPERM);
	cr_assert_eq(chan_select_try_send(c, es ? &v : NULL, es), EPERM);
	cr_assert_eq(ctx_send(bg, c, val), EPERM);
	cr_assert(ok, "a refused case must not report an outcome");
	cr_assert_eq(chan_len(other), 0);

	/* A user's own references come and go as on any channel. */
	cr_assert_eq(chan_ref(c), c);
	cr_assert_eq(chan_ref(c), c);
	cr_assert_eq(chan_unref(c), 0);
	cr_assert_eq(chan_unref(c), 0);
	cr_assert_eq(chan_unref(c), EPERM);
	cr_assert_eq(chan_unref(other), 0);
}

/* The use after free: after the refused unref, a fresh channel is
 * not closed by the cancel, and Done still is the context's own. */
Test(chan_owned, ctx_done_refuses_user_close_send_unref, .timeout = 20)
{
	ctx_t *ctx = ctx_with_cancel(ctx_background());
	cr_assert_not_null(ctx);
	chan_t *done = ctx_done(ctx);

	assert_owned_refuses(done);
	chan_t *fresh = chan_new(4096, 0);
	cr_assert_not_null(fresh);
	cr_assert_eq(ctx_done(ctx), done);
	cr_assert_eq(ctx_cancel(ctx), 0);
	cr_assert_not(chan_is_closed(fresh), "cancel closed an unrelated channel");
	bool ok = true;
	cr_assert_eq(chan_recv(done, NULL, &ok), 0);
	cr_assert_not(ok);
	/* Closed: a user close is still EPERM, not EALREADY. */
	cr_assert_eq(chan_close(done), EPERM);
	cr_assert_eq(chan_unref(fresh), 0);
	ctx_release(ctx);
}

/* A context cancelled before anyone asked for Done shares the library's
 * one pre-closed channel: a user unref of it would break every such
 * context in the process. */
Test(chan_owned, shared_closed_done_refuses, .timeout = 20)
{
	ctx_t *a = ctx_with_cancel(ctx_background());
	ctx_t *b = ctx_with_cancel(ctx_background());
	cr_assert_eq(ctx_cancel(a), 0);
	cr_assert_eq(ctx_cancel(b), 0);
	chan_t *done = ctx_done(a);
	cr_assert_eq(ctx_done(b), done);
	assert_owned_refuses(done);
	bool ok = true;
	cr_assert_eq(chan_recv(ctx_done(b), NULL, &ok), 0);
	cr_assert_not(ok);
	ctx_release(a);
	ctx_release(b);
}

/* A Timer's channel: refused while pending, and the timer still fires with
 * its own value (no injected one); a user reference outlives the timer. */
Test(chan_owned, timer_chan_refuses_and_still_fires, .timeout = 20)
{
	gotime_timer_t *t = gotime_timer_new(GOTIME_HOUR);
	cr_assert_not_null(t);
	chan_t *c = gotime_timer_chan(t);

	assert_owned_refuses(c);
	int64_t before = chan_now(), when = 0;
	cr_assert_eq(gotime_timer_reset(t, 0), true);
	bool ok = false;
	cr_assert_eq(chan_recv(c, &when, &ok), 0);
	cr_assert(ok);
	cr_assert_geq(when, before, "received an injected value, not the timer's");
	cr_assert_eq(chan_try_recv(c, &when, &ok), EAGAIN, "a second value was injected");

	/* chan_ref keeps it past gotime_timer_free; then the user's unref is
	 * the last one and frees it (ASan would report a leak or a double free). */
	cr_assert_eq(chan_ref(c), c);
	gotime_timer_free(t);
	cr_assert_eq(chan_close(c), EPERM);
	cr_assert_eq(chan_try_recv(c, &when, &ok), EAGAIN);
	cr_assert_eq(chan_unref(c), 0);
}

Test(chan_owned, after_and_tick_channels_refuse_send_close, .timeout = 20)
{
	chan_t *a = gotime_after(0); /* fires at once */
	cr_assert_not_null(a);
	int64_t v = 1, when = 0;
	cr_assert_eq(chan_try_send(a, &v), EPERM);
	cr_assert_eq(chan_close(a), EPERM);
	cr_assert_eq(CHAN_SELECT(CHAN_NOWAIT, CHAN_SEND(a, &v, NULL)), -EPERM);
	bool ok = false;
	cr_assert_eq(chan_recv(a, &when, &ok), 0);
	cr_assert(ok);
	cr_assert_neq(when, v);
	cr_assert_eq(chan_unref(a), 0, "the caller's own reference of an After channel");

	chan_t *tick = gotime_tick(GOTIME_HOUR);
	cr_assert_not_null(tick);
	cr_assert_eq(chan_try_send(tick, &v), EPERM);
	cr_assert_eq(chan_close(tick), EPERM);
	cr_assert_eq(chan_unref(tick), 0);
	gotime_shutdown(); /* the orphaned Tick would end only at its tick, in an hour */

	gotime_ticker_t *tk = gotime_ticker_new(GOTIME_HOUR);
	cr_assert_not_null(tk);
	assert_owned_refuses(gotime_ticker_chan(tk));
	gotime_ticker_free(tk);
}

Test(chan_owned, poll_chan_refuses_and_still_fires, .timeout = 20)
{
	int sv[2];
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	gopoll_t *w = gopoll_watch(sv[0], GOPOLL_READ);
	cr_assert_not_null(w);

	assert_owned_refuses(gopoll_chan(w));
	cr_assert_eq(write(sv[1], "x", 1), 1);
	bool ok = true;
	cr_assert_eq(chan_recv(gopoll_chan(w), NULL, &ok), 0);
	cr_assert_not(ok, "the poller closes the watch's channel");
	cr_assert(gopoll_revents(w) & GOPOLL_READ);
	cr_assert_eq(gopoll_free(w), 0);
	close(sv[0]);
	close(sv[1]);
	gopoll_shutdown();
}

/* Channels a user makes are not affected. */
Test(chan_owned, user_channels_unchanged, .timeout = 10)
{
	chan_t *c = chan_new(sizeof(int), 1);
	int v = 3;
	cr_assert_eq(chan_send(c, &v), 0);
	cr_assert_eq(chan_close(c), 0);
	cr_assert_eq(chan_close(c), EALREADY);
	cr_assert_eq(chan_unref(c), 0);
	cr_assert_str_neq(chan_strerror(EPERM), "unknown error");
}

/* ---- element sizes --------------------------------------------------------- */

/* The report: CHAN_RANGE over an int64 channel into an int32_t
 * overwrote the next field.  Now the loop does not run. */
Test(chan_owned, range_wrong_size_is_einval, .timeout = 10)
{
	chan_t *c = chan_new(sizeof(int64_t), 4);
	int64_t v = -1;
	cr_assert_eq(chan_send(c, &v), 0);
	cr_assert_eq(chan_close(c), 0);

	struct {
		int32_t small;
		int32_t next;
	} s = {0, 12345};
	int iterations = 0;
	errno = 0;
	CHAN_RANGE(c, &s.small) iterations++;
	cr_assert_eq(iterations, 0);
	cr_assert_eq(errno, EINVAL);
	cr_assert_eq(s.next, 12345, "the next field was overwritten");
	cr_assert_eq(chan_len(c), 1, "a value was taken");

	/* The right size drains it, and leaves errno alone at the close. */
	int64_t got = 0, seen = 0;
	errno = 0;
	CHAN_RANGE(c, &got) {
		iterations++;
		seen = got;
	}
	cr_assert_eq(iterations, 1);
	cr_assert_eq(seen, -1);
	cr_assert_eq(errno, 0);
	cr_assert_eq(chan_unref(c), 0);
}

/* A NULL channel ends CHAN_RANGE with errno EINVAL (it used to end silently). */
Test(chan_owned, range_null_channel_sets_errno, .timeout = 10)
{
	int v, n = 0;
	chan_t *none = NULL;
	errno = 0;
	CHAN_RANGE(none, &v) n++;
	cr_assert_eq(n, 0);
	cr_assert_eq(errno, EINVAL);
}

/* Nested CHAN_RANGE (compiled here with -Wshadow as an error). */
Test(chan_owned, nested_range, .timeout = 10)
{
	chan_t *outer = chan_new(sizeof(int), 3), *inner = chan_new(sizeof(int), 3);
	for (int i = 1; i <= 3; i++)
		cr_assert_eq(chan_send(outer, &i), 0);
	cr_assert_eq(chan_close(outer), 0);
	int sum = 0, x, y;
	CHAN_RANGE(outer, &x) {
		cr_assert_eq(chan_send(inner, &x), 0);
		if (x == 3) {
			cr_assert_eq(chan_close(inner), 0);
			CHAN_RANGE(inner, &y) sum += y;
		}
	}
	cr_assert_eq(sum, 6);
	cr_assert_eq(chan_unref(outer), 0);
	cr_assert_eq(chan_unref(inner), 0);
}

Test(chan_owned, select_wrong_size_is_einval, .timeout = 10)
{
	chan_t *c = chan_new(sizeof(int64_t), 2);
	chan_t *d = chan_new(sizeof(int64_t), 2);
	const int64_t big = 0x0102030405060708;
	int32_t small[2] = {0, 777};
	int16_t tiny = 9;

	cr_assert_eq(chan_send(c, &big), 0);
	/* Receive into a too-small object: every select path. */
	cr_assert_eq(CHAN_SELECT(CHAN_NOWAIT, CHAN_RECV(c, &small[0], NULL)), -EINVAL);
	cr_assert_eq(chan_select_try_recv(c, &small[0], NULL, sizeof small[0]), EINVAL);
	cr_assert_eq(chan_select_try_recv(NULL, &small[0], NULL, 0), EINVAL);
	cr_assert_eq(CHAN_SELECT(CHAN_FOREVER, CHAN_RECV(c, &small[0], NULL)), -EINVAL);
	cr_assert_eq(CHAN_SELECT(CHAN_FOREVER, CHAN_RECV(d, NULL, NULL), CHAN_RECV(c, &small[0], NULL)),
		     -EINVAL);
	ctx_t *ctx = ctx_with_cancel(ctx_background());
	chan_case_t cs[1] = {CHAN_RECV(c, &small[0], NULL)};
	cr_assert_eq(ctx_select(ctx, cs, 1), -EINVAL);
	ctx_cancel_release(ctx);
	cr_assert_eq(small[1], 777, "a receive wrote past the object");
	cr_assert_eq(chan_len(c), 1, "a refused case received");

	/* Send from a too-small object: refused, nothing sent. */
	cr_assert_eq(CHAN_SELECT(CHAN_NOWAIT, CHAN_SEND(d, &tiny, NULL)), -EINVAL);
	cr_assert_eq(CHAN_SELECT(CHAN_FOREVER, CHAN_SEND(d, &tiny, NULL)), -EINVAL);
	cr_assert_eq(chan_len(d), 0);

	/* The right sizes, a const value (-Wcast-qual is an error here), and
	 * the unchecked pointers: void, char (a byte buffer), NULL. */
	int64_t got = 0;
	cr_assert_eq(CHAN_SELECT(CHAN_NOWAIT, CHAN_SEND(d, &big, NULL)), 0);
	cr_assert_eq(CHAN_SELECT(CHAN_NOWAIT, CHAN_RECV(c, &got, NULL)), 0);
	cr_assert_eq(got, big);
	unsigned char bytes[sizeof(int64_t)];
	cr_assert_eq(CHAN_SELECT(CHAN_FOREVER, CHAN_RECV(d, bytes, NULL)), 0);
	cr_assert_eq(memcmp(bytes, &big, sizeof bytes), 0);
	void *vp = &got;
	cr_assert_eq(CHAN_SELECT(CHAN_NOWAIT, CHAN_SEND(d, vp, NULL)), 0);
	cr_assert_eq(CHAN_SELECT(CHAN_NOWAIT, CHAN_RECV(d, NULL, NULL)), 0);
	cr_assert_eq(chan_unref(c), 0);
	cr_assert_eq(chan_unref(d), 0);
}

/* An element size above what a case records (16 MiB): a small object is
 * still a mismatch (the tag's bits must not alias the size's). */
Test(chan_owned, huge_elem_small_object_is_einval, .timeout = 10)
{
	chan_t *c = chan_new(((size_t)1 << 25) | 16, 0); /* unbuffered: no buffer */
	struct {
		char b[16];
	} small = {{0}};
	cr_assert_not_null(c);
	cr_assert_eq(CHAN_SELECT(CHAN_NOWAIT, CHAN_RECV(c, &small, NULL)), -EINVAL);
	cr_assert_eq(CHAN_SELECT(chan_deadline_in(1000), CHAN_RECV(c, &small, NULL)), -EINVAL);
	cr_assert_eq(chan_unref(c), 0);
}

/* Cases built by hand with the plain ops are not checked: their size field
 * may hold anything (it used to be padding). */
Test(chan_owned, hand_built_cases_unchecked, .timeout = 10)
{
	chan_t *c = chan_new(sizeof(int64_t), 1);
	int64_t v = 5, got = 0;
	chan_case_t cs;
	memset(&cs, 0xA5, sizeof cs);
	cs.chan = c;
	cs.elem = &v;
	cs.ok = NULL;
	cs.op = CHAN_OP_SEND;
	cr_assert_eq(chan_select(&cs, 1, CHAN_NOWAIT), 0);
	cs.elem = &got;
	cs.op = CHAN_OP_RECV;
	cr_assert_eq(chan_select(&cs, 1, CHAN_NOWAIT), 0);
	cr_assert_eq(got, 5);
	cs.op = (enum chan_op)3;
	cr_assert_eq(chan_select(&cs, 1, CHAN_NOWAIT), -EINVAL);
	cr_assert_eq(chan_select(&cs, 1, CHAN_FOREVER), -EINVAL);
	cr_assert_eq(chan_unref(c), 0);
}

/* A channel of struct{} copies nothing: any pointer is fine. */
Test(chan_owned, zero_size_channel_any_pointer, .timeout = 10)
{
	chan_t *c = chan_new(0, 1);
	int64_t token = 1;
	cr_assert_eq(CHAN_SELECT(CHAN_NOWAIT, CHAN_SEND(c, &token, NULL)), 0);
	cr_assert_eq(CHAN_SELECT(CHAN_NOWAIT, CHAN_RECV(c, &token, NULL)), 0);
	cr_assert_eq(chan_unref(c), 0);
}

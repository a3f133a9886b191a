/*
 * tests/test_select_basic.c - every rule of include/gochan/select.h, one by
 * one: the index returned, default, deadlines, NULL (nil) cases, zero cases,
 * EINVAL, closed channels in send and receive cases, selects wider than
 * CHAN_SELECT_STACK_CASES, the CHAN_SELECT/CHAN_SEND/CHAN_RECV macros inside
 * loops, and CHAN_RANGE.
 *
 * "Blocks" is checked with a short deadline (SHORT_NS) that must run out with
 * CHAN_TIMEOUT.  Threads report through their argument structs and are
 * joined before anything is asserted; no sleep is used to synchronise.
 */
#include <criterion/criterion.h>
#include <gochan/chan.h>
#include <gochan/select.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "test_chan_util.h"
#include "tests/leakcheck.h"
#include "tests/test_bubble_util.h"

TB_SUITE(select_basic);

/* ---- the index returned ------------------------------------------------ */

Test(select_basic, recv_index_is_the_ready_case, .timeout = 10)
{
	for (int pos = 0; pos < 4; pos++) {
		chan_t *ready = mk(sizeof(int), 1);
		chan_t *idle[3] = {mk(sizeof(int), 0), mk(sizeof(int), 1), mk(sizeof(int), 0)};
		int v = 1000 + pos;
		cr_assert_eq(chan_send(ready, &v), 0);

		int got[4] = {-1, -1, -1, -1};
		bool ok[4] = {false, false, false, false};
		chan_case_t cs[4];
		for (int i = 0, k = 0; i < 4; i++)
			cs[i] = CHAN_RECV(i == pos ? ready : idle[k++], &got[i], &ok[i]);
		int r = chan_select(cs, 4, CHAN_NOWAIT);
		cr_assert_eq(r, pos, "select returned %d, want %d", r, pos);
		cr_assert_eq(got[pos], 1000 + pos);
		cr_assert(ok[pos]);
		for (int i = 0; i < 4; i++)
			if (i != pos) {
				cr_assert_eq(got[i], -1, "case %d that did not fire wrote its elem",
					     i);
				cr_assert(!ok[i], "case %d that did not fire wrote its ok", i);
			}
		cr_assert_eq(chan_len(ready), 0);
		unref(ready);
		for (int k = 0; k < 3; k++)
			unref(idle[k]);
	}
}

Test(select_basic, send_index_is_the_ready_case, .timeout = 10)
{
	for (int pos = 0; pos < 3; pos++) {
		chan_t *room = mk(sizeof(int), 1);
		chan_t *full = mk(sizeof(int), 1);
		chan_t *unbuf = mk(sizeof(int), 0);
		int old = 7;
		cr_assert_eq(chan_send(full, &old), 0);

		int vals[3] = {10, 11, 12};
		bool ok[3] = {false, false, false};
		chan_t *order[3];
		for (int i = 0, k = 0; i < 3; i++)
			order[i] = i == pos ? room : (k++ == 0 ? full : unbuf);
		chan_case_t cs[3];
		for (int i = 0; i < 3; i++)
			cs[i] = CHAN_SEND(order[i], &vals[i], &ok[i]);
		int r = chan_select(cs, 3, CHAN_NOWAIT);
		cr_assert_eq(r, pos);
		cr_assert(ok[pos]);
		cr_assert_eq(chan_len(room), 1);
		cr_assert_eq(chan_len(full), 1);
		int v = 0;
		bool vok = false;
		cr_assert_eq(chan_try_recv(room, &v, &vok), 0);
		cr_assert(vok);
		cr_assert_eq(v, 10 + pos);
		cr_assert_eq(chan_try_recv(full, &v, &vok), 0);
		cr_assert_eq(v, 7, "the full channel's buffer changed");
		cr_assert_eq(chan_try_recv(unbuf, &v, &vok), EAGAIN);
		unref(room);
		unref(full);
		unref(unbuf);
	}
}

/* ---- default ----------------------------------------------------------- */

Test(select_basic, nowait_nothing_ready_is_default, .timeout = 10)
{
	chan_t *a = mk(sizeof(int), 0), *b = mk(sizeof(int), 1), *full = mk(sizeof(int), 1);
	int one = 1;
	cr_assert_eq(chan_send(full, &one), 0);
	for (int i = 0; i < 1000; i++) {
		int got = -1, sv = 5;
		bool ok = true;
		chan_case_t cs[] = {CHAN_RECV(a, &got, &ok), CHAN_SEND(a, &sv, &ok),
				    CHAN_RECV(b, &got, &ok), CHAN_SEND(full, &sv, &ok)};
		int r = chan_select(cs, 4, CHAN_NOWAIT);
		cr_assert_eq(r, CHAN_DEFAULT, "iteration %d: select returned %d", i, r);
		cr_assert_eq(got, -1);
		cr_assert(ok, "ok written although no case fired");
	}
	/* Nothing was left behind: the channels are as before. */
	cr_assert_eq(chan_len(b), 0);
	cr_assert_eq(chan_len(full), 1);
	cr_assert_eq(chan_try_send(a, &one), EAGAIN);
	unref(a);
	unref(b);
	unref(full);
}

Test(select_basic, nowait_with_ready_case_never_default, .timeout = 10)
{
	chan_t *idle = mk(sizeof(int), 0), *buf = mk(sizeof(int), 1);
	for (int i = 0; i < 2000; i++) {
		int v = i, got = -1;
		cr_assert_eq(chan_send(buf, &v), 0);
		chan_case_t cs[] = {CHAN_RECV(idle, &got, NULL), CHAN_RECV(buf, &got, NULL)};
		cr_assert_eq(chan_select(cs, 2, CHAN_NOWAIT), 1);
		cr_assert_eq(got, i);
	}
	unref(idle);
	unref(buf);
}

/* ---- deadlines --------------------------------------------------------- */

TB_TEST(select_basic, deadline_expires, .timeout = 10)
{
	chan_t *a = mk(sizeof(int), 0), *b = mk(sizeof(int), 0);
	for (int i = 0; i < 5; i++) {
		int got = -1, sv = 3;
		int64_t start = chan_now();
		int64_t dl = start + SHORT_NS;
		chan_case_t cs[] = {CHAN_RECV(a, &got, NULL), CHAN_SEND(b, &sv, NULL)};
		int r = chan_select(cs, 2, dl);
		int64_t end = chan_now();
		cr_assert_eq(r, CHAN_TIMEOUT, "select returned %d", r);
		cr_assert_geq(end, dl, "returned %lld ns before the deadline",
			      (long long)(dl - end));
		cr_assert_lt(end - start, 2000 * MS, "overslept: %lld ns",
			     (long long)(end - start));
		TB_EXACT(end, dl);
		cr_assert_eq(got, -1);
	}
	/* The timed-out select left no waiter behind. */
	int v = 1;
	cr_assert_eq(chan_try_send(a, &v), EAGAIN);
	cr_assert_eq(chan_try_recv(b, &v, NULL), EAGAIN);
	unref(a);
	unref(b);
}

Test(select_basic, deadline_not_expired, .timeout = 20)
{
	for (int i = 0; i < 200; i++) {
		chan_t *a = mk(sizeof(int), 0), *idle = mk(sizeof(int), 0);
		struct op s = {.c = a, .value = 4242 + i};
		tu_go_t t = tu_spawn(op_send, &s);
		int got = -1;
		bool ok = false;
		int64_t start = chan_now();
		chan_case_t cs[] = {CHAN_RECV(idle, NULL, NULL), CHAN_RECV(a, &got, &ok)};
		int r = chan_select(cs, 2, start + LONG_NS);
		int64_t took = chan_now() - start;
		tu_join(t);
		cr_assert_eq(r, 1, "select returned %d", r);
		cr_assert(ok);
		cr_assert_eq(got, 4242 + i);
		cr_assert_eq(s.rc, 0);
		cr_assert_lt(took, LONG_NS / 2, "liveness: a ready case waited %lld ns",
			     (long long)took);
		unref(a);
		unref(idle);
	}
}

TB_TEST(select_basic, past_deadline_makes_one_attempt, .timeout = 10)
{
	chan_t *a = mk(sizeof(int), 1);
	int v = 9, got = 0;
	chan_case_t cs[] = {CHAN_RECV(a, &got, NULL)};
	/* Nothing ready and the deadline already passed: a timeout, at once. */
	int64_t start = chan_now();
	cr_assert_eq(chan_select(cs, 1, chan_deadline_in(0)), CHAN_TIMEOUT);
	cr_assert_eq(chan_select(cs, 1, chan_now() - 1000 * MS), CHAN_TIMEOUT);
	cr_assert_lt(chan_now() - start, 1000 * MS, "liveness: a passed deadline waited");
	/* A ready case still fires with a passed deadline. */
	cr_assert_eq(chan_send(a, &v), 0);
	cr_assert_eq(chan_select(cs, 1, chan_deadline_in(-5)), 0);
	cr_assert_eq(got, 9);
	unref(a);
}

Test(select_basic, negative_deadline_is_past, .timeout = 10)
{
	/* Any deadline before now, negative ones other than CHAN_FOREVER
	 * included, makes one attempt (gochan/chan.h "Deadlines"). */
	const int64_t negs[] = {-2, -1000, INT64_MIN};
	chan_t *a = mk(sizeof(int), 1), *b = mk(sizeof(int), 0);
	for (size_t i = 0; i < sizeof negs / sizeof negs[0]; i++) {
		int got = -1, v = (int)i;
		chan_case_t cs[] = {CHAN_RECV(a, &got, NULL), CHAN_RECV(b, &got, NULL)};
		cr_assert_eq(chan_select(cs, 2, negs[i]), CHAN_TIMEOUT, "deadline %lld",
			     (long long)negs[i]);
		cr_assert_eq(chan_select(cs, 1, negs[i]), CHAN_TIMEOUT, "one case, deadline %lld",
			     (long long)negs[i]);
		cr_assert_eq(chan_select(NULL, 0, negs[i]), CHAN_TIMEOUT, "no case, deadline %lld",
			     (long long)negs[i]);
		chan_case_t nils[] = {CHAN_RECV(NULL, NULL, NULL), CHAN_SEND(NULL, &v, NULL)};
		cr_assert_eq(chan_select(nils, 2, negs[i]), CHAN_TIMEOUT);
		cr_assert_eq(chan_send(a, &v), 0);
		cr_assert_eq(chan_select(cs, 2, negs[i]), 0);
		cr_assert_eq(got, (int)i);
	}
	unref(a);
	unref(b);
}

/* ---- NULL channels and zero cases ------------------------------------- */

TB_TEST(select_basic, null_channel_cases_never_fire, .timeout = 10)
{
	chan_t *buf = mk(sizeof(int), 4);
	int sv = 1;
	for (int i = 0; i < 1000; i++) {
		int v = i, got = -1, gotnil = -1;
		bool oknil = false;
		cr_assert_eq(chan_send(buf, &v), 0);
		chan_case_t cs[] = {CHAN_RECV(NULL, &gotnil, &oknil), CHAN_SEND(NULL, &sv, &oknil),
				    CHAN_RECV(buf, &got, NULL), CHAN_RECV(NULL, &gotnil, &oknil)};
		cr_assert_eq(chan_select(cs, 4, CHAN_NOWAIT), 2);
		cr_assert_eq(got, i);
		cr_assert_eq(gotnil, -1);
		cr_assert(!oknil);
	}
	/* Only NULL cases: default, or a timeout. */
	chan_case_t nils[] = {CHAN_RECV(NULL, NULL, NULL), CHAN_SEND(NULL, &sv, NULL)};
	cr_assert_eq(chan_select(nils, 2, CHAN_NOWAIT), CHAN_DEFAULT);
	int64_t dl = chan_now() + SHORT_NS;
	cr_assert_eq(chan_select(nils, 2, dl), CHAN_TIMEOUT);
	cr_assert_geq(chan_now(), dl);
	unref(buf);
}

Test(select_basic, null_case_never_fires_while_parked, .timeout = 20)
{
	/* A select parked on a NULL case and a real one is woken by the real one. */
	for (int i = 0; i < 200; i++) {
		chan_t *a = mk(sizeof(int), 0);
		int got = -1, gotnil = -1;
		chan_case_t cs[] = {CHAN_RECV(NULL, &gotnil, NULL), CHAN_RECV(a, &got, NULL)};
		struct selt sa = {.cs = cs, .n = 2, .deadline = CHAN_FOREVER};
		tu_go_t t = tu_spawn(sel_run, &sa);
		int v = i;
		cr_assert_eq(chan_send(a, &v), 0);
		tu_join(t);
		cr_assert_eq(sa.rc, 1);
		cr_assert_eq(got, i);
		cr_assert_eq(gotnil, -1);
		unref(a);
	}
}

TB_TEST(select_basic, zero_cases, .timeout = 10)
{
	chan_case_t dummy[1] = {CHAN_RECV(NULL, NULL, NULL)};
	cr_assert_eq(chan_select(NULL, 0, CHAN_NOWAIT), CHAN_DEFAULT);
	cr_assert_eq(chan_select(dummy, 0, CHAN_NOWAIT), CHAN_DEFAULT);
	int64_t dl = chan_now() + SHORT_NS;
	cr_assert_eq(chan_select(NULL, 0, dl), CHAN_TIMEOUT);
	cr_assert_geq(chan_now(), dl);
	dl = chan_now() + SHORT_NS;
	cr_assert_eq(chan_select(dummy, 0, dl), CHAN_TIMEOUT);
	cr_assert_geq(chan_now(), dl);
	cr_assert_eq(chan_select(NULL, 0, chan_deadline_in(0)), CHAN_TIMEOUT);
}

/* ---- bad input ---------------------------------------------------------- */

Test(select_basic, einval, .timeout = 10)
{
	chan_t *c = mk(sizeof(int), 1);
	int v = 1;
	cr_assert_eq(chan_select(NULL, 1, CHAN_NOWAIT), -EINVAL);
	cr_assert_eq(chan_select(NULL, 3, CHAN_FOREVER), -EINVAL);

	chan_case_t bad_op0 = {.chan = c, .elem = &v, .ok = NULL, .op = (enum chan_op)0};
	chan_case_t bad_op3 = {.chan = c, .elem = &v, .ok = NULL, .op = (enum chan_op)3};
	chan_case_t bad_op_big = {.chan = c, .elem = &v, .ok = NULL, .op = (enum chan_op)0x7fff};
	cr_assert_eq(chan_select(&bad_op0, 1, CHAN_NOWAIT), -EINVAL);
	cr_assert_eq(chan_select(&bad_op3, 1, CHAN_FOREVER), -EINVAL);
	cr_assert_eq(chan_select(&bad_op_big, 1, CHAN_FOREVER), -EINVAL);

	chan_case_t null_send = CHAN_SEND(c, NULL, NULL);
	cr_assert_eq(chan_select(&null_send, 1, CHAN_NOWAIT), -EINVAL);
	cr_assert_eq(chan_select(&null_send, 1, CHAN_FOREVER), -EINVAL);
	cr_assert_eq(chan_len(c), 0, "an invalid select sent something");

	/* An invalid case anywhere: nothing is communicated, even by a ready case. */
	cr_assert_eq(chan_send(c, &v), 0);
	int got = -1;
	chan_case_t mixed_recv[] = {CHAN_RECV(c, &got, NULL), bad_op3};
	cr_assert_eq(chan_select(mixed_recv, 2, CHAN_NOWAIT), -EINVAL);
	cr_assert_eq(got, -1);
	cr_assert_eq(chan_len(c), 1, "a ready receive fired in an invalid select");

	chan_t *room = mk(sizeof(int), 1);
	chan_case_t mixed_send[] = {CHAN_SEND(room, &v, NULL), null_send};
	cr_assert_eq(chan_select(mixed_send, 2, CHAN_FOREVER), -EINVAL);
	chan_case_t mixed_send2[] = {bad_op0, CHAN_SEND(room, &v, NULL)};
	cr_assert_eq(chan_select(mixed_send2, 2, CHAN_FOREVER), -EINVAL);
	cr_assert_eq(chan_len(room), 0, "a ready send fired in an invalid select");

	/* The channels still work normally afterwards. */
	cr_assert_eq(chan_try_recv(c, &got, NULL), 0);
	cr_assert_eq(got, 1);
	unref(c);
	unref(room);
}

Test(select_basic, zero_size_elements, .timeout = 10)
{
	/* chan struct{}: NULL elem is fine for sends and receives. */
	chan_t *s = mk(0, 2), *u = mk(0, 0);
	bool ok = false;
	chan_case_t snd[] = {CHAN_SEND(u, NULL, NULL), CHAN_SEND(s, NULL, &ok)};
	cr_assert_eq(chan_select(snd, 2, CHAN_NOWAIT), 1);
	cr_assert(ok);
	cr_assert_eq(chan_select(snd, 2, CHAN_NOWAIT), 1);
	cr_assert_eq(chan_select(snd, 2, CHAN_NOWAIT), CHAN_DEFAULT);
	cr_assert_eq(chan_len(s), 2);
	ok = false;
	chan_case_t rcv[] = {CHAN_RECV(u, NULL, NULL), CHAN_RECV(s, NULL, &ok)};
	cr_assert_eq(chan_select(rcv, 2, CHAN_NOWAIT), 1);
	cr_assert(ok);
	cr_assert_eq(chan_len(s), 1);
	unref(s);
	unref(u);
}

Test(select_basic, null_elem_and_ok_on_receive, .timeout = 10)
{
	chan_t *c = mk(sizeof(int), 2);
	int v = 5;
	cr_assert_eq(chan_send(c, &v), 0);
	cr_assert_eq(chan_send(c, &v), 0);
	chan_case_t discard = CHAN_RECV(c, NULL, NULL);
	cr_assert_eq(chan_select(&discard, 1, CHAN_NOWAIT), 0);
	cr_assert_eq(chan_len(c), 1, "the discarded value was not taken");
	chan_case_t no_ok = CHAN_RECV(c, &v, NULL);
	v = 0;
	cr_assert_eq(chan_select(&no_ok, 1, CHAN_NOWAIT), 0);
	cr_assert_eq(v, 5);
	int sv = 6;
	chan_case_t send_no_ok = CHAN_SEND(c, &sv, NULL);
	cr_assert_eq(chan_select(&send_no_ok, 1, CHAN_NOWAIT), 0);
	cr_assert_eq(chan_len(c), 1);
	unref(c);
}

/* ---- closed channels ------------------------------------------------------ */

Test(select_basic, send_case_on_closed_channel_is_ready, .timeout = 10)
{
	size_t caps[] = {0, 1, 3};
	for (size_t k = 0; k < 3; k++) {
		chan_t *c = mk(sizeof(int), caps[k]);
		chan_t *idle = mk(sizeof(int), 0);
		int pre = 77, sv = 99;
		if (caps[k] > 1)
			cr_assert_eq(chan_send(c, &pre), 0);
		cr_assert_eq(chan_close(c), 0);
		size_t len = chan_len(c);
		for (int i = 0; i < 50; i++) {
			bool ok = true;
			chan_case_t one[] = {CHAN_SEND(c, &sv, &ok)};
			cr_assert_eq(chan_select(one, 1, CHAN_NOWAIT), 0, "cap %zu", caps[k]);
			cr_assert(!ok, "send on a closed channel reported ok");
			ok = true;
			int got = -1;
			chan_case_t with_idle[] = {CHAN_RECV(idle, &got, NULL),
						   CHAN_SEND(c, &sv, &ok),
						   CHAN_SEND(NULL, &sv, NULL)};
			cr_assert_eq(chan_select(with_idle, 3, CHAN_FOREVER), 1);
			cr_assert(!ok);
			cr_assert_eq(got, -1);
		}
		cr_assert_eq(chan_len(c), len, "a send on a closed channel changed its buffer");
		/* Nothing was sent: only the value buffered before close comes out. */
		int got = -1;
		bool ok = false;
		if (caps[k] > 1) {
			cr_assert_eq(chan_recv(c, &got, &ok), 0);
			cr_assert(ok);
			cr_assert_eq(got, 77);
		}
		cr_assert_eq(chan_recv(c, &got, &ok), 0);
		cr_assert(!ok, "a value sent to a closed channel came out");
		cr_assert_eq(got, 0);
		unref(c);
		unref(idle);
	}
}

struct big {
	unsigned char b[64];
};

Test(select_basic, recv_case_on_closed_drained_channel, .timeout = 10)
{
	size_t caps[] = {0, 1, 4};
	for (size_t k = 0; k < 3; k++) {
		chan_t *c = mk(sizeof(struct big), caps[k]);
		chan_t *idle = mk(sizeof(struct big), 0);
		struct big v, got;
		memset(&v, 0x5a, sizeof v);
		for (size_t i = 0; i < caps[k]; i++)
			cr_assert_eq(chan_send(c, &v), 0);
		cr_assert_eq(chan_close(c), 0);
		/* Buffered values first, with ok == true... */
		for (size_t i = 0; i < caps[k]; i++) {
			bool ok = false;
			memset(&got, 0, sizeof got);
			chan_case_t cs[] = {CHAN_RECV(idle, NULL, NULL), CHAN_RECV(c, &got, &ok)};
			cr_assert_eq(chan_select(cs, 2, CHAN_FOREVER), 1);
			cr_assert(ok);
			cr_assert_eq(memcmp(&got, &v, sizeof v), 0);
		}
		/* ...then the zero value with ok == false, without blocking, forever. */
		for (int i = 0; i < 50; i++) {
			bool ok = true;
			memset(&got, 0xee, sizeof got);
			chan_case_t cs[] = {CHAN_RECV(idle, NULL, NULL), CHAN_RECV(c, &got, &ok)};
			cr_assert_eq(chan_select(cs, 2, i % 2 ? CHAN_FOREVER : CHAN_NOWAIT), 1);
			cr_assert(!ok);
			struct big zero;
			memset(&zero, 0, sizeof zero);
			cr_assert_eq(memcmp(&got, &zero, sizeof got), 0,
				     "closed receive: not the zero value");
		}
		unref(c);
		unref(idle);
	}
}

Test(select_basic, close_wakes_parked_select, .timeout = 30)
{
	for (int i = 0; i < 300; i++) {
		chan_t *a = mk(sizeof(int), 0), *b = mk(sizeof(int), i % 3 == 2 ? 1 : 0);
		int full = 1;
		if (i % 3 == 2)
			cr_assert_eq(chan_send(b, &full), 0); /* b full: its send case blocks */
		int got = -1, sv = 5;
		bool oka = true, okb = true;
		chan_case_t cs[] = {CHAN_RECV(a, &got, &oka), CHAN_SEND(b, &sv, &okb)};
		struct selt sa = {.cs = cs, .n = 2, .deadline = CHAN_FOREVER};
		tu_go_t t = tu_spawn(sel_run, &sa);
		chan_t *victim = i % 2 ? a : b;
		cr_assert_eq(chan_close(victim), 0);
		tu_join(t);
		if (victim == a) {
			cr_assert_eq(sa.rc, 0, "iteration %d: select returned %d", i, sa.rc);
			cr_assert(!oka);
			cr_assert_eq(got, 0);
		} else {
			cr_assert_eq(sa.rc, 1, "iteration %d: select returned %d", i, sa.rc);
			cr_assert(!okb);
			cr_assert_eq(chan_len(b), i % 3 == 2 ? 1u : 0u,
				     "a send woken by close sent");
		}
		unref(a);
		unref(b);
	}
}

/* ---- wider than the stack allocation --------------------------------------- */

#define WIDE 200

Test(select_basic, more_cases_than_stack_cases, .timeout = 30)
{
	cr_assert_gt(WIDE, CHAN_SELECT_STACK_CASES);
	chan_t *cs[WIDE];
	int got[WIDE];
	bool ok[WIDE];
	chan_case_t cases[WIDE];
	for (int i = 0; i < WIDE; i++)
		cs[i] = mk(sizeof(int), 0);
	for (int i = 0; i < WIDE; i++) {
		got[i] = -1;
		ok[i] = false;
		cases[i] = CHAN_RECV(cs[i], &got[i], &ok[i]);
	}
	cr_assert_eq(chan_select(cases, WIDE, CHAN_NOWAIT), CHAN_DEFAULT);
	int64_t dl = chan_now() + SHORT_NS;
	cr_assert_eq(chan_select(cases, WIDE, dl), CHAN_TIMEOUT);
	cr_assert_geq(chan_now(), dl);

	/* Parked on all WIDE channels; a sender on one of them wakes it. */
	for (int it = 0; it < 100; it++) {
		int k = (it * 37 + 150) % WIDE;
		struct selt sa = {.cs = cases, .n = WIDE, .deadline = CHAN_FOREVER};
		tu_go_t t = tu_spawn(sel_run, &sa);
		struct op s = {.c = cs[k], .value = 1000 + it};
		cr_assert_eq(chan_send(s.c, &s.value), 0);
		tu_join(t);
		cr_assert_eq(sa.rc, k);
		cr_assert_eq(got[k], 1000 + it);
		cr_assert(ok[k]);
		got[k] = -1;
		ok[k] = false;
		for (int i = 0; i < WIDE; i++)
			cr_assert_eq(got[i], -1, "case %d wrote its elem", i);
	}
	/* No waiter was left on any of them. */
	for (int i = 0; i < WIDE; i++) {
		int v = 0;
		cr_assert_eq(chan_try_send(cs[i], &v), EAGAIN, "stale waiter on channel %d", i);
	}
	/* Close wakes a wide select too. */
	struct selt sa = {.cs = cases, .n = WIDE, .deadline = CHAN_FOREVER};
	tu_go_t t = tu_spawn(sel_run, &sa);
	cr_assert_eq(chan_close(cs[70]), 0);
	tu_join(t);
	cr_assert_eq(sa.rc, 70);
	cr_assert(!ok[70]);
	cr_assert_eq(got[70], 0);
	for (int i = 0; i < WIDE; i++)
		unref(cs[i]);
}

Test(select_basic, wide_select_chooses_uniformly, .timeout = 30)
{
	/* 100 cases, all ready (one buffered channel); each is chosen about
	 * equally often: 20000 draws, 200 expected per case, sd ~14. */
	enum {
		N = 100,
		DRAWS = 20000
	};
	chan_t *c = mk(sizeof(int), DRAWS);
	int count[N] = {0};
	chan_case_t cases[N];
	int got;
	for (int i = 0; i < DRAWS; i++)
		cr_assert_eq(chan_send(c, &i), 0);
	for (int i = 0; i < N; i++)
		cases[i] = CHAN_RECV(c, &got, NULL);
	for (int i = 0; i < DRAWS; i++) {
		int r = chan_select(cases, N, CHAN_NOWAIT);
		cr_assert(r >= 0 && r < N, "select returned %d", r);
		cr_assert_eq(got, i, "FIFO order broken");
		count[r]++;
	}
	for (int i = 0; i < N; i++)
		cr_assert(count[i] > 100 && count[i] < 300,
			  "case %d chosen %d times of %d (expect ~%d)", i, count[i], DRAWS,
			  DRAWS / N);
	unref(c);
}

Test(select_basic, choice_among_ready_cases_is_uniform, .timeout = 30)
{
	/* Four ready receive cases on four channels: 8000 draws, 2000 expected
	 * each, sd ~39; the bound (+-300) is about 7.7 sd. */
	enum {
		K = 4,
		DRAWS = 8000
	};
	chan_t *c[K];
	int count[K] = {0};
	int one = 1;
	for (int k = 0; k < K; k++) {
		c[k] = mk(sizeof(int), 1);
		cr_assert_eq(chan_send(c[k], &one), 0);
	}
	for (int i = 0; i < DRAWS; i++) {
		int got = 0;
		chan_case_t cs[K];
		for (int k = 0; k < K; k++)
			cs[k] = CHAN_RECV(c[k], &got, NULL);
		int r = chan_select(cs, K, CHAN_NOWAIT);
		cr_assert(r >= 0 && r < K);
		count[r]++;
		cr_assert_eq(chan_send(c[r], &one), 0);
	}
	for (int k = 0; k < K; k++) {
		cr_assert(count[k] > DRAWS / K - 300 && count[k] < DRAWS / K + 300,
			  "case %d chosen %d times of %d", k, count[k], DRAWS);
		unref(c[k]);
	}
}

/* ---- the macro form ----------------------------------------------------------- */

Test(select_basic, macro_select_in_loop_break_continue, .timeout = 10)
{
	chan_t *jobs = mk(sizeof(int), 32), *done = mk(0, 0), *out = mk(sizeof(int), 64);
	for (int i = 0; i < 20; i++)
		cr_assert_eq(chan_send(jobs, &i), 0);
	cr_assert_eq(chan_close(jobs), 0);

	int sum = 0, after_switch = 0, sent = 0, last = -1, odd = 0, iterations = 0;
	bool finished = false;
	for (;;) {
		int v = -1;
		bool ok = true;
		iterations++;
		cr_assert_lt(iterations, 1000, "the loop does not end");
		switch (CHAN_SELECT(CHAN_FOREVER, CHAN_RECV(jobs, &v, &ok),
				    CHAN_RECV(done, NULL, NULL),
				    CHAN_SEND(last >= 0 ? out : NULL, &last, NULL))) {
		case 0:
			if (!ok) {
				finished = true;
				break;
			}
			if (v % 2) {
				odd++;
				continue; /* the enclosing loop: skips the code after the switch */
			}
			sum += v;
			last = v;
			break;
		case 1:
			cr_assert_fail("done is never ready");
			break;
		case 2:
			sent++;
			last = -1; /* nothing more to send until the next even job */
			break;
		default:
			cr_assert_fail("unexpected select result");
		}
		after_switch++;
		if (finished)
			break;
	}
	cr_assert_eq(odd, 10);
	cr_assert_eq(sum, 0 + 2 + 4 + 6 + 8 + 10 + 12 + 14 + 16 + 18);
	cr_assert_eq(after_switch, iterations - odd,
		     "continue did not skip, or break left the loop");
	cr_assert_eq(chan_len(out), (size_t)sent);
	unref(jobs);
	unref(done);
	unref(out);
}

TB_TEST(select_basic, macro_default_and_timeout_branches, .timeout = 10)
{
	chan_t *c = mk(sizeof(int), 1);
	int v = 0, defaults = 0, timeouts = 0, fired = 0;
	for (int i = 0; i < 10; i++) {
		if (i == 4)
			cr_assert_eq(chan_send(c, &i), 0);
		switch (CHAN_SELECT(CHAN_NOWAIT, CHAN_RECV(c, &v, NULL))) {
		case 0:
			fired++;
			cr_assert_eq(v, 4);
			break;
		case CHAN_DEFAULT:
			defaults++;
			break;
		default:
			cr_assert_fail("unexpected");
		}
	}
	cr_assert_eq(fired, 1);
	cr_assert_eq(defaults, 9);
	for (int i = 0; i < 2; i++) {
		switch (CHAN_SELECT(chan_now() + SHORT_NS, CHAN_RECV(c, &v, NULL),
				    CHAN_RECV(NULL, NULL, NULL))) {
		case CHAN_TIMEOUT:
			timeouts++;
			continue;
		default:
			cr_assert_fail("unexpected");
		}
	}
	cr_assert_eq(timeouts, 2);
	/* A single-case CHAN_SELECT and a case array built by the macros. */
	int w = 31;
	cr_assert_eq(CHAN_SELECT(CHAN_NOWAIT, CHAN_SEND(c, &w, NULL)), 0);
	cr_assert_eq(CHAN_SELECT(CHAN_NOWAIT, CHAN_SEND(c, &w, NULL)), CHAN_DEFAULT);
	cr_assert_eq(CHAN_SELECT(CHAN_NOWAIT, CHAN_SEND(NULL, &w, NULL), CHAN_RECV(c, &v, NULL)),
		     1);
	cr_assert_eq(v, 31);
	unref(c);
}

/* ---- CHAN_RANGE ------------------------------------------------------------------ */

Test(select_basic, range_receives_until_closed_and_drained, .timeout = 10)
{
	chan_t *c = mk(sizeof(int), 16);
	for (int i = 0; i < 10; i++)
		cr_assert_eq(chan_send(c, &i), 0);
	cr_assert_eq(chan_close(c), 0);
	int v, n = 0;
	CHAN_RANGE(c, &v) {
		cr_assert_eq(v, n, "range out of order");
		n++;
	}
	cr_assert_eq(n, 10);
	/* A closed, drained channel: the body never runs. */
	CHAN_RANGE(c, &v) {
		cr_assert_fail("range over a closed drained channel ran its body");
	}
	unref(c);
}

Test(select_basic, range_break_and_continue, .timeout = 10)
{
	chan_t *c = mk(sizeof(int), 16);
	for (int i = 0; i < 10; i++)
		cr_assert_eq(chan_send(c, &i), 0);
	int v, seen = 0, odd = 0;
	CHAN_RANGE(c, &v) {
		if (v % 2) {
			odd++;
			continue;
		}
		seen++;
		if (v == 6)
			break;
	}
	cr_assert_eq(seen, 4);
	cr_assert_eq(odd, 3);
	cr_assert_eq(chan_len(c), 3, "break did not stop the range");
	/* Nested ranges with break in the inner one only. */
	chan_t *d = mk(sizeof(int), 4);
	int outer = 0, inner = 0;
	cr_assert_eq(chan_close(c), 0);
	CHAN_RANGE(c, &v) {
		outer++;
		int w, x = 1;
		cr_assert_eq(chan_send(d, &x), 0);
		cr_assert_eq(chan_send(d, &x), 0);
		CHAN_RANGE(d, &w) {
			inner++;
			break;
		}
	}
	cr_assert_eq(outer, 3);
	cr_assert_eq(inner, 3);
	cr_assert_eq(chan_len(d), 3);
	unref(c);
	unref(d);
}

struct producer {
	chan_t *c;
	int n;
	int rc;
};

static void *produce_and_close(void *p)
{
	struct producer *a = p;
	a->rc = 0;
	for (int i = 0; i < a->n && !a->rc; i++)
		a->rc = chan_send(a->c, &i);
	if (!a->rc)
		a->rc = chan_close(a->c);
	return NULL;
}

Test(select_basic, range_with_concurrent_producer, .timeout = 20)
{
	size_t caps[] = {0, 1, 8};
	for (size_t k = 0; k < 3; k++) {
		for (int it = 0; it < 20; it++) {
			chan_t *c = mk(sizeof(int), caps[k]);
			struct producer p = {.c = c, .n = 500};
			tu_go_t t = tu_spawn(produce_and_close, &p);
			int v, n = 0;
			CHAN_RANGE(c, &v) {
				cr_assert_eq(v, n);
				n++;
			}
			tu_join(t);
			cr_assert_eq(p.rc, 0);
			cr_assert_eq(n, 500);
			unref(c);
		}
	}
}

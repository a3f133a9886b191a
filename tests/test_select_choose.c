/*
 * tests/test_select_choose.c - the scenarios of libdill's choose() tests
 * (tests/choose.c), as gochan selects over threads:
 *
 *   - a select meeting a counterpart that is already parked, and one that
 *     parks first and is woken ("non-blocking"/"blocking" receiver/sender);
 *   - two channels, the ready one fires;
 *   - competing senders and competing receivers against a select (served in
 *     FIFO order when they parked in order);
 *   - select vs select on both ends of an unbuffered channel;
 *   - a deadline that expires, one that does not, an immediate one;
 *   - a large element (a 4 KiB struct) through select, buffered and not;
 *   - the same channel twice in one select: two receives, or a send and a
 *     receive on one unbuffered channel, which must never match each other.
 *
 * "Parked first" is established with testutil.h's tu_wait_blocked (the
 * thread is asleep on its futex), never with a sleep.
 */
#include <criterion/criterion.h>
#include <gochan/chan.h>
#include <gochan/select.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "test_chan_util.h"
#include "tests/leakcheck.h"

TU_LEAK_CHECKED_SUITE(select_choose);

/* ---- one counterpart, either parked first or arriving later ------------- */

Test(select_choose, recv_from_parked_sender, .timeout = 30)
{
	for (int i = 0; i < 100; i++) {
		chan_t *c = mk(sizeof(int), 0);
		struct op s = {.c = c, .value = 555 + i};
		tu_go_t t = tu_spawn(op_send, &s);
		wait_parked(&s.blk);
		int v = 0;
		bool ok = false;
		chan_case_t cs[] = {CHAN_RECV(c, &v, &ok)};
		cr_assert_eq(chan_select(cs, 1, CHAN_NOWAIT), 0, "a parked sender was not ready");
		tu_join(t);
		cr_assert_eq(s.rc, 0);
		cr_assert(ok);
		cr_assert_eq(v, 555 + i);
		unref(c);
	}
}

Test(select_choose, parked_select_woken_by_sender, .timeout = 30)
{
	for (int i = 0; i < 100; i++) {
		chan_t *c = mk(sizeof(int), 0), *idle = mk(sizeof(int), 0);
		int v = 0;
		bool ok = false;
		chan_case_t cs[] = {CHAN_RECV(idle, NULL, NULL), CHAN_RECV(c, &v, &ok)};
		struct selt st = {.cs = cs, .n = 2, .deadline = CHAN_FOREVER};
		tu_go_t t = tu_spawn(sel_run, &st);
		wait_parked(&st.blk);
		int x = 666 + i;
		cr_assert_eq(chan_send(c, &x), 0);
		tu_join(t);
		cr_assert_eq(st.rc, 1);
		cr_assert(ok);
		cr_assert_eq(v, 666 + i);
		unref(c);
		unref(idle);
	}
}

Test(select_choose, send_to_parked_receiver, .timeout = 30)
{
	for (int i = 0; i < 100; i++) {
		chan_t *c = mk(sizeof(int), 0);
		struct op r = {.c = c, .value = -1};
		tu_go_t t = tu_spawn(op_recv, &r);
		wait_parked(&r.blk);
		int x = 777 + i;
		bool ok = false;
		chan_case_t cs[] = {CHAN_SEND(c, &x, &ok)};
		cr_assert_eq(chan_select(cs, 1, CHAN_NOWAIT), 0, "a parked receiver was not ready");
		tu_join(t);
		cr_assert(ok);
		cr_assert_eq(r.rc, 0);
		cr_assert(r.ok);
		cr_assert_eq(r.value, 777 + i);
		unref(c);
	}
}

Test(select_choose, parked_send_select_woken_by_receiver, .timeout = 30)
{
	for (int i = 0; i < 100; i++) {
		chan_t *c = mk(sizeof(int), 0), *idle = mk(sizeof(int), 0);
		int x = 888 + i, y = -5;
		bool ok = false;
		chan_case_t cs[] = {CHAN_SEND(c, &x, &ok), CHAN_SEND(idle, &y, NULL)};
		struct selt st = {.cs = cs, .n = 2, .deadline = CHAN_FOREVER};
		tu_go_t t = tu_spawn(sel_run, &st);
		wait_parked(&st.blk);
		int v = 0;
		bool rok = false;
		cr_assert_eq(chan_recv(c, &v, &rok), 0);
		tu_join(t);
		cr_assert_eq(st.rc, 0);
		cr_assert(ok);
		cr_assert(rok);
		cr_assert_eq(v, 888 + i);
		unref(c);
		unref(idle);
	}
}

Test(select_choose, two_channels, .timeout = 30)
{
	for (int i = 0; i < 100; i++) {
		chan_t *c5 = mk(sizeof(int), 0), *c6 = mk(sizeof(int), 0);
		int val = 0;
		chan_case_t cs[] = {CHAN_RECV(c5, &val, NULL), CHAN_RECV(c6, &val, NULL)};
		/* a sender already parked on the second channel */
		struct op s6 = {.c = c6, .value = 555};
		tu_go_t t6 = tu_spawn(op_send, &s6);
		wait_parked(&s6.blk);
		cr_assert_eq(chan_select(cs, 2, CHAN_FOREVER), 1);
		cr_assert_eq(val, 555);
		/* a sender arriving after the select parked, on the first */
		struct selt st = {.cs = cs, .n = 2, .deadline = CHAN_FOREVER};
		tu_go_t ts = tu_spawn(sel_run, &st);
		wait_parked(&st.blk);
		struct op s5 = {.c = c5, .value = 666};
		tu_go_t t5 = tu_spawn(op_send, &s5);
		tu_join(ts);
		tu_join(t5);
		tu_join(t6);
		cr_assert_eq(st.rc, 0);
		cr_assert_eq(val, 666);
		cr_assert_eq(s5.rc + s6.rc, 0);
		unref(c5);
		unref(c6);
	}
}

/* ---- competing senders / receivers ------------------------------------------- */

Test(select_choose, competing_senders_fifo, .timeout = 30)
{
	/* Two senders parked in order on one channel: a select takes them in
	 * FIFO order, each value exactly once. */
	for (int i = 0; i < 100; i++) {
		chan_t *c = mk(sizeof(int), 0), *idle = mk(sizeof(int), 0);
		struct op s1 = {.c = c, .value = 888}, s2 = {.c = c, .value = 999};
		tu_go_t t1 = tu_spawn(op_send, &s1);
		wait_parked(&s1.blk);
		tu_go_t t2 = tu_spawn(op_send, &s2);
		wait_parked(&s2.blk);
		int val = 0;
		chan_case_t cs[] = {CHAN_RECV(c, &val, NULL), CHAN_RECV(idle, NULL, NULL)};
		cr_assert_eq(chan_select(cs, 2, CHAN_FOREVER), 0);
		cr_assert_eq(val, 888);
		val = 0;
		cr_assert_eq(chan_select(cs, 2, CHAN_FOREVER), 0);
		cr_assert_eq(val, 999);
		cr_assert_eq(chan_select(cs, 2, CHAN_NOWAIT), CHAN_DEFAULT,
			     "a third value appeared");
		tu_join(t1);
		tu_join(t2);
		cr_assert_eq(s1.rc + s2.rc, 0);
		unref(c);
		unref(idle);
	}
}

Test(select_choose, competing_receivers_fifo, .timeout = 30)
{
	for (int i = 0; i < 100; i++) {
		chan_t *c = mk(sizeof(int), 0), *idle = mk(sizeof(int), 0);
		struct op r1 = {.c = c, .value = -1}, r2 = {.c = c, .value = -1};
		tu_go_t t1 = tu_spawn(op_recv, &r1);
		wait_parked(&r1.blk);
		tu_go_t t2 = tu_spawn(op_recv, &r2);
		wait_parked(&r2.blk);
		int val = 333, other = 0;
		chan_case_t cs[] = {CHAN_RECV(idle, NULL, NULL), CHAN_SEND(c, &val, NULL),
				    CHAN_SEND(idle, &other, NULL)};
		cr_assert_eq(chan_select(cs, 3, CHAN_FOREVER), 1);
		val = 444;
		cr_assert_eq(chan_select(cs, 3, CHAN_FOREVER), 1);
		cr_assert_eq(chan_select(cs, 3, CHAN_NOWAIT), CHAN_DEFAULT,
			     "a third receiver appeared");
		tu_join(t1);
		tu_join(t2);
		cr_assert_eq(r1.value, 333);
		cr_assert_eq(r2.value, 444);
		cr_assert(r1.ok && r2.ok);
		unref(c);
		unref(idle);
	}
}

struct sender_loop {
	chan_t *c;
	int base, n, rc;
	atomic_int *done; /* incremented (release) when this sender finishes */
};

static void *sender_loop_run(void *p)
{
	struct sender_loop *a = p;
	for (int i = 0; i < a->n && !a->rc; i++) {
		int v = a->base + i;
		a->rc = chan_send(a->c, &v);
	}
	if (a->done)
		atomic_fetch_add_explicit(a->done, 1, memory_order_release);
	return NULL;
}

struct range_recver {
	chan_t *c;
	int n;
	int *got; /* room for every value that can be sent */
};

static void *range_recver_run(void *p)
{
	struct range_recver *a = p;
	int v;
	CHAN_RANGE(a->c, &v)
		a->got[a->n++] = v;
	return NULL;
}

Test(select_choose, competing_senders_and_receivers_vs_select, .timeout = 60)
{
	/* Three plain senders and two plain receivers (ranging until close) on
	 * one unbuffered channel, plus a select that both sends and receives on
	 * it and waits on an idle channel too.  Every value sent arrives exactly
	 * once, and the select never receives its own value. */
	enum {
		PER = 2000,
		NS = 3,
		NR = 2,
		SEL_SEND = 1000,
		SEL_RECV = 1000
	};
	enum {
		TOTAL = NS * PER + SEL_SEND
	};
	chan_t *c = mk(sizeof(int), 0), *idle = mk(sizeof(int), 0);
	atomic_int senders_done = 0;
	struct sender_loop s[NS];
	struct range_recver r[NR];
	tu_go_t ts[NS], tr[NR];
	static int got[NR + 1][TOTAL];
	for (int k = 0; k < NS; k++) {
		s[k] = (struct sender_loop){c, (k + 1) * 100000, PER, 0, &senders_done};
		ts[k] = tu_spawn(sender_loop_run, &s[k]);
	}
	for (int k = 0; k < NR; k++) {
		r[k] = (struct range_recver){c, 0, got[k]};
		tr[k] = tu_spawn(range_recver_run, &r[k]);
	}
	/* The select sends SEL_SEND values (only the receivers can take them,
	 * and they range until close, so this always completes) and receives
	 * up to SEL_RECV (only from the senders: once they are all done, that
	 * case is dropped; the deadline is only there to notice that). */
	int nsel_recv = 0, nsel_send = 0, self = 0;
	while (nsel_send < SEL_SEND || nsel_recv < SEL_RECV) {
		int v = -1, sv = 900000 + nsel_send;
		chan_t *sc = nsel_send < SEL_SEND ? c : NULL;
		chan_t *rc = nsel_recv < SEL_RECV ? c : NULL;
		if (atomic_load_explicit(&senders_done, memory_order_acquire) == NS) {
			if (!sc)
				break;
			rc = NULL;
		}
		int ret = CHAN_SELECT(chan_now() + 10 * MS, CHAN_SEND(sc, &sv, NULL),
				      CHAN_RECV(rc, &v, NULL), CHAN_RECV(idle, NULL, NULL));
		if (ret == CHAN_TIMEOUT)
			continue;
		cr_assert(ret == 0 || ret == 1, "select returned %d", ret);
		if (ret == 0) {
			nsel_send++;
		} else {
			if (v >= 900000)
				self++;
			got[NR][nsel_recv++] = v;
		}
	}
	for (int k = 0; k < NS; k++)
		tu_join(ts[k]);
	cr_assert_eq(chan_close(c), 0);
	for (int k = 0; k < NR; k++)
		tu_join(tr[k]);
	cr_assert_eq(self, 0, "the select received its own value");
	/* Count every value: each sent value exactly once. */
	static unsigned char seen[NS + 1][PER > SEL_SEND ? PER : SEL_SEND];
	memset(seen, 0, sizeof seen);
	int dups = 0, bad = 0;
	for (int k = 0; k <= NR; k++) {
		int n = k < NR ? r[k].n : nsel_recv;
		for (int i = 0; i < n; i++) {
			int v = got[k][i], who = v / 100000 - 1, idx = v % 100000;
			if (v >= 900000) {
				who = NS;
				idx = v - 900000;
			}
			if (who < 0 || who > NS || idx >= (who == NS ? nsel_send : PER))
				bad++;
			else if (seen[who][idx]++)
				dups++;
		}
	}
	cr_assert_eq(bad, 0);
	cr_assert_eq(dups, 0);
	for (int k = 0; k < NS; k++) {
		cr_assert_eq(s[k].rc, 0);
		for (int i = 0; i < PER; i++)
			cr_assert_eq(seen[k][i], 1, "value %d of sender %d lost", i, k);
	}
	cr_assert_eq(nsel_send, SEL_SEND);
	for (int i = 0; i < nsel_send; i++)
		cr_assert_eq(seen[NS][i], 1, "select's value %d lost", i);
	unref(c);
	unref(idle);
}

/* ---- select vs select ------------------------------------------------------------ */

struct ss_arg {
	chan_t *a, *b, *idle;
	int role, iters;
	int fired[2];
	int bad;
	long sum;
};

/* role 0: select {a <- i; v := <-b; <-idle}; role 1: the mirror image. */
static void *ss_run(void *p)
{
	struct ss_arg *x = p;
	for (int i = 0; i < x->iters; i++) {
		int out = x->role * 1000000 + i, in = -1;
		chan_t *sendto = x->role ? x->b : x->a, *recvfrom = x->role ? x->a : x->b;
		int r = CHAN_SELECT(CHAN_FOREVER, CHAN_SEND(sendto, &out, NULL),
				    CHAN_RECV(recvfrom, &in, NULL), CHAN_RECV(x->idle, NULL, NULL));
		if (r != 0 && r != 1) {
			x->bad++;
			break;
		}
		x->fired[r]++;
		if (r == 1) {
			if (in / 1000000 != 1 - x->role)
				x->bad++;
			x->sum += in % 1000000;
		}
	}
	return NULL;
}

Test(select_choose, select_vs_select_unbuffered, .timeout = 60)
{
	/* One direction: a select that only sends against one that only
	 * receives, both also waiting on an idle channel. */
	for (int it = 0; it < 2000; it++) {
		/* each side's idle channel is its own: they must not meet there */
		chan_t *c = mk(sizeof(int), 0), *idle1 = mk(sizeof(int), 0),
		       *idle2 = mk(sizeof(int), 0);
		int x = it, got = -1;
		chan_case_t snd[] = {CHAN_RECV(idle1, NULL, NULL), CHAN_SEND(c, &x, NULL)};
		struct selt st = {.cs = snd, .n = 2, .deadline = CHAN_FOREVER};
		tu_go_t t = tu_spawn(sel_run, &st);
		int r = CHAN_SELECT(CHAN_FOREVER, CHAN_SEND(idle2, &x, NULL),
				    CHAN_RECV(c, &got, NULL));
		tu_join(t);
		cr_assert_eq(r, 1);
		cr_assert_eq(st.rc, 1);
		cr_assert_eq(got, it);
		unref(c);
		unref(idle1);
		unref(idle2);
	}
}

Test(select_choose, select_vs_select_both_directions, .timeout = 60)
{
	/* Each side offers to send on its channel and receive on the other's:
	 * every round pairs one case of one side with the opposite case of the
	 * other, so the counts must mirror each other exactly. */
	enum {
		ITERS = 5000
	};
	chan_t *a = mk(sizeof(int), 0), *b = mk(sizeof(int), 0), *idle = mk(sizeof(int), 0);
	struct ss_arg x0 = {a, b, idle, 0, ITERS, {0, 0}, 0, 0};
	struct ss_arg x1 = {a, b, idle, 1, ITERS, {0, 0}, 0, 0};
	tu_go_t t0 = tu_spawn(ss_run, &x0), t1 = tu_spawn(ss_run, &x1);
	tu_join(t0);
	tu_join(t1);
	cr_assert_eq(x0.bad + x1.bad, 0);
	cr_assert_eq(x0.fired[0], x1.fired[1], "0 sent %d on a, 1 received %d", x0.fired[0],
		     x1.fired[1]);
	cr_assert_eq(x1.fired[0], x0.fired[1]);
	cr_assert_eq(x0.fired[0] + x0.fired[1], ITERS);
	/* Both directions happen when the choice is random. */
	cr_assert_gt(x0.fired[0], 0);
	cr_assert_gt(x0.fired[1], 0);
	unref(a);
	unref(b);
	unref(idle);
}

/* ---- deadlines ------------------------------------------------------------------- */

Test(select_choose, immediate_timeout_and_empty_pollset, .timeout = 10)
{
	chan_t *c = mk(sizeof(int), 0);
	int val = 0;
	chan_case_t cs[] = {CHAN_RECV(c, &val, NULL), CHAN_RECV(c, &val, NULL)};
	cr_assert_eq(chan_select(cs, 2, chan_deadline_in(0)), CHAN_TIMEOUT);
	cr_assert_eq(chan_select(NULL, 0, chan_deadline_in(0)), CHAN_TIMEOUT);
	unref(c);
}

Test(select_choose, deadline_expires, .timeout = 10)
{
	chan_t *c = mk(sizeof(int), 0), *d = mk(sizeof(int), 1);
	int full = 1, val = -1;
	cr_assert_eq(chan_send(d, &full), 0);
	int64_t start = chan_now(), dl = start + 50 * MS;
	chan_case_t cs[] = {CHAN_RECV(c, &val, NULL), CHAN_SEND(d, &full, NULL)};
	cr_assert_eq(chan_select(cs, 2, dl), CHAN_TIMEOUT);
	int64_t diff = chan_now() - start;
	cr_assert_geq(diff, 50 * MS);
	cr_assert_lt(diff, 2000 * MS, "liveness: a 50 ms deadline took %lld ms",
		     (long long)(diff / MS));
	cr_assert_eq(val, -1);
	cr_assert_eq(chan_len(d), 1);
	unref(c);
	unref(d);
}

Test(select_choose, deadline_not_expired, .timeout = 30)
{
	for (int i = 0; i < 50; i++) {
		chan_t *c = mk(sizeof(int), 0), *idle = mk(sizeof(int), 0);
		int val = -1;
		int64_t start = chan_now();
		chan_case_t cs[] = {CHAN_RECV(c, &val, NULL), CHAN_RECV(idle, NULL, NULL)};
		struct selt st = {.cs = cs, .n = 2, .deadline = start + LONG_NS};
		tu_go_t t = tu_spawn(sel_run, &st);
		wait_parked(&st.blk); /* it is waiting, with its deadline far away */
		int x = 4444;
		cr_assert_eq(chan_send(c, &x), 0);
		tu_join(t);
		cr_assert_eq(st.rc, 0);
		cr_assert_eq(val, 4444);
		cr_assert_lt(chan_now() - start, LONG_NS / 2, "liveness: woken late");
		unref(c);
		unref(idle);
	}
}

/* ---- a large element ----------------------------------------------------------------- */

struct large {
	unsigned char buf[4096];
};

static void fill(struct large *l, unsigned seed)
{
	for (size_t i = 0; i < sizeof l->buf; i++)
		l->buf[i] = (unsigned char)(seed * 131u + i * 7u + (i >> 8));
}

static bool check(const struct large *l, unsigned seed)
{
	struct large want;
	fill(&want, seed);
	return memcmp(l, &want, sizeof want) == 0;
}

struct large_sender {
	chan_t *c, *idle;
	int n, bad;
};

static void *large_sender_run(void *p)
{
	struct large_sender *a = p;
	struct large *l = malloc(sizeof *l);
	if (!l)
		abort();
	for (int i = 0; i < a->n; i++) {
		fill(l, (unsigned)i);
		if (CHAN_SELECT(CHAN_FOREVER, CHAN_SEND(a->c, l, NULL),
				CHAN_RECV(a->idle, NULL, NULL)) != 0)
			a->bad++;
	}
	free(l);
	return NULL;
}

Test(select_choose, large_element, .timeout = 60)
{
	size_t caps[] = {0, 1, 4};
	for (size_t k = 0; k < 3; k++) {
		enum {
			N = 500
		};
		chan_t *c = mk(sizeof(struct large), caps[k]), *idle = mk(sizeof(struct large), 0);
		struct large_sender s = {c, idle, N, 0};
		tu_go_t t = tu_spawn(large_sender_run, &s);
		struct large *l = malloc(sizeof *l);
		cr_assert_not_null(l);
		for (int i = 0; i < N; i++) {
			memset(l, 0, sizeof *l);
			bool ok = false;
			int r = CHAN_SELECT(CHAN_FOREVER, CHAN_RECV(idle, NULL, NULL),
					    CHAN_RECV(c, l, &ok));
			cr_assert_eq(r, 1);
			cr_assert(ok);
			cr_assert(check(l, (unsigned)i), "cap %zu: element %d corrupted", caps[k],
				  i);
		}
		tu_join(t);
		cr_assert_eq(s.bad, 0);
		/* closed: the zero value, all 4096 bytes of it */
		cr_assert_eq(chan_close(c), 0);
		memset(l, 0xff, sizeof *l);
		bool ok = true;
		cr_assert_eq(CHAN_SELECT(CHAN_FOREVER, CHAN_RECV(c, l, &ok)), 0);
		cr_assert(!ok);
		struct large zero;
		memset(&zero, 0, sizeof zero);
		cr_assert_eq(memcmp(l, &zero, sizeof zero), 0);
		free(l);
		unref(c);
		unref(idle);
	}
}

/* ---- the same channel twice ----------------------------------------------------------- */

Test(select_choose, same_channel_twice_recv, .timeout = 30)
{
	chan_t *c = mk(sizeof(int), 0);
	int v1 = -1, v2 = -1;
	chan_case_t cs[] = {CHAN_RECV(c, &v1, NULL), CHAN_RECV(c, &v2, NULL)};
	/* pointless, but must work: blocks, then times out */
	int64_t dl = chan_now() + 50 * MS;
	cr_assert_eq(chan_select(cs, 2, dl), CHAN_TIMEOUT);
	cr_assert_geq(chan_now(), dl);
	/* a sender is served by exactly one of the two cases */
	int count[2] = {0, 0};
	for (int i = 0; i < 300; i++) {
		v1 = v2 = -1;
		struct op s = {.c = c, .value = i};
		tu_go_t t = tu_spawn(op_send, &s);
		int r = chan_select(cs, 2, CHAN_FOREVER);
		tu_join(t);
		cr_assert(r == 0 || r == 1);
		count[r]++;
		cr_assert_eq(r == 0 ? v1 : v2, i);
		cr_assert_eq(r == 0 ? v2 : v1, -1, "both cases received");
		int x = 0;
		cr_assert_eq(chan_try_send(c, &x), EAGAIN, "a stale waiter remained");
	}
	unref(c);
}

Test(select_choose, same_channel_send_and_recv_never_match, .timeout = 60)
{
	for (int it = 0; it < 5; it++) {
		chan_t *c = mk(sizeof(int), 0);
		int out = 1, in = -1;
		chan_case_t cs[] = {CHAN_SEND(c, &out, NULL), CHAN_RECV(c, &in, NULL)};
		int64_t dl = chan_now() + SHORT_NS;
		cr_assert_eq(chan_select(cs, 2, dl), CHAN_TIMEOUT, "the select matched itself");
		cr_assert_eq(in, -1);
		unref(c);
	}
	/* Parked with both cases on one channel, it is served by a plain
	 * receiver (its send fires) or a plain sender (its receive fires). */
	for (int it = 0; it < 200; it++) {
		chan_t *c = mk(sizeof(int), 0);
		int out = 10 + it, in = -1;
		bool oks = false, okr = false;
		chan_case_t cs[] = {CHAN_SEND(c, &out, &oks), CHAN_RECV(c, &in, &okr)};
		struct selt st = {.cs = cs, .n = 2, .deadline = CHAN_FOREVER};
		tu_go_t t = tu_spawn(sel_run, &st);
		wait_parked(&st.blk);
		if (it % 2) {
			int got = -1;
			cr_assert_eq(chan_recv(c, &got, NULL), 0);
			tu_join(t);
			cr_assert_eq(st.rc, 0);
			cr_assert(oks);
			cr_assert_eq(got, 10 + it);
			cr_assert_eq(in, -1);
		} else {
			int x = 500 + it;
			cr_assert_eq(chan_send(c, &x), 0);
			tu_join(t);
			cr_assert_eq(st.rc, 1);
			cr_assert(okr);
			cr_assert_eq(in, 500 + it);
		}
		/* neither case is left queued */
		int x = 0;
		cr_assert_eq(chan_try_send(c, &x), EAGAIN);
		cr_assert_eq(chan_try_recv(c, &x, NULL), EAGAIN);
		unref(c);
	}
}

Test(select_choose, random_choice_between_parked_senders, .timeout = 60)
{
	/* Two senders parked on two channels: Go picks uniformly (libdill
	 * prefers the first clause; gochan must not). */
	int count[2] = {0, 0};
	for (int i = 0; i < 200; i++) {
		chan_t *a = mk(sizeof(int), 0), *b = mk(sizeof(int), 0);
		struct op sa = {.c = a, .value = 1}, sb = {.c = b, .value = 2};
		tu_go_t ta = tu_spawn(op_send, &sa), tb = tu_spawn(op_send, &sb);
		wait_parked(&sa.blk);
		wait_parked(&sb.blk);
		int val = 0;
		int r = CHAN_SELECT(CHAN_FOREVER, CHAN_RECV(a, &val, NULL),
				    CHAN_RECV(b, &val, NULL));
		cr_assert(r == 0 || r == 1);
		cr_assert_eq(val, r + 1);
		count[r]++;
		/* drain the other one */
		cr_assert_eq(chan_recv(r ? a : b, &val, NULL), 0);
		tu_join(ta);
		tu_join(tb);
		unref(a);
		unref(b);
	}
	/* 200 fair coin flips: [60, 140] is beyond 5.6 sd. */
	cr_assert(count[0] > 60 && count[0] < 140, "choices %d / %d", count[0], count[1]);
}

Test(select_choose, recv_on_closed_fires, .timeout = 10)
{
	chan_t *c = mk(sizeof(int), 0), *idle = mk(sizeof(int), 0);
	cr_assert_eq(chan_close(c), 0);
	int val = 7;
	bool ok = true;
	cr_assert_eq(
		CHAN_SELECT(CHAN_FOREVER, CHAN_RECV(idle, NULL, NULL), CHAN_RECV(c, &val, &ok)), 1);
	cr_assert(!ok);
	cr_assert_eq(val, 0);
	unref(c);
	unref(idle);
}

/*
 * tests/test_select_claim.c - the claim protocol of a parked select
 * (include/gochan/select.h: "a blocked select is claimed by exactly one
 * counterpart ... the waits registered on the other channels are removed
 * before chan_select returns"):
 *
 *   - counterparts racing on different channels for one parked select: one
 *     wins, the others are not consumed (no value received twice, none lost);
 *   - many parked selects against many senders: every value exactly once;
 *   - a deadline racing a counterpart: the outcomes agree on both sides;
 *   - close racing a counterpart, and close waking several parked selects;
 *   - no stale waiters once a select has returned, whichever way it returned
 *     (a counterpart, a timeout, a close): try operations on the other
 *     channels say EAGAIN, a timed send there times out, and chan_unref of
 *     the last reference does not say EBUSY;
 *   - the happens-before edge of a value delivered to a parked select.
 *
 * "Parked" is established with testutil.h's tu_wait_blocked; racing threads
 * are released together by a barrier.  No sleeps.
 */
#include <criterion/criterion.h>
#include <gochan/chan.h>
#include <gochan/select.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test_chan_util.h"
#include "tests/leakcheck.h"

TU_LEAK_CHECKED_SUITE(select_claim);

/*
 * A racer: after the barrier, one operation on @c, offered as a select
 * together with a receive on @quit so that a racer that lost can be
 * released by closing @quit.  kind: 0 send, 1 receive, 2 close.
 */
struct racer {
	tu_barrier_t *bar;
	chan_t *c, *quit;
	int kind;
	int v; /* send: the value; receive: what arrived */
	bool ok;
	int rc; /* the select's result (0 = the operation happened) */
};

static void *racer_run(void *p)
{
	struct racer *r = p;
	tu_barrier_wait(r->bar);
	if (r->kind == 2) {
		r->rc = chan_close(r->c);
		return NULL;
	}
	chan_case_t cs[] = {r->kind == 0 ? CHAN_SEND(r->c, &r->v, &r->ok)
					 : CHAN_RECV(r->c, &r->v, &r->ok),
			    CHAN_RECV(r->quit, NULL, NULL)};
	r->rc = chan_select(cs, 2, CHAN_FOREVER);
	return NULL;
}

/*
 * Park the select @st, then release the @k racers r[] together against it
 * (their bar is set here); once the select has returned, close @quit (every
 * racer's) to release the racers that lost, and join them all.
 */
static void race_parked_select(struct selt *st, struct racer *r, int k, chan_t *quit)
{
	tu_go_t ts = tu_spawn(sel_run, st);
	wait_parked(&st->blk);
	tu_barrier_t bar;
	tu_barrier_init(&bar, (unsigned)k);
	tu_go_t tr[k];
	for (int i = 0; i < k; i++) {
		r[i].bar = &bar;
		tr[i] = tu_spawn(racer_run, &r[i]);
	}
	tu_join(ts);
	cr_assert_eq(chan_close(quit), 0); /* release the losers */
	for (int i = 0; i < k; i++)
		tu_join(tr[i]);
	tu_barrier_destroy(&bar);
}

/* ---- racing counterparts ------------------------------------------------------- */

Test(select_claim, racing_senders_claim_once, .timeout = 60)
{
	enum {
		K = 3
	};
	for (int it = 0; it < 300; it++) {
		chan_t *c[K], *quit = mk(0, 0);
		int got[K];
		bool ok[K];
		chan_case_t cs[K];
		for (int k = 0; k < K; k++) {
			c[k] = mk(sizeof(int), 0);
			got[k] = -1;
			ok[k] = false;
			cs[k] = CHAN_RECV(c[k], &got[k], &ok[k]);
		}
		struct selt st = {.cs = cs, .n = K, .deadline = CHAN_FOREVER};
		struct racer r[K];
		for (int k = 0; k < K; k++)
			r[k] = (struct racer){NULL, c[k], quit, 0, 100 * it + k, false, -99};
		race_parked_select(&st, r, K, quit);

		int w = st.rc;
		cr_assert(w >= 0 && w < K, "select returned %d", w);
		int winners = 0;
		for (int k = 0; k < K; k++) {
			cr_assert(r[k].rc == 0 || r[k].rc == 1);
			if (r[k].rc == 0) {
				winners++;
				cr_assert(r[k].ok);
			}
			if (k != w)
				cr_assert_eq(got[k], -1, "case %d received too", k);
		}
		cr_assert_eq(winners, 1, "iteration %d: %d senders think they delivered", it,
			     winners);
		cr_assert_eq(r[w].rc, 0, "the select's case %d fired but that sender lost", w);
		cr_assert(ok[w]);
		cr_assert_eq(got[w], 100 * it + w);
		for (int k = 0; k < K; k++)
			unref(c[k]);
		unref(quit);
	}
}

Test(select_claim, racing_receivers_claim_once, .timeout = 60)
{
	enum {
		K = 3
	};
	for (int it = 0; it < 300; it++) {
		chan_t *c[K], *quit = mk(0, 0);
		int val[K];
		bool ok[K];
		chan_case_t cs[K];
		for (int k = 0; k < K; k++) {
			c[k] = mk(sizeof(int), 0);
			val[k] = 1000 * it + k;
			ok[k] = false;
			cs[k] = CHAN_SEND(c[k], &val[k], &ok[k]);
		}
		struct selt st = {.cs = cs, .n = K, .deadline = CHAN_FOREVER};
		struct racer r[K];
		for (int k = 0; k < K; k++)
			r[k] = (struct racer){NULL, c[k], quit, 1, -1, false, -99};
		race_parked_select(&st, r, K, quit);

		int w = st.rc, winners = 0;
		cr_assert(w >= 0 && w < K, "select returned %d", w);
		cr_assert(ok[w]);
		for (int k = 0; k < K; k++)
			if (r[k].rc == 0) {
				winners++;
				cr_assert(r[k].ok);
				cr_assert_eq(k, w, "receiver %d got a value but case %d fired", k,
					     w);
				cr_assert_eq(r[k].v, 1000 * it + k);
			}
		cr_assert_eq(winners, 1, "iteration %d: %d receivers got a value", it, winners);
		for (int k = 0; k < K; k++)
			unref(c[k]);
		unref(quit);
	}
}

Test(select_claim, sender_races_close, .timeout = 60)
{
	/* A select parked on {<-a, <-b}; a sender on a and a close of b race.
	 * Either the value arrived (case 0, and the sender knows it) or the
	 * close won (case 1, ok == false, and the sender did not deliver). */
	int outcomes[2] = {0, 0};
	for (int it = 0; it < 400; it++) {
		chan_t *a = mk(sizeof(int), 0), *b = mk(sizeof(int), 0), *quit = mk(0, 0);
		int ga = -1, gb = -1;
		bool oka = false, okb = true;
		chan_case_t cs[] = {CHAN_RECV(a, &ga, &oka), CHAN_RECV(b, &gb, &okb)};
		struct selt st = {.cs = cs, .n = 2, .deadline = CHAN_FOREVER};
		/* r[0] sends 42 on a, r[1] closes b */
		struct racer r[2] = {{NULL, a, quit, 0, 42, false, -99},
				     {NULL, b, quit, 2, 0, false, -99}};
		race_parked_select(&st, r, 2, quit);
		const struct racer *snd = &r[0], *cls = &r[1];
		cr_assert_eq(cls->rc, 0);
		cr_assert(st.rc == 0 || st.rc == 1, "select returned %d", st.rc);
		outcomes[st.rc]++;
		if (st.rc == 0) {
			cr_assert(oka);
			cr_assert_eq(ga, 42);
			cr_assert_eq(snd->rc, 0, "value received but the sender did not deliver");
			cr_assert_eq(gb, -1);
		} else {
			cr_assert(!okb);
			cr_assert_eq(gb, 0);
			cr_assert_eq(ga, -1);
			cr_assert_eq(snd->rc, 1, "the close won but the sender delivered");
		}
		unref(a);
		unref(b);
		unref(quit);
	}
	cr_assert_eq(outcomes[0] + outcomes[1], 400);
}

/* ---- many parked selects, many senders ---------------------------------------- */

enum {
	MP_CH = 3,
	MP_SENDERS = 3,
	MP_PER = 3000,
	MP_SELECTORS = 4
};

struct mp {
	chan_t *c[MP_CH];
	atomic_int remaining; /* values still to be received */
	atomic_uchar *seen;   /* per value: times received */
	atomic_int bad;
};

struct mp_sender {
	struct mp *m;
	int id;
};

static void *mp_sender_run(void *p)
{
	struct mp_sender *s = p;
	for (int i = 0; i < MP_PER; i++) {
		int v = s->id * MP_PER + i;
		/* offer the value on every channel; exactly one takes it */
		int r = CHAN_SELECT(CHAN_FOREVER, CHAN_SEND(s->m->c[0], &v, NULL),
				    CHAN_SEND(s->m->c[1], &v, NULL),
				    CHAN_SEND(s->m->c[2], &v, NULL));
		if (r < 0 || r >= MP_CH)
			atomic_fetch_add(&s->m->bad, 1);
	}
	return NULL;
}

static void *mp_selector_run(void *p)
{
	struct mp *m = p;
	for (;;) {
		int v = -1;
		bool ok = false;
		/* one receive per channel, and channel 1 twice */
		int r = CHAN_SELECT(chan_now() + 20 * MS, CHAN_RECV(m->c[0], &v, &ok),
				    CHAN_RECV(m->c[1], &v, &ok), CHAN_RECV(m->c[2], &v, &ok),
				    CHAN_RECV(m->c[1], &v, &ok));
		if (r == CHAN_TIMEOUT) {
			/* relaxed: a hint to stop polling; the totals are
			 * checked after every thread is joined */
			if (atomic_load_explicit(&m->remaining, memory_order_relaxed) <= 0)
				return NULL;
			continue;
		}
		if (r < 0 || !ok || v < 0 || v >= MP_SENDERS * MP_PER) {
			atomic_fetch_add(&m->bad, 1);
			return NULL;
		}
		atomic_fetch_add(&m->seen[v], 1);
		atomic_fetch_sub(&m->remaining, 1);
	}
}

Test(select_claim, many_selects_many_senders_exactly_once, .timeout = 120)
{
	size_t caps[][MP_CH] = {{0, 0, 0}, {0, 1, 0}, {1, 0, 4}};
	for (int round = 0; round < 3; round++) {
		struct mp m;
		for (int k = 0; k < MP_CH; k++)
			m.c[k] = mk(sizeof(int), caps[round][k]);
		atomic_init(&m.remaining, MP_SENDERS * MP_PER);
		atomic_init(&m.bad, 0);
		m.seen = calloc(MP_SENDERS * MP_PER, sizeof *m.seen);
		cr_assert_not_null(m.seen);
		tu_go_t tsel[MP_SELECTORS], tsnd[MP_SENDERS];
		struct mp_sender s[MP_SENDERS];
		for (int i = 0; i < MP_SELECTORS; i++)
			tsel[i] = tu_spawn(mp_selector_run, &m);
		for (int i = 0; i < MP_SENDERS; i++) {
			s[i] = (struct mp_sender){&m, i};
			tsnd[i] = tu_spawn(mp_sender_run, &s[i]);
		}
		for (int i = 0; i < MP_SENDERS; i++)
			tu_join(tsnd[i]);
		for (int i = 0; i < MP_SELECTORS; i++)
			tu_join(tsel[i]);
		cr_assert_eq(atomic_load(&m.bad), 0);
		int lost = 0, dup = 0;
		for (int v = 0; v < MP_SENDERS * MP_PER; v++) {
			unsigned n = atomic_load(&m.seen[v]);
			lost += n == 0;
			dup += n > 1;
		}
		cr_assert_eq(dup, 0, "round %d: %d values received twice", round, dup);
		cr_assert_eq(lost, 0, "round %d: %d values lost", round, lost);
		for (int k = 0; k < MP_CH; k++) {
			cr_assert_eq(chan_len(m.c[k]), 0);
			unref(m.c[k]);
		}
		free(m.seen);
	}
}

/* ---- deadline racing a counterpart --------------------------------------------- */

struct timed_sender {
	tu_barrier_t *bar;
	chan_t *c;
	int64_t deadline; /* relative: ns after the barrier */
	int v, rc;
};

static void *timed_sender_run(void *p)
{
	struct timed_sender *s = p;
	tu_barrier_wait(s->bar);
	s->rc = chan_send_until(s->c, &s->v, chan_now() + s->deadline);
	return NULL;
}

struct timed_selector {
	tu_barrier_t *bar;
	chan_t *c, *idle;
	int64_t deadline; /* relative: ns after the barrier */
	int v, rc;
	bool ok;
};

static void *timed_selector_run(void *p)
{
	struct timed_selector *s = p;
	tu_barrier_wait(s->bar);
	s->rc = CHAN_SELECT(chan_now() + s->deadline, CHAN_RECV(s->idle, NULL, NULL),
			    CHAN_RECV(s->c, &s->v, &s->ok));
	return NULL;
}

Test(select_claim, deadline_races_counterpart, .timeout = 120)
{
	/* Both sides give up at about the same instant.  Whatever happens,
	 * they agree: the sender delivered iff the select received. */
	int delivered = 0, timedout = 0;
	for (int it = 0; it < 1500; it++) {
		chan_t *c = mk(sizeof(int), 0), *idle = mk(sizeof(int), 0);
		tu_barrier_t bar;
		tu_barrier_init(&bar, 2);
		/* deadlines a few microseconds after the barrier: about the
		 * time a handoff takes, so every interleaving shows up */
		int64_t base = (it % 7) * 1000;
		int64_t jitter = (it % 11) * 1000;
		struct timed_sender s = {&bar, c, base + (it % 3 == 0 ? MS : jitter), it, -1};
		struct timed_selector sel = {&bar, c, idle, base, -1, -1, false};
		tu_go_t t1 = tu_spawn(timed_sender_run, &s),
			t2 = tu_spawn(timed_selector_run, &sel);
		tu_join(t1);
		tu_join(t2);
		tu_barrier_destroy(&bar);
		if (s.rc == 0) {
			cr_assert_eq(sel.rc, 1, "it %d: sender delivered, select returned %d", it,
				     sel.rc);
			cr_assert(sel.ok);
			cr_assert_eq(sel.v, it);
			delivered++;
		} else {
			cr_assert_eq(s.rc, ETIMEDOUT);
			cr_assert_eq(sel.rc, CHAN_TIMEOUT,
				     "it %d: sender timed out, select returned %d", it, sel.rc);
			cr_assert_eq(sel.v, -1);
			timedout++;
		}
		/* nothing queued is left behind */
		int x = 0;
		cr_assert_eq(chan_try_send(c, &x), EAGAIN);
		cr_assert_eq(chan_try_recv(c, &x, NULL), EAGAIN);
		unref(c);
		unref(idle);
	}
	/* both outcomes must be reachable, or the race was not exercised */
	cr_assert_gt(delivered, 0);
	cr_assert_gt(timedout, 0);
}

struct timed_recver {
	tu_barrier_t *bar;
	chan_t *c;
	int64_t deadline; /* relative: ns after the barrier */
	int v, rc;
};

static void *timed_recver_run(void *p)
{
	struct timed_recver *r = p;
	tu_barrier_wait(r->bar);
	r->rc = chan_recv_until(r->c, &r->v, NULL, chan_now() + r->deadline);
	return NULL;
}

struct timed_send_selector {
	tu_barrier_t *bar;
	chan_t *c, *idle;
	int64_t deadline; /* relative: ns after the barrier */
	int v, rc;
};

static void *timed_send_selector_run(void *p)
{
	struct timed_send_selector *s = p;
	tu_barrier_wait(s->bar);
	int other = -7;
	s->rc = CHAN_SELECT(chan_now() + s->deadline, CHAN_SEND(s->c, &s->v, NULL),
			    CHAN_SEND(s->idle, &other, NULL));
	return NULL;
}

Test(select_claim, deadline_races_counterpart_send_side, .timeout = 120)
{
	int delivered = 0;
	for (int it = 0; it < 1500; it++) {
		chan_t *c = mk(sizeof(int), 0), *idle = mk(sizeof(int), 0);
		tu_barrier_t bar;
		tu_barrier_init(&bar, 2);
		int64_t base = (it % 7) * 1000;
		int64_t jitter = (it % 11) * 1000;
		struct timed_recver r = {&bar, c, base + (it % 3 == 0 ? MS : jitter), -1, -1};
		struct timed_send_selector s = {&bar, c, idle, base, it, -1};
		tu_go_t t1 = tu_spawn(timed_recver_run, &r),
			t2 = tu_spawn(timed_send_selector_run, &s);
		tu_join(t1);
		tu_join(t2);
		tu_barrier_destroy(&bar);
		if (r.rc == 0) {
			cr_assert_eq(s.rc, 0, "it %d: receiver got %d, select returned %d", it, r.v,
				     s.rc);
			cr_assert_eq(r.v, it);
			delivered++;
		} else {
			cr_assert_eq(r.rc, ETIMEDOUT);
			cr_assert_eq(s.rc, CHAN_TIMEOUT,
				     "it %d: receiver timed out, select returned %d", it, s.rc);
		}
		int x = 0;
		cr_assert_eq(chan_try_send(c, &x), EAGAIN);
		cr_assert_eq(chan_try_recv(c, &x, NULL), EAGAIN);
		cr_assert_eq(chan_try_recv(idle, &x, NULL), EAGAIN);
		unref(c);
		unref(idle);
	}
	cr_assert_gt(delivered, 0);
}

/* ---- close wakes parked selects --------------------------------------------------- */

Test(select_claim, close_wakes_every_parked_select, .timeout = 60)
{
	enum {
		T = 4
	};
	for (int it = 0; it < 50; it++) {
		chan_t *a = mk(sizeof(int), it % 2), *b = mk(sizeof(int), 0),
		       *c = mk(sizeof(int), 0);
		int full = 3;
		if (it % 2)
			cr_assert_eq(chan_send(a, &full), 0); /* a full: its send cases block */
		struct selt st[T];
		chan_case_t cs[T][3];
		int got[T], sv[T];
		bool oka[T], okb[T];
		tu_go_t t[T];
		for (int i = 0; i < T; i++) {
			got[i] = -1;
			sv[i] = i;
			oka[i] = okb[i] = true;
			/* half of them wait to send on a, half to receive on b; all on c */
			cs[i][0] = i % 2 ? CHAN_SEND(a, &sv[i], &oka[i])
					 : CHAN_RECV(b, &got[i], &okb[i]);
			cs[i][1] = CHAN_RECV(c, &got[i], NULL);
			cs[i][2] = i % 2 ? CHAN_RECV(b, &got[i], &okb[i])
					 : CHAN_SEND(a, &sv[i], &oka[i]);
			st[i] = (struct selt){.cs = cs[i], .n = 3, .deadline = CHAN_FOREVER};
			t[i] = tu_spawn(sel_run, &st[i]);
		}
		for (int i = 0; i < T; i++)
			wait_parked(&st[i].blk);
		/* close a: every select's send case on a fires with ok == false */
		cr_assert_eq(chan_close(a), 0);
		for (int i = 0; i < T; i++) {
			tu_join(t[i]);
			int want = i % 2 ? 0 : 2;
			cr_assert_eq(st[i].rc, want, "select %d returned %d, want %d", i, st[i].rc,
				     want);
			cr_assert(!oka[i]);
			cr_assert(okb[i], "select %d: its receive case reported", i);
			cr_assert_eq(got[i], -1);
		}
		cr_assert_eq(chan_len(a), (size_t)(it % 2), "a send woken by close delivered");
		/* no waiter is left on b or c */
		int x = 0;
		cr_assert_eq(chan_try_send(b, &x), EAGAIN);
		cr_assert_eq(chan_try_send(c, &x), EAGAIN);
		unref(a);
		unref(b);
		unref(c);
	}
}

/* ---- no stale waiters after return --------------------------------------------------- */

/*
 * After a select returns, the channels of its other cases hold nothing of
 * it: checked with try operations (EAGAIN), a timed send that must time out
 * (a stale waiter would "take" the value and lose it), a value that must
 * then reach a later real receiver, and chan_unref of the last reference.
 */
static void assert_no_waiters(chan_t *recv_side, chan_t *send_side)
{
	int x = 12345;
	if (recv_side) {
		cr_assert_eq(chan_try_send(recv_side, &x), EAGAIN, "stale receive waiter");
		cr_assert_eq(chan_send_until(recv_side, &x, chan_deadline_in(1 * MS)), ETIMEDOUT,
			     "a timed send was taken by a stale waiter");
	}
	if (send_side) {
		cr_assert_eq(chan_try_recv(send_side, &x, NULL), EAGAIN, "stale send waiter");
		cr_assert_eq(chan_recv_until(send_side, &x, NULL, chan_deadline_in(1 * MS)),
			     ETIMEDOUT);
	}
}

Test(select_claim, no_stale_waiters_after_fire, .timeout = 60)
{
	for (int it = 0; it < 100; it++) {
		/* r1, r2 receive cases (r2 twice); s1 a send case; f fires */
		chan_t *r1 = mk(sizeof(int), 0), *r2 = mk(sizeof(int), 0), *s1 = mk(sizeof(int), 0),
		       *f = mk(sizeof(int), 0);
		int got = -1, sv = 5;
		bool fire_by_send = it % 2;
		chan_case_t cs[] = {CHAN_RECV(r1, &got, NULL), CHAN_RECV(r2, &got, NULL),
				    CHAN_SEND(s1, &sv, NULL), CHAN_RECV(r2, &got, NULL),
				    fire_by_send ? CHAN_RECV(f, &got, NULL)
						 : CHAN_SEND(f, &sv, NULL)};
		struct selt st = {.cs = cs, .n = 5, .deadline = CHAN_FOREVER};
		tu_go_t t = tu_spawn(sel_run, &st);
		wait_parked(&st.blk);
		int x = 99;
		if (fire_by_send)
			cr_assert_eq(chan_send(f, &x), 0);
		else
			cr_assert_eq(chan_recv(f, &x, NULL), 0);
		tu_join(t);
		cr_assert_eq(st.rc, 4);
		cr_assert_eq(fire_by_send ? got : x, fire_by_send ? 99 : 5);
		assert_no_waiters(r1, s1);
		assert_no_waiters(r2, f);
		/* a value offered now goes to a real receiver, not to a ghost */
		struct selt rs;
		int rv = -1;
		chan_case_t rcs[] = {CHAN_RECV(r2, &rv, NULL), CHAN_RECV(NULL, NULL, NULL)};
		rs = (struct selt){.cs = rcs, .n = 2, .deadline = CHAN_FOREVER};
		tu_go_t t2 = tu_spawn(sel_run, &rs);
		wait_parked(&rs.blk);
		int y = 777;
		cr_assert_eq(chan_send(r2, &y), 0);
		tu_join(t2);
		cr_assert_eq(rv, 777);
		unref(r1);
		unref(r2);
		unref(s1);
		unref(f);
	}
}

Test(select_claim, no_stale_waiters_after_timeout, .timeout = 60)
{
	for (int it = 0; it < 20; it++) {
		chan_t *r1 = mk(sizeof(int), 0), *s1 = mk(sizeof(int), 0), *s2 = mk(sizeof(int), 1);
		int got = -1, sv = 5, full = 1;
		cr_assert_eq(chan_send(s2, &full), 0);
		chan_case_t cs[] = {CHAN_RECV(r1, &got, NULL), CHAN_SEND(s1, &sv, NULL),
				    CHAN_SEND(s2, &sv, NULL), CHAN_RECV(r1, &got, NULL)};
		cr_assert_eq(chan_select(cs, 4, chan_now() + 5 * MS), CHAN_TIMEOUT);
		assert_no_waiters(r1, s1);
		/* s2 still holds exactly its one value */
		int v = 0;
		cr_assert_eq(chan_try_recv(s2, &v, NULL), 0);
		cr_assert_eq(v, 1);
		cr_assert_eq(chan_try_recv(s2, &v, NULL), EAGAIN);
		unref(r1);
		unref(s1);
		unref(s2);
	}
}

Test(select_claim, no_stale_waiters_after_close, .timeout = 60)
{
	for (int it = 0; it < 100; it++) {
		chan_t *r1 = mk(sizeof(int), 0), *s1 = mk(sizeof(int), 0),
		       *victim = mk(sizeof(int), 0);
		int got = -1, sv = 5;
		bool ok = true;
		chan_case_t cs[] = {CHAN_RECV(r1, &got, NULL), CHAN_SEND(s1, &sv, NULL),
				    CHAN_RECV(victim, &got, &ok), CHAN_RECV(r1, &got, NULL)};
		struct selt st = {.cs = cs, .n = 4, .deadline = CHAN_FOREVER};
		tu_go_t t = tu_spawn(sel_run, &st);
		wait_parked(&st.blk);
		cr_assert_eq(chan_close(victim), 0);
		tu_join(t);
		cr_assert_eq(st.rc, 2);
		cr_assert(!ok);
		assert_no_waiters(r1, s1);
		unref(r1);
		unref(s1);
		unref(victim);
	}
}

Test(select_claim, unref_after_select_is_not_ebusy, .timeout = 60)
{
	/* The select's thread held its own references; once it has returned
	 * (any way), dropping the last reference frees the channel at once. */
	for (int it = 0; it < 300; it++) {
		chan_t *a = mk(sizeof(int), 0), *b = mk(sizeof(int), 0), *c = mk(sizeof(int), 1);
		int got = -1, sv = 1, full = 2;
		cr_assert_eq(chan_send(c, &full), 0);
		chan_case_t cs[] = {CHAN_RECV(a, &got, NULL), CHAN_SEND(c, &sv, NULL),
				    CHAN_RECV(b, &got, NULL), CHAN_SEND(b, &sv, NULL)};
		int mode = it % 3;
		struct selt st = {.cs = cs,
				  .n = 4,
				  .deadline = mode == 2 ? chan_now() + 2 * MS : CHAN_FOREVER};
		chan_ref(a);
		chan_ref(b);
		chan_ref(c);
		tu_go_t t = tu_spawn(sel_run, &st);
		if (mode == 0) {
			int x = 4;
			cr_assert_eq(chan_send(a, &x), 0);
		} else if (mode == 1) {
			cr_assert_eq(chan_close(a), 0);
		}
		tu_join(t);
		cr_assert_eq(st.rc, mode == 2 ? CHAN_TIMEOUT : 0, "mode %d: select returned %d",
			     mode, st.rc);
		/* the select's references (taken for it above) go first */
		cr_assert_eq(chan_unref(a), 0);
		cr_assert_eq(chan_unref(b), 0);
		cr_assert_eq(chan_unref(c), 0);
		/* then the last ones: EBUSY here would mean a stale waiter */
		unref(b);
		unref(c);
		unref(a);
	}
}

/* ---- happens-before through a select ---------------------------------------------------- */

struct hb {
	chan_t *c, *idle;
	int rc;
};

static void *hb_send(void *p)
{
	struct hb *h = p;
	for (int i = 0; i < 2000; i++) {
		/* plain (non-atomic) writes published by the send */
		int *payload = malloc(4 * sizeof *payload);
		if (!payload)
			abort();
		for (int k = 0; k < 4; k++)
			payload[k] = i * 4 + k;
		if (CHAN_SELECT(CHAN_FOREVER, CHAN_SEND(h->c, &payload, NULL),
				CHAN_RECV(h->idle, NULL, NULL)) != 0)
			h->rc++;
	}
	return NULL;
}

Test(select_claim, value_visible_after_select_recv, .timeout = 60)
{
	size_t caps[] = {0, 1, 8};
	for (size_t k = 0; k < 3; k++) {
		struct hb h = {mk(sizeof(int *), caps[k]), mk(0, 0), 0};
		tu_go_t t = tu_spawn(hb_send, &h);
		int bad = 0;
		for (int i = 0; i < 2000; i++) {
			int *p = NULL;
			int r = CHAN_SELECT(CHAN_FOREVER, CHAN_RECV(h.idle, NULL, NULL),
					    CHAN_RECV(h.c, &p, NULL));
			cr_assert_eq(r, 1);
			for (int j = 0; j < 4; j++)
				bad += p[j] != i * 4 + j;
			free(p);
		}
		tu_join(t);
		cr_assert_eq(bad, 0);
		cr_assert_eq(h.rc, 0);
		unref(h.c);
		unref(h.idle);
	}
}

/*
 * tests/test_select_go.c - ports of Go's select tests.
 *
 *   test/chan: select.go, select3.go (the block/panic matrix), select6.go,
 *              select7.go, doubleselect.go, sieve2.go
 *   runtime/chan_test.go: TestSelfSelect, TestSelectStress,
 *              TestSelectFairness, TestPseudoRandomSend,
 *              TestNonblockSelectRace, TestNonblockSelectRace2,
 *              TestSelectDuplicateChannel
 *
 * Translation rules: Go's "panic: send on closed channel" in a select is a
 * send case that fires with ok == false; "blocks" is a select whose short
 * deadline (SHORT_NS) runs out with CHAN_TIMEOUT; "does not block" is a
 * select with a long deadline that returns a case index.  Goroutines are
 * threads that are always joined; where Go sleeps to let a goroutine block,
 * we wait until the thread is really parked (testutil.h's tu_wait_blocked).
 * Results from threads are stored in their argument structs and asserted
 * after the join.
 */
#include <criterion/criterion.h>
#include <gochan/chan.h>
#include <gochan/select.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test_chan_util.h"
#include "tests/leakcheck.h"
#include "tests/test_bubble_util.h"

TB_SUITE(select_go);

/* ====================================================================== */
/* test/chan/select.go                                                    */
/* ====================================================================== */

static unsigned counter, shift;

static unsigned get_value(void)
{
	counter++;
	return 1u << shift;
}

/* Go evaluates both send values (even for nil channels) on every entry. */
static int send_ab(chan_t *a, chan_t *b)
{
	int i = 0;
	for (;;) {
		unsigned va = get_value(), vb = get_value();
		int r = CHAN_SELECT(CHAN_NOWAIT, CHAN_SEND(a, &va, NULL), CHAN_SEND(b, &vb, NULL));
		if (r == 0) {
			i++;
			a = NULL;
		} else if (r == 1) {
			i++;
			b = NULL;
		} else if (r == CHAN_DEFAULT) {
			break;
		} else {
			return -1000 + r;
		}
		shift++;
	}
	return i;
}

TB_TEST(select_go, select_go, .timeout = 10)
{
	counter = shift = 0;
	chan_t *a = mk(sizeof(unsigned), 1), *b = mk(sizeof(unsigned), 1);
	cr_assert_eq(send_ab(a, b), 2);
	unsigned av = 0, bv = 0;
	cr_assert_eq(chan_recv(a, &av, NULL), 0);
	cr_assert_eq(chan_recv(b, &bv, NULL), 0);
	cr_assert_eq(av | bv, 3u, "bad values %u %u", av, bv);
	cr_assert_eq(send_ab(a, NULL), 1);
	cr_assert_eq(counter, 10u);
	unref(a);
	unref(b);
}

/* ====================================================================== */
/* test/chan/select3.go                                                   */
/* ====================================================================== */

/* "blocks": the select must still be waiting when a short deadline passes. */
static void must_block(chan_case_t *cs, size_t n, const char *what)
{
	int64_t dl = chan_now() + SHORT_NS;
	int r = chan_select(cs, n, dl);
	cr_assert_eq(r, CHAN_TIMEOUT, "%s: did not block (returned %d)", what, r);
	cr_assert_geq(chan_now(), dl, "%s: timed out early", what);
	TB_EXACT(chan_now(), dl); /* in a bubble: timed out exactly then */
}

/* "never blocks": returns case @want well before a long deadline. */
static void must_not_block(chan_case_t *cs, size_t n, int want, const char *what)
{
	int64_t start = chan_now();
	int r = chan_select(cs, n, start + LONG_NS);
	cr_assert_eq(r, want, "%s: returned %d, want %d", what, r, want);
	cr_assert_lt(chan_now() - start, LONG_NS / 2, "%s: blocked", what);
	TB_EXACT(chan_now(), start); /* in a bubble: no time passed at all */
}

TB_TEST(select_go, select3_nil_channels, .timeout = 10)
{
	int seven = 7, x = -1;
	/* sending/receiving from a nil channel blocks */
	chan_case_t s[] = {CHAN_SEND(NULL, &seven, NULL)};
	chan_case_t r[] = {CHAN_RECV(NULL, &x, NULL)};
	must_block(s, 1, "nilch <- 7");
	must_block(r, 1, "<-nilch");
	/* ... and inside a select with default is never selected */
	cr_assert_eq(chan_select(s, 1, CHAN_NOWAIT), CHAN_DEFAULT);
	cr_assert_eq(chan_select(r, 1, CHAN_NOWAIT), CHAN_DEFAULT);
	/* selects with only nil channels always block */
	chan_case_t both[] = {CHAN_RECV(NULL, &x, NULL), CHAN_SEND(NULL, &seven, NULL)};
	must_block(both, 2, "select { <-nilch; nilch <- 7 }");
	/* empty selects always block */
	must_block(NULL, 0, "select {}");
	/* selects with default don't block */
	cr_assert_eq(chan_select(NULL, 0, CHAN_NOWAIT), CHAN_DEFAULT);
	cr_assert_eq(chan_select(both, 2, CHAN_NOWAIT), CHAN_DEFAULT);
	cr_assert_eq(x, -1);
}

TB_TEST(select_go, select3_async_and_closed, .timeout = 10)
{
	chan_t *closedch = mk(sizeof(int), 0);
	cr_assert_eq(chan_close(closedch), 0);
	int seven = 7;

	/* sending to an async channel with free buffer space never blocks */
	chan_t *ch = mk(sizeof(int), 1);
	chan_case_t s[] = {CHAN_SEND(ch, &seven, NULL)};
	must_not_block(s, 1, 0, "ch <- 7 (async)");
	unref(ch);

	/* receiving from a closed channel never blocks */
	for (int i = 0; i < 10; i++) {
		int x = -1;
		bool ok = true;
		chan_case_t r1[] = {CHAN_RECV(closedch, &x, NULL)};
		must_not_block(r1, 1, 0, "<-closedch");
		cr_assert_eq(x, 0, "expected zero value when reading from closed channel");
		x = -1;
		chan_case_t r2[] = {CHAN_RECV(closedch, &x, &ok)};
		must_not_block(r2, 1, 0, "x, ok := <-closedch");
		cr_assert(x == 0 && !ok, "closedch: %d %d", x, ok);
	}

	/* sending to a closed channel "panics" (ok == false, not sent) */
	cr_assert_eq(chan_send(closedch, &seven), EPIPE);
	bool ok = true;
	chan_case_t sc[] = {CHAN_SEND(closedch, &seven, &ok)};
	must_not_block(sc, 1, 0, "select { closedch <- 7 }");
	cr_assert(!ok, "send to closed channel in select did not \"panic\"");
	/* the same with a second, idle case: still chosen, still not sent */
	chan_t *idle = mk(sizeof(int), 0);
	ok = true;
	chan_case_t sc2[] = {CHAN_RECV(idle, NULL, NULL), CHAN_SEND(closedch, &seven, &ok)};
	must_not_block(sc2, 2, 1, "select { <-idle; closedch <- 7 }");
	cr_assert(!ok);

	/* selects with closed channels behave like ordinary operations */
	int x = -1;
	chan_case_t rc[] = {CHAN_RECV(closedch, &x, &ok), CHAN_RECV(idle, NULL, NULL)};
	must_not_block(rc, 2, 0, "select { x, ok := <-closedch }");
	cr_assert(x == 0 && !ok);
	unref(idle);
	unref(closedch);
}

TB_TEST(select_go, select3_ready_and_not_ready, .timeout = 10)
{
	int seven = 7, x = -1;
	/* receiving from a non-ready channel always blocks */
	chan_t *ch = mk(sizeof(int), 0);
	chan_case_t r[] = {CHAN_RECV(ch, &x, NULL)};
	must_block(r, 1, "<-ch");
	/* selects with non-ready non-nil channels always block */
	chan_case_t r2[] = {CHAN_RECV(ch, &x, NULL), CHAN_RECV(NULL, &x, NULL)};
	must_block(r2, 2, "select { <-ch }");
	unref(ch);

	/* selects with ready channels don't block */
	ch = mk(sizeof(int), 1);
	chan_case_t s[] = {CHAN_SEND(ch, &seven, NULL)};
	cr_assert_eq(chan_select(s, 1, CHAN_NOWAIT), 0);
	chan_case_t rr[] = {CHAN_RECV(ch, &x, NULL)};
	cr_assert_eq(chan_select(rr, 1, CHAN_NOWAIT), 0);
	cr_assert_eq(x, 7);
	unref(ch);
}

TB_TEST(select_go, select3_does_not_see_itself, .timeout = 10)
{
	/* select should not get confused if it sees itself */
	for (int i = 0; i < 5; i++) {
		chan_t *c = mk(sizeof(int), 0);
		int one = 1, x = -1;
		chan_case_t cs[] = {CHAN_SEND(c, &one, NULL), CHAN_RECV(c, &x, NULL)};
		must_block(cs, 2, "select { c <- 1; <-c }");
		cr_assert_eq(x, -1);
		cr_assert_eq(chan_select(cs, 2, CHAN_NOWAIT), CHAN_DEFAULT);
		unref(c);
	}
}

/* ====================================================================== */
/* test/chan/select6.go: issue 2075, failed cases corrupting queues       */
/* ====================================================================== */

struct s6 {
	chan_t *c1, *c2, *c3;
	int err;
};

static void *s6_recv_c1(void *p)
{
	struct s6 *a = p;
	bool ok;
	if (chan_recv(a->c1, NULL, &ok) || !ok)
		a->err++;
	return NULL;
}

static void *s6_selector(void *p)
{
	struct s6 *a = p;
	bool t = true, ok;
	int r = CHAN_SELECT(CHAN_FOREVER, CHAN_RECV(a->c1, NULL, NULL),
			    CHAN_RECV(a->c2, NULL, NULL));
	if (r != 1) { /* Go: panic("dummy") */
		a->err += 100;
		return NULL;
	}
	if (chan_send(a->c3, &t))
		a->err++;
	if (chan_recv(a->c1, NULL, &ok) || !ok)
		a->err++;
	return NULL;
}

static void *s6_send_c2(void *p)
{
	struct s6 *a = p;
	bool t = true;
	if (chan_send(a->c2, &t))
		a->err++;
	return NULL;
}

Test(select_go, select6_issue2075, .timeout = 30)
{
	for (int it = 0; it < 500; it++) {
		struct s6 a = {mk(sizeof(bool), 0), mk(sizeof(bool), 0), mk(sizeof(bool), 0), 0};
		tu_go_t t1 = tu_spawn(s6_recv_c1, &a);
		tu_go_t t2 = tu_spawn(s6_selector, &a);
		tu_go_t t3 = tu_spawn(s6_send_c2, &a);
		bool v = true;
		cr_assert_eq(chan_recv(a.c3, &v, NULL), 0);
		cr_assert_eq(chan_send(a.c1, &v), 0);
		cr_assert_eq(chan_send(a.c1, &v), 0);
		tu_join(t1);
		tu_join(t2);
		tu_join(t3);
		cr_assert_eq(a.err, 0, "iteration %d: err %d", it, a.err);
		unref(a.c1);
		unref(a.c2);
		unref(a.c3);
	}
}

/* ====================================================================== */
/* test/chan/select7.go: select when discarding a value                   */
/* ====================================================================== */

struct s7 {
	chan_t *c;
	int kind;
	int err;
};

static void *s7_recv(void *p)
{
	struct s7 *a = p;
	switch (a->kind) {
	case 1: /* <-c */
		if (chan_recv(a->c, NULL, NULL))
			a->err++;
		break;
	case 2: { /* select { case <-c: } */
		chan_case_t cs[] = {CHAN_RECV(a->c, NULL, NULL)};
		if (chan_select(cs, 1, CHAN_FOREVER) != 0)
			a->err++;
		break;
	}
	default: { /* select { case <-c: case <-c2: } */
		chan_t *c2 = chan_new(sizeof(int), 0);
		if (!c2 || CHAN_SELECT(CHAN_FOREVER, CHAN_RECV(a->c, NULL, NULL),
				       CHAN_RECV(c2, NULL, NULL)) != 0)
			a->err++;
		if (chan_unref(c2))
			a->err++;
		break;
	}
	}
	return NULL;
}

static void s7_send(int send_kind, int recv_kind)
{
	struct s7 a = {mk(sizeof(int), 0), recv_kind, 0};
	tu_go_t t = tu_spawn(s7_recv, &a);
	tu_yield(); /* Go's runtime.Gosched(): a perturbation, not synchronisation */
	int one = 1;
	if (send_kind == 1) {
		cr_assert_eq(chan_send(a.c, &one), 0);
	} else if (send_kind == 2) {
		chan_case_t cs[] = {CHAN_SEND(a.c, &one, NULL)};
		cr_assert_eq(chan_select(cs, 1, CHAN_FOREVER), 0);
	} else {
		chan_t *c2 = mk(sizeof(int), 0);
		cr_assert_eq(CHAN_SELECT(CHAN_FOREVER, CHAN_SEND(a.c, &one, NULL),
					 CHAN_SEND(c2, &one, NULL)),
			     0);
		unref(c2);
	}
	tu_join(t);
	cr_assert_eq(a.err, 0, "send%d(recv%d)", send_kind, recv_kind);
	unref(a.c);
}

Test(select_go, select7_discarding_values, .timeout = 30)
{
	for (int it = 0; it < 300; it++)
		for (int r = 1; r <= 3; r++)
			for (int s = 1; s <= 3; s++)
				s7_send(s, r);
}

/* ====================================================================== */
/* test/chan/doubleselect.go: two cases of one select must never both run */
/* ====================================================================== */

struct ds_sender {
	chan_t *c[4];
	int n;
	int err;
};

static void *ds_sender(void *p)
{
	struct ds_sender *a = p;
	for (int i = 0; i < a->n; i++) {
		bool ok[4] = {false, false, false, false};
		int r = CHAN_SELECT(CHAN_FOREVER, CHAN_SEND(a->c[0], &i, &ok[0]),
				    CHAN_SEND(a->c[1], &i, &ok[1]), CHAN_SEND(a->c[2], &i, &ok[2]),
				    CHAN_SEND(a->c[3], &i, &ok[3]));
		if (r < 0 || r > 3 || !ok[r])
			a->err++;
	}
	for (int k = 0; k < 4; k++)
		if (chan_close(a->c[k]))
			a->err++;
	return NULL;
}

struct ds_mux {
	chan_t *out, *in, *done;
	int err;
};

static void *ds_mux(void *p)
{
	struct ds_mux *a = p;
	int v;
	CHAN_RANGE(a->in, &v) {
		if (chan_send(a->out, &v))
			a->err++;
	}
	bool t = true;
	if (chan_send(a->done, &t))
		a->err++;
	return NULL;
}

struct ds_closer {
	chan_t *done, *cmux;
	int err;
};

static void *ds_closer(void *p)
{
	struct ds_closer *a = p;
	for (int i = 0; i < 4; i++)
		if (chan_recv(a->done, NULL, NULL))
			a->err++;
	if (chan_close(a->cmux))
		a->err++;
	return NULL;
}

Test(select_go, doubleselect, .timeout = 60)
{
	enum {
		N = 30000
	};
	struct ds_sender s = {.n = N};
	for (int k = 0; k < 4; k++)
		s.c[k] = mk(sizeof(int), 0);
	chan_t *done = mk(sizeof(bool), 0), *cmux = mk(sizeof(int), 0);
	struct ds_mux m[4];
	tu_go_t tm[4];
	tu_go_t ts = tu_spawn(ds_sender, &s);
	for (int k = 0; k < 4; k++) {
		m[k] = (struct ds_mux){cmux, s.c[k], done, 0};
		tm[k] = tu_spawn(ds_mux, &m[k]);
	}
	struct ds_closer cl = {done, cmux, 0};
	tu_go_t tc = tu_spawn(ds_closer, &cl);

	unsigned char *seen = calloc(N, 1);
	cr_assert_not_null(seen);
	int v, dup = -1, bad = -1, total = 0;
	CHAN_RANGE(cmux, &v) {
		if (v < 0 || v >= N)
			bad = v;
		else if (seen[v]++)
			dup = v;
		total++;
	}
	tu_join(ts);
	for (int k = 0; k < 4; k++)
		tu_join(tm[k]);
	tu_join(tc);
	cr_assert_eq(bad, -1, "got out-of-range value %d", bad);
	cr_assert_eq(dup, -1, "got duplicate value: %d", dup);
	cr_assert_eq(total, N, "got %d values, want %d (lost some)", total, N);
	cr_assert_eq(s.err + cl.err + m[0].err + m[1].err + m[2].err + m[3].err, 0);
	free(seen);
	for (int k = 0; k < 4; k++)
		unref(s.c[k]);
	unref(done);
	unref(cmux);
}

/* ====================================================================== */
/* test/chan/sieve2.go: prime sieve with a select-based expanding proxy   */
/* ====================================================================== */

/*
 * Every goroutine of the Go program loops forever; here each blocking step
 * is a select that also waits on `quit`, which the test closes at the end so
 * that every thread returns and is joined.  Threads that start other threads
 * join them (and drop their channels) before returning.
 */

struct sv {
	chan_t *quit;
	atomic_int err;
};

static bool sv_send(struct sv *g, chan_t *c, int v)
{
	return CHAN_SELECT(CHAN_FOREVER, CHAN_SEND(c, &v, NULL), CHAN_RECV(g->quit, NULL, NULL)) ==
	       0;
}

static bool sv_recv(struct sv *g, chan_t *c, int *v)
{
	bool ok = false;
	int r = CHAN_SELECT(CHAN_FOREVER, CHAN_RECV(c, v, &ok), CHAN_RECV(g->quit, NULL, NULL));
	if (r == 0 && !ok)
		atomic_fetch_add_explicit(&g->err, 1, memory_order_relaxed);
	return r == 0 && ok;
}

struct sv_gen { /* odds() and multiples(p): out <- n; n += step */
	struct sv *g;
	chan_t *out;
	int n, step;
	tu_go_t th;
};

static void *sv_gen_run(void *p)
{
	struct sv_gen *a = p;
	for (int n = a->n; sv_send(a->g, a->out, n); n += a->step)
		;
	return NULL;
}

static struct sv_gen *sv_gen_start(struct sv *g, size_t cap, int n, int step)
{
	struct sv_gen *a = malloc(sizeof *a);
	if (!a)
		abort();
	*a = (struct sv_gen){.g = g, .out = chan_new(sizeof(int), cap), .n = n, .step = step};
	if (!a->out)
		abort();
	a->th = tu_spawn(sv_gen_run, a);
	return a;
}

static void sv_gen_stop(struct sv_gen *a) /* after quit is closed */
{
	tu_join(a->th);
	if (chan_unref(a->out))
		abort();
	free(a);
}

struct sv_proxy { /* sendproxy(out): an unbounded buffer in front of out */
	struct sv *g;
	chan_t *proxy, *out;
	tu_go_t th;
};

static void *sv_proxy_run(void *p)
{
	struct sv_proxy *a = p;
	size_t cap = 16, head = 0, n = 0;
	int *ring = malloc(cap * sizeof *ring);
	if (!ring)
		abort();
	for (;;) {
		int in = 0, e = n ? ring[head] : 0;
		/* buffer empty: disable output (a nil channel case) */
		chan_t *c = n ? a->out : NULL;
		int r = CHAN_SELECT(CHAN_FOREVER, CHAN_RECV(a->proxy, &in, NULL),
				    CHAN_SEND(c, &e, NULL), CHAN_RECV(a->g->quit, NULL, NULL));
		if (r == 0) {
			if (n == cap) { /* buffer full: expand it */
				int *bigger = malloc(2 * cap * sizeof *bigger);
				if (!bigger)
					abort();
				for (size_t i = 0; i < n; i++)
					bigger[i] = ring[(head + i) % cap];
				free(ring);
				ring = bigger;
				head = 0;
				cap *= 2;
			}
			ring[(head + n++) % cap] = in;
		} else if (r == 1) {
			head = (head + 1) % cap;
			n--;
		} else {
			break;
		}
	}
	free(ring);
	return NULL;
}

struct peek {
	int head;
	struct sv_gen *gen;
};

struct sv_merger {
	struct sv *g;
	chan_t *primes, *composites;
	struct peek h[256]; /* min-heap by head */
	int nh;
	struct sv_gen *gens[256];
	int ngens;
};

static void heap_push(struct sv_merger *m, struct peek x)
{
	if (m->nh == 256)
		abort();
	int i = m->nh++;
	while (i > 0 && m->h[(i - 1) / 2].head > x.head) {
		m->h[i] = m->h[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	m->h[i] = x;
}

static struct peek heap_pop(struct sv_merger *m)
{
	struct peek top = m->h[0], x = m->h[--m->nh];
	int i = 0;
	for (;;) {
		int c = 2 * i + 1;
		if (c >= m->nh)
			break;
		if (c + 1 < m->nh && m->h[c + 1].head < m->h[c].head)
			c++;
		if (m->h[c].head >= x.head)
			break;
		m->h[i] = m->h[c];
		i = c;
	}
	if (m->nh)
		m->h[i] = x;
	return top;
}

/* Merge the channels of multiples of `primes` into `composites`. */
static void *sv_merger_run(void *p)
{
	struct sv_merger *m = p;
	struct sv *g = m->g;
	int min = 15, prime;
	while (sv_recv(g, m->primes, &prime)) {
		if (m->ngens == 256)
			abort();
		struct sv_gen *mul = sv_gen_start(g, 10, prime * prime, 2 * prime);
		m->gens[m->ngens++] = mul;
		int head;
		if (!sv_recv(g, mul->out, &head))
			goto out;
		while (min < head) {
			if (!sv_send(g, m->composites, min))
				goto out;
			struct peek mc = heap_pop(m);
			min = mc.head;
			if (!sv_recv(g, mc.gen->out, &mc.head))
				goto out;
			heap_push(m, mc);
		}
		while (min == head) {
			struct peek mc = heap_pop(m);
			min = mc.head;
			if (!sv_recv(g, mc.gen->out, &mc.head))
				goto out;
			heap_push(m, mc);
		}
		if (!sv_send(g, m->composites, head))
			goto out;
		struct peek np = {0, mul};
		if (!sv_recv(g, mul->out, &np.head))
			goto out;
		heap_push(m, np);
	}
out:
	for (int i = 0; i < m->ngens; i++)
		sv_gen_stop(m->gens[i]);
	return NULL;
}

struct sv_sifter {
	struct sv *g;
	chan_t *primes, *composites, *out;
};

/* Sieve out `composites` from the odd candidates. */
static void *sv_sifter_run(void *p)
{
	struct sv_sifter *s = p;
	struct sv *g = s->g;
	struct sv_proxy px = {.g = g, .proxy = chan_new(sizeof(int), 10), .out = s->primes};
	if (!px.proxy)
		abort();
	px.th = tu_spawn(sv_proxy_run, &px);
	struct sv_gen *candidates = sv_gen_start(g, 50, 5, 2);
	int pr, c;
	if (!sv_recv(g, candidates->out, &pr))
		goto out;
	while (sv_recv(g, s->composites, &c)) {
		while (pr < c) {
			if (!sv_send(g, px.proxy, pr) || !sv_send(g, s->out, pr) ||
			    !sv_recv(g, candidates->out, &pr))
				goto out;
		}
		if (pr == c && !sv_recv(g, candidates->out, &pr))
			goto out;
	}
out:
	sv_gen_stop(candidates);
	tu_join(px.th);
	if (chan_unref(px.proxy))
		abort();
	return NULL;
}

Test(select_go, sieve2, .timeout = 30)
{
	static const int want[] = {2,  3,  5,  7,  11, 13, 17, 19, 23, 29, 31, 37, 41,
				   43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97};
	for (int it = 0; it < 100; it++) {
		struct sv g = {mk(0, 0), 0};
		chan_t *out = mk(sizeof(int), 10), *composites = mk(sizeof(int), 50),
		       *primes = mk(sizeof(int), 10);
		int two = 2, three = 3;
		cr_assert_eq(chan_send(out, &two), 0);
		cr_assert_eq(chan_send(out, &three), 0);
		cr_assert_eq(chan_send(primes, &three), 0);
		struct sv_merger *m = calloc(1, sizeof *m);
		cr_assert_not_null(m);
		m->g = &g;
		m->primes = primes;
		m->composites = composites;
		struct sv_sifter s = {&g, primes, composites, out};
		tu_go_t tm = tu_spawn(sv_merger_run, m);
		tu_go_t ts = tu_spawn(sv_sifter_run, &s);
		int bad = -1, badx = 0;
		for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
			int x = 0;
			cr_assert_eq(chan_recv(out, &x, NULL), 0);
			if (x != want[i] && bad < 0) {
				bad = (int)i;
				badx = x;
			}
		}
		cr_assert_eq(chan_close(g.quit), 0);
		tu_join(tm);
		tu_join(ts);
		cr_assert_eq(bad, -1, "prime #%d: %d != %d", bad, badx, bad >= 0 ? want[bad] : 0);
		cr_assert_eq(atomic_load(&g.err), 0);
		free(m);
		unref(out);
		unref(composites);
		unref(primes);
		unref(g.quit);
	}
}

/* ====================================================================== */
/* runtime: TestSelfSelect                                                */
/* ====================================================================== */

struct self_sel {
	chan_t *c;
	int p;
	size_t cap;
	int self_recv, err;
};

static void *self_sel_run(void *arg)
{
	struct self_sel *a = arg;
	for (int i = 0; i < 1000; i++) {
		int v = -1, r;
		if (a->p == 0 || i % 2 == 0) {
			r = CHAN_SELECT(CHAN_FOREVER, CHAN_SEND(a->c, &a->p, NULL),
					CHAN_RECV(a->c, &v, NULL));
			if (r == 1 && a->cap == 0 && v == a->p)
				a->self_recv++;
		} else {
			r = CHAN_SELECT(CHAN_FOREVER, CHAN_RECV(a->c, &v, NULL),
					CHAN_SEND(a->c, &a->p, NULL));
			if (r == 0 && a->cap == 0 && v == a->p)
				a->self_recv++;
		}
		if (r != 0 && r != 1)
			a->err++;
	}
	return NULL;
}

Test(select_go, self_select, .timeout = 60)
{
	size_t caps[] = {0, 10};
	for (int rep = 0; rep < 10; rep++)
		for (size_t k = 0; k < 2; k++) {
			chan_t *c = mk(sizeof(int), caps[k]);
			struct self_sel a[2];
			tu_go_t t[2];
			for (int p = 0; p < 2; p++) {
				a[p] = (struct self_sel){c, p, caps[k], 0, 0};
				t[p] = tu_spawn(self_sel_run, &a[p]);
			}
			for (int p = 0; p < 2; p++) {
				tu_join(t[p]);
				cr_assert_eq(a[p].self_recv, 0, "self receive (cap %zu)", caps[k]);
				cr_assert_eq(a[p].err, 0);
			}
			unref(c);
		}
}

/* ====================================================================== */
/* runtime: TestSelectStress                                              */
/* ====================================================================== */

#define STRESS_N 10000

struct st_plain {
	chan_t *c;
	int send;
	int err;
};

static void *st_plain_run(void *p)
{
	struct st_plain *a = p;
	int z = 0;
	for (int i = 0; i < STRESS_N; i++)
		if (a->send ? chan_send(a->c, &z) : chan_recv(a->c, &z, NULL))
			a->err++;
	return NULL;
}

struct st_sel {
	chan_t *c[4];
	int send;
	int err;
	int n[4];
};

static void *st_sel_run(void *p)
{
	struct st_sel *a = p;
	chan_t *c1[4] = {a->c[0], a->c[1], a->c[2], a->c[3]};
	int z = 0;
	for (int i = 0; i < 4 * STRESS_N; i++) {
		int r, k;
		if (a->send) { /* Go's order: 3, 2, 0, 1 */
			static const int map[4] = {3, 2, 0, 1};
			r = CHAN_SELECT(CHAN_FOREVER, CHAN_SEND(c1[3], &z, NULL),
					CHAN_SEND(c1[2], &z, NULL), CHAN_SEND(c1[0], &z, NULL),
					CHAN_SEND(c1[1], &z, NULL));
			k = r >= 0 && r < 4 ? map[r] : -1;
		} else {
			r = CHAN_SELECT(CHAN_FOREVER, CHAN_RECV(c1[0], &z, NULL),
					CHAN_RECV(c1[1], &z, NULL), CHAN_RECV(c1[2], &z, NULL),
					CHAN_RECV(c1[3], &z, NULL));
			k = r >= 0 && r < 4 ? r : -1;
		}
		if (k < 0) {
			a->err++;
			break;
		}
		if (++a->n[k] == STRESS_N)
			c1[k] = NULL;
	}
	return NULL;
}

Test(select_go, select_stress, .timeout = 120)
{
	chan_t *c[4] = {mk(sizeof(int), 0), mk(sizeof(int), 0), mk(sizeof(int), 2),
			mk(sizeof(int), 3)};
	struct st_plain pl[8];
	tu_go_t tp[8], tss, tsr;
	struct st_sel ss = {{c[0], c[1], c[2], c[3]}, 1, 0, {0}};
	struct st_sel sr = {{c[0], c[1], c[2], c[3]}, 0, 0, {0}};
	for (int k = 0; k < 4; k++) {
		pl[2 * k] = (struct st_plain){c[k], 1, 0};
		pl[2 * k + 1] = (struct st_plain){c[k], 0, 0};
		tp[2 * k] = tu_spawn(st_plain_run, &pl[2 * k]);
		tp[2 * k + 1] = tu_spawn(st_plain_run, &pl[2 * k + 1]);
	}
	tss = tu_spawn(st_sel_run, &ss);
	tsr = tu_spawn(st_sel_run, &sr);
	for (int i = 0; i < 8; i++)
		tu_join(tp[i]);
	tu_join(tss);
	tu_join(tsr);
	for (int i = 0; i < 8; i++)
		cr_assert_eq(pl[i].err, 0);
	cr_assert_eq(ss.err, 0);
	cr_assert_eq(sr.err, 0);
	for (int k = 0; k < 4; k++) {
		cr_assert_eq(ss.n[k], STRESS_N);
		cr_assert_eq(sr.n[k], STRESS_N);
		/* every value sent was received: nothing left behind */
		cr_assert_eq(chan_len(c[k]), 0);
		unref(c[k]);
	}
}

/* ====================================================================== */
/* runtime: TestSelectFairness                                            */
/* ====================================================================== */

struct fair {
	chan_t *c1, *c2, *c3, *c4, *out, *done;
	int err;
};

static void *fair_run(void *p)
{
	struct fair *a = p;
	for (;;) {
		unsigned char b = 0;
		int r = CHAN_SELECT(CHAN_FOREVER, CHAN_RECV(a->c3, &b, NULL),
				    CHAN_RECV(a->c4, &b, NULL), CHAN_RECV(a->c1, &b, NULL),
				    CHAN_RECV(a->c2, &b, NULL));
		if (r < 0) {
			a->err++;
			return NULL;
		}
		r = CHAN_SELECT(CHAN_FOREVER, CHAN_SEND(a->out, &b, NULL),
				CHAN_RECV(a->done, NULL, NULL));
		if (r != 0)
			return NULL;
	}
}

Test(select_go, select_fairness, .timeout = 60)
{
	enum {
		TRIALS = 10000
	};
	struct fair a = {mk(1, TRIALS + 1), mk(1, TRIALS + 1), mk(1, 0), mk(1, 0),
			 mk(1, 0),          mk(0, 0),          0};
	for (int i = 0; i < TRIALS + 1; i++) {
		unsigned char one = 1, two = 2;
		cr_assert_eq(chan_send(a.c1, &one), 0);
		cr_assert_eq(chan_send(a.c2, &two), 0);
	}
	tu_go_t t = tu_spawn(fair_run, &a);
	int cnt1 = 0, cnt2 = 0, other = -1;
	for (int i = 0; i < TRIALS; i++) {
		unsigned char b = 0;
		cr_assert_eq(chan_recv(a.out, &b, NULL), 0);
		if (b == 1)
			cnt1++;
		else if (b == 2)
			cnt2++;
		else
			other = b;
	}
	cr_assert_eq(chan_close(a.done), 0);
	tu_join(t);
	cr_assert_eq(other, -1, "unexpected value %d on channel", other);
	cr_assert_eq(a.err, 0);
	/* With 10,000 trials, the expected margin of error at a confidence
	 * level of six nines is 4.891676 / (2 * Sqrt(10000)). */
	double r = (double)cnt1 / TRIALS, e = fabs(r - 0.5);
	cr_assert(e <= 4.891676 / (2 * sqrt(TRIALS)),
		  "unfair select: in %d trials, results were %d, %d", TRIALS, cnt1, cnt2);
	unref(a.c1);
	unref(a.c2);
	unref(a.c3);
	unref(a.c4);
	unref(a.out);
	unref(a.done);
}

/* ====================================================================== */
/* runtime: TestPseudoRandomSend                                          */
/* ====================================================================== */

struct prs {
	chan_t *c;
	int n;
	int *l;
	int err;
};

static void *prs_run(void *p)
{
	struct prs *a = p;
	for (int i = 0; i < a->n; i++) {
		tu_yield(); /* Go's runtime.Gosched(): perturbation only */
		if (chan_recv(a->c, &a->l[i], NULL))
			a->err++;
	}
	return NULL;
}

Test(select_go, pseudo_random_send, .timeout = 30)
{
	enum {
		N = 100
	};
	size_t caps[] = {0, N};
	for (int rep = 0; rep < 10; rep++)
		for (size_t k = 0; k < 2; k++) {
			int l[N];
			struct prs a = {mk(sizeof(int), caps[k]), N, l, 0};
			tu_go_t t = tu_spawn(prs_run, &a);
			int one = 1, zero = 0;
			for (int i = 0; i < N; i++)
				cr_assert_eq(CHAN_SELECT(CHAN_FOREVER, CHAN_SEND(a.c, &one, NULL),
							 CHAN_SEND(a.c, &zero, NULL)) >= 0,
					     1);
			tu_join(t);
			cr_assert_eq(a.err, 0);
			int n0 = 0, n1 = 0;
			for (int i = 0; i < N; i++) {
				n0 += (l[i] + 1) % 2;
				n1 += l[i];
			}
			cr_assert(n0 > N / 10 && n1 > N / 10,
				  "Want pseudorandom, got %d zeros and %d ones (chan cap %zu)", n0,
				  n1, caps[k]);
			unref(a.c);
		}
}

/* ====================================================================== */
/* runtime: TestNonblockSelectRace, TestNonblockSelectRace2               */
/* ====================================================================== */

struct nbr {
	chan_t *c1, *c2, *done;
};

static void *nbr_run(void *p)
{
	struct nbr *a = p;
	bool ready = CHAN_SELECT(CHAN_NOWAIT, CHAN_RECV(a->c1, NULL, NULL),
				 CHAN_RECV(a->c2, NULL, NULL)) != CHAN_DEFAULT;
	chan_send(a->done, &ready);
	return NULL;
}

static void nonblock_select_race(bool close_c2, int iterations)
{
	chan_t *done = mk(sizeof(bool), 1);
	int failures = 0;
	for (int i = 0; i < iterations; i++) {
		struct nbr a = {mk(sizeof(int), 1), mk(sizeof(int), close_c2 ? 0 : 1), done};
		int one = 1;
		cr_assert_eq(chan_send(a.c1, &one), 0);
		tu_go_t t = tu_spawn(nbr_run, &a);
		if (close_c2)
			cr_assert_eq(chan_close(a.c2), 0);
		else
			cr_assert_eq(chan_send(a.c2, &one), 0);
		/* select { case <-c1: default: } */
		CHAN_SELECT(CHAN_NOWAIT, CHAN_RECV(a.c1, NULL, NULL));
		bool ready = false;
		cr_assert_eq(chan_recv(done, &ready, NULL), 0);
		tu_join(t);
		if (!ready)
			failures++;
		unref(a.c1);
		unref(a.c2);
	}
	cr_assert_eq(failures, 0, "no chan is ready: %d of %d iterations", failures, iterations);
	unref(done);
}

Test(select_go, nonblock_select_race, .timeout = 60)
{
	nonblock_select_race(false, 10000);
}

Test(select_go, nonblock_select_race2, .timeout = 60)
{
	nonblock_select_race(true, 10000);
}

/* ====================================================================== */
/* runtime: TestSelectDuplicateChannel                                    */
/* ====================================================================== */

struct dup_a {
	chan_t *c, *d, *e;
	tu_blocker_t blk;
	int r, err;
};

static void *dup_a_run(void *p)
{
	struct dup_a *a = p;
	int v = -1;
	tu_about_to_block(&a->blk);
	a->r = CHAN_SELECT(CHAN_FOREVER, CHAN_RECV(a->c, &v, NULL), CHAN_RECV(a->c, &v, NULL),
			   CHAN_RECV(a->d, &v, NULL));
	int nine = 9;
	if (chan_send(a->e, &nine))
		a->err++;
	return NULL;
}

struct dup_b {
	chan_t *c;
	tu_blocker_t blk;
	int v, err;
};

static void *dup_b_run(void *p)
{
	struct dup_b *b = p;
	tu_about_to_block(&b->blk);
	if (chan_recv(b->c, &b->v, NULL))
		b->err++;
	return NULL;
}

Test(select_go, select_duplicate_channel, .timeout = 60)
{
	for (int it = 0; it < 100; it++) {
		chan_t *c = mk(sizeof(int), 0), *d = mk(sizeof(int), 0), *e = mk(sizeof(int), 0);
		struct dup_a a = {c, d, e, TU_BLOCKER_INIT, -1, 0};
		struct dup_b b = {c, TU_BLOCKER_INIT, -1, 0};
		/* goroutine A, queued on c (twice) first */
		tu_go_t ta = tu_spawn(dup_a_run, &a);
		cr_assert(tu_wait_blocked(&a.blk, TU_BLOCK_TIMEOUT_NS), "A never parked");
		/* goroutine B, queued on c behind A */
		tu_go_t tb = tu_spawn(dup_b_run, &b);
		cr_assert(tu_wait_blocked(&b.blk, TU_BLOCK_TIMEOUT_NS), "B never parked");
		int seven = 7, eight = 8, got = 0;
		/* wake up A, it dequeues itself from c */
		cr_assert_eq(chan_send(d, &seven), 0);
		cr_assert_eq(chan_recv(e, &got, NULL), 0); /* A tells us it's done */
		cr_assert_eq(got, 9);
		/* wake up B: c's receive queue must not be corrupted */
		cr_assert_eq(chan_send(c, &eight), 0);
		tu_join(ta);
		tu_join(tb);
		cr_assert_eq(a.r, 2);
		cr_assert_eq(b.v, 8);
		cr_assert_eq(a.err + b.err, 0);
		unref(c);
		unref(d);
		unref(e);
	}
}

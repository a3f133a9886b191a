/*
 * tests/test_chan_go_ports.c - ports of Go's own channel tests:
 *   runtime/chan_test.go: TestChan, TestNonblockRecvRace, TestMultiConsumer;
 *   test/chan: fifo.go, zerosize.go, sieve1.go, goroutines.go.
 * Goroutines become threads, each joined before its test ends.  Where Go
 * sleeps "to let the goroutine block", we wait until the thread is really
 * parked (tests/testutil.h) and then assert what Go asserts.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <gochan/chan.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "tests/leakcheck.h"
#include "testutil.h"

TU_LEAK_CHECKED_SUITE(go_chan);

/* ====================== runtime/chan_test.go: TestChan ====================== */

struct tc_recv {
	chan_t *c;
	bool with_ok;
	atomic_bool done; /* Go's recv1/recv2 */
	tu_blocker_t blk;
};
static void *tc_receiver(void *p)
{
	struct tc_recv *a = p;
	int v;
	bool ok;
	tu_about_to_block(&a->blk);
	if (a->with_ok)
		chan_recv(a->c, &v, &ok);
	else
		chan_recv(a->c, &v, NULL);
	atomic_store_explicit(&a->done, true, memory_order_relaxed);
	return NULL;
}

struct tc_send {
	chan_t *c;
	int from, to; /* sends from..to-1 */
	atomic_bool sent;
	int rc;
	tu_blocker_t blk;
};
static void *tc_sender(void *p)
{
	struct tc_send *a = p;
	tu_about_to_block(&a->blk);
	for (int i = a->from; i < a->to && !a->rc; i++)
		a->rc = chan_send(a->c, &i);
	atomic_store_explicit(&a->sent, true, memory_order_relaxed);
	return NULL;
}

struct tc_closewait {
	chan_t *c, *done;
	tu_blocker_t blk;
};
static void *tc_close_waiter(void *p)
{
	struct tc_closewait *a = p;
	int v = -1;
	bool ok = true;
	tu_about_to_block(&a->blk);
	chan_recv(a->c, &v, &ok);
	bool good = v == 0 && !ok;
	chan_send(a->done, &good);
	return NULL;
}

#define TC_P 4
#define TC_L 1000
struct tc_counter {
	chan_t *c, *done;
	int counts[TC_L];
};
static void *tc_count_receiver(void *p)
{
	struct tc_counter *a = p;
	for (int i = 0; i < TC_L; i++) {
		int v = -1;
		chan_recv(a->c, &v, NULL);
		if (v >= 0 && v < TC_L)
			a->counts[v]++;
	}
	/* Go sends the map over done; we send the pointer to ours. */
	chan_send(a->done, &a);
	return NULL;
}

static void test_chan_cap(int cap)
{
	const size_t ucap = (size_t)cap;
	{
		/* Ensure that receive from empty chan blocks. */
		chan_t *c = chan_new(sizeof(int), ucap);
		struct tc_recv r1 = {.c = c, .with_ok = false}, r2 = {.c = c, .with_ok = true};
		tu_go_t t1 = tu_spawn(tc_receiver, &r1), t2 = tu_spawn(tc_receiver, &r2);
		cr_assert(tu_wait_blocked(&r1.blk, TU_BLOCK_TIMEOUT_NS),
			  "chan[%d]: recv1 never blocked", cap);
		cr_assert(tu_wait_blocked(&r2.blk, TU_BLOCK_TIMEOUT_NS),
			  "chan[%d]: recv2 never blocked", cap);
		cr_assert(!atomic_load(&r1.done) && !atomic_load(&r2.done),
			  "chan[%d]: receive from empty chan", cap);
		/* Ensure that non-blocking receive does not block. */
		int v;
		bool ok;
		cr_assert_eq(chan_try_recv(c, &v, NULL), EAGAIN,
			     "chan[%d]: receive from empty chan", cap);
		cr_assert_eq(chan_try_recv(c, &v, &ok), EAGAIN, "chan[%d]: receive from empty chan",
			     cap);
		v = 0;
		cr_assert_eq(chan_send(c, &v), 0);
		cr_assert_eq(chan_send(c, &v), 0);
		tu_join(t1);
		tu_join(t2);
		cr_assert_eq(chan_unref(c), 0);
	}
	{
		/* Ensure that send to full chan blocks. */
		chan_t *c = chan_new(sizeof(int), ucap);
		for (int i = 0; i < cap; i++)
			cr_assert_eq(chan_send(c, &i), 0);
		struct tc_send s = {.c = c, .from = 0, .to = 1};
		tu_go_t t = tu_spawn(tc_sender, &s);
		cr_assert(tu_wait_blocked(&s.blk, TU_BLOCK_TIMEOUT_NS),
			  "chan[%d]: sender never blocked", cap);
		cr_assert_not(atomic_load(&s.sent), "chan[%d]: send to full chan", cap);
		/* Ensure that non-blocking send does not block. */
		int v = 0;
		cr_assert_eq(chan_try_send(c, &v), EAGAIN, "chan[%d]: send to full chan", cap);
		cr_assert_eq(chan_recv(c, &v, NULL), 0);
		tu_join(t);
		cr_assert_eq(s.rc, 0);
		cr_assert_eq(chan_unref(c), 0);
	}
	{
		/* Ensure that we receive 0 from closed chan. */
		chan_t *c = chan_new(sizeof(int), ucap);
		for (int i = 0; i < cap; i++)
			cr_assert_eq(chan_send(c, &i), 0);
		cr_assert_eq(chan_close(c), 0);
		for (int i = 0; i < cap; i++) {
			int v = -1;
			cr_assert_eq(chan_recv(c, &v, NULL), 0);
			cr_assert_eq(v, i, "chan[%d]: received %d, expected %d", cap, v, i);
		}
		int v = -1;
		bool ok = true;
		cr_assert_eq(chan_recv(c, &v, NULL), 0);
		cr_assert_eq(v, 0, "chan[%d]: received %d, expected 0", cap, v);
		v = -1;
		cr_assert_eq(chan_recv(c, &v, &ok), 0);
		cr_assert(v == 0 && !ok, "chan[%d]: received %d/%d, expected 0/false", cap, v, ok);
		cr_assert_eq(chan_unref(c), 0);
	}
	{
		/* Ensure that close unblocks receive. */
		chan_t *c = chan_new(sizeof(int), ucap), *done = chan_new(sizeof(bool), 0);
		struct tc_closewait a = {.c = c, .done = done};
		tu_go_t t = tu_spawn(tc_close_waiter, &a);
		cr_assert(tu_wait_blocked(&a.blk, TU_BLOCK_TIMEOUT_NS),
			  "chan[%d]: receiver never blocked", cap);
		cr_assert_eq(chan_close(c), 0);
		bool good = false;
		cr_assert_eq(chan_recv(done, &good, NULL), 0);
		cr_assert(good, "chan[%d]: received non zero from closed chan", cap);
		tu_join(t);
		cr_assert_eq(chan_unref(c), 0);
		cr_assert_eq(chan_unref(done), 0);
	}
	{
		/* Send 100 integers, ensure that we receive them non-corrupted
		 * in FIFO order; then the same using recv with ok. */
		chan_t *c = chan_new(sizeof(int), ucap);
		for (int pass = 0; pass < 2; pass++) {
			struct tc_send s = {.c = c, .from = 0, .to = 100};
			tu_go_t t = tu_spawn(tc_sender, &s);
			for (int i = 0; i < 100; i++) {
				int v = -1;
				bool ok = false;
				cr_assert_eq(chan_recv(c, &v, pass ? &ok : NULL), 0);
				if (pass)
					cr_assert(ok, "chan[%d]: receive failed, expected %d", cap,
						  i);
				cr_assert_eq(v, i, "chan[%d]: received %d, expected %d", cap, v, i);
			}
			tu_join(t);
			cr_assert_eq(s.rc, 0);
		}

		/* Send 1000 integers in 4 threads, ensure that we receive what
		 * we send (as a multiset, gathered by 4 receivers). */
		chan_t *done = chan_new(sizeof(struct tc_counter *), 0);
		struct tc_send snd[TC_P];
		struct tc_counter *rcv = calloc(TC_P, sizeof *rcv);
		tu_go_t ts[TC_P], tr[TC_P];
		for (int p = 0; p < TC_P; p++) {
			snd[p] = (struct tc_send){.c = c, .from = 0, .to = TC_L};
			ts[p] = tu_spawn(tc_sender, &snd[p]);
		}
		for (int p = 0; p < TC_P; p++) {
			rcv[p].c = c;
			rcv[p].done = done;
			tr[p] = tu_spawn(tc_count_receiver, &rcv[p]);
		}
		static int total[TC_L];
		memset(total, 0, sizeof total);
		for (int p = 0; p < TC_P; p++) {
			struct tc_counter *got = NULL;
			cr_assert_eq(chan_recv(done, &got, NULL), 0);
			for (int k = 0; k < TC_L; k++)
				total[k] += got->counts[k];
		}
		for (int p = 0; p < TC_P; p++) {
			tu_join(ts[p]);
			tu_join(tr[p]);
			cr_assert_eq(snd[p].rc, 0);
		}
		for (int k = 0; k < TC_L; k++)
			cr_assert_eq(total[k], TC_P,
				     "chan[%d]: value %d received %d times, expected %d", cap, k,
				     total[k], TC_P);
		free(rcv);
		cr_assert_eq(chan_unref(done), 0);
		cr_assert_eq(chan_unref(c), 0);
	}
	{
		/* Test len/cap. */
		chan_t *c = chan_new(sizeof(int), ucap);
		cr_assert(chan_len(c) == 0 && chan_cap(c) == ucap, "chan[%d]: bad len/cap", cap);
		for (int i = 0; i < cap; i++)
			cr_assert_eq(chan_send(c, &i), 0);
		cr_assert(chan_len(c) == ucap && chan_cap(c) == ucap, "chan[%d]: bad len/cap", cap);
		cr_assert_eq(chan_unref(c), 0);
	}
}

/* Go runs capacities 0..199 (N = 200); split in four so each part has its own
 * timeout and runs in parallel with the others. */
Test(go_chan, TestChan_cap_0_49, .timeout = 60)
{
	for (int cap = 0; cap < 50; cap++)
		test_chan_cap(cap);
}
Test(go_chan, TestChan_cap_50_99, .timeout = 60)
{
	for (int cap = 50; cap < 100; cap++)
		test_chan_cap(cap);
}
Test(go_chan, TestChan_cap_100_149, .timeout = 60)
{
	for (int cap = 100; cap < 150; cap++)
		test_chan_cap(cap);
}
Test(go_chan, TestChan_cap_150_199, .timeout = 60)
{
	for (int cap = 150; cap < 200; cap++)
		test_chan_cap(cap);
}

/* ================ runtime/chan_test.go: TestNonblockRecvRace ================ */

static void *nbrr_thread(void *p)
{
	chan_t *c = p;
	int v;
	bool ok;
	/* select { case <-c: default: t.Fatal("chan is not ready") } */
	return (void *)(intptr_t)(chan_try_recv(c, &v, &ok) == EAGAIN);
}
Test(go_chan, TestNonblockRecvRace, .timeout = 60)
{
	for (int i = 0; i < 10000; i++) {
		chan_t *c = chan_new(sizeof(int), 1);
		int one = 1;
		cr_assert_eq(chan_send(c, &one), 0);
		tu_go_t t = tu_spawn(nbrr_thread, c);
		cr_assert_eq(chan_close(c), 0);
		cr_assert_eq(chan_recv(c, NULL, NULL), 0);
		cr_assert_eq(tu_join(t), NULL, "iteration %d: chan is not ready", i);
		cr_assert_eq(chan_unref(c), 0);
	}
}

/* ================= runtime/chan_test.go: TestMultiConsumer ================= */

#define MC_NWORK 23
#define MC_NITER 271828
static const int mc_pn[] = {2, 3, 7, 11, 13, 17, 19, 23, 27, 31};
#define MC_NPN ((int)(sizeof mc_pn / sizeof mc_pn[0]))

struct mc {
	chan_t *q, *r;
	tu_go_t workers[MC_NWORK];
	int w[MC_NWORK];
	long expect;
};
static struct mc *mc_g;
static void *mc_worker(void *p)
{
	int w = *(int *)p;
	int v;
	bool ok;
	for (;;) { /* for v := range q */
		if (chan_recv(mc_g->q, &v, &ok) || !ok)
			break;
		/* mess with the fifo-ish nature of range */
		if (mc_pn[w % MC_NPN] == v)
			tu_yield();
		chan_send(mc_g->r, &v);
	}
	return NULL;
}
static void *mc_feeder(void *p)
{
	(void)p;
	for (int i = 0; i < MC_NITER; i++) {
		int v = mc_pn[i % MC_NPN];
		mc_g->expect += v;
		chan_send(mc_g->q, &v);
	}
	chan_close(mc_g->q); /* no more work */
	for (int i = 0; i < MC_NWORK; i++)
		tu_join(mc_g->workers[i]); /* workers done */
	chan_close(mc_g->r);               /* ... so there can be no more results */
	return NULL;
}
Test(go_chan, TestMultiConsumer, .timeout = 60)
{
	struct mc m = {.q = chan_new(sizeof(int), MC_NWORK * 3),
		       .r = chan_new(sizeof(int), MC_NWORK * 3)};
	mc_g = &m;
	for (int i = 0; i < MC_NWORK; i++) {
		m.w[i] = i;
		m.workers[i] = tu_spawn(mc_worker, &m.w[i]);
	}
	tu_go_t feeder = tu_spawn(mc_feeder, NULL);
	long n = 0, s = 0;
	int v;
	bool ok;
	while (chan_recv(m.r, &v, &ok) == 0 && ok) {
		n++;
		s += v;
	}
	tu_join(feeder);
	cr_assert(n == MC_NITER && s == m.expect,
		  "Expected sum %ld (got %ld) from %d iter (saw %ld)", m.expect, s, MC_NITER, n);
	cr_assert_eq(chan_unref(m.q), 0);
	cr_assert_eq(chan_unref(m.r), 0);
}

/* ============================ test/chan/fifo.go ============================ */

#define FIFO_N 10

Test(go_chan, fifo_AsynchFifo, .timeout = 10)
{
	chan_t *ch = chan_new(sizeof(int), FIFO_N);
	for (int i = 0; i < FIFO_N; i++)
		cr_assert_eq(chan_send(ch, &i), 0);
	for (int i = 0; i < FIFO_N; i++) {
		int v = -1;
		cr_assert_eq(chan_recv(ch, &v, NULL), 0);
		cr_assert_eq(v, i, "bad receive");
	}
	cr_assert_eq(chan_unref(ch), 0);
}

struct chain_link {
	chan_t *ch, *in, *out;
	int val;
	bool bad;
};
static void *fifo_chain(void *p)
{
	struct chain_link *l = p;
	int v = -1;
	chan_recv(l->in, NULL, NULL);
	chan_recv(l->ch, &v, NULL);
	l->bad = v != l->val;
	int one = 1;
	chan_send(l->out, &one);
	return NULL;
}
/* Thread together a daisy chain to read the elements in sequence: each link
 * waits for its turn on `in`, receives one value from the shared unbuffered
 * channel, checks it, and passes the turn on. */
static void synch_fifo(int n)
{
	chan_t *ch = chan_new(sizeof(int), 0);
	chan_t **links = malloc(sizeof(chan_t *) * (size_t)(n + 1));
	struct chain_link *l = calloc((size_t)n, sizeof *l);
	tu_go_t *th = malloc(sizeof(tu_go_t) * (size_t)n);
	for (int i = 0; i <= n; i++)
		links[i] = chan_new(sizeof(int), 0);
	for (int i = 0; i < n; i++) {
		l[i] = (struct chain_link){.ch = ch, .in = links[i], .out = links[i + 1], .val = i};
		th[i] = tu_spawn_stack(fifo_chain, &l[i], 64 * 1024);
	}
	int zero = 0;
	cr_assert_eq(chan_send(links[0], &zero), 0); /* start <- 0 */
	for (int i = 0; i < n; i++)
		cr_assert_eq(chan_send(ch, &i), 0);
	cr_assert_eq(chan_recv(links[n], NULL, NULL), 0); /* <-in */
	for (int i = 0; i < n; i++) {
		tu_join(th[i]);
		cr_assert_not(l[i].bad, "link %d got the wrong value", i);
	}
	for (int i = 0; i <= n; i++)
		cr_assert_eq(chan_unref(links[i]), 0);
	cr_assert_eq(chan_unref(ch), 0);
	free(th);
	free(l);
	free(links);
}
Test(go_chan, fifo_SynchFifo, .timeout = 10)
{
	synch_fifo(FIFO_N);
}
Test(go_chan, fifo_SynchFifo_long, .timeout = 30)
{
	for (int i = 0; i < 10; i++)
		synch_fifo(200);
}

/* ========================== test/chan/zerosize.go ========================== */

/* Making channels of a zero-sized type should not panic (and they work). */
Test(go_chan, zerosize, .timeout = 5)
{
	chan_t *a = chan_new(0, 0), *b = chan_new(0, 1);
	cr_assert_not_null(a);
	cr_assert_not_null(b);
	cr_assert_eq(chan_try_send(b, NULL), 0);
	cr_assert_eq(chan_len(b), 1);
	cr_assert_eq(chan_try_send(b, NULL), EAGAIN);
	cr_assert_eq(chan_try_recv(b, NULL, NULL), 0);
	cr_assert_eq(chan_try_send(a, NULL), EAGAIN);
	cr_assert_eq(chan_unref(a), 0);
	cr_assert_eq(chan_unref(b), 0);
}

/* =========================== test/chan/sieve1.go =========================== */

/*
 * Generate primes up to 100 using a daisy chain of filter threads.  Go leaks
 * the goroutines; here the chain is torn down from the consumer end: closing
 * a channel makes its blocked sender fail with EPIPE, that stage closes its
 * own input, and so on back to the generator.  Every thread is joined.
 */
struct sieve {
	chan_t *primes;
	tu_go_t threads[64];
	struct filter {
		chan_t *in, *out;
		int prime;
	} filters[64];
	int nthreads;
};

static void *sieve_generate(void *p)
{
	chan_t *ch = p;
	for (int i = 2;; i++) /* Send the sequence 2, 3, 4, ... */
		if (chan_send(ch, &i) == EPIPE)
			break;
	return NULL;
}

static void *sieve_filter(void *p)
{
	struct filter *f = p;
	int i;
	bool ok;
	/* Copy values from in to out, removing those divisible by prime. */
	while (chan_recv(f->in, &i, &ok) == 0 && ok) {
		if (i % f->prime != 0 && chan_send(f->out, &i) == EPIPE)
			break;
	}
	chan_close(f->in); /* downstream is gone: tear down upstream */
	return NULL;
}

static void *sieve_main(void *p)
{
	struct sieve *s = p;
	chan_t *ch = chan_new(sizeof(int), 0);
	chan_t *chans[64];
	int nchans = 0;
	chans[nchans++] = ch;
	s->threads[s->nthreads++] = tu_spawn(sieve_generate, ch);
	for (;;) {
		int prime;
		bool ok;
		if (chan_recv(ch, &prime, &ok) || !ok)
			break;
		if (chan_send(s->primes, &prime) == EPIPE || s->nthreads == 64)
			break;
		chan_t *ch1 = chan_new(sizeof(int), 0);
		chans[nchans++] = ch1;
		struct filter *f = &s->filters[s->nthreads];
		*f = (struct filter){ch, ch1, prime};
		s->threads[s->nthreads++] = tu_spawn(sieve_filter, f);
		ch = ch1;
	}
	chan_close(ch);
	for (int i = 0; i < s->nthreads; i++)
		tu_join(s->threads[i]);
	for (int i = 0; i < nchans; i++)
		chan_unref(chans[i]);
	return NULL;
}

Test(go_chan, sieve1, .timeout = 20)
{
	static const int a[] = {2,  3,  5,  7,  11, 13, 17, 19, 23, 29, 31, 37, 41,
				43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97};
	for (int round = 0; round < 5; round++) {
		struct sieve s = {.primes = chan_new(sizeof(int), 0)};
		tu_go_t t = tu_spawn(sieve_main, &s);
		for (size_t i = 0; i < sizeof a / sizeof a[0]; i++) {
			int x = -1;
			cr_assert_eq(chan_recv(s.primes, &x, NULL), 0);
			cr_assert_eq(x, a[i], "%d != %d", x, a[i]);
		}
		cr_assert_eq(chan_close(s.primes), 0);
		tu_join(t);
		cr_assert_eq(chan_unref(s.primes), 0);
	}
}

/* ========================= test/chan/goroutines.go ========================= */

/*
 * Make a lot of threads, threaded together (each does left <- <-right), and
 * tear them down cleanly.  Go uses 10000 goroutines; threads with 64 KiB
 * stacks make 2000 reasonable here (GOCHAN_TEST_CHAIN overrides the count).
 */
struct link2 {
	chan_t *left, *right;
};
static void *chain_f(void *p)
{
	struct link2 *l = p;
	int v = 0;
	if (chan_recv(l->right, &v, NULL) == 0)
		chan_send(l->left, &v);
	return NULL;
}
Test(go_chan, goroutines_chain, .timeout = 60)
{
	int n = 2000;
	const char *env = getenv("GOCHAN_TEST_CHAIN");
	if (env && atoi(env) > 0)
		n = atoi(env);
	chan_t **ch = malloc(sizeof(chan_t *) * (size_t)(n + 1));
	struct link2 *l = malloc(sizeof *l * (size_t)n);
	tu_go_t *th = malloc(sizeof(tu_go_t) * (size_t)n);
	for (int i = 0; i <= n; i++)
		ch[i] = chan_new(sizeof(int), 0);
	/* leftmost = ch[0]; thread i: ch[i] <- <-ch[i+1] */
	for (int i = 0; i < n; i++) {
		l[i] = (struct link2){ch[i], ch[i + 1]};
		th[i] = tu_spawn_stack(chain_f, &l[i], 64 * 1024);
	}
	int one = 1, got = 0;
	cr_assert_eq(chan_send(ch[n], &one), 0); /* go func(c) { c <- 1 }(right) */
	cr_assert_eq(chan_recv(ch[0], &got, NULL), 0);
	cr_assert_eq(got, 1);
	for (int i = 0; i < n; i++)
		tu_join(th[i]);
	for (int i = 0; i <= n; i++)
		cr_assert_eq(chan_unref(ch[i]), 0);
	free(th);
	free(l);
	free(ch);
}

/*
 * tests/stress/stress_chan.c - channel stress program, meant to run under
 * ThreadSanitizer (and ASan).  Plain main(), no Criterion.
 *
 *   1. mpmc: P producers x C consumers (P, C in {1, 2, 4}), capacities 0, 1
 *      and 64, element sizes 0, 8 and 256: every value is received exactly
 *      once, intact, and each consumer sees each producer's values in order.
 *   2. close_race: producers send until close stops them while consumers
 *      drain; the values received are exactly those whose send returned 0
 *      (a sender woken by close with EPIPE never gets its value through).
 *   3. memory model: plain data published by send, close and (unbuffered)
 *      receive, and the capacity-C semaphore edge; TSan reports any missing
 *      happens-before edge as a data race (and then exits non-zero).
 *   4. deadlines: short-deadline sends and receives racing each other:
 *      a value is delivered exactly when its send reports success.
 *   5. ownership: a channel handed to another thread with its own reference;
 *      both drop their references in either order.
 *
 * Usage: stress_chan [scale]   (or STRESS_SCALE=n; default 1).  Scale
 * multiplies the message counts; 1 is sized for ~10 s under TSan on 2 cores.
 * The last line printed is "N passed, N failed"; exit status 1 on failure.
 */
#include <errno.h>
#include <gochan/chan.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../testutil.h"

static int scale = 1;
static int n_passed, n_failed;

/* Failures inside one check, reported by its worker threads. */
static atomic_int check_errors;
static char first_error[256];
static atomic_flag first_error_taken = ATOMIC_FLAG_INIT;

static void fail(const char *fmt, ...)
{
	/* The first failure of a check keeps its message; the flag's
	 * acquire/release orders the message write before its print. */
	if (atomic_fetch_add_explicit(&check_errors, 1, memory_order_relaxed) == 0 &&
	    !atomic_flag_test_and_set_explicit(&first_error_taken, memory_order_acq_rel)) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(first_error, sizeof first_error, fmt, ap);
		va_end(ap);
	}
}

static void begin(void)
{
	atomic_store(&check_errors, 0);
	atomic_flag_clear(&first_error_taken);
	first_error[0] = '\0';
}

static void end(const char *name)
{
	int errs = atomic_load(&check_errors);
	if (errs) {
		n_failed++;
		printf("FAIL %s: %d errors; first: %s\n", name, errs, first_error);
	} else {
		n_passed++;
		printf("ok   %s\n", name);
	}
	fflush(stdout);
}

/* ============================== 1. mpmc ============================== */

struct mpmc {
	chan_t *c;
	int P, C, M;
	size_t esz;
	atomic_uchar *seen;     /* [P][M]: times each value was received */
	atomic_long zero_count; /* esz == 0: values received */
};

struct prod {
	struct mpmc *m;
	chan_t *c; /* own reference */
	int id;
};

static void fill(unsigned char *buf, size_t esz, int p, int seq)
{
	uint32_t hdr[2] = {(uint32_t)p, (uint32_t)seq};
	memcpy(buf, hdr, sizeof hdr);
	for (size_t i = sizeof hdr; i < esz; i++)
		buf[i] = (unsigned char)(p * 31 + seq * 7 + (int)i);
}

static void *mpmc_producer(void *arg)
{
	struct prod *pr = arg;
	struct mpmc *m = pr->m;
	unsigned char buf[256];
	for (int s = 0; s < m->M; s++) {
		if (m->esz)
			fill(buf, m->esz, pr->id, s);
		int rc = chan_send(pr->c, buf);
		if (rc)
			fail("producer %d: send %d returned %d", pr->id, s, rc);
	}
	int rc = chan_unref(pr->c);
	if (rc)
		fail("producer unref: %d", rc);
	return NULL;
}

static void *mpmc_consumer(void *arg)
{
	struct prod *co = arg;
	struct mpmc *m = co->m;
	unsigned char buf[256], want[256];
	int last[4] = {-1, -1, -1, -1};
	for (;;) {
		bool ok = false;
		int rc = chan_recv(co->c, buf, &ok);
		if (rc) {
			fail("consumer: recv returned %d", rc);
			break;
		}
		if (!ok)
			break;
		if (!m->esz) {
			atomic_fetch_add_explicit(&m->zero_count, 1, memory_order_relaxed);
			continue;
		}
		uint32_t hdr[2];
		memcpy(hdr, buf, sizeof hdr);
		int p = (int)hdr[0], s = (int)hdr[1];
		if (p < 0 || p >= m->P || s < 0 || s >= m->M) {
			fail("consumer: garbage value p=%d s=%d", p, s);
			continue;
		}
		fill(want, m->esz, p, s);
		if (memcmp(buf, want, m->esz))
			fail("consumer: payload of p=%d s=%d corrupted", p, s);
		if (s <= last[p])
			fail("consumer: producer %d out of order: %d after %d", p, s, last[p]);
		last[p] = s;
		atomic_fetch_add_explicit(&m->seen[(size_t)p * (size_t)m->M + (size_t)s], 1,
					  memory_order_relaxed);
	}
	int rc = chan_unref(co->c);
	if (rc)
		fail("consumer unref: %d", rc);
	return NULL;
}

static void run_mpmc(int P, int C, size_t cap, size_t esz, int total)
{
	struct mpmc m = {.P = P, .C = C, .M = total / P, .esz = esz};
	m.c = chan_new(esz, cap);
	m.seen = calloc((size_t)P * (size_t)m.M, sizeof *m.seen);
	atomic_init(&m.zero_count, 0);
	struct prod pr[4], co[4];
	tu_go_t tp[4], tc[4];
	for (int i = 0; i < C; i++) {
		co[i] = (struct prod){&m, chan_ref(m.c), i};
		tc[i] = tu_spawn(mpmc_consumer, &co[i]);
	}
	for (int i = 0; i < P; i++) {
		pr[i] = (struct prod){&m, chan_ref(m.c), i};
		tp[i] = tu_spawn(mpmc_producer, &pr[i]);
	}
	for (int i = 0; i < P; i++)
		tu_join(tp[i]);
	if (chan_close(m.c))
		fail("close failed");
	for (int i = 0; i < C; i++)
		tu_join(tc[i]);
	if (esz) {
		for (size_t i = 0; i < (size_t)P * (size_t)m.M; i++)
			if (atomic_load(&m.seen[i]) != 1) {
				fail("P%d C%d cap %zu esz %zu: value p=%zu s=%zu received %d times",
				     P, C, cap, esz, i / (size_t)m.M, i % (size_t)m.M,
				     atomic_load(&m.seen[i]));
				break;
			}
	} else if (atomic_load(&m.zero_count) != (long)P * m.M) {
		fail("P%d C%d cap %zu esz 0: %ld values received, %ld sent", P, C, cap,
		     atomic_load(&m.zero_count), (long)P * m.M);
	}
	if (chan_unref(m.c))
		fail("final unref");
	free(m.seen);
}

/* =========================== 2. close_race =========================== */

/* Producers send until the close stops them: no bound on how many values
 * fit before it.  A fast machine can push millions of values through a
 * 64-slot ring before the main thread, woken by a futex, gets to close, and
 * a bound "never reached in practice" was reached there (issue 15).  So the
 * sequence numbers are 64-bit and every consumer keeps what it received in
 * a list that grows; the exact check runs after every thread has joined. */

struct cr_val {
	uint64_t id;  /* producer */
	uint64_t seq; /* 0, 1, 2 ... per producer */
};

struct cr_list { /* one consumer's receptions from one producer, in order */
	uint64_t *v;
	size_t n, cap;
};

struct cr {
	chan_t *c, *notify;
	int P, C;
	int target; /* main closes after this many receptions */
	atomic_int received;
	uint64_t sent[4];         /* successful sends per producer */
	struct cr_list got[5][4]; /* [consumer][producer]; consumer 4 is main's drain */
};
struct cr_arg {
	struct cr *r;
	int id;
};

static void cr_list_push(struct cr_list *l, uint64_t v)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 1024;
		uint64_t *nv = realloc(l->v, cap * sizeof *nv);
		if (!nv) {
			fail("close_race consumer: out of memory after %zu values", l->n);
			return;
		}
		l->v = nv;
		l->cap = cap;
	}
	l->v[l->n++] = v;
}

static void *cr_producer(void *arg)
{
	struct cr_arg *a = arg;
	struct cr *r = a->r;
	uint64_t s;
	for (s = 0;; s++) {
		struct cr_val v = {(uint64_t)a->id, s};
		int rc = chan_send(r->c, &v);
		if (rc == EPIPE)
			break;
		if (rc) {
			fail("close_race producer: send returned %d", rc);
			break;
		}
	}
	r->sent[a->id] = s; /* read by main after join */
	return NULL;
}

static void *cr_consumer(void *arg)
{
	struct cr_arg *a = arg;
	struct cr *r = a->r;
	for (;;) {
		struct cr_val v;
		bool ok;
		if (chan_recv(r->c, &v, &ok)) {
			fail("close_race consumer: recv error");
			break;
		}
		if (!ok)
			break;
		if (v.id >= (uint64_t)r->P) {
			fail("close_race consumer: garbage producer id %llu",
			     (unsigned long long)v.id);
			continue;
		}
		struct cr_list *l = &r->got[a->id][v.id];
		/* One producer's values reach one consumer in the order sent. */
		if (l->n && v.seq <= l->v[l->n - 1])
			fail("close_race consumer: producer %llu out of order",
			     (unsigned long long)v.id);
		cr_list_push(l, v.seq);
		if (atomic_fetch_add_explicit(&r->received, 1, memory_order_relaxed) + 1 ==
		    r->target)
			chan_try_send(r->notify, NULL); /* wake main to close */
	}
	return NULL;
}

/* Exactly the values whose send returned 0 were received, each once: the
 * value whose send got EPIPE (seq == sent[p]) and anything beyond never. */
static void cr_verify(struct cr *r, size_t cap)
{
	for (int p = 0; p < r->P; p++) {
		uint64_t sent = r->sent[p];
		unsigned char *seen = calloc(sent ? sent : 1, 1);
		if (!seen) {
			fail("close_race: out of memory for %llu values", (unsigned long long)sent);
			return;
		}
		uint64_t total = 0;
		for (int c = 0; c < 5; c++) {
			struct cr_list *l = &r->got[c][p];
			for (size_t i = 0; i < l->n; i++) {
				uint64_t s = l->v[i];
				if (s >= sent || seen[s]++) {
					fail("close_race P%d C%d cap %zu: producer %d value %llu (of %llu sent) "
					     "received %s",
					     r->P, r->C, cap, p, (unsigned long long)s,
					     (unsigned long long)sent,
					     s >= sent ? "though its send failed" : "twice");
					free(seen);
					return;
				}
				total++;
			}
		}
		if (total != sent)
			fail("close_race P%d C%d cap %zu: producer %d: %llu of %llu sent values received",
			     r->P, r->C, cap, p, (unsigned long long)total,
			     (unsigned long long)sent);
		free(seen);
	}
}

/* consumers == 0: nobody receives until main has closed (senders block on
 * the full buffer and are woken by close); then main drains. */
static void run_close_race(int P, int C, size_t cap, int target)
{
	struct cr r = {.P = P, .C = C, .target = target};
	r.c = chan_new(sizeof(struct cr_val), cap);
	r.notify = chan_new(0, 1);
	atomic_init(&r.received, 0);
	struct cr_arg pa[4], ca[4];
	tu_go_t tp[4], tc[4];
	for (int i = 0; i < C; i++) {
		ca[i] = (struct cr_arg){&r, i};
		tc[i] = tu_spawn(cr_consumer, &ca[i]);
	}
	for (int i = 0; i < P; i++) {
		pa[i] = (struct cr_arg){&r, i};
		tp[i] = tu_spawn(cr_producer, &pa[i]);
	}
	if (C > 0)
		chan_recv(r.notify, NULL, NULL);
	else
		for (int i = 0; i < target; i++)
			tu_yield(); /* vary how many senders reach the full buffer */
	if (chan_close(r.c))
		fail("close_race: close failed");
	for (int i = 0; i < P; i++)
		tu_join(tp[i]);
	if (C == 0) {
		struct cr_arg self = {&r, 4};
		cr_consumer(&self);
	}
	for (int i = 0; i < C; i++)
		tu_join(tc[i]);
	cr_verify(&r, cap);
	if (chan_unref(r.c) || chan_unref(r.notify))
		fail("close_race: unref");
	for (int c = 0; c < 5; c++)
		for (int p = 0; p < 4; p++)
			free(r.got[c][p].v);
}

/* ========================== 3. memory model ========================== */

struct payload {
	long seq;
	long data[8];
};
struct mm {
	chan_t *c;
	int n;
	long *slots; /* plain memory guarded only by the channel */
	long flag;
};

static void *mm_ptr_producer(void *arg)
{
	struct mm *m = arg;
	for (long i = 0; i < m->n; i++) {
		struct payload *p = malloc(sizeof *p);
		p->seq = i;
		for (int j = 0; j < 8; j++)
			p->data[j] = i + j;
		if (chan_send(m->c, &p)) {
			free(p);
			fail("mm: send failed");
		}
	}
	return NULL;
}

static void mm_send_hb_recv(size_t cap, bool use_try)
{
	struct mm m = {.c = chan_new(sizeof(struct payload *), cap), .n = 10000 * scale};
	tu_go_t th = tu_spawn(mm_ptr_producer, &m);
	for (long i = 0; i < m.n;) {
		struct payload *p;
		int rc = use_try ? chan_try_recv(m.c, &p, NULL) : chan_recv(m.c, &p, NULL);
		if (rc == EAGAIN) {
			tu_yield();
			continue;
		}
		if (rc) {
			fail("mm: recv %d", rc);
			break;
		}
		if (p->seq != i || p->data[7] != i + 7)
			fail("mm: payload %ld not visible", i);
		free(p);
		i++;
	}
	tu_join(th);
	chan_unref(m.c);
}

static void *mm_close_writer(void *arg)
{
	struct mm *m = arg;
	m->flag = 42; /* plain write, published only by the close */
	chan_close(m->c);
	return NULL;
}

static void mm_close_hb_recv(void)
{
	for (int i = 0; i < 1000 * scale; i++) {
		struct mm m = {.c = chan_new(sizeof(int), (size_t)(i % 2))};
		tu_go_t th = tu_spawn(mm_close_writer, &m);
		bool ok = true;
		int v, rc;
		if (i % 2)
			while ((rc = chan_try_recv(m.c, &v, &ok)) == EAGAIN)
				tu_yield();
		else
			rc = chan_recv(m.c, &v, &ok);
		if (rc || ok || m.flag != 42)
			fail("mm close: rc %d ok %d flag %ld", rc, ok, m.flag);
		tu_join(th);
		chan_unref(m.c);
	}
}

static void *mm_slot_receiver(void *arg)
{
	struct mm *m = arg;
	for (int k = 0; k < m->n; k++) {
		m->slots[k] = k + 1; /* plain write before the k-th receive */
		if (chan_recv(m->c, NULL, NULL))
			break;
	}
	return NULL;
}

/* cap 0: receive k happens before send k completes; cap C: receive k
 * happens before send k+C completes. */
static void mm_recv_hb_send(size_t cap)
{
	struct mm m = {.c = chan_new(sizeof(int), cap), .n = 10000 * scale};
	m.slots = calloc((size_t)m.n, sizeof *m.slots);
	tu_go_t th = tu_spawn(mm_slot_receiver, &m);
	for (int s = 0; s < m.n; s++) {
		if (chan_send(m.c, &s)) {
			fail("mm sem: send");
			break;
		}
		int k = s - (int)cap;
		if (k >= 0 && m.slots[k] != k + 1)
			fail("mm sem cap %zu: receive %d not visible after send %d", cap, k, s);
	}
	tu_join(th);
	free(m.slots);
	chan_unref(m.c);
}

/* ============================ 4. deadlines ============================ */

struct dl {
	chan_t *c;
	int n;
	long sent_sum;
	int sent;
	atomic_bool done;
};

static void *dl_sender(void *arg)
{
	struct dl *d = arg;
	for (int i = 1; i <= d->n; i++) {
		int rc = chan_send_until(d->c, &i, chan_deadline_in(10000 + (i % 7) * 5000));
		if (rc == 0) {
			d->sent++;
			d->sent_sum += i;
		} else if (rc != ETIMEDOUT) {
			fail("deadline: send_until returned %d", rc);
		}
	}
	atomic_store_explicit(&d->done, true, memory_order_release);
	return NULL;
}

static void run_deadline_race(size_t cap)
{
	struct dl d = {.c = chan_new(sizeof(int), cap), .n = 5000 * scale};
	atomic_init(&d.done, false);
	tu_go_t th = tu_spawn(dl_sender, &d);
	long sum = 0;
	int got = 0;
	for (;;) {
		int v;
		bool ok;
		int rc = chan_recv_until(d.c, &v, &ok, chan_deadline_in(10000 + (got % 5) * 5000));
		if (rc == ETIMEDOUT) {
			if (atomic_load_explicit(&d.done, memory_order_acquire))
				break;
			continue;
		}
		if (rc || !ok) {
			fail("deadline: recv_until rc %d ok %d", rc, ok);
			break;
		}
		got++;
		sum += v;
	}
	tu_join(th);
	chan_close(d.c);
	for (;;) { /* values buffered after our last receive */
		int v;
		bool ok;
		if (chan_recv(d.c, &v, &ok) || !ok)
			break;
		got++;
		sum += v;
	}
	if (got != d.sent || sum != d.sent_sum)
		fail("deadline cap %zu: %d sends succeeded (sum %ld), %d received (sum %ld)", cap,
		     d.sent, d.sent_sum, got, sum);
	chan_unref(d.c);
}

/* ============================ 5. ownership ============================ */

static void *own_worker(void *arg)
{
	chan_t *c = arg; /* this thread's reference */
	for (int i = 0; i < 3; i++)
		if (chan_send(c, &i))
			fail("ownership: send");
	chan_close(c);
	if (chan_unref(c))
		fail("ownership: worker unref");
	return NULL;
}

static void run_ownership(void)
{
	for (int i = 0; i < 1000 * scale; i++) {
		chan_t *c = chan_new(sizeof(int), (size_t)(i % 3));
		tu_go_t th = tu_spawn(own_worker, chan_ref(c));
		int v, n = 0;
		bool ok;
		while (chan_recv(c, &v, &ok) == 0 && ok)
			n++;
		if (n != 3)
			fail("ownership: %d values", n);
		if (i % 2) {
			tu_join(th);
			if (chan_unref(c))
				fail("ownership: main unref");
		} else {
			if (chan_unref(c))
				fail("ownership: main unref");
			tu_join(th);
		}
	}
}

/* ================================ main ================================ */

int main(int argc, char **argv)
{
	const char *env = getenv("STRESS_SCALE");
	if (argc > 1)
		scale = atoi(argv[1]);
	else if (env)
		scale = atoi(env);
	if (scale < 1)
		scale = 1;
	int64_t t0 = tu_now_ns();
	char name[128];

	static const int pcs[] = {1, 2, 4};
	static const size_t caps[] = {0, 1, 64};
	static const size_t sizes[] = {0, 8, 256};
	for (size_t ci = 0; ci < 3; ci++)
		for (size_t si = 0; si < 3; si++) {
			/* One line per (cap, size): all 9 producer/consumer mixes. */
			begin();
			for (int pi = 0; pi < 3; pi++)
				for (int qi = 0; qi < 3; qi++)
					run_mpmc(pcs[pi], pcs[qi], caps[ci], sizes[si],
						 4000 * scale);
			snprintf(name, sizeof name, "mpmc cap %zu elem %zu (P,C in {1,2,4})",
				 caps[ci], sizes[si]);
			end(name);
		}

	for (size_t ci = 0; ci < 3; ci++) {
		begin();
		for (int round = 0; round < 8 * scale; round++)
			for (int pi = 0; pi < 3; pi++) {
				run_close_race(pcs[pi], 1, caps[ci], 50 + round * 37);
				run_close_race(pcs[pi], 2, caps[ci], 20 + round * 11);
				run_close_race(pcs[pi], 0, caps[ci], round);
			}
		snprintf(name, sizeof name,
			 "close_race cap %zu (senders blocked at close get EPIPE)", caps[ci]);
		end(name);
	}

	begin();
	mm_send_hb_recv(0, false);
	mm_send_hb_recv(1, false);
	mm_send_hb_recv(8, false);
	mm_send_hb_recv(4, true);
	end("memmodel send hb recv (plain payload via pointer)");
	begin();
	mm_close_hb_recv();
	end("memmodel close hb recv(ok=false)");
	begin();
	mm_recv_hb_send(0);
	end("memmodel unbuffered recv hb send completes");
	begin();
	mm_recv_hb_send(1);
	mm_recv_hb_send(3);
	end("memmodel k-th recv hb (k+C)-th send completes");

	begin();
	run_deadline_race(0);
	run_deadline_race(1);
	run_deadline_race(4);
	end("deadline expiry races counterpart (conservation)");

	begin();
	run_ownership();
	end("ownership: per-thread references, unref in either order");

	printf("time %.2f s (scale %d)\n", (double)(tu_now_ns() - t0) / 1e9, scale);
	if (tu_no_leaks())
		n_passed++;
	else
		n_failed++;
	printf("%d passed, %d failed\n", n_passed, n_failed);
	return n_failed ? 1 : 0;
}

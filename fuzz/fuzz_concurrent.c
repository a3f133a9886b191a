/*
 * fuzz/fuzz_concurrent.c - several threads run short scripts of blocking and
 * deadline channel operations and selects against one or two shared
 * channels; afterwards the harness checks what Go's semantics promise.
 *
 * DECODING (next() is the next byte, 0 past the end):
 *   h = next():  threads = 2 + h % 3;  channels = 1 + ((h >> 2) & 1);
 *                h & 0x80: chaos mode on for this input (perturbs schedules).
 *   c = next():  channel i has capacity {0,1,2,4}[(c >> 2i) & 3].
 *   then per thread: len = next() % (MAX_OPS + 1), then len ops, each
 *   b = next(): kind = b & 7, channel = (b >> 3) & 1 (mod channels),
 *   deadline = k_dl[b >> 4] (CHAN_NOWAIT, try, or now + 20 us .. 2 ms);
 *     kind 0,1,7  send the thread's next value (send_until, or try_send);
 *     kind 2,3    receive (recv_until, or try_recv);
 *     kind 4,5    select over the cases m = next() picks: bit 0 send ch0,
 *                 bit 1 recv ch0, bit 2 send ch1, bit 3 recv ch1, bit 4 a
 *                 nil receive case, bit 5 a second recv ch0 (a duplicate);
 *     kind 6      close the channel (EALREADY when already closed is fine).
 * Every operation has a deadline of at most 2 ms, so nothing may block for
 * long: a thread still running after WATCHDOG_S seconds is a lost wake-up.
 *
 * CHECKS (after every thread is joined and the channels are drained by the
 * main thread with try_recv):
 *   - every value received was sent successfully, on that channel, and is
 *     received exactly once (a timed-out or EPIPE send delivers nothing; a
 *     successful send is never lost: it reached a receiver or the buffer,
 *     and the drain empties the buffer, close or not);
 *   - for every (sender, receiver, channel), the sender's values arrive in
 *     the order they were sent (a single sender's sends are ordered and the
 *     channel is FIFO);
 *   - a send that starts after a close of its channel has completed (seen
 *     through an atomic flag) fails with EPIPE / ok == false;
 *   - after a receive has returned ok == false (closed and drained), every
 *     receive that starts later also returns ok == false;
 *   - at most cap values are received with ok == true by receives that
 *     started after the close completed (nothing beyond the buffer);
 *   - chan_unref() of every reference succeeds (no waiter left behind: EBUSY
 *     would mean a stale waiter), and ASan/LSan see no leak.
 */
#include <errno.h>
#include <gochan/chan.h>
#include <gochan/select.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chan/chaos.h"

#define MAX_THREADS 4
#define MAX_OPS 12
#define MAX_CH 2
#define WATCHDOG_S 5
#define MAX_EV (MAX_OPS * 4 + 1)
#define DL_TRY INT64_MIN /* marker: try_send / try_recv */

/* Relative deadlines in ns; 0 is CHAN_NOWAIT. */
static const int64_t k_dl[16] = {0,      DL_TRY, 20000,  20000,  50000,   50000,   100000,  100000,
				 200000, 200000, 500000, 500000, 1000000, 1000000, 2000000, DL_TRY};
static const size_t k_cap[4] = {0, 1, 2, 4};

struct op {
	uint8_t kind, ch, mask, dl;
};

/* What one thread did: its successful sends and all its receives. */
struct ev {
	uint8_t ch;
	bool ok;        /* receive: ok; send: sent */
	bool after;     /* the op started after the channel's close completed */
	bool after_dry; /* recv: started after some recv saw closed+drained */
	uint64_t v;
	int res; /* return value, for the trace */
};

struct thr {
	int id;
	int nops;
	struct op ops[MAX_OPS];
	struct ev sent[MAX_EV];
	int nsent;
	struct ev recv[MAX_EV];
	int nrecv;
	int res[MAX_OPS];
	struct world *w;
	pthread_t tid;
};

struct world {
	int nthr, nch;
	chan_t *ch[MAX_CH];
	size_t cap[MAX_CH];
	/* Set (release) right after a chan_close() of the channel returned 0;
	 * read (acquire) before each operation starts, so "started after the
	 * close completed" is a happens-before fact, not a guess. */
	atomic_bool closed[MAX_CH];
	/* Set (release) after a receive returned ok == false; read (acquire)
	 * by receives before they start. */
	atomic_bool dry[MAX_CH];
	pthread_barrier_t start;
	struct thr t[MAX_THREADS];
};

static void dump(struct world *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));

static void dump(struct world *w, const char *fmt, ...)
{
	static const char *const kn[8] = {"send",   "send",   "recv",  "recv",
					  "select", "select", "close", "send"};
	fprintf(stderr, "\n==== fuzz_concurrent: violation ====\n%d threads, %d channels, caps",
		w->nthr, w->nch);
	for (int i = 0; i < w->nch; i++)
		fprintf(stderr, " %zu", w->cap[i]);
	fprintf(stderr, "\n");
	for (int i = 0; i < w->nthr; i++) {
		struct thr *t = &w->t[i];
		fprintf(stderr, "thread %d:", i);
		for (int j = 0; j < t->nops; j++) {
			struct op *o = &t->ops[j];
			int64_t dl = k_dl[o->dl];
			fprintf(stderr, " %s(ch%d", kn[o->kind], o->ch);
			if (o->kind == 4 || o->kind == 5)
				fprintf(stderr, " m=%#x", o->mask);
			if (o->kind != 6)
				fprintf(stderr, dl == DL_TRY ? " try" : " +%lldns", (long long)dl);
			fprintf(stderr, ")=%d", t->res[j]);
		}
		fprintf(stderr, "\n  sent:");
		for (int j = 0; j < t->nsent; j++)
			fprintf(stderr, " ch%d:%llx", t->sent[j].ch,
				(unsigned long long)t->sent[j].v);
		fprintf(stderr, "\n  received:");
		for (int j = 0; j < t->nrecv; j++)
			fprintf(stderr, " ch%d:%s%llx%s", t->recv[j].ch,
				t->recv[j].ok ? "" : "closed:", (unsigned long long)t->recv[j].v,
				t->recv[j].after ? "(after close)" : "");
		fprintf(stderr, "\n");
	}
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "VIOLATION: ");
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	abort();
}

static int64_t deadline(uint8_t dl)
{
	int64_t d = k_dl[dl];
	return d == 0 ? CHAN_NOWAIT : chan_deadline_in(d);
}

static void note_recv(struct thr *t, int ch, bool ok, uint64_t v, bool after, bool after_dry)
{
	t->recv[t->nrecv++] = (struct ev){
		.ch = (uint8_t)ch, .ok = ok, .v = v, .after = after, .after_dry = after_dry};
	if (!ok)
		atomic_store_explicit(&t->w->dry[ch], true,
				      memory_order_release); /* pairs with the acquire below */
}

static void *thread_main(void *arg)
{
	struct thr *t = arg;
	struct world *w = t->w;
	uint32_t seq = 0;
	chan_t *mine[MAX_CH];
	for (int i = 0; i < w->nch; i++)
		mine[i] = w->ch[i]; /* the reference was taken by main for us */
	pthread_barrier_wait(&w->start);

	for (int j = 0; j < t->nops; j++) {
		struct op *o = &t->ops[j];
		int c = o->ch % w->nch;
		bool try = k_dl[o->dl] == DL_TRY;
		/* Acquire: pairs with the release after chan_close / ok == false. */
		bool after[MAX_CH], dry[MAX_CH];
		for (int i = 0; i < w->nch; i++) {
			after[i] = atomic_load_explicit(&w->closed[i], memory_order_acquire);
			dry[i] = atomic_load_explicit(&w->dry[i], memory_order_acquire);
		}
		int e;
		switch (o->kind) {
		case 0:
		case 1:
		case 7: {
			uint64_t v = ((uint64_t)t->id << 32) | ++seq;
			e = try ? chan_try_send(mine[c], &v)
				: chan_send_until(mine[c], &v, deadline(o->dl));
			if (e == 0)
				t->sent[t->nsent++] =
					(struct ev){.ch = (uint8_t)c, .ok = true, .v = v};
			if (after[c] && e != EPIPE)
				dump(w, "thread %d: send on ch%d after its close returned %s",
				     t->id, c, chan_strerror(e));
			if (e != 0 && e != EPIPE && e != (try ? EAGAIN : ETIMEDOUT))
				dump(w, "thread %d: send returned %d", t->id, e);
			break;
		}
		case 2:
		case 3: {
			uint64_t v = 0;
			bool ok = false;
			e = try ? chan_try_recv(mine[c], &v, &ok)
				: chan_recv_until(mine[c], &v, &ok, deadline(o->dl));
			if (e == 0)
				note_recv(t, c, ok, v, after[c], dry[c]);
			else if (e != (try ? EAGAIN : ETIMEDOUT))
				dump(w, "thread %d: recv returned %d", t->id, e);
			break;
		}
		case 4:
		case 5: {
			chan_case_t cs[6];
			int cch[6];
			uint64_t sv[6], rv[6];
			bool oks[6];
			size_t n = 0;
			for (int b = 0; b < 6; b++) {
				if (!(o->mask & (1u << b)))
					continue;
				int ch = (b == 2 || b == 3) ? 1 % w->nch : 0;
				cch[n] = ch;
				rv[n] = 0;
				if (b == 4) {
					cs[n] = CHAN_RECV(NULL, &rv[n], &oks[n]);
					n++;
				} else if (b == 0 || b == 2) {
					sv[n] = ((uint64_t)t->id << 32) | ++seq;
					cs[n] = CHAN_SEND(mine[ch], &sv[n], &oks[n]);
					n++;
				} else {
					cs[n] = CHAN_RECV(mine[ch], &rv[n], &oks[n]);
					n++;
				}
			}
			int64_t dl = try ? CHAN_NOWAIT : deadline(o->dl);
			e = chan_select(cs, n, dl);
			if (e >= 0) {
				int ch = cch[e];
				if (cs[e].chan == NULL)
					dump(w, "thread %d: select fired its nil case", t->id);
				if (cs[e].op == CHAN_OP_SEND) {
					if (oks[e])
						t->sent[t->nsent++] = (struct ev){
							.ch = (uint8_t)ch, .ok = true, .v = sv[e]};
					if (after[ch] && oks[e])
						dump(w,
						     "thread %d: select sent on ch%d after its close",
						     t->id, ch);
				} else {
					note_recv(t, ch, oks[e], rv[e], after[ch], dry[ch]);
				}
			} else if (e != CHAN_DEFAULT && e != CHAN_TIMEOUT) {
				dump(w, "thread %d: select returned %d", t->id, e);
			} else if (e != (dl == CHAN_NOWAIT ? CHAN_DEFAULT : CHAN_TIMEOUT)) {
				dump(w, "thread %d: select returned %d for deadline %lld", t->id, e,
				     (long long)dl);
			}
			break;
		}
		default:
			e = chan_close(mine[c]);
			if (e == 0) /* release: pairs with the acquire loads above */
				atomic_store_explicit(&w->closed[c], true, memory_order_release);
			else if (e != EALREADY)
				dump(w, "thread %d: close returned %d", t->id, e);
			break;
		}
		t->res[j] = e;
	}
	for (int i = 0; i < w->nch; i++) {
		int e = chan_unref(mine[i]);
		if (e != 0)
			dump(w, "thread %d: chan_unref = %d (main still holds a reference)", t->id,
			     e);
	}
	return NULL;
}

/* Finds (ch, v) among all successful sends; returns the sender or -1. */
static int find_sent(struct world *w, int ch, uint64_t v, int *idx)
{
	int s = (int)(v >> 32);
	if (s < 0 || s >= w->nthr)
		return -1;
	struct thr *t = &w->t[s];
	for (int j = 0; j < t->nsent; j++)
		if (t->sent[j].v == v && t->sent[j].ch == ch) {
			*idx = j;
			return s;
		}
	return -1;
}

static void check(struct world *w, struct thr *drain)
{
	/* received[s][j]: how often sender s's j-th successful send arrived */
	int received[MAX_THREADS][MAX_EV];
	memset(received, 0, sizeof received);
	size_t after_ok[MAX_CH] = {0};
	for (int r = 0; r <= w->nthr; r++) {
		struct thr *t = r < w->nthr ? &w->t[r] : drain;
		uint64_t last[MAX_THREADS][MAX_CH];
		memset(last, 0, sizeof last);
		for (int j = 0; j < t->nrecv; j++) {
			struct ev *e = &t->recv[j];
			if (!e->ok) {
				if (e->v != 0)
					dump(w,
					     "receiver %d: closed receive on ch%d did not zero the value",
					     r, e->ch);
				continue;
			}
			if (e->after_dry)
				dump(w,
				     "receiver %d: got a value on ch%d after a receive saw it closed and drained",
				     r, e->ch);
			if (e->after)
				after_ok[e->ch]++;
			int idx, s = find_sent(w, e->ch, e->v, &idx);
			if (s < 0)
				dump(w,
				     "receiver %d: value %llx on ch%d was never sent successfully",
				     r, (unsigned long long)e->v, e->ch);
			if (++received[s][idx] > 1)
				dump(w, "value %llx on ch%d received twice",
				     (unsigned long long)e->v, e->ch);
			if (e->v <= last[s][e->ch])
				dump(w,
				     "receiver %d: sender %d's values on ch%d out of order (%llx after %llx)",
				     r, s, e->ch, (unsigned long long)e->v,
				     (unsigned long long)last[s][e->ch]);
			last[s][e->ch] = e->v;
		}
	}
	for (int c = 0; c < w->nch; c++)
		if (after_ok[c] > w->cap[c])
			dump(w,
			     "%zu values received on ch%d by receives that started after its close, cap %zu",
			     after_ok[c], c, w->cap[c]);
	for (int s = 0; s < w->nthr; s++)
		for (int j = 0; j < w->t[s].nsent; j++)
			if (received[s][j] != 1)
				dump(w, "value %llx sent on ch%d was lost",
				     (unsigned long long)w->t[s].sent[j].v, w->t[s].sent[j].ch);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t pos = 0;
#define NEXT() (pos < size ? data[pos++] : 0)
	struct world *w = calloc(1, sizeof *w);
	if (!w)
		abort();
	uint8_t h = NEXT(), c = NEXT();
	w->nthr = 2 + h % 3;
	w->nch = 1 + ((h >> 2) & 1);
	bool chaos = h & 0x80;
	for (int i = 0; i < w->nch; i++) {
		w->cap[i] = k_cap[(c >> (2 * i)) & 3];
		w->ch[i] = chan_new(sizeof(uint64_t), w->cap[i]);
		if (!w->ch[i])
			abort();
	}
	for (int i = 0; i < w->nthr; i++) {
		struct thr *t = &w->t[i];
		t->id = i;
		t->w = w;
		t->nops = NEXT() % (MAX_OPS + 1);
		for (int j = 0; j < t->nops; j++) {
			uint8_t b = NEXT();
			t->ops[j] = (struct op){.kind = b & 7, .ch = (b >> 3) & 1, .dl = b >> 4};
			if (t->ops[j].kind == 4 || t->ops[j].kind == 5)
				t->ops[j].mask = NEXT() & 63;
		}
	}
#undef NEXT
	/* Test-only: chaos mode is meant to be set once at start-up; toggling
	 * it here is safe because no other thread exists at this point (the
	 * flag is read relaxed and only decides whether to perturb). */
	bool chaos_was = atomic_load_explicit(&chan__chaos_on, memory_order_relaxed);
	if (chaos)
		atomic_store_explicit(&chan__chaos_on, true, memory_order_relaxed);

	if (pthread_barrier_init(&w->start, NULL, (unsigned)w->nthr) != 0)
		abort();
	for (int i = 0; i < w->nthr; i++) {
		for (int k = 0; k < w->nch; k++)
			chan_ref(w->ch[k]); /* one reference per thread */
		if (pthread_create(&w->t[i].tid, NULL, thread_main, &w->t[i]) != 0)
			abort();
	}
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += WATCHDOG_S;
	for (int i = 0; i < w->nthr; i++)
		if (pthread_timedjoin_np(w->t[i].tid, NULL, &until) != 0)
			dump(w, "thread %d still running after %d s: lost wake-up or a hang", i,
			     WATCHDOG_S);
	pthread_barrier_destroy(&w->start);
	atomic_store_explicit(&chan__chaos_on, chaos_was, memory_order_relaxed);

	/* Drain: everything still buffered, close or not. */
	struct thr *drain = calloc(1, sizeof *drain);
	if (!drain)
		abort();
	for (int k = 0; k < w->nch; k++) {
		size_t len = chan_len(w->ch[k]), got = 0;
		for (;;) {
			uint64_t v = 0;
			bool ok = false;
			int e = chan_try_recv(w->ch[k], &v, &ok);
			if (e == EAGAIN || (e == 0 && !ok))
				break;
			if (e != 0)
				dump(w, "drain: try_recv = %d", e);
			if (drain->nrecv == MAX_EV)
				dump(w, "drain: more values than could have been sent");
			drain->recv[drain->nrecv++] = (struct ev){
				.ch = (uint8_t)k,
				.ok = true,
				.v = v,
				.after = atomic_load_explicit(&w->closed[k], memory_order_relaxed)};
			got++;
		}
		if (got != len)
			dump(w, "drain: chan_len said %zu, drained %zu", len, got);
		if (got > w->cap[k])
			dump(w, "drain: %zu values in a buffer of cap %zu", got, w->cap[k]);
	}
	check(w, drain);
	for (int k = 0; k < w->nch; k++) {
		int e = chan_unref(w->ch[k]);
		if (e != 0)
			dump(w, "final chan_unref = %d: a waiter was left registered", e);
	}
	free(drain);
	free(w);
	return 0;
}

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
 * BUBBLE MODE (issue 19: the schedule is fuzzed too, and replays).  An input
 * that starts with the 4 bytes "BUBL" (no input of the thread mode's corpus
 * does; every other input decodes as above) is
 *   "BUBL", how, then the script exactly as above, then the decisions:
 *   how & 3:  0 the seeded schedule only, 1 switch points, 2 or 3 switch
 *             points and time jumps (gochan/bubble.h; as fuzz_bubble.c);
 *   the script's "threads" run as fibers of one gobubble_run on this thread
 *   (h's chaos bit is ignored: chaos would sleep the bubble's only worker);
 *   every byte after the script is the bubble's decision source
 *   (opts.fuzz_input: decision i is byte i, byte % n, 0 past the end), so
 *   libFuzzer's coverage steers the interleaving.
 * With FUZZ_BUBBLE=1 in the environment every input is in bubble mode and
 * starts at how (no "BUBL"): a fuzzing run that stays in bubble mode (a
 * mutation cannot drop the magic and fall back to threads).
 * Deadlines are then on the bubble's virtual clock (nothing waits for real),
 * and the watchdog is the bubble's verdict: a DEADLOCK or LEAK verdict is a
 * failure (the blocked fibers' dump, then the script, then abort).  The same
 * checks as below run after the bubble returns; then the input runs a second
 * time with the first run's recorded decision log as opts.replay, and every
 * thread's results, values sent and received, the drain, the virtual time,
 * the step count and the decision log must be identical (a replay is exact).
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
#include <gochan/bubble.h>
#include <gochan/chan.h>
#include <gochan/fiber.h>
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
#include "fuzz_util.h"

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
	bool bubble; /* the threads are fibers of one bubble (no barrier) */
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

/* One thread's (or fiber's) script. */
static void script_run(struct thr *t)
{
	struct world *w = t->w;
	uint32_t seq = 0;
	chan_t *mine[MAX_CH];
	for (int i = 0; i < w->nch; i++)
		mine[i] = w->ch[i]; /* the reference was taken by main for us */
	/* Threads start together; a bubble's fibers start in the seeded order
	 * (a barrier would block its only worker). */
	if (!w->bubble)
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
}

static void *thread_main(void *arg)
{
	script_run(arg);
	return NULL;
}

static void fiber_main(void *arg)
{
	script_run(arg);
}

/* The bubble's first fiber: start one fiber per script and return (the
 * bubble returns once every fiber has ended: GOBUBBLE_OK). */
static void bubble_main(void *arg)
{
	struct world *w = arg;
	for (int i = 0; i < w->nthr; i++) {
		for (int k = 0; k < w->nch; k++)
			chan_ref(w->ch[k]); /* one reference per fiber */
		if (gofiber_go(NULL, fiber_main, &w->t[i]) != 0)
			abort();
	}
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

/* Decodes the script from data[*pos..) into a new world (channels made). */
static struct world *decode(const uint8_t *data, size_t size, size_t *pos, bool *chaos)
{
#define NEXT() (*pos < size ? data[(*pos)++] : 0)
	struct world *w = calloc(1, sizeof *w);
	if (!w)
		abort();
	uint8_t h = NEXT(), c = NEXT();
	w->nthr = 2 + h % 3;
	w->nch = 1 + ((h >> 2) & 1);
	*chaos = h & 0x80;
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
	return w;
}

/* The thread mode: the scripts on OS threads, chaos mode if asked. */
static void run_threads(struct world *w, bool chaos)
{
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
}

/* The bubble mode: the scripts as fibers of one bubble; its verdict is the
 * watchdog (every operation has a deadline, so nothing may stay blocked). */
static void run_bubble(struct world *w, const gobubble_opts *opts, gobubble_report *rep)
{
	w->bubble = true;
	if (gobubble_run(opts, bubble_main, w, rep) != 0)
		dump(w, "gobubble_run failed");
	char why[200];

	if (fz_bubble_problem(rep, why, sizeof why))
		dump(w, "%s", why);
}

/* After the run: drain what is buffered, check, release main's references.
 * Returns the drain (the caller frees it). */
static struct thr *finish(struct world *w)
{
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
	return drain;
}

static bool same_evs(const struct ev *a, int na, const struct ev *b, int nb)
{
	if (na != nb)
		return false;
	for (int i = 0; i < na; i++)
		if (a[i].ch != b[i].ch || a[i].ok != b[i].ok || a[i].after != b[i].after ||
		    a[i].after_dry != b[i].after_dry || a[i].v != b[i].v)
			return false;
	return true;
}

/* What the replay must reproduce: every result, value and drained value. */
static bool same_trace(const struct world *a, const struct thr *da, const struct world *b,
		       const struct thr *db)
{
	for (int i = 0; i < a->nthr; i++) {
		const struct thr *x = &a->t[i], *y = &b->t[i];
		if (memcmp(x->res, y->res, sizeof x->res) != 0 ||
		    !same_evs(x->sent, x->nsent, y->sent, y->nsent) ||
		    !same_evs(x->recv, x->nrecv, y->recv, y->nrecv))
			return false;
	}
	return same_evs(da->recv, da->nrecv, db->recv, db->nrecv);
}

static const uint8_t k_magic[4] = {'B', 'U', 'B', 'L'};

static bool bubble_only; /* FUZZ_BUBBLE */

/* One bubble-mode input; the magic (if any) is data[0..@pos). */
static void bubble_input(const uint8_t *data, size_t size, size_t pos)
{
	size_t start = pos;
	uint8_t how = pos < size ? data[pos++] : 0;
	bool chaos;
	struct world *w = decode(data, size, &pos, &chaos);
	gobubble_opts opts = {.ignore_env = true,
			      .dump = stderr,
			      .switch_points = (how & 3) >= 1,
			      .time_jumps = (how & 3) >= 2,
			      .fuzz_input = data + pos,
			      .fuzz_len = size - pos,
			      .record = true};
	gobubble_report first = {0};
	run_bubble(w, &opts, &first);
	struct thr *drain = finish(w);
	if (first.log_short)
		abort(); /* out of memory: the replay below would differ */

	/* The log replays the run exactly: a second, fresh world. */
	size_t pos2 = start + 1;
	struct world *w2 = decode(data, size, &pos2, &chaos);
	opts.fuzz_input = NULL;
	opts.fuzz_len = 0;
	opts.replay = first.log;
	opts.replay_len = first.log_len;
	gobubble_report again = {0};
	run_bubble(w2, &opts, &again);
	struct thr *drain2 = finish(w2);
	if (again.steps != first.steps || again.log_len != first.log_len || again.misfits ||
	    again.past_end || again.elapsed_ns != first.elapsed_ns ||
	    (first.log_len && memcmp(again.log, first.log, first.log_len * sizeof *first.log)) ||
	    !same_trace(w, drain, w2, drain2))
		dump(w2,
		     "the replay differs: steps %llu vs %llu, %zu vs %zu decisions, %llu misfits, "
		     "%llu past the end, the trace %s (the replay's trace above)",
		     (unsigned long long)again.steps, (unsigned long long)first.steps,
		     again.log_len, first.log_len, (unsigned long long)again.misfits,
		     (unsigned long long)again.past_end,
		     same_trace(w, drain, w2, drain2) ? "the same" : "differs");
	free(first.log);
	free(again.log);
	free(drain2);
	free(w2);
	free(drain);
	free(w);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	const char *b = getenv("FUZZ_BUBBLE");
	bubble_only = b && *b && strcmp(b, "0") != 0;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (bubble_only) {
		bubble_input(data, size, 0);
		return 0;
	}
	if (size >= sizeof k_magic && memcmp(data, k_magic, sizeof k_magic) == 0) {
		bubble_input(data, size, sizeof k_magic);
		return 0;
	}
	size_t pos = 0;
	bool chaos;
	struct world *w = decode(data, size, &pos, &chaos);
	run_threads(w, chaos);
	free(finish(w));
	free(w);
	return 0;
}

/*
 * fuzz/fuzz_context.c - random trees of contexts (cancel, deadline, value,
 * WithoutCancel nodes; explicit cancels with and without causes; deadlines
 * already passed or a few microseconds to milliseconds away; AfterFunc
 * registrations; ctx_send/ctx_recv) checked after every step against a
 * model of Go's context package: Err, Cause (+ data), Done (NULL or closed
 * exactly when done), Deadline and Value of every context a slot holds.
 *
 * Deadlines fire on the timer thread, asynchronously.  The model stays exact
 * by settling them at known points: before each step, every deadline that
 * has passed is waited for (its Done must close within 2 s) and applied to
 * the model in deadline order (the order the timer thread fires them), and a
 * deadline due within GUARD_NS is slept through and settled too, so no
 * deadline passes during a step unless the step itself takes longer than
 * GUARD_NS.  That rare case is handled where it matters: an explicit cancel
 * racing a deadline is judged by which error the context ended with, and a
 * failed check is retried once after settling deadlines that passed.
 *
 * DECODING (next(): the next byte, 0 past the end).  Eight slots, each empty
 * or holding one reference to a context.  A step's byte b: op = b & 15,
 * slot s = (b >> 4) & 7, flag f = b >> 7.  "p" below is one more byte: the
 * parent is slot p & 7, or, if that slot is empty, Background (p & 8 == 0)
 * or TODO.  A new context replaces s's (whose reference is released).
 *   op 0, 13  WithCancel(p) (f: the WithCancelCause name).
 *   op 1, 14  o = next(): WithDeadline(p, now + k_off[o & 7]) (f: WithTimeout);
 *             o & 8: with a cause (the ..._cause forms), code 1000 + node.
 *   op 2      kv = next(): WithValue(p, key[kv & 3], val[(kv >> 2) & 7]);
 *             val index 7 is NULL.
 *   op 3      WithoutCancel(p).
 *   op 4, 15  cancel s; f: ctx_cancel_cause(s, code = next() ? 2000 + code : 0).
 *   op 5      ctx_cancel_release(s).       op 6  ctx_release(s).
 *   op 7      t = next() & 7: t := ctx_ref(s).
 *   op 8      AfterFunc(s) (at most MAX_REGS per input).
 *   op 9      stop registration next() % count.
 *   op 10     sleep until the next pending deadline (if within 5 ms).
 *   op 11     ctx_recv (f: ctx_send) on s over a channel of capacity 2;
 *             blocks only when the context's deadline will end it.
 *   op 12     misuse: the EINVAL paths (which one: (b >> 4) & 7).
 *
 * BUBBLE MODE (issue 19: deadlines on a virtual clock, the schedule fuzzed,
 * and an exact replay).  An input that starts with the 4 bytes "BUBL" (no
 * input of the thread mode's corpus does; every other input decodes as
 * above) is
 *   "BUBL", how, len, then len bytes of steps (decoded as above; fewer if
 *   the input ends first), then the decisions:
 *   how & 3:  0 the seeded schedule only, 1 switch points, 2 or 3 switch
 *             points and time jumps (gochan/bubble.h; as fuzz_bubble.c);
 *   the whole run (steps and final checks) is the first fiber of one
 *   gobubble_run on this thread, its AfterFunc functions fibers of the
 *   bubble, and the bytes after the steps its decision source
 *   (opts.fuzz_input: decision i is byte i, byte % n, 0 past the end).
 * With FUZZ_BUBBLE=1 in the environment every input is in bubble mode and
 * starts at how (no "BUBL"): a fuzzing run that stays in bubble mode (a
 * mutation cannot drop the magic and fall back to threads).
 * Deadlines then fire on the bubble's virtual clock, on its worker, in
 * deadline order (the sleeps and the waits for Done jump the clock: nothing
 * waits for real; without time jumps no step races a deadline).  A DEADLOCK or LEAK
 * verdict is a failure (the blocked fibers' dump, then the trace, then
 * abort).  Then the input runs a second time with the first run's recorded
 * decision log as opts.replay: the trace, the step count and the log must
 * be identical (a replay is exact).
 */
#include <errno.h>
#include <gochan/bubble.h>
#include <gochan/chan.h>
#include <gochan/context.h>
#include <gochan/fiber.h>
#include <gochan/select.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fuzz_util.h"

/*
 * Bugs this harness found (each has a regression input and a unit test):
 *   1. ctx_with_timeout(p, ns <= 0) reported ctx_deadline() == now instead of
 *      now + ns (Go: time.Now().Add(d)).  fuzz/regressions/context/
 *      timeout-negative-deadline; tests/test_fuzz_regress.c
 *      ctx_timeout_negative_deadline.  Fixed in 8862187.
 */

#define NSLOT 8
#define MAX_NODES 48
#define MAX_STEPS 200
#define MAX_TIMERS 6 /* short deadlines per input (each may cost a sleep) */
#define MAX_REGS 12
#define GUARD_NS 1000000
#define SETTLE_NS 2000000000LL
#define HOUR_NS 3600000000000LL

/* Deadline offsets: 1 ms ago, now, 30 us, 150 us, 600 us, 3 ms, an hour, none. */
static const int64_t k_off[8] = {-1000000, 0,       30000,   150000,
				 600000,   3000000, HOUR_NS, CHAN_FOREVER};

static const char k_keys[4];
static int k_vals[7];
static int k_cdata[8];          /* cancel-cause data */
static int k_dldata[MAX_NODES]; /* deadline-cause data, one per node */

enum kind {
	K_CANCEL,
	K_DEADLINE,
	K_VALUE,
	K_WITHOUT
};

struct cn {
	int parent; /* node index, or -1 with root: 0 Background, 1 TODO */
	int root;
	enum kind kind;
	ctx_t *c; /* valid while a slot, the hidden list or a child holds it */
	/* cancelable nodes: */
	bool done;
	int err, cause;
	void *data;
	bool timer; /* an own deadline timer is pending */
	int64_t tdl;
	int tcause;
	void *tdata;
	ctx_t *hidden; /* our extra reference to a node with a timer */
	/* every node: the deadline ctx_deadline() must report */
	bool has_dl;
	int64_t dl;
	/* value nodes: */
	const void *key;
	void *val;
};

struct reg {
	int node;
	ctx_after_t *h;
	bool stopped; /* a stop returned true */
	bool fired_expected;
};

struct run {
	const uint8_t *d;
	size_t n, pos;
	struct cn node[MAX_NODES];
	int nnodes;
	int slot[NSLOT]; /* node index or -1 */
	int ntimers;
	struct reg reg[MAX_REGS];
	int nregs;
	chan_t *ch;  /* for ctx_send/ctx_recv, capacity 2 */
	chan_t *nap; /* bubble mode: nobody sends on it (a virtual sleep) */
	int step;
	int64_t quiet_until; /* no deadline pending at the step's start passes before */
	bool abandoned;
	char trace[16384];
	size_t tlen;
};

/* AfterFunc functions report here: (generation << 8) | registration. */
static chan_t *after_ch;
static uint32_t gen;

static uint8_t next(struct run *r)
{
	return fz_next(r->d, r->n, &r->pos);
}

static void tr(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tr(struct run *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fz_vappendf(r->trace, sizeof r->trace, &r->tlen, fmt, ap);
	va_end(ap);
}

static void fail(struct run *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));
static void fail(struct run *r, const char *fmt, ...)
{
	fprintf(stderr, "\n==== fuzz_context: divergence from the Go model ====\n%s\n", r->trace);
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "DIVERGENCE at step %d: ", r->step);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	abort();
}

static const char *kname(enum kind k)
{
	static const char *const n[] = {"cancel", "deadline", "value", "without"};
	return n[k];
}

/* ---- the model -------------------------------------------------------- */

static bool cancelable(const struct cn *m)
{
	return m->kind == K_CANCEL || m->kind == K_DEADLINE;
}

/* The node whose cancellation @i reports (value nodes answer for their
 * parent), or -1 when @i can never be done (roots, WithoutCancel). */
static int canceler(struct run *r, int i)
{
	while (i >= 0 && r->node[i].kind == K_VALUE)
		i = r->node[i].parent;
	if (i < 0 || r->node[i].kind == K_WITHOUT)
		return -1;
	return i;
}

static void m_cancel(struct run *r, int i, int err, int cause, void *data);

static void m_propagate(struct run *r, int parent, int err, int cause, void *data)
{
	for (int j = 0; j < r->nnodes; j++) {
		struct cn *m = &r->node[j];
		if (m->parent != parent)
			continue;
		if (cancelable(m))
			m_cancel(r, j, err, cause, data);
		else if (m->kind == K_VALUE)
			m_propagate(r, j, err, cause, data);
		/* WithoutCancel: the cancellation stops here */
	}
}

/* Go's cancelCtx.cancel: the first cancel wins; the children get the same
 * error and the parent's (resolved) cause. */
static void m_cancel(struct run *r, int i, int err, int cause, void *data)
{
	struct cn *m = &r->node[i];
	if (m->done)
		return;
	m->done = true;
	m->err = err;
	m->cause = cause ? cause : err;
	m->data = cause ? data : NULL;
	m->timer = false;
	m_propagate(r, i, err, m->cause, m->data);
}

static void *m_value(struct run *r, int i, const void *key)
{
	for (; i >= 0; i = r->node[i].parent)
		if (r->node[i].kind == K_VALUE && r->node[i].key == key)
			return r->node[i].val;
	return NULL;
}

/* The earliest pending timer's deadline, or INT64_MAX. */
static int64_t next_timer(struct run *r, int *who)
{
	int64_t best = INT64_MAX;
	for (int i = 0; i < r->nnodes; i++)
		if (r->node[i].timer && !r->node[i].done && r->node[i].tdl < best) {
			best = r->node[i].tdl;
			if (who)
				*who = i;
		}
	return best;
}

static void sleep_until(struct run *r, int64_t t);

/* How long a wait for what must happen (a Done closing, an AfterFunc
 * running) may take before it is a failure.  On threads, 2 s of real time
 * (the timer thread's lateness under load).  In a bubble, for ever: the
 * bubble's DEADLOCK verdict is the watchdog, and with time jumps a switch
 * point may move the clock by any amount while what is awaited is runnable
 * (no virtual bound would be a bound on lateness). */
static int64_t settle_deadline(const struct run *r)
{
	return r->nap ? CHAN_FOREVER : chan_now() + SETTLE_NS;
}

/* Lets the timer thread (or, in a bubble, the clock) move on a little. */
static void pause_briefly(struct run *r)
{
	if (r->nap)
		sleep_until(r, chan_now() + 1000);
	else
		sched_yield();
}

/* The timer thread closes a context's Done and then cancels its descendants
 * (as Go's cancelCtx.cancel does under its lock), so an observer that saw
 * Done closed may briefly see a descendant not yet done.  Wait (bounded) for
 * every context we hold that the model now says is done to report it. */
static void settle_descendants(struct run *r)
{
	for (int j = 0; j < r->nnodes; j++) {
		struct cn *m = &r->node[j];
		ctx_t *c = m->hidden;
		for (int s = 0; !c && s < NSLOT; s++)
			if (r->slot[s] == j)
				c = m->c;
		int k = canceler(r, j);
		if (!c || k < 0 || !r->node[k].done)
			continue;
		/* On threads 2 s; in a bubble a bound on naps instead (machine
		 * independent; settle_deadline's reason rules out a virtual
		 * one). */
		int64_t until = chan_now() + SETTLE_NS;
		unsigned naps = 0;
		while (ctx_err(c) == 0) {
			if (r->nap ? ++naps > 100000 : chan_now() > until)
				fail(r,
				     "node %d: not done 2 s after the deadline of an ancestor fired",
				     j);
			pause_briefly(r);
		}
	}
}

/* Waits for every timer due at or before @t to fire, applying each to the
 * model in deadline order. */
static void settle(struct run *r, int64_t t)
{
	int i = -1;
	int64_t due;
	/* In a bubble, a time jump at a switch point fires one due timer
	 * only, and leaves the others due at that instant pending.  A nap of
	 * 1 ns that wakes exactly 1 ns later has let every timer due by then
	 * fire (they fire before a fiber's later or equal deadline), so that
	 * the order check below sees all of them; a nap whose own switch
	 * point jumped further is repeated (each jump reaches a pending
	 * deadline: finitely many). */
	if (r->nap && next_timer(r, NULL) <= t) {
		int64_t before;
		unsigned naps = 0;
		do {
			before = chan_now();
			sleep_until(r, before + 1);
		} while (chan_now() != before + 1 && ++naps < 1000);
		t = chan_now();
	}
	while ((due = next_timer(r, &i)) <= t) {
		/* Timers due at the same instant fire in an order nobody
		 * promises (Go: two runtime timers; a bubble: a decision).  An
		 * ancestor's firing first gives a descendant the ancestor's
		 * cause; its own firing first, its own.  So take first the
		 * tied timers that visibly fired by themselves, the newest
		 * first (a descendant is newer than its ancestors, and fired
		 * by itself only if it fired before them), then the rest,
		 * oldest first (an ancestor before the descendants it
		 * cancelled).  Two that cannot be told apart (no causes) give
		 * the model the same state in either order. */
		for (int j = r->nnodes - 1; j >= 0; j--) {
			struct cn *o = &r->node[j];
			void *od = NULL;
			if (o->timer && !o->done && o->tdl == due &&
			    ctx_err(o->hidden) == CTX_DEADLINE_EXCEEDED &&
			    ctx_cause(o->hidden, &od) ==
				    (o->tcause ? o->tcause : CTX_DEADLINE_EXCEEDED) &&
			    od == o->tdata) {
				i = j;
				break;
			}
		}
		struct cn *m = &r->node[i];
		chan_t *done = ctx_done(m->hidden);
		if (!done)
			fail(r, "node %d: ctx_done NULL on a deadline context", i);
		bool ok = true;
		int e = chan_recv_until(done, NULL, &ok, settle_deadline(r));
		if (e != 0 || ok)
			fail(r,
			     "node %d: deadline passed %lld ns ago but Done did not close within 2 s (%d)",
			     i, (long long)(chan_now() - m->tdl), e);
		tr(r, "  [deadline of node %d fired]\n", i);
		m_cancel(r, i, CTX_DEADLINE_EXCEEDED, m->tcause, m->tdata);
		settle_descendants(r);
	}
}

static void sleep_until(struct run *r, int64_t t)
{
	if (r->nap) { /* a bubble: a receive nobody answers times out at t */
		int e = chan_recv_until(r->nap, NULL, NULL, t);
		if (e != ETIMEDOUT)
			fail(r, "bubble: a nap returned %d", e);
		return;
	}
	struct timespec ts = {.tv_sec = t / 1000000000, .tv_nsec = t % 1000000000};
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/* Before a step: settle what has passed, and sleep through what is close. */
static void quiesce(struct run *r)
{
	for (;;) {
		int64_t now = chan_now();
		settle(r, now);
		int64_t t = next_timer(r, NULL);
		if (t == INT64_MAX || t > now + GUARD_NS) {
			r->quiet_until = t;
			return;
		}
		sleep_until(r, t);
	}
}

/* ---- checks ------------------------------------------------------------ */

/* Compares one node with the model; returns a static message or NULL. */
static const char *check_node(struct run *r, int i, bool with_done)
{
	static char msg[256];
	struct cn *m = &r->node[i];
	int k = canceler(r, i);
	bool done = k >= 0 && r->node[k].done;
	int err = done ? r->node[k].err : 0;
	int cause = done ? r->node[k].cause : 0;
	void *data = done ? r->node[k].data : NULL;

	int e = ctx_err(m->c);
	if (e != err) {
		snprintf(msg, sizeof msg, "node %d (%s): ctx_err = %d, model %d", i, kname(m->kind),
			 e, err);
		return msg;
	}
	void *gd = (void *)&msg;
	int c = ctx_cause(m->c, &gd);
	if (c != cause || gd != data) {
		snprintf(msg, sizeof msg, "node %d (%s): ctx_cause = %d data %p, model %d data %p",
			 i, kname(m->kind), c, gd, cause, data);
		return msg;
	}
	/* Done is created on first use: asking every step would hide the
	 * cancel-before-Done-exists paths, so ask on some steps only. */
	chan_t *dch = with_done ? ctx_done(m->c) : NULL;
	if (with_done && (dch != NULL) != (k >= 0)) {
		snprintf(msg, sizeof msg, "node %d (%s): ctx_done %s, model says %s", i,
			 kname(m->kind), dch ? "a channel" : "NULL",
			 k >= 0 ? "cancelable" : "never done");
		return msg;
	}
	if (dch && (chan_is_closed(dch) != done || chan_cap(dch) != 0 || chan_elem_size(dch) != 0 ||
		    chan_len(dch) != 0)) {
		snprintf(msg, sizeof msg,
			 "node %d (%s): Done closed=%d (model done=%d) cap %zu size %zu", i,
			 kname(m->kind), chan_is_closed(dch), done, chan_cap(dch),
			 chan_elem_size(dch));
		return msg;
	}
	if (dch && ctx_done(m->c) != dch) {
		snprintf(msg, sizeof msg, "node %d: ctx_done returned a different channel", i);
		return msg;
	}
	int64_t dl = 0;
	bool hd = ctx_deadline(m->c, &dl);
	if (hd != m->has_dl || (hd && dl != m->dl)) {
		snprintf(msg, sizeof msg, "node %d (%s): ctx_deadline = %d %lld, model %d %lld", i,
			 kname(m->kind), hd, (long long)dl, m->has_dl, (long long)m->dl);
		return msg;
	}
	for (int kk = 0; kk < 4; kk++) {
		void *v = ctx_value(m->c, &k_keys[kk]);
		void *w = m_value(r, i, &k_keys[kk]);
		if (v != w) {
			snprintf(msg, sizeof msg, "node %d (%s): ctx_value(key %d) = %p, model %p",
				 i, kname(m->kind), kk, v, w);
			return msg;
		}
	}
	return NULL;
}

static const char *check_slots(struct run *r)
{
	for (int s = 0; s < NSLOT; s++)
		if (r->slot[s] >= 0) {
			const char *m =
				check_node(r, r->slot[s], (r->step & 3) == 3 || r->pos >= r->n);
			if (m)
				return m;
		}
	return NULL;
}

/* True when a deadline that was pending at the start of the step has passed
 * since (quiesce() left none due before now + GUARD_NS), or one created
 * during the step is already due: the step's
 * operations and the timer thread may have raced, and the order they took
 * is not always observable. */
static bool raced(struct run *r)
{
	int64_t now = chan_now();
	/* ... or one created during the step is already due. */
	return now >= r->quiet_until || next_timer(r, NULL) <= now;
}

/* Gives up on the rest of the input: a deadline raced an operation in a way
 * the model cannot decide (only when a step outlasts GUARD_NS, i.e. under
 * heavy load).  Never a verdict either way. */
static void abandon(struct run *r, const char *why)
{
	tr(r, "  [abandoned: a deadline raced the step: %s]\n", why);
	r->abandoned = true;
}

static void check_all(struct run *r)
{
	const char *m = check_slots(r);
	if (m && raced(r)) {
		settle(r, chan_now());
		m = check_slots(r);
		if (m) {
			abandon(r, m);
			return;
		}
	}
	if (m)
		fail(r, "%s", m);
}

/* ---- operations ---------------------------------------------------------- */

static ctx_t *parent_of(struct run *r, uint8_t p, int *pi, int *root)
{
	int s = p & 7;
	if (r->slot[s] >= 0) {
		*pi = r->slot[s];
		*root = 0;
		return r->node[*pi].c;
	}
	*pi = -1;
	*root = (p >> 3) & 1;
	return *root ? ctx_todo() : ctx_background();
}

static void slot_release(struct run *r, int s)
{
	if (r->slot[s] < 0)
		return;
	ctx_release(r->node[r->slot[s]].c);
	r->slot[s] = -1;
}

/* A new node under parent @pi: inherits the deadline and, if the parent is
 * done, is born done with the parent's error and cause. */
static int new_node(struct run *r, int pi, int root, enum kind kind)
{
	int i = r->nnodes++;
	struct cn *m = &r->node[i];
	memset(m, 0, sizeof *m);
	m->parent = pi;
	m->root = root;
	m->kind = kind;
	if (pi >= 0 && kind != K_WITHOUT) {
		m->has_dl = r->node[pi].has_dl;
		m->dl = r->node[pi].dl;
	}
	return i;
}

static void born(struct run *r, int i)
{
	struct cn *m = &r->node[i];
	int k = canceler(r, m->parent);
	if (cancelable(m) && k >= 0 && r->node[k].done)
		m_cancel(r, i, r->node[k].err, r->node[k].cause, r->node[k].data);
}

static void op_new(struct run *r, int s, int op, bool f)
{
	uint8_t p = next(r);
	uint8_t o = (op == 1 || op == 14 || op == 2) ? next(r) : 0;
	if (r->nnodes == MAX_NODES) {
		tr(r, "new: node limit\n");
		return;
	}
	int pi, root;
	ctx_t *pc = parent_of(r, p, &pi, &root);
	ctx_t *c;
	int i;
	if (op == 0 || op == 13) {
		i = new_node(r, pi, root, K_CANCEL);
		c = f ? ctx_with_cancel_cause(pc) : ctx_with_cancel(pc);
		tr(r, "%d s%d = node %d: with_cancel%s(node %d)\n", r->step, s, i,
		   f ? "_cause" : "", pi);
		if (!c)
			fail(r, "ctx_with_cancel failed: %s", strerror(errno));
		r->node[i].c = c;
		born(r, i);
	} else if (op == 2) {
		i = new_node(r, pi, root, K_VALUE);
		const void *key = &k_keys[o & 3];
		void *val = ((o >> 2) & 7) == 7 ? NULL : &k_vals[(o >> 2) & 7];
		c = ctx_with_value(pc, key, val);
		tr(r, "%d s%d = node %d: with_value(node %d, key %d, val %d)\n", r->step, s, i, pi,
		   o & 3, (o >> 2) & 7);
		if (!c)
			fail(r, "ctx_with_value failed: %s", strerror(errno));
		r->node[i].c = c;
		r->node[i].key = key;
		r->node[i].val = val;
	} else if (op == 3) {
		i = new_node(r, pi, root, K_WITHOUT);
		c = ctx_without_cancel(pc);
		tr(r, "%d s%d = node %d: without_cancel(node %d)\n", r->step, s, i, pi);
		if (!c)
			fail(r, "ctx_without_cancel failed: %s", strerror(errno));
		r->node[i].c = c;
	} else {
		int64_t off = k_off[o & 7];
		bool with_cause = o & 8;
		bool timeout = f;
		if (off > 0 && off < HOUR_NS && r->ntimers >= MAX_TIMERS)
			off = HOUR_NS; /* keep sleeping bounded */
		if (timeout && off == CHAN_FOREVER)
			off = HOUR_NS;
		i = new_node(r, pi, root, K_DEADLINE);
		struct cn *m = &r->node[i];
		int cause = with_cause ? 1000 + i : 0;
		void *cdata = with_cause ? &k_dldata[i] : NULL;
		int64_t before = chan_now();
		int64_t want = off == CHAN_FOREVER ? CHAN_FOREVER : before + off;
		if (timeout)
			c = with_cause ? ctx_with_timeout_cause(pc, off, cause, cdata)
				       : ctx_with_timeout(pc, off);
		else
			c = with_cause ? ctx_with_deadline_cause(pc, want, cause, cdata)
				       : ctx_with_deadline(pc, want);
		int64_t after = chan_now();
		tr(r, "%d s%d = node %d: with_%s%s(node %d, %+lld ns)\n", r->step, s, i,
		   timeout ? "timeout" : "deadline", with_cause ? "_cause" : "", pi,
		   (long long)off);
		if (!c)
			fail(r, "ctx_with_deadline/timeout failed: %s", strerror(errno));
		m->c = c;
		/* The deadline it asked for: exact for WithDeadline; within
		 * [before + off, after + off] for WithTimeout (read it back). */
		int64_t lo = want, hi = want;
		if (timeout) {
			lo = before + off;
			hi = after + off;
		}
		int64_t got = 0;
		bool has = ctx_deadline(c, &got);
		bool pdl = m->has_dl; /* the parent's, inherited by new_node */
		int64_t pd = m->dl;
		bool own;
		if (off == CHAN_FOREVER)
			own = false;
		else if (pdl && pd < lo)
			own = false;
		else if (!pdl || pd > hi)
			own = true;
		else /* the parent's deadline lies in the window: either is right,
		      * and when got == pd either may have happened (Go makes a
		      * WithCancel only for a parent deadline strictly before
		      * ours; in a bubble equal deadlines are the rule): model a
		      * timer of our own, tied with the parent's (settle()
		      * decides the order of tied timers by what it sees). */
			own = has;
		if (own && timeout) {
			if (!has || got < lo || got > hi)
				fail(r, "with_timeout: ctx_deadline %d %lld outside [%lld, %lld]",
				     has, (long long)got, (long long)lo, (long long)hi);
			want = got;
		}
		if (own) {
			m->has_dl = true;
			m->dl = want;
			m->tcause = cause;
			m->tdata = cause ? cdata : NULL;
		}
		/* Already-done parent first (Go: propagateCancel before the
		 * deadline check), then a deadline already passed. */
		born(r, i);
		if (own && !m->done) {
			if (off <= 0 || want <= before) {
				m_cancel(r, i, CTX_DEADLINE_EXCEEDED, m->tcause, m->tdata);
			} else {
				/* Pending (an hour away: until finish() cancels it). */
				m->timer = true;
				m->tdl = want;
				if (off < HOUR_NS)
					r->ntimers++;
			}
		}
		if (m->timer || own)
			m->hidden = ctx_ref(c);
	}
	slot_release(r, s);
	r->slot[s] = i;
}

/* An explicit cancel raced deadlines due at or before @now: a timer whose
 * context reports DEADLINE_EXCEEDED fired before the cancel reached it (had
 * the cancel come first, a context it reaches would report CANCELED, and one
 * it does not reach is independent of it, so either order is right). Apply
 * those first, in deadline order; the rest fire later (settle()). */
static void fired_before(struct run *r, int64_t now)
{
	int w = -1;
	while (next_timer(r, &w) <= now) {
		struct cn *m = &r->node[w];
		if (ctx_err(m->hidden) != CTX_DEADLINE_EXCEEDED)
			return;
		tr(r, "  [deadline of node %d fired before the cancel]\n", w);
		m_cancel(r, w, CTX_DEADLINE_EXCEEDED, m->tcause, m->tdata);
		settle_descendants(r);
	}
}

static void op_cancel(struct run *r, int s, int op, bool f)
{
	uint8_t code = (op == 4 || op == 15) && f ? next(r) : 0;
	if (r->slot[s] < 0) {
		tr(r, "%d cancel s%d: empty\n", r->step, s);
		if (op == 5)
			ctx_cancel_release(NULL);
		else if (ctx_cancel(NULL) != EINVAL)
			fail(r, "ctx_cancel(NULL) != EINVAL");
		return;
	}
	int i = r->slot[s];
	struct cn *m = &r->node[i];
	int cause = code ? 2000 + code : 0;
	void *data = code ? &k_cdata[code & 7] : NULL;
	tr(r, "%d %s s%d (node %d, %s) cause %d\n", r->step,
	   op == 5 ? "cancel_release"
	   : f     ? "cancel_cause"
		   : "cancel",
	   s, i, kname(m->kind), cause);
	int e = 0;
	if (op == 5) {
		ctx_cancel_release(m->c); /* m->c may be freed now: look through hidden only */
		/* ... and empty the slot now: settle_descendants() (through
		 * fired_before below) reads the contexts that slots hold. */
		r->slot[s] = -1;
	} else if (f)
		e = ctx_cancel_cause(m->c, cause,
				     code ? data
					  : &k_cdata[0]); /* data without a cause is dropped */
	else
		e = ctx_cancel(m->c);
	if (!cancelable(m)) {
		if (op != 5 && e != EINVAL)
			fail(r, "ctx_cancel on a %s context = %d, want EINVAL", kname(m->kind), e);
	} else {
		if (e != 0)
			fail(r, "ctx_cancel = %d", e);
		if (raced(r))
			fired_before(r, chan_now());
		m_cancel(r, i, CTX_CANCELED, cause, data);
	}
}

static void after_fn(void *arg)
{
	uint32_t v = (uint32_t)(uintptr_t)arg;
	/* after_ch is never freed: no reference is needed to use it here. */
	if (chan_try_send(after_ch, &v) != 0)
		abort(); /* capacity exceeded: more runs than registrations */
}

static void op_after(struct run *r, int s)
{
	if (r->nregs == MAX_REGS) {
		tr(r, "%d after_func: limit\n", r->step);
		return;
	}
	int i = r->slot[s];
	ctx_t *c = i >= 0 ? r->node[i].c : ctx_background();
	struct reg *g = &r->reg[r->nregs];
	g->node = i;
	g->h = ctx_after_func(c, after_fn, (void *)(uintptr_t)((gen << 8) | (uint32_t)r->nregs));
	tr(r, "%d after_func s%d (node %d) = reg %d\n", r->step, s, i, r->nregs);
	if (!g->h)
		fail(r, "ctx_after_func failed: %s", strerror(errno));
	r->nregs++;
}

static bool node_done(struct run *r, int i)
{
	int k = i >= 0 ? canceler(r, i) : -1;
	return k >= 0 && r->node[k].done;
}

static void op_stop(struct run *r)
{
	uint8_t x = next(r);
	if (r->nregs == 0)
		return;
	struct reg *g = &r->reg[x % r->nregs];
	bool want = !g->stopped && !node_done(r, g->node);
	bool got = ctx_after_stop(g->h);
	tr(r, "%d after_stop reg %d -> %d\n", r->step, x % r->nregs, got);
	if (got != want && !got && raced(r)) {
		settle(r, chan_now()); /* a deadline beat the stop */
		want = !g->stopped && !node_done(r, g->node);
	}
	if (got != want)
		fail(r, "ctx_after_stop = %d, model %d", got, want);
	if (got)
		g->stopped = true;
}

static void op_sleep(struct run *r)
{
	int64_t t = next_timer(r, NULL), now = chan_now();
	tr(r, "%d sleep\n", r->step);
	if (t != INT64_MAX && t - now < 5000000) {
		sleep_until(r, t);
		settle(r, chan_now());
	}
}

static void op_ctxio(struct run *r, int s, bool send)
{
	int i = r->slot[s];
	if (i < 0) {
		uint8_t v = 0;
		int e = send ? ctx_send(NULL, r->ch, &v) : ctx_recv(NULL, r->ch, &v, NULL);
		tr(r, "%d ctx_%s(NULL) = %d\n", r->step, send ? "send" : "recv", e);
		if (e != EINVAL)
			fail(r, "ctx_%s(NULL ctx) = %d, want EINVAL", send ? "send" : "recv", e);
		return;
	}
	struct cn *m = &r->node[i];
	bool done = node_done(r, i);
	size_t len = chan_len(r->ch);
	bool ready = send ? len < 2 : len > 0;
	/* Would it block?  Only when the context's own deadline ends it soon. */
	int k = canceler(r, i);
	bool will_end = k >= 0 && m->has_dl && m->dl - chan_now() < 5000000;
	if (!done && !ready && !will_end) {
		tr(r, "%d ctx_%s s%d: would block, skipped\n", r->step, send ? "send" : "recv", s);
		return;
	}
	uint8_t v = 7;
	bool ok = false;
	int e = send ? ctx_send(m->c, r->ch, &v) : ctx_recv(m->c, r->ch, &v, &ok);
	tr(r, "%d ctx_%s s%d (node %d) = %d\n", r->step, send ? "send" : "recv", s, i, e);
	if (!done && !ready)
		settle(r, chan_now()); /* it waited for the deadline */
	int want = done ? r->node[k].err : ready ? 0 : r->node[k].err;
	if (!done && !ready && want == 0)
		fail(r, "ctx_%s returned %d but the model's deadline did not fire",
		     send ? "send" : "recv", e);
	if (e != want && raced(r)) {
		abandon(r, "ctx_send/ctx_recv");
		return;
	}
	if (e != want)
		fail(r, "ctx_%s = %d, model %d", send ? "send" : "recv", e, want);
	if (e == 0 && !send && !ok)
		fail(r, "ctx_recv: ok false on an open channel");
}

static void op_misuse(struct run *r, int which)
{
	tr(r, "%d misuse %d\n", r->step, which);
	errno = 0;
	switch (which) {
	case 0:
		if (ctx_with_cancel(NULL) || errno != EINVAL)
			fail(r, "ctx_with_cancel(NULL) did not fail with EINVAL");
		break;
	case 1:
		if (ctx_with_value(ctx_background(), NULL, NULL) || errno != EINVAL)
			fail(r, "ctx_with_value(bg, NULL key) did not fail with EINVAL");
		break;
	case 2:
		if (ctx_cancel(ctx_background()) != EINVAL || ctx_cancel(ctx_todo()) != EINVAL)
			fail(r, "ctx_cancel(Background/TODO) != EINVAL");
		break;
	case 3:
		if (ctx_err(NULL) != EINVAL || ctx_cause(NULL, NULL) != EINVAL)
			fail(r, "ctx_err/ctx_cause(NULL) != EINVAL");
		break;
	case 4:
		if (ctx_done(NULL) != NULL || errno != EINVAL)
			fail(r, "ctx_done(NULL) did not fail with EINVAL");
		break;
	case 5:
		if (ctx_after_func(NULL, after_fn, NULL) || errno != EINVAL)
			fail(r, "ctx_after_func(NULL) did not fail with EINVAL");
		if (ctx_after_func(ctx_background(), NULL, NULL) || errno != EINVAL)
			fail(r, "ctx_after_func(bg, NULL fn) did not fail with EINVAL");
		break;
	case 6:
		if (ctx_with_deadline(NULL, 0) || ctx_with_timeout(NULL, 1) ||
		    ctx_without_cancel(NULL))
			fail(r, "a constructor accepted a NULL parent");
		if (ctx_value(NULL, &k_keys[0]) != NULL ||
		    ctx_value(ctx_background(), NULL) != NULL || ctx_deadline(NULL, NULL))
			fail(r, "ctx_value/ctx_deadline on NULL not NULL/false");
		break;
	default:
		if (ctx_after_stop(NULL) || ctx_ref(NULL) != NULL)
			fail(r, "ctx_after_stop(NULL)/ctx_ref(NULL)");
		ctx_release(NULL);
		ctx_after_release(NULL);
		ctx_release(ctx_background()); /* static: ignored */
		ctx_ref(ctx_todo());
		break;
	}
}

static void finish(struct run *r)
{
	/* Registrations: those whose context is done must run, once; the
	 * others are stopped now and must never run. */
	int expect = 0;
	bool want[MAX_REGS] = {0};
	settle(r, chan_now());
	for (int j = 0; j < r->nregs; j++) {
		struct reg *g = &r->reg[j];
		if (r->abandoned && !g->stopped) {
			/* The model may be off: trust stop's answer. */
			g->stopped = ctx_after_stop(g->h);
		} else if (!g->stopped && !node_done(r, g->node)) {
			bool got = ctx_after_stop(g->h);
			if (!got && raced(r))
				settle(r, chan_now());
			if (got == node_done(r, g->node))
				fail(r, "final ctx_after_stop(reg %d) = %d, model done %d", j, got,
				     node_done(r, g->node));
			g->stopped = got;
		}
		if (!g->stopped) {
			want[j] = true;
			expect++;
		}
	}
	bool seen[MAX_REGS] = {0};
	for (int got = 0; got < expect;) {
		uint32_t v;
		bool ok;
		int e = chan_recv_until(after_ch, &v, &ok, settle_deadline(r));
		if (e != 0)
			fail(r, "AfterFunc: %d of %d functions ran within 2 s", got, expect);
		int j = (int)(v & 0xff);
		if ((v >> 8) != (gen & 0xffffff) || j >= r->nregs || !want[j] || seen[j])
			fail(r, "AfterFunc: unexpected run %#x (registration %d)", v, j);
		seen[j] = true;
		got++;
	}
	uint32_t v;
	if (chan_try_recv(after_ch, &v, NULL) == 0)
		fail(r, "AfterFunc: a stopped function ran (%#x)", v);
	for (int j = 0; j < r->nregs; j++)
		ctx_after_release(r->reg[j].h);

	/* Stop every pending timer (they hold references), then release. */
	for (int i = 0; i < r->nnodes; i++)
		if (r->node[i].hidden) {
			ctx_cancel(r->node[i].hidden);
			ctx_release(r->node[i].hidden);
		}
	for (int s = 0; s < NSLOT; s++)
		slot_release(r, s);
}

/* A new run over @data (the steps). */
static struct run *run_new(const uint8_t *data, size_t size, bool bubble)
{
	struct run *r = calloc(1, sizeof *r);
	if (!r)
		abort();
	r->d = data;
	r->n = size;
	for (int s = 0; s < NSLOT; s++)
		r->slot[s] = -1;
	r->ch = chan_new(1, 2);
	if (!r->ch)
		abort();
	if (bubble && !(r->nap = chan_new(0, 0)))
		abort();
	return r;
}

/* Every step, then the final checks and releases. */
static void run_steps(void *arg)
{
	struct run *r = arg;
	gen++;
	if (strcmp(ctx_strerror(CTX_CANCELED), "context canceled") != 0 ||
	    strcmp(ctx_strerror(CTX_DEADLINE_EXCEEDED), "context deadline exceeded") != 0)
		fail(r, "ctx_strerror wording");
	if (ctx_background() == ctx_todo() || ctx_done(ctx_background()) || ctx_err(ctx_todo()))
		fail(r, "Background/TODO");

	for (r->step = 0; r->step < MAX_STEPS && r->pos < r->n; r->step++) {
		uint8_t b = next(r);
		int op = b & 15, s = (b >> 4) & 7;
		bool f = b >> 7;
		quiesce(r);
		switch (op) {
		case 0:
		case 1:
		case 2:
		case 3:
		case 13:
		case 14:
			op_new(r, s, op, f);
			break;
		case 4:
		case 5:
		case 15:
			op_cancel(r, s, op, f);
			break;
		case 6:
			tr(r, "%d release s%d\n", r->step, s);
			slot_release(r, s);
			break;
		case 7: {
			int t = next(r) & 7;
			tr(r, "%d s%d = ref s%d\n", r->step, t, s);
			if (r->slot[s] >= 0 && t != s) {
				ctx_t *c = ctx_ref(r->node[r->slot[s]].c);
				slot_release(r, t);
				r->slot[t] = r->slot[s];
				(void)c;
			}
			break;
		}
		case 8:
			op_after(r, s);
			break;
		case 9:
			op_stop(r);
			break;
		case 10:
			op_sleep(r);
			break;
		case 11:
			op_ctxio(r, s, f);
			break;
		default:
			op_misuse(r, s);
			break;
		}
		if (!r->abandoned)
			check_all(r);
		if (r->abandoned)
			break;
	}
	finish(r);
}

static void run_free(struct run *r)
{
	chan_unref(r->ch);
	if (r->nap)
		chan_unref(r->nap);
	free(r);
}

static void run_bubble(struct run *r, const gobubble_opts *opts, gobubble_report *rep)
{
	if (gobubble_run(opts, run_steps, r, rep) != 0)
		fail(r, "gobubble_run failed");
	char why[200];

	if (fz_bubble_problem(rep, why, sizeof why))
		fail(r, "%s", why);
}

static const uint8_t k_magic[4] = {'B', 'U', 'B', 'L'};

static bool bubble_only; /* FUZZ_BUBBLE */

/* One bubble-mode input; the magic (if any) is data[0..@pos). */
static void bubble_input(const uint8_t *data, size_t size, size_t pos)
{
	uint8_t how = pos < size ? data[pos++] : 0;
	size_t len = pos < size ? data[pos++] : 0;
	if (len > size - pos)
		len = size - pos;
	const uint8_t *steps = data + pos;
	gobubble_opts opts = {.ignore_env = true,
			      .dump = stderr,
			      .switch_points = (how & 3) >= 1,
			      .time_jumps = (how & 3) >= 2,
			      .fuzz_input = steps + len,
			      .fuzz_len = size - pos - len,
			      .record = true};
	gobubble_report first = {0};
	struct run *r = run_new(steps, len, true);
	run_bubble(r, &opts, &first);
	if (first.log_short)
		abort(); /* out of memory: the replay below would differ */

	/* The log replays the run exactly. */
	opts.fuzz_input = NULL;
	opts.fuzz_len = 0;
	opts.replay = first.log;
	opts.replay_len = first.log_len;
	gobubble_report again = {0};
	struct run *r2 = run_new(steps, len, true);
	run_bubble(r2, &opts, &again);
	if (again.steps != first.steps || again.log_len != first.log_len || again.misfits ||
	    again.past_end || again.elapsed_ns != first.elapsed_ns ||
	    (first.log_len && memcmp(again.log, first.log, first.log_len * sizeof *first.log)) ||
	    r2->tlen != r->tlen || memcmp(r2->trace, r->trace, r->tlen) != 0)
		fail(r2,
		     "the replay differs: steps %llu vs %llu, %zu vs %zu decisions, %llu misfits, "
		     "%llu past the end, virtual time %lld vs %lld ns, the trace %s (the "
		     "replay's trace above)",
		     (unsigned long long)again.steps, (unsigned long long)first.steps,
		     again.log_len, first.log_len, (unsigned long long)again.misfits,
		     (unsigned long long)again.past_end, (long long)again.elapsed_ns,
		     (long long)first.elapsed_ns,
		     r2->tlen == r->tlen && memcmp(r2->trace, r->trace, r->tlen) == 0 ? "the same"
										      : "differs");
	free(first.log);
	free(again.log);
	run_free(r2);
	run_free(r);
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
	if (!after_ch) {
		after_ch = chan_new(sizeof(uint32_t), 256);
		if (!after_ch)
			abort();
	}
	if (bubble_only) {
		bubble_input(data, size, 0);
		return 0;
	}
	if (size >= sizeof k_magic && memcmp(data, k_magic, sizeof k_magic) == 0) {
		bubble_input(data, size, sizeof k_magic);
		return 0;
	}
	struct run *r = run_new(data, size, false);
	run_steps(r);
	run_free(r);
	return 0;
}

/*
 * select/select.c - Go's select: runtime/select.go's algorithm over gochan's
 * channels.
 *
 *   0. Validate; shuffle the poll order (uniform among the non-NULL cases).
 *   1. The first pass (select_first_pass): each case in the shuffled order,
 *      decided alone (lock-free, or under its own channel's lock when it
 *      looks ready); the first that can proceed is performed.  Most selects
 *      that do not block end here, with one lock taken or none.
 *   2. Nothing fired: sort the distinct channels by address (the lock
 *      order) and lock every one, each once.  Poll the cases in the
 *      shuffled order again; the first that can proceed is performed (the
 *      random order makes the choice uniform among the ready cases, since
 *      readiness cannot change while every lock is held).
 *   3. Nothing ready and waiting allowed: queue one waiter per case, all
 *      sharing one parker, then unlock everything and park.  The first
 *      counterpart to CAS the parker's state wins (see wait/park.h); every
 *      other counterpart then finds our waiters stale and skips them.
 *   4. Woken (or timed out and the abandon CAS won): lock every channel
 *      again and unlink the waiters that are still queued, so that idle
 *      channels do not collect stale waiters.
 *
 * A select never matches itself: it only ever looks for counterparts in
 * passes 1 and 2, before its own waiters are queued, and passes 2 and 3 run
 * under the same locks, so no waiter of its own can be met.
 *
 * Deadlock freedom: locks are only nested here, always in increasing address
 * order; plain operations hold one lock at a time (wait/lockrank.h).
 *
 * select reaches a channel only through chan/flavor.h (crossbeam's
 * SelectHandle: try, register, unregister, plus the lock and a version
 * word): it never reads a flavor's fields.
 */
#include <errno.h>
#include <gochan/select.h>
#include <stdint.h>
#include <stdlib.h>

#include "chan/chan_internal.h"
#include "chan/chaos.h"
#include "chan/flavor.h"
#include "select/select_internal.h"
#include "wait/bubble.h"
#include "wait/futex.h"
#include "wait/park.h"

/* Per-thread PRNG (wyrand) for the poll order.  Seeded lazily from the
 * thread's stack address and the clock; chaos mode uses its own seeded
 * stream so that a seed replays the same choices. */
static _Thread_local uint64_t rng_state;

static uint64_t rng_next(void)
{
	/* In a bubble each draw is one of its decisions (wait/bubble.h). */
	struct gowait__bubble *b = gowait__bubble_cur;

	if (b)
		return b->rand(b);
	if (chan__chaos_enabled())
		return chan__chaos_rand();
	if (caa_unlikely(rng_state == 0))
		rng_state = (uint64_t)(uintptr_t)&rng_state ^ (uint64_t)chan_now() ^
			    0x9E3779B97F4A7C15ull;
	rng_state += 0xa0761d6478bd642full;
	__uint128_t m = (__uint128_t)rng_state * (rng_state ^ 0xe7037ed1a0b428dbull);
	return (uint64_t)(m >> 64) ^ (uint64_t)m;
}

/* A uniform-enough value in [0, n): Lemire's multiply-shift, bias < n/2^32. */
static inline uint32_t rng_below(uint32_t n)
{
	return (uint32_t)(((uint64_t)(uint32_t)rng_next() * n) >> 32);
}

struct sel_state {
	chan_case_t *cases;
	struct chan_waiter *waiters; /* one per case */
	uint32_t *pollorder;         /* indices of the non-NULL cases, shuffled */
	struct chan **lockorder;     /* distinct channels, by address */
	uint32_t npoll;
	uint32_t nlock;
	uint32_t nfreeze; /* cases whose flavor freezes (the ring's) */
};

static void lock_all(const struct sel_state *s)
{
	for (uint32_t i = 0; i < s->nlock; i++)
		chan__handle_lock(s->lockorder[i]);
}

/* With every lock held: no case on a ring channel may become ready through
 * a lock-free push (receive cases) or pop (send cases) while we poll and
 * queue, so that "none ready" holds at one instant, as in Go (chan/array.h). */
static void freeze_all(const struct sel_state *s)
{
	for (uint32_t k = 0; k < s->npoll; k++) {
		chan_case_t *cs = &s->cases[s->pollorder[k]];

		chan__handle_freeze(cs->chan, chan__case_sends(cs));
	}
}

/* Unlock (ring channels keep just the bits their waiters need). */
static void unlock_all(const struct sel_state *s)
{
	for (uint32_t i = s->nlock; i-- > 0;)
		chan__handle_unlock(s->lockorder[i]);
}

static void sort_channels(struct sel_state *s)
{
	struct chan **a = s->lockorder;
	uint32_t n = 0;

	for (uint32_t k = 0; k < s->npoll; k++) {
		struct chan *c = s->cases[s->pollorder[k]].chan;
		uint32_t j = n;

		/* insertion sort with duplicate removal: selects are small */
		while (j > 0 && (uintptr_t)a[j - 1] > (uintptr_t)c)
			j--;
		if (j > 0 && a[j - 1] == c)
			continue;
		for (uint32_t m = n; m > j; m--)
			a[m] = a[m - 1];
		a[j] = c;
		n++;
	}
	s->nlock = n;
}

/* Pass 2 (the locked poll).  Returns the fired case index or -1.  All locks are held. */
static int poll_cases(struct sel_state *s, bool *ok, struct gowait_parker **wake)
{
	for (uint32_t k = 0; k < s->npoll; k++) {
		uint32_t i = s->pollorder[k];
		chan_case_t *cs = &s->cases[i];
		bool done =
			chan__handle_try_locked(cs->chan, chan__case_sends(cs), cs->elem, ok, wake);

		if (done)
			return (int)i;
	}
	return -1;
}

/* Pass 4: unlink whatever of ours is still queued.  The fired waiter was
 * unlinked by its claimer already; chan__unlink is idempotent anyway. */
static void dequeue_all(struct sel_state *s)
{
	lock_all(s);
	for (uint32_t k = 0; k < s->npoll; k++) {
		uint32_t i = s->pollorder[k];

		chan__handle_unregister(s->cases[i].chan, &s->waiters[i],
					chan__case_sends(&s->cases[i]));
	}
	unlock_all(s);
}

static int select_blocking(struct sel_state *s, size_t n, int64_t deadline, const void *ra)
{
	struct gowait_parker p;
	struct gowait_parker *wake = NULL;
	bool ok = false;
	int fired;

	chan__chaos_point();
	s->nfreeze = 0; /* counted here: the lock-free passes never need it */
	for (uint32_t k = 0; k < s->npoll; k++)
		s->nfreeze += chan__handle_freezes(s->cases[s->pollorder[k]].chan);
	lock_all(s);
	fired = poll_cases(s, &ok, &wake);
	if (fired < 0 && s->nfreeze) {
		/* Nothing ready: look again with the rings frozen; only that
		 * view may report "none ready" or let us queue. */
		freeze_all(s);
		fired = poll_cases(s, &ok, &wake);
	}
	if (fired >= 0) {
		unlock_all(s);
		if (wake)
			gowait__complete(wake);
		goto out;
	}
	if (deadline == CHAN_NOWAIT || (deadline >= 0 && chan_now() >= deadline)) {
		unlock_all(s);
		return deadline == CHAN_NOWAIT ? CHAN_DEFAULT : CHAN_TIMEOUT;
	}

	/* Pass 3: queue a waiter on every case, in lock order as Go does. */
	gowait__parker_init(&p);
	for (uint32_t k = 0; k < s->npoll; k++) {
		uint32_t i = s->pollorder[k];
		chan_case_t *cs = &s->cases[i];

		chan__waiter_init(&s->waiters[i], &p, cs->elem, i);
		chan__handle_register(cs->chan, &s->waiters[i], chan__case_sends(cs));
	}
	unlock_all(s);

	struct gowait__sel sel = {s->cases, (uint32_t)n};
	struct gowait__site site = {GOWAIT_OP_SELECT, NULL, &sel, ra};

	if (gowait__park_wait(&p, deadline, &site) == ETIMEDOUT) {
		dequeue_all(s); /* abandoned: nobody claims our waiters any more */
		return CHAN_TIMEOUT;
	}
	/* acquire (gowait__park_wait's load of the futex word) made the claimer's
	 * writes visible, including the state it CASed. */
	fired = (int)(atomic_load_explicit(&p.state, memory_order_relaxed) - 1);
	ok = s->waiters[fired].success;
	if (s->npoll > 1)
		dequeue_all(s);
out:
	if (s->cases[fired].ok)
		*s->cases[fired].ok = ok;
	return fired;
}

/* A select with one live case is that plain operation (Go compiles it so). */
static int select_one(chan_case_t *cases, size_t n, uint32_t i, int64_t deadline, const void *ra)
{
	chan_case_t *cs = &cases[i];
	struct gowait__sel sel = {cases, (uint32_t)n}; /* for the dump, if it parks */
	int wb = deadline == CHAN_NOWAIT ? EAGAIN : ETIMEDOUT;
	bool ok = true;
	int err = chan__case_sends(cs)
			  ? chan__send_ext(cs->chan, cs->elem, deadline, wb, ra, &sel)
			  : chan__recv_ext(cs->chan, cs->elem, &ok, deadline, wb, ra, &sel);

	return chan__one_case_result(cs, (int)i, err, ok);
}

/* Go's select {} (or only nil channels): never ready.  Nothing can wake
 * it, so a thread sleeps on a private futex word until the deadline,
 * without the spin and yield phases of gowait__park_wait (they could only
 * waste CPU).  A fiber must not block its worker: it parks on a parker
 * that nobody will ever claim (its deadline then abandons it). */
static int select_never(chan_case_t *cases, size_t n, int64_t deadline, const void *ra)
{
	_Atomic uint32_t never = 0;

	if (deadline == CHAN_NOWAIT)
		return CHAN_DEFAULT;

	struct gowait__sel sel = {cases, (uint32_t)n};
	struct gowait__site site = {GOWAIT_OP_SELECT_NONE, NULL, &sel, ra};

	if (caa_unlikely(gowait__self() != NULL)) {
		struct gowait_parker p;

		gowait__parker_init(&p);
		(void)gowait__park_wait(&p, deadline, &site);
		return CHAN_TIMEOUT;
	}

	struct gowait__rec *rec = gowait__block_begin(&site, chan_now(), NULL);

	gowait__bubble_blocks("select {} on a thread", ra);
	while (gowait__futex_wait(&never, 0, deadline) != ETIMEDOUT)
		;
	gowait__block_end(rec);
	return CHAN_TIMEOUT;
}

/*
 * The first pass, without taking every lock: the cases in poll order, each
 * decided on its own at one instant, and the first that can proceed is
 * performed (crossbeam's select works so; Go's takes every lock first).
 *
 * Each look is chan__handle_try (chan/flavor.h):
 *  - A ring channel (chan__ring_try): a lock-free push or pop that succeeds
 *    completes its case at that operation's own linearization point.
 *    FULL / EMPTY-and-open say that case could not proceed when it was
 *    looked at.  A bit set (a waiter or close) or a closed empty ring: that
 *    channel alone is locked and polled as below.
 *  - Any other channel (unbuffered, timer): the lock-free checks of the
 *    non-blocking plain operations (Go's full()/empty(), in the order and
 *    with the orderings argued at chan__recv_would_block) say "not ready at
 *    that instant", or the channel alone is locked and the case polled with
 *    the same locked halves as pass 2 (a counterpart that turned out stale
 *    leaves it not ready, under that lock).
 *
 * Every case skipped was not ready at the moment it was looked at and the
 * one performed was ready at its moment, so the choice stays the first
 * ready case in the random order, as in the locked poll; a select never
 * matches itself here, since none of its waiters is queued yet.  If no case
 * fires, the full algorithm polls again under every lock (only that view
 * may report "none ready" or queue).  Returns the fired case or -1; *ok is
 * set for a fired case.
 */
static int select_first_pass(const struct sel_state *s, bool *ok)
{
	for (uint32_t k = 0; k < s->npoll; k++) {
		uint32_t i = s->pollorder[k];
		chan_case_t *cs = &s->cases[i];
		struct chan *c = cs->chan;
		bool send = chan__case_sends(cs);
		enum chan_try t = chan__handle_try(c, send, cs->elem, ok);

		if (t == CHAN_TRY_FIRED)
			return (int)i;
		if (t == CHAN_TRY_NOT_READY)
			continue;
		/* It may be ready: decide under this channel's lock alone. */
		struct gowait_parker *wake;
		bool done;

		chan__handle_lock(c);
		done = chan__handle_try_locked(c, send, cs->elem, ok, &wake);
		chan__handle_unlock(c);
		if (done) {
			if (wake)
				gowait__complete(wake);
			return (int)i;
		}
	}
	return -1;
}

/*
 * A non-blocking select whose first pass fired nothing: can "none ready" be
 * proved without locking (Go's answer needs every lock)?  Per-case
 * observations at different moments are not enough (Go's
 * TestNonblockSelectRace: c2 filled, then c1 drained, with a case checked
 * between the two, looks like "none ready" at two moments although one case
 * was always ready).  So this is a double collect: read, for every case, a
 * version word and "not ready" (collect 1), then every version again
 * (collect 2).  A version changes whenever its case could have become
 * ready, so a case whose version is unchanged was not ready throughout
 * [its collect-1 read, its collect-2 read]; every such interval contains
 * the moment between the two collects, when therefore no case was ready.
 * The versions are the flavors' (chan__handle_version):
 *
 *   ring, receive case:  the tail word (every push moves it; ready needs a
 *                        push or a close); not ready: tail == head, open.
 *   ring, send case:     the head word (every pop moves it); not ready:
 *                        tail == head + one lap (full), open.
 *   unbuffered:          nenq, bumped before the queue count on every
 *                        enqueue; not ready: no counterpart queued, open.
 *   locked buffer (timer channels): no version; the lock decides.
 *
 * `closed` is read (acquire) in both collects: it only ever goes from false
 * to true.  Positions are 63-bit and nenq 32-bit, so neither can wrap back
 * to the same value between two collects.  Every load is an acquire, so the
 * loads are performed in program order.  Returns true when "none ready" is
 * proved; false means the locked poll decides.
 */
static bool case_version(const chan_case_t *cs, uint64_t *v, bool *not_ready)
{
	return chan__handle_version(cs->chan, chan__case_sends(cs), v, not_ready);
}

static bool select_none_ready(const struct sel_state *s)
{
	uint64_t ver[CHAN_SELECT_STACK_CASES];
	bool not_ready;

	if (s->npoll > CHAN_SELECT_STACK_CASES)
		return false;
	for (uint32_t k = 0; k < s->npoll; k++)
		if (!case_version(&s->cases[s->pollorder[k]], &ver[k], &not_ready) || !not_ready)
			return false;
	for (uint32_t k = 0; k < s->npoll; k++) {
		uint64_t v;

		if (!case_version(&s->cases[s->pollorder[k]], &v, &not_ready) || v != ver[k] ||
		    !not_ready)
			return false;
	}
	return true;
}

/* Two or more live cases: the full algorithm.  Kept out of line so that the
 * common one-case and non-blocking paths do not pay for its ~5 KiB frame. */
static __attribute__((noinline)) int select_multi(chan_case_t *cases, size_t n, int64_t deadline,
						  const void *ra)
{
	uint32_t stack_poll[CHAN_SELECT_STACK_CASES];
	struct chan *stack_lock[CHAN_SELECT_STACK_CASES];
	struct chan_waiter stack_waiters[CHAN_SELECT_STACK_CASES];
	struct sel_state s;
	void *heap = NULL;
	int ret;

	s.cases = cases;
	if (n <= CHAN_SELECT_STACK_CASES) {
		s.pollorder = stack_poll;
		s.lockorder = stack_lock;
		s.waiters = stack_waiters;
	} else {
		heap = malloc(n * (sizeof(uint32_t) + sizeof(struct chan *) +
				   sizeof(struct chan_waiter)));
		if (!heap)
			return -ENOMEM;
		s.waiters = heap;
		s.lockorder = (struct chan **)(s.waiters + n);
		s.pollorder = (uint32_t *)(s.lockorder + n);
	}

	/* Fisher-Yates insertion of the live cases: a uniform permutation. */
	s.npoll = 0;
	for (uint32_t i = 0; i < (uint32_t)n; i++) {
		if (!cases[i].chan)
			continue;
		uint32_t j = rng_below(s.npoll + 1);

		s.pollorder[s.npoll] = s.pollorder[j];
		s.pollorder[j] = i;
		s.npoll++;
	}
	chan__chaos_point();
	bool ok;

	ret = select_first_pass(&s, &ok);
	if (ret >= 0) {
		if (cases[ret].ok)
			*cases[ret].ok = ok;
	} else if (deadline == CHAN_NOWAIT && select_none_ready(&s)) {
		ret = CHAN_DEFAULT;
	} else {
		sort_channels(&s);
		ret = select_blocking(&s, n, deadline, ra);
	}
	if (caa_unlikely(heap != NULL)) /* not even a call to free(NULL) per select */
		free(heap);
	return ret;
}

int chan_select(chan_case_t *cases, size_t n, int64_t deadline)
{
	return chan__select_ra(cases, n, deadline, __builtin_return_address(0));
}

int chan__select_ra(chan_case_t *cases, size_t n, int64_t deadline, const void *ra)
{
	uint32_t live = 0, last = 0;

	if (n && !cases)
		return -EINVAL;
	if (n > INT32_MAX)
		return -EINVAL;
	deadline = chan__norm_deadline(deadline);
	for (size_t i = 0; i < n; i++) {
		chan_case_t *cs = &cases[i];
		int err;

		if (!chan__op_valid(cs->op))
			return -EINVAL;
		if (!cs->chan)
			continue;
		if ((err = chan__case_misuse(cs)))
			return -err;
		live++;
		last = (uint32_t)i;
	}
	if (live == 1)
		return select_one(cases, n, last, deadline, ra);
	if (live == 0)
		return select_never(cases, n, deadline, ra);
	return select_multi(cases, n, deadline, ra);
}

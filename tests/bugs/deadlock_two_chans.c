/*
 * tests/bugs/deadlock_two_chans.c - a deadlock through two channels: two
 * one-token channels used as locks, taken in opposite orders.
 *
 *   x, y := make(chan struct{}, 1), make(chan struct{}, 1)   // locks:
 *   x <- struct{}{}; y <- struct{}{}                         // token = free
 *   a: <-x; <-y; ...; y <- struct{}{}; x <- struct{}{}
 *   b: <-y; <-x; ...; x <- struct{}{}; y <- struct{}{}       // BUG: y then x
 *
 * If a holds x and b holds y, each waits forever for the other's token
 * (Go: "all goroutines are asleep - deadlock!").  Fix: one order for all
 * (b takes x first too).
 *
 * Oracle: bug_settle: both parked for good.  Forced (buggy): a barrier after
 * each first lock.  The fixed program cannot meet at that barrier (b waits
 * for x while a holds it), so BUG_FIX|BUG_FORCE runs it without the barrier.
 */
#include "bugs.h"

struct dl_run {
	struct bug_env *env;
	chan_t *lock[2]; /* x, y */
	struct bug_barrier first;
};

struct dl_side {
	struct dl_run *run;
	int me;     /* 0: a, 1: b */
	int order0; /* the lock taken first */
};

/* Take lock @l: false if the rescue closed it. */
static bool dl_lock(chan_t *l)
{
	bool ok = false;
	chan_recv(l, NULL, &ok);
	return ok;
}

static void dl_side(void *p)
{
	struct dl_side *s = p;
	struct dl_run *r = s->run;
	int l0 = s->order0, l1 = 1 - s->order0;
	if (!dl_lock(r->lock[l0]))
		return;
	if (bug_forced(r->env) && !bug_fixed(r->env))
		bug_barrier_meet(&r->first, s->me);
	if (!dl_lock(r->lock[l1]))
		return; /* rescued from the deadlock: holds l0, which is closed */
	/* the critical section */
	chan_send(r->lock[l1], NULL);
	chan_send(r->lock[l0], NULL);
}

int bug_deadlock_two_chans(struct bug_env *e)
{
	struct dl_run r = {.env = e};
	struct dl_side s[2] = {{&r, 0, 0}, {&r, 1, bug_fixed(e) ? 0 : 1}};
	int result = BUG_ERROR;
	r.lock[0] = chan_new(0, 1);
	r.lock[1] = chan_new(0, 1);
	if (!r.lock[0] || !r.lock[1] || bug_barrier_init(&r.first))
		goto out;
	chan_send(r.lock[0], NULL);
	chan_send(r.lock[1], NULL);
	int started = (bug_go(e, dl_side, &s[0]) == 0) + (bug_go(e, dl_side, &s[1]) == 0);
	if (started == 2) {
		int stuck = bug_settle(e);
		if (stuck >= 0)
			result = stuck > 0 ? BUG_MANIFESTED : BUG_CLEAN;
	}
	bug_gate_open(r.first.arrived[0]);
	bug_gate_open(r.first.arrived[1]);
	chan_close(r.lock[0]); /* frees the deadlocked: their receives see !ok */
	chan_close(r.lock[1]);
	bug_join(e);
out:
	bug_barrier_free(&r.first);
	if (r.lock[1])
		chan_unref(r.lock[1]);
	if (r.lock[0])
		chan_unref(r.lock[0]);
	return result;
}

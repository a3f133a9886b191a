/*
 * tests/bugs/lost_wakeup.c - a lost wake-up of a hand-written condition.
 *
 *   var ready atomic.Bool
 *   wake := make(chan struct{})      // BUG: unbuffered, and ...
 *   waiter: if !ready.Load() { <-wake }
 *   setter: ready.Store(true)
 *           select { case wake <- struct{}{}: default: }   // ... dropped
 *                                                          // if not parked yet
 *
 * If the setter runs between the waiter's check and its park, the wake-up
 * is dropped and the waiter sleeps forever.  Fix: make(chan struct{}, 1): the
 * token waits in the buffer for a waiter that has not parked yet.
 *
 * Oracle: bug_settle: the waiter parked for good.  Forced: the setter runs
 * after the waiter's check and before its receive.
 */
#include "bugs.h"

struct lw_run {
	struct bug_env *env;
	atomic_bool ready;
	chan_t *wake;
	chan_t *checked, *set; /* gates: the waiter checked; the setter ran */
};

static void lw_waiter(void *p)
{
	struct lw_run *r = p;
	/* Acquire: pairs with the setter's release store (the condition's
	 * data would be read after it). */
	bool ready = atomic_load_explicit(&r->ready, memory_order_acquire);
	if (bug_forced(r->env)) {
		bug_gate_open(r->checked);
		bug_gate_wait(r->set);
	}
	if (!ready)
		chan_recv(r->wake, NULL, NULL);
}

static void lw_setter(void *p)
{
	struct lw_run *r = p;
	if (bug_forced(r->env))
		bug_gate_wait(r->checked);
	atomic_store_explicit(&r->ready, true, memory_order_release);
	chan_try_send(r->wake, NULL);
	if (bug_forced(r->env))
		bug_gate_open(r->set);
}

int bug_lost_wakeup(struct bug_env *e)
{
	struct lw_run r = {.env = e};
	int result = BUG_ERROR;
	atomic_init(&r.ready, false);
	r.wake = chan_new(0, bug_fixed(e) ? 1 : 0);
	r.checked = bug_gate_new();
	r.set = bug_gate_new();
	if (!r.wake || !r.checked || !r.set)
		goto out;
	int started = (bug_go(e, lw_waiter, &r) == 0) + (bug_go(e, lw_setter, &r) == 0);
	if (started < 2) {
		bug_gate_open(r.checked);
		bug_gate_open(r.set);
		chan_close(r.wake);
		bug_join(e);
		goto out;
	}
	int stuck = bug_settle(e);
	if (stuck >= 0)
		result = stuck > 0 ? BUG_MANIFESTED : BUG_CLEAN;
	chan_close(r.wake); /* frees a stranded waiter */
	bug_join(e);
out:
	if (r.set)
		chan_unref(r.set);
	if (r.checked)
		chan_unref(r.checked);
	if (r.wake)
		chan_unref(r.wake);
	return result;
}

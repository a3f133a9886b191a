/*
 * tests/bugs/double_close.c - a double close on a cancel path.
 *
 *   done := make(chan struct{})
 *   stop := func() {
 *       select {
 *       case <-done:              // BUG: check ...
 *       default: close(done)      // ... then act
 *       }
 *   }
 *   go stop()   // the watchdog
 *   go stop()   // the shutdown request
 *
 * Both callers can find done open and both close it: "close of closed
 * channel" (EALREADY here).  Fix: sync.Once; here a one-token channel: the
 * caller that takes the token closes (ctx_cancel does the same inside).
 *
 * Oracle: a chan_close returned EALREADY.  Forced: a barrier after both
 * checks (fixed: before both claims).
 */
#include "bugs.h"

struct dc_run {
	struct bug_env *env;
	chan_t *done, *once;
	struct bug_barrier checked;
	atomic_int double_closes;
};

struct dc_caller {
	struct dc_run *run;
	int me;
};

static void dc_stop(void *p)
{
	struct dc_caller *c = p;
	struct dc_run *r = c->run;
	if (bug_fixed(r->env)) {
		bool ok;
		if (bug_forced(r->env))
			bug_barrier_meet(&r->checked, c->me);
		if (chan_try_recv(r->once, NULL, &ok) == 0 && ok)
			chan_close(r->done);
		return;
	}
	bool open = CHAN_SELECT(CHAN_NOWAIT, CHAN_RECV(r->done, NULL, NULL)) == CHAN_DEFAULT;
	if (bug_forced(r->env))
		bug_barrier_meet(&r->checked, c->me);
	if (open && chan_close(r->done) == EALREADY)
		/* Relaxed: read after the join, which orders it. */
		atomic_fetch_add_explicit(&r->double_closes, 1, memory_order_relaxed);
}

int bug_double_close(struct bug_env *e)
{
	struct dc_run r = {.env = e};
	struct dc_caller c[2] = {{&r, 0}, {&r, 1}};
	int result = BUG_ERROR;
	atomic_init(&r.double_closes, 0);
	r.done = chan_new(0, 0);
	r.once = chan_new(0, 1);
	if (!r.done || !r.once || bug_barrier_init(&r.checked))
		goto out;
	chan_send(r.once, NULL);
	int started = (bug_go(e, dc_stop, &c[0]) == 0) + (bug_go(e, dc_stop, &c[1]) == 0);
	if (started < 2) {
		bug_gate_open(r.checked.arrived[0]);
		bug_gate_open(r.checked.arrived[1]);
	}
	bug_join(e);
	if (started == 2)
		result = atomic_load_explicit(&r.double_closes, memory_order_relaxed)
				 ? BUG_MANIFESTED
				 : BUG_CLEAN;
out:
	bug_barrier_free(&r.checked);
	if (r.once)
		chan_unref(r.once);
	if (r.done)
		chan_unref(r.done);
	return result;
}

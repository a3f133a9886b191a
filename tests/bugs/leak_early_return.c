/*
 * tests/bugs/leak_early_return.c - a goroutine leaked on an early return.
 *
 *   func fetch(ctx context.Context) (int, error) {
 *       ch := make(chan int)              // BUG: unbuffered
 *       go func() { ch <- compute() }()
 *       select {
 *       case v := <-ch:   return v, nil
 *       case <-ctx.Done(): return 0, ctx.Err()   // early return: nobody
 *       }                                         // will ever receive
 *   }
 *
 * The caller's context is cancelled by another goroutine (the client hung
 * up) at about the time the result is ready.  If fetch takes the Done case,
 * the worker stays blocked in its send forever.  Fix: make(chan int, 1), so
 * the send completes whether or not anyone receives.
 *
 * Oracle: after fetch returned, bug_settle: a worker parked for good.
 * Forced: the worker computes only after fetch returned.
 */
#include "bugs.h"

struct leak_run {
	struct bug_env *env;
	ctx_t *ctx;
	chan_t *ch;
	chan_t *returned; /* gate: fetch has returned */
};

static void leak_worker(void *p)
{
	struct leak_run *r = p;
	int v = 42; /* compute() */
	if (bug_forced(r->env))
		bug_gate_wait(r->returned);
	chan_send(r->ch, &v); /* EPIPE once the rescue closed ch */
}

static void leak_canceller(void *p)
{
	struct leak_run *r = p;
	ctx_cancel(r->ctx);
}

int bug_leak_early_return(struct bug_env *e)
{
	struct leak_run r = {.env = e};
	int result = BUG_ERROR;
	r.ctx = ctx_with_cancel(ctx_background());
	r.ch = chan_new(sizeof(int), bug_fixed(e) ? 1 : 0);
	r.returned = bug_gate_new();
	if (!r.ctx || !r.ch || !r.returned)
		goto out;
	if (bug_go(e, leak_worker, &r) || bug_go(e, leak_canceller, &r)) {
		if (r.ch)
			chan_close(r.ch);
		bug_gate_open(r.returned);
		bug_join(e);
		goto out;
	}
	/* fetch(ctx) */
	int v;
	CHAN_SELECT(CHAN_FOREVER, CHAN_RECV(r.ch, &v, NULL),
		    CHAN_RECV(ctx_done(r.ctx), NULL, NULL));
	bug_gate_open(r.returned);

	int stuck = bug_settle(e);
	if (stuck >= 0)
		result = stuck > 0 ? BUG_MANIFESTED : BUG_CLEAN;
	chan_close(r.ch); /* frees a stranded worker (its send fails) */
	bug_join(e);
out:
	if (r.returned)
		chan_unref(r.returned);
	if (r.ch)
		chan_unref(r.ch);
	if (r.ctx)
		ctx_cancel_release(r.ctx);
	return result;
}

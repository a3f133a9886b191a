/*
 * tests/bugs/missed_close.c - a missed close: "the last producer closes",
 * decided by check-then-act.
 *
 *   out, checkedIn := make(chan int, 2), make(chan struct{}, 2)
 *   producer := func(v int) {
 *       out <- v
 *       if len(checkedIn) == 1 {     // BUG: check ...
 *           close(out)               //      (the other one is done: I am last)
 *       }
 *       checkedIn <- struct{}{}      // ... then act
 *   }
 *   go producer(1); go producer(2)
 *   for v := range out { ... }       // never ends if nobody closed
 *
 * Both producers can read len(checkedIn) == 0 before either checks in:
 * neither closes, and the consumer's range blocks forever.  Fix: let the
 * channel decide: checkedIn has room for one token (cap 1); the producer
 * whose non-blocking send of it fails is the last one, exactly one.
 *
 * Oracle: bug_settle after the producers were started: the consumer parked
 * for good.  Forced: a barrier after both producers' checks.
 */
#include "bugs.h"

struct mc_run {
	struct bug_env *env;
	chan_t *out, *checked_in;
	struct bug_barrier checked; /* both producers have checked */
	int id[2];
};

struct mc_producer {
	struct mc_run *run;
	int me;
};

static void mc_producer(void *p)
{
	struct mc_producer *pr = p;
	struct mc_run *r = pr->run;
	if (chan_send(r->out, &r->id[pr->me]))
		return;
	if (bug_fixed(r->env)) {
		if (bug_forced(r->env))
			bug_barrier_meet(&r->checked, pr->me);
		if (chan_try_send(r->checked_in, NULL) == EAGAIN)
			chan_close(r->out); /* full: the other one checked in first */
		return;
	}
	bool last = chan_len(r->checked_in) == 1;
	if (bug_forced(r->env))
		bug_barrier_meet(&r->checked, pr->me);
	if (last)
		chan_close(r->out);
	chan_try_send(r->checked_in, NULL);
}

static void mc_consumer(void *p)
{
	struct mc_run *r = p;
	int v;
	bool ok;
	while (chan_recv(r->out, &v, &ok) == 0 && ok)
		;
}

int bug_missed_close(struct bug_env *e)
{
	struct mc_run r = {.env = e, .id = {1, 2}};
	struct mc_producer pr[2] = {{&r, 0}, {&r, 1}};
	int result = BUG_ERROR;
	r.out = chan_new(sizeof(int), 2);
	r.checked_in = chan_new(0, bug_fixed(e) ? 1 : 2);
	if (!r.out || !r.checked_in || bug_barrier_init(&r.checked))
		goto out;
	int started = (bug_go(e, mc_consumer, &r) == 0) + (bug_go(e, mc_producer, &pr[0]) == 0);
	started += bug_go(e, mc_producer, &pr[1]) == 0;
	if (started < 3) {
		bug_gate_open(r.checked.arrived[0]);
		bug_gate_open(r.checked.arrived[1]);
		chan_close(r.out);
		bug_join(e);
		goto out;
	}
	int stuck = bug_settle(e);
	if (stuck >= 0)
		result = stuck > 0 ? BUG_MANIFESTED : BUG_CLEAN;
	chan_close(r.out); /* frees a stranded consumer */
	bug_join(e);
out:
	bug_barrier_free(&r.checked);
	if (r.checked_in)
		chan_unref(r.checked_in);
	if (r.out)
		chan_unref(r.out);
	return result;
}

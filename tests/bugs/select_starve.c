/*
 * tests/bugs/select_starve.c - a select that starves a case: "high priority
 * first" written as a non-blocking receive in front of the select.
 *
 *   for high != nil || low != nil {
 *       select {                         // BUG: whenever high has a value,
 *       case v, ok := <-high: ...; continue   // low is never looked at
 *       default:
 *       }
 *       select {
 *       case v, ok := <-high: ...
 *       case v := <-low: ...; low = nil
 *       }
 *   }
 *
 * The low message is ready before anything else; while the producer keeps
 * high non-empty the loop serves high only.  Fix: alternate which channel is
 * tried first, so a ready case waits at most one round.
 *
 * Oracle: the consumer counts the high messages it served before low; two or
 * more means low waited more than one round while it was ready (the fixed
 * loop serves it in round 0 or 1).  Forced: the producer fills high before
 * the consumer starts.
 */
#include "bugs.h"

#define SS_HIGH 8

struct ss_run {
	struct bug_env *env;
	chan_t *high, *low;
	chan_t *filled; /* gate: the producer sent every high message */
	int highs_before_low;
};

static void ss_producer(void *p)
{
	struct ss_run *r = p;
	for (int i = 0; i < SS_HIGH; i++)
		chan_send(r->high, &i);
	chan_close(r->high);
	bug_gate_open(r->filled);
}

/* One non-blocking receive from *c (NULL: none); true if it served one. */
static bool ss_try(chan_t **c, bool is_low, struct ss_run *r, bool *low_done)
{
	int v;
	bool ok;
	if (!*c || chan_try_recv(*c, &v, &ok) != 0)
		return false;
	if (!ok)
		*c = NULL; /* high closed and drained */
	else if (is_low) {
		*c = NULL;
		*low_done = true;
	} else if (!*low_done)
		r->highs_before_low++;
	return true;
}

static void ss_consumer(void *p)
{
	struct ss_run *r = p;
	chan_t *high = r->high, *low = r->low;
	bool low_done = false;
	if (bug_forced(r->env))
		bug_gate_wait(r->filled);
	for (unsigned round = 0; high || low; round++) {
		if (bug_fixed(r->env) && (round & 1)) {
			if (ss_try(&low, true, r, &low_done) || ss_try(&high, false, r, &low_done))
				continue;
		} else if (ss_try(&high, false, r, &low_done) ||
			   (bug_fixed(r->env) && ss_try(&low, true, r, &low_done))) {
			continue;
		}
		int v;
		bool ok;
		switch (CHAN_SELECT(CHAN_FOREVER, CHAN_RECV(high, &v, &ok),
				    CHAN_RECV(low, &v, NULL))) {
		case 0:
			if (!ok)
				high = NULL;
			else if (!low_done)
				r->highs_before_low++;
			break;
		case 1:
			low = NULL;
			low_done = true;
			break;
		default:
			return;
		}
	}
}

int bug_select_starve(struct bug_env *e)
{
	struct ss_run r = {.env = e};
	int result = BUG_ERROR;
	int one = 1;
	r.high = chan_new(sizeof(int), SS_HIGH);
	r.low = chan_new(sizeof(int), 1);
	r.filled = bug_gate_new();
	if (!r.high || !r.low || !r.filled)
		goto out;
	chan_send(r.low, &one); /* ready before anything else happens */
	int started = (bug_go(e, ss_producer, &r) == 0);
	if (!started) {
		bug_join(e);
		goto out;
	}
	if (bug_go(e, ss_consumer, &r) == 0) {
		bug_join(e); /* no stranding here: both always return */
		result = r.highs_before_low >= 2 ? BUG_MANIFESTED : BUG_CLEAN;
	} else {
		bug_join(e);
	}
out:
	if (r.filled)
		chan_unref(r.filled);
	if (r.low)
		chan_unref(r.low);
	if (r.high)
		chan_unref(r.high);
	return result;
}

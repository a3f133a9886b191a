/*
 * tests/bugs/timeout_before_reply.c - a timeout that fires before the
 * reply: the client reports failure, the server did the work anyway.
 *
 *   reply := make(chan int, 1)
 *   requests <- req{reply}
 *   select {
 *   case v := <-reply: return v, nil
 *   case <-time.After(d): return 0, ErrTimeout   // BUG: the server may
 *   }                                            // still commit
 *   server: r := <-requests; commit(r); r.reply <- ok
 *
 * A timeout is not a cancellation: when it fires before the reply, the
 * client tells its caller "failed" (and the caller retries: a double
 * transfer) while the server commits.  Fix: one side decides, through a
 * one-token channel both try to take: the server commits only if it takes
 * the token; the client that times out takes it to abandon the request, or,
 * if the server has it already, waits for the reply that is sure to come.
 *
 * Oracle: the client reported a timeout and the server committed.  Forced:
 * the server commits only after the client timed out.  The timeout is
 * 100 us of real time (virtual time, in the bubble).
 */
#include "bugs.h"

#define TBR_TIMEOUT_NS (100 * GOTIME_MICROSECOND)

struct tbr_run {
	struct bug_env *env;
	chan_t *requests;
	chan_t *reply, *claim;
	chan_t *timed_out; /* gate: the client gave up */
	bool committed;    /* written by the server, read after the join */
};

static void tbr_server(void *p)
{
	struct tbr_run *r = p;
	int req;
	bool ok;
	if (chan_recv(r->requests, &req, &ok) || !ok)
		return;
	if (bug_forced(r->env))
		bug_gate_wait(r->timed_out);
	if (bug_fixed(r->env) && (chan_try_recv(r->claim, NULL, &ok) != 0 || !ok))
		return; /* the client abandoned the request: do nothing */
	r->committed = true;
	int v = req + 1;
	chan_try_send(r->reply, &v); /* room for one: never blocks */
}

int bug_timeout_before_reply(struct bug_env *e)
{
	struct tbr_run r = {.env = e};
	int result = BUG_ERROR;
	r.requests = chan_new(sizeof(int), 1);
	r.reply = chan_new(sizeof(int), 1);
	r.claim = chan_new(0, 1);
	r.timed_out = bug_gate_new();
	if (!r.requests || !r.reply || !r.claim || !r.timed_out)
		goto out;
	chan_send(r.claim, NULL);
	if (bug_go(e, tbr_server, &r))
		goto out;
	/* The client. */
	int req = 41, v;
	bool ok, reported_timeout = false;
	chan_send(r.requests, &req);
	if (chan_recv_until(r.reply, &v, NULL, chan_deadline_in(TBR_TIMEOUT_NS)) == ETIMEDOUT) {
		reported_timeout = true;
		if (bug_fixed(e) && (chan_try_recv(r.claim, NULL, &ok) != 0 || !ok)) {
			/* The server took the token: it commits and replies. */
			bug_gate_open(r.timed_out);
			chan_recv(r.reply, &v, NULL);
			reported_timeout = false;
		}
	}
	bug_gate_open(r.timed_out);
	bug_join(e);
	result = reported_timeout && r.committed ? BUG_MANIFESTED : BUG_CLEAN;
out:
	if (r.timed_out)
		chan_unref(r.timed_out);
	if (r.claim)
		chan_unref(r.claim);
	if (r.reply)
		chan_unref(r.reply);
	if (r.requests)
		chan_unref(r.requests);
	return result;
}

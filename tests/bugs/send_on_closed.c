/*
 * tests/bugs/send_on_closed.c - a send on a channel closed by another
 * goroutine.
 *
 *   results := make(chan int, 2)
 *   for _, r := range replicas { go func() { results <- query(r) }() }
 *   first := <-results
 *   close(results)               // BUG: "done, no more results please":
 *                                // the slower replica's send panics
 *
 * The receiver closes a channel it does not own while a sender may still
 * send: whenever the second replica answers after the first answer was
 * taken, its send panics in Go (EPIPE here).  Fix: only senders close (or
 * nobody: the buffered channel is simply dropped when both have sent).
 *
 * Oracle: a sender's chan_send returned EPIPE.  Forced: the second replica
 * answers once the receiver took the first answer (and closed, if buggy).
 */
#include "bugs.h"

struct soc_run {
	struct bug_env *env;
	chan_t *results;
	chan_t *taken;         /* gate: the receiver took the first answer */
	atomic_int send_epipe; /* sends that failed with EPIPE */
};

struct soc_replica {
	struct soc_run *run;
	int id;
};

static void soc_replica(void *p)
{
	struct soc_replica *q = p;
	struct soc_run *r = q->run;
	if (bug_forced(r->env) && q->id == 1)
		bug_gate_wait(r->taken);
	if (chan_send(r->results, &q->id) == EPIPE)
		/* Relaxed: read after the join, which orders it. */
		atomic_fetch_add_explicit(&r->send_epipe, 1, memory_order_relaxed);
}

int bug_send_on_closed(struct bug_env *e)
{
	struct soc_run r = {.env = e};
	struct soc_replica q[2] = {{&r, 0}, {&r, 1}};
	int result = BUG_ERROR;
	atomic_init(&r.send_epipe, 0);
	r.results = chan_new(sizeof(int), 2);
	r.taken = bug_gate_new();
	if (!r.results || !r.taken)
		goto out;
	int started = (bug_go(e, soc_replica, &q[0]) == 0) + (bug_go(e, soc_replica, &q[1]) == 0);
	if (started == 2) {
		int first;
		chan_recv(r.results, &first, NULL);
		if (!bug_fixed(e))
			chan_close(r.results);
	}
	bug_gate_open(r.taken);
	bug_join(e);
	if (started == 2)
		result = atomic_load_explicit(&r.send_epipe, memory_order_relaxed) ? BUG_MANIFESTED
										   : BUG_CLEAN;
out:
	if (r.taken)
		chan_unref(r.taken);
	if (r.results)
		chan_unref(r.results);
	return result;
}

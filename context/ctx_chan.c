/*
 * context/ctx_chan.c - channel operations that give up when a context is
 * done: Go's
 *     select {
 *     case ch <- v / v, ok := <-ch / any cases:
 *     case <-ctx.Done(): return ctx.Err()
 *     }
 * as one call each.  Built on the public chan/select API, plus
 * chan__select_ra (select/select_internal.h: chan_select with our caller's
 * return address for the dump) and nothing of a channel's insides: the
 * context's Done channel is one more receive case, and its deadline is the
 * select's deadline (so the deadline is honoured even if the timer thread
 * is late).
 *
 * A context that is already done (or whose deadline has passed) is reported
 * before any case is tried: "a call under a cancelled context returns at
 * once", deterministic where Go's select would pick at random.
 *
 * NULL channels are Go's nil channels, never ready, in ctx_send/ctx_recv as
 * in ctx_select's cases: the call waits for the context.  A call with no
 * channel under a context that can never be done (Background, TODO,
 * WithoutCancel) would wait for ever (Go blocks the goroutine for good):
 * it returns EDEADLK at once, so that every blocking call has a way out.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "context/ctx_impl.h"
#include "select/select_internal.h"

/*
 * What to report when the context won: its error.  A select that timed out
 * on the context's deadline may get there before the timer callback has run;
 * then expire the deadline here, as the timer would, so that ctx_err() says
 * the same as our return value from now on.
 */
static int ctx_gave_up(ctx_t *c)
{
	int e = ctx_err(c);
	if (e)
		return e;
	ctx__expire(c);
	e = ctx_err(c);
	return e ? e : CTX_DEADLINE_EXCEEDED;
}

/*
 * Check @c before blocking: 0 and *done (NULL if @c is never done) and
 * *deadline to wait with, or the error to return.
 */
static int ctx_prepare(ctx_t *c, chan_t **done, int64_t *deadline)
{
	int e = ctx_err(c);
	if (e)
		return e;
	*deadline = c->deadline;
	if (*deadline != CHAN_FOREVER && chan_now() >= *deadline)
		return ctx_gave_up(c);
	*done = NULL;
	if (c->canceler) {
		*done = ctx_done(c);
		if (!*done)
			return ENOMEM;
	}
	return 0;
}

/* ctx_select with the return address of the public entry point (the call
 * site the diagnostics dump shows, gochan/diag.h). */
static int ctx_select_ra(ctx_t *c, chan_case_t *cases, size_t n, const void *ra)
{
	if (!c || (!cases && n))
		return -EINVAL;
	chan_t *done;
	int64_t deadline;
	int e = ctx_prepare(c, &done, &deadline);
	if (e)
		return -e;
	if (!done) {
		/* Never done, so no deadline either: a plain select, unless no
		 * case has a channel (Go's nil channels: never ready).  Then Go
		 * blocks for ever; here that wait could never end, so it is
		 * reported at once.  The non-blocking pass still validates the
		 * cases first (-EINVAL takes precedence, as in every path). */
		bool any = false;
		for (size_t i = 0; i < n && !any; i++)
			any = cases[i].chan != NULL;
		if (any)
			return chan__select_ra(cases, n, CHAN_FOREVER, ra);
		int r = chan__select_ra(cases, n, CHAN_NOWAIT, ra);
		return r == CHAN_DEFAULT ? -EDEADLK : r;
	}
	if (n >= SIZE_MAX / sizeof(chan_case_t) - 1)
		return -EINVAL;

	chan_case_t stack[CHAN_SELECT_STACK_CASES];
	chan_case_t *all = stack;
	if (n + 1 > CHAN_SELECT_STACK_CASES) {
		all = malloc((n + 1) * sizeof(chan_case_t));
		if (!all)
			return -ENOMEM;
	}
	if (n)
		memcpy(all, cases, n * sizeof(chan_case_t));
	all[n] = CHAN_RECV(done, NULL, NULL);
	int r = chan__select_ra(all, n + 1, deadline, ra);
	if (all != stack)
		free(all);
	if (r == (int)n || r == CHAN_TIMEOUT || r == CHAN_DEFAULT)
		return -ctx_gave_up(c);
	return r;
}

int ctx_select(ctx_t *c, chan_case_t *cases, size_t n)
{
	return ctx_select_ra(c, cases, n, __builtin_return_address(0));
}

/* The two one-channel forms are ctx_select with one case: a NULL @ch is a
 * case that is never ready (Go's nil channel), so the call waits for the
 * context alone, or fails with EDEADLK at once if it can never be done. */
int ctx_send(ctx_t *c, chan_t *ch, const void *elem)
{
	bool ok = false;
	chan_case_t cs = CHAN_SEND(ch, elem, &ok);

	if (!c)
		return EINVAL;
	int r = ctx_select_ra(c, &cs, 1, __builtin_return_address(0));
	if (r == 0)
		return ok ? 0 : EPIPE;
	return -r;
}

int ctx_recv(ctx_t *c, chan_t *ch, void *elem, bool *ok)
{
	chan_case_t cs = CHAN_RECV(ch, elem, ok);

	if (!c)
		return EINVAL;
	int r = ctx_select_ra(c, &cs, 1, __builtin_return_address(0));
	return r == 0 ? 0 : -r;
}

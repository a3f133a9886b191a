/*
 * gochan/select.h - Go's select statement in C.
 *
 * chan_select() waits on any mix of send and receive cases and performs
 * exactly one of them.  Go's rules hold:
 *   - among the cases ready at the moment of the call, one is chosen
 *     uniformly at random;
 *   - with no ready case: CHAN_NOWAIT returns CHAN_DEFAULT (Go's default
 *     branch), a deadline returns CHAN_TIMEOUT when it passes, CHAN_FOREVER
 *     blocks until a case can proceed;
 *   - a case whose channel is NULL is never ready (Go's nil channel); a select
 *     with no cases, or only NULL ones, blocks forever with CHAN_FOREVER (so
 *     only ever use that with a deadline or default in real code);
 *   - a send case on a closed channel is ready: it is chosen like any other
 *     and reports ok == false (Go panics; the value is not sent);
 *   - a receive case on a closed, drained channel is ready and reports
 *     ok == false with the zero value;
 *   - one channel may appear in several cases, even as a send and a receive of
 *     the same select; a select never communicates with itself;
 *   - a blocked select is claimed by exactly one counterpart (one CAS on its
 *     state word): no value is received by two cases, none is lost; the waits
 *     registered on the other channels are removed before chan_select returns.
 *   - ordering: the case that fires gives exactly the happens-before edges of
 *     the matching plain operation (see gochan/chan.h).
 *
 * Evaluation order.  Go evaluates every channel and send value once, in
 * source order, on entry.  Here the caller builds the case array; a send
 * case's value is read from case.elem at the moment it is sent, so it must
 * stay unchanged until chan_select returns.
 *
 * Allocation.  None for up to CHAN_SELECT_STACK_CASES cases; a larger select
 * allocates its bookkeeping once per call (and may then return -ENOMEM).
 *
 * A select loop in Go and in C:
 *
 *     for {                                   for (;;) {
 *         select {                                int v; bool ok;
 *         case v, ok := <-jobs:                   switch (CHAN_SELECT(CHAN_FOREVER,
 *             if !ok { return }                       CHAN_RECV(jobs, &v, &ok),
 *             work(v)                                 CHAN_RECV(done, NULL, NULL),
 *         case <-done:                                CHAN_SEND(out, &last, NULL))) {
 *             return                              case 0: if (!ok) return; work(v); break;
 *         case out <- last:                       case 1: return;
 *             sent++                              case 2: sent++; break;
 *         }                                       }
 *     }                                       }
 *
 * `break` leaves the switch (Go's break in a select), `continue` goes on with
 * the enclosing loop, exactly as in Go.  A default branch is
 * `case CHAN_DEFAULT:` with CHAN_NOWAIT as the deadline; a timeout is
 * `case CHAN_TIMEOUT:` with a deadline.
 */
#ifndef GOCHAN_SELECT_H
#define GOCHAN_SELECT_H

#include <errno.h>
#include <gochan/chan.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The direction of a select case. */
enum chan_op {
	CHAN_OP_RECV = 1, /* v, ok := <-chan */
	CHAN_OP_SEND = 2, /* chan <- v */
};

/** One case of a select. */
typedef struct chan_case {
	chan_t *chan;    /* in: the channel; NULL = a case that never fires */
	void *elem;      /* in: send: the value (elem_size bytes);
			    recv: where to store the value, or NULL to discard */
	bool *ok;        /* in, optional: where to report the outcome when this
			    case fires: true = communicated, false = the channel
			    was closed (recv: zero value stored; send: not sent) */
	enum chan_op op; /* in: CHAN_OP_RECV or CHAN_OP_SEND */
} chan_case_t;

/** chan_select() result when CHAN_NOWAIT finds nothing ready (Go's default). */
#define CHAN_DEFAULT (-EAGAIN)
/** chan_select() result when the deadline passes first. */
#define CHAN_TIMEOUT (-ETIMEDOUT)
/** Cases handled without any allocation. */
#define CHAN_SELECT_STACK_CASES 64

/**
 * chan_select - perform one of @n cases.
 * @cases: the cases; read on entry, *ok written for the case that fires.
 * @n: how many (0 allowed).
 * @deadline: CHAN_FOREVER, CHAN_NOWAIT (default branch), or an absolute
 *            chan_now() time.
 *
 * Returns the index of the case that fired, CHAN_DEFAULT, CHAN_TIMEOUT,
 * -EINVAL (NULL @cases with @n > 0, an unknown op, a NULL elem on a send of a
 * non-zero-size channel) or -ENOMEM (more than CHAN_SELECT_STACK_CASES cases
 * and no memory).  On an error nothing was communicated.
 */
int chan_select(chan_case_t *cases, size_t n, int64_t deadline);

#ifndef __cplusplus
/** Build a receive case: value into @dst (or NULL), outcome into @okp (or NULL). */
#define CHAN_RECV(ch, dst, okp) \
	((chan_case_t){.chan = (ch), .elem = (dst), .ok = (okp), .op = CHAN_OP_RECV})
/** Build a send case: the value at @src, outcome into @okp (or NULL). */
#define CHAN_SEND(ch, src, okp)                                                     \
	((chan_case_t){.chan = (ch), .elem = (void *)(src), .ok = (okp),               \
		       .op = CHAN_OP_SEND})

/**
 * CHAN_SELECT(deadline, case...) - a select statement over a temporary case
 * array; evaluates to chan_select()'s result, so it reads best as the
 * controlling expression of a switch (see the example above).  No allocation
 * for up to CHAN_SELECT_STACK_CASES cases.  (C++: the same statement, see
 * the end of this file.)
 */
#define CHAN_SELECT(deadline, ...)                                                  \
	chan__select_stmt((chan_case_t[]){__VA_ARGS__},                            \
			  sizeof((chan_case_t[]){__VA_ARGS__}) / sizeof(chan_case_t),  \
			  (deadline))

/*
 * The select result of the plain operation behind a one-case select (case
 * @index of the select): @err as the chan_send and chan_recv calls return
 * it (EPIPE: a send on a closed channel, which fires with ok == false), @ok
 * the receive's outcome.  Shared by CHAN_SELECT's inline path and select.c.
 */
static inline int chan__one_case_result(const chan_case_t *cs, int index, int err, bool ok)
{
	if (err == EPIPE && cs->op == CHAN_OP_SEND) {
		ok = false;
		err = 0;
	}
	if (err == EAGAIN)
		return CHAN_DEFAULT;
	if (err == ETIMEDOUT)
		return CHAN_TIMEOUT;
	if (err)
		return -err;
	if (cs->ok)
		*cs->ok = ok;
	return index;
}

/*
 * CHAN_SELECT's call.  A select of one case with CHAN_NOWAIT is the plain
 * non-blocking operation (as Go compiles `select { case v := <-c: default: }`
 * to selectnbrecv), with chan_select()'s results: the test folds away when
 * the case count and the deadline are compile-time constants, as they are
 * in the statement form; anything else is chan_select() itself.
 */
static inline int chan__select_stmt(chan_case_t *cases, size_t n, int64_t deadline)
{
	if (!(__builtin_constant_p(n) && n == 1 && __builtin_constant_p(deadline) &&
	      deadline == CHAN_NOWAIT))
		return chan_select(cases, n, deadline);

	chan_case_t *cs = &cases[0];
	bool ok = true;

	if (cs->op != CHAN_OP_RECV && cs->op != CHAN_OP_SEND)
		return -EINVAL;
	if (!cs->chan)
		return CHAN_DEFAULT; /* a nil channel is never ready */
	return chan__one_case_result(cs, 0,
				     cs->op == CHAN_OP_RECV ? chan_try_recv(cs->chan, cs->elem, &ok)
							    : chan_try_send(cs->chan, cs->elem),
				     ok);
}
#endif /* !__cplusplus */

/**
 * CHAN_RANGE(ch, dst) - Go's `for v := range ch`: a loop whose body runs once
 * per value received into @dst, ending when @ch is closed and drained.
 * break and continue work as in any C loop.  Blocks like chan_recv().
 */
#define CHAN_RANGE(ch, dst)                                                         \
	for (bool chan_range_ok_ = true;                                           \
	     chan_recv((ch), (dst), &chan_range_ok_) == 0 && chan_range_ok_;)

#ifdef __cplusplus
}

/*
 * C++ (C++11 and later).  C++ has no compound literals, so the case builders
 * are an inline function and CHAN_SELECT hands its cases to a variadic
 * template that copies them into an array on its own stack frame: the same
 * statement form, the same single chan_select() call, still no allocation.
 *     switch (CHAN_SELECT(CHAN_FOREVER, CHAN_RECV(a, &v, &ok), CHAN_SEND(b, &w, NULL))) { ... }
 * As in C, the cases and send values are evaluated once, in no specified
 * order, before the select starts.
 */
inline chan_case_t chan__case(chan_t *ch, void *elem, bool *ok, enum chan_op op)
{
	chan_case_t c;
	c.chan = ch;
	c.elem = elem;
	c.ok = ok;
	c.op = op;
	return c;
}

template <typename... Cases>
inline int chan__select_cxx(int64_t deadline, Cases... cases)
{
	chan_case_t array[] = {cases...};
	return chan_select(array, sizeof...(cases), deadline);
}

#define CHAN_RECV(ch, dst, okp) chan__case((ch), (dst), (okp), CHAN_OP_RECV)
#define CHAN_SEND(ch, src, okp) chan__case((ch), (void *)(src), (okp), CHAN_OP_SEND)
#define CHAN_SELECT(deadline, ...) chan__select_cxx((int64_t)(deadline), __VA_ARGS__)
#endif /* __cplusplus */

#endif /* GOCHAN_SELECT_H */

/*
 * bench/naive/naive_chan.h - the naive channel: the floor that gochan is
 * compared with on a busy machine (issue 21).  Not part of the library.
 *
 * What "naive" means here, and nothing more:
 *   - ONE global mutex guards every channel's state (buffer, closed flag,
 *     wait queues): no per-channel lock, no lock-free path.
 *   - A blocked operation (a send, a receive or a whole select) waits on a
 *     condition variable of its own, on its stack; whoever completes it
 *     signals that one variable.  No spinning, no sched_yield, no futex of
 *     its own: the waiting is pthread_cond_wait's.
 *   - Go's semantics otherwise (runtime/chan.go, select.go): a buffered
 *     channel is a FIFO ring; an unbuffered send hands its value straight
 *     to a waiting receiver; a receiver that frees a slot moves the first
 *     blocked sender's value into the buffer; close wakes every waiter
 *     (receivers get ok == false, senders an error); a select polls its
 *     cases from a rotating start and, when none is ready, queues one
 *     waiter per case and is completed by the first peer that finds one.
 *
 * Operations return 0 or a positive errno value, as gochan's do: EPIPE for
 * a send on a closed channel (Go panics; the ported programs treat it as
 * "the program is ending"), EINVAL for misuse.  Elements are copied by
 * value, elem_size bytes (0 allowed).  Channels are not reference counted:
 * naive_chan_free() once no thread uses the channel any more.
 */
#ifndef GOCHAN_BENCH_NAIVE_CHAN_H
#define GOCHAN_BENCH_NAIVE_CHAN_H

#include <stdbool.h>
#include <stddef.h>

typedef struct naive_chan naive_chan_t;

/** A channel of @cap elements of @elem_size bytes (cap 0: unbuffered); NULL if out of memory. */
naive_chan_t *naive_chan_new(size_t elem_size, size_t cap);

/** Free @c; no thread may use it or be blocked on it. */
void naive_chan_free(naive_chan_t *c);

/** Send *@elem, blocking until it is taken or buffered: 0, or EPIPE if @c is (or gets) closed. */
int naive_send(naive_chan_t *c, const void *elem);

/**
 * Receive into @elem (NULL: discard), blocking until a value comes: 0.
 * *@ok (if not NULL) is true for a value, false when @c is closed and
 * drained (then @elem is zeroed).
 */
int naive_recv(naive_chan_t *c, void *elem, bool *ok);

/** Close @c: 0, or EPIPE if it was closed already. */
int naive_close(naive_chan_t *c);

/** One case of naive_select(), as gochan's chan_case_t. */
typedef struct naive_case {
	naive_chan_t *chan; /* NULL: a case that never fires (Go's nil channel) */
	void *elem;         /* send: the value; receive: where to store it, or NULL */
	bool *ok;           /* optional: true = communicated, false = channel closed */
	bool send;          /* true: a send case, false: a receive case */
} naive_case_t;

/**
 * Perform one of @n cases: the index of the case that fired.  With @block
 * false, -1 when none is ready at once (Go's default branch).  A send case
 * on a closed channel fires with *ok == false (Go would panic).  @n == 0,
 * or only NULL channels, with @block true is an error here (-EINVAL), not a
 * wait forever.
 */
int naive_select(naive_case_t *cases, size_t n, bool block);

#endif /* GOCHAN_BENCH_NAIVE_CHAN_H */

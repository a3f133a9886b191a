/*
 * gochan/chan.h - Go's channels in C.
 *
 * A chan_t is Go's `chan T`: a typed-by-size, optionally buffered, FIFO
 * communication channel shared by any number of threads.  Every rule of
 * Go's channels holds, with Go's panics turned into error codes:
 *
 *   Go                         gochan
 *   make(chan T)               chan_new(sizeof(T), 0)
 *   make(chan T, n)            chan_new(sizeof(T), n)
 *   make(chan struct{})        chan_new(0, 0)
 *   ch <- v                    chan_send(ch, &v)            (EPIPE if closed)
 *   v, ok := <-ch              chan_recv(ch, &v, &ok)
 *   close(ch)                  chan_close(ch)               (EALREADY if closed)
 *   len(ch), cap(ch)           chan_len(ch), chan_cap(ch)
 *   select { case ch <- v: default: }   chan_try_send(ch, &v)  (EAGAIN)
 *   for v := range ch          CHAN_RANGE(ch, &v) { ... }   (see gochan/select.h)
 *
 * Errors.  Every function that can fail returns 0 or a positive errno value
 * (never -1 and errno), so it is safe to use from any thread:
 *   EINVAL     a NULL channel or NULL element pointer where one is needed,
 *              or a size that cannot be represented;
 *   EPIPE      send on a closed channel (Go: panic "send on closed channel");
 *              also a blocked sender woken by close: its value was NOT sent;
 *   EALREADY   close of a closed channel (Go: panic "close of closed channel");
 *   EAGAIN     a non-blocking operation that would have blocked;
 *   ETIMEDOUT  a deadline passed before the operation could complete;
 *   EBUSY      chan_unref() of the last reference while threads are blocked
 *              on the channel (the channel is NOT freed);
 *   EPERM      a send, close or unref that only the library may do on a
 *              channel it owns (see "Borrowed channels" below);
 *   ENOMEM     allocation failed (chan_new only).
 * chan_strerror() gives Go's wording for each.
 *
 * Deadlines are absolute CLOCK_MONOTONIC times in nanoseconds (chan_now()).
 * CHAN_FOREVER waits without limit; any deadline at or before now (CHAN_NOWAIT
 * among them) makes exactly one non-blocking attempt.
 *
 * Nil channels.  Go's nil channel blocks forever.  A plain operation on a NULL
 * chan_t* is a programming error here and returns EINVAL; in chan_select() a
 * NULL channel is a case that is never ready, exactly like Go's nil channel.
 *
 * Memory model (Go's, https://go.dev/ref/mem#chan), guaranteed here with
 * C11 acquire/release semantics:
 *   - a send is synchronized before the completion of the matching receive;
 *   - the closing of a channel is synchronized before a receive that returns
 *     because the channel is closed (ok == false);
 *   - a receive from an unbuffered channel is synchronized before the
 *     completion of the matching send;
 *   - the k-th receive on a channel with capacity C is synchronized before
 *     the completion of the (k+C)-th send on that channel.
 * Operations on unbuffered (and timer) channels take the channel's lock, so
 * all completed operations on one of those are totally ordered.  A send or
 * receive on a buffered channel completes without the lock when it needs
 * nobody else (room or a value, and no thread waiting): a lock-free ring,
 * which gives exactly the four rules above, FIFO order, and results
 * (EAGAIN, closed) that held at some instant during the call, but no total
 * order beyond them: do not use a buffered channel's operations as a fence
 * for unrelated data.  chan_len()/chan_cap() read without the lock
 * (relaxed): they are hints, exact only when nobody else is operating on the
 * channel.
 *
 * Fairness.  Blocked senders are served first-in first-out, blocked receivers
 * too, and the buffer is a FIFO.  A sender that finds a blocked receiver
 * hands it the value directly (even on a buffered channel, whose buffer is
 * then empty); a receiver that empties a slot of a full buffer moves the
 * first blocked sender's value into the tail, so order is kept.
 *
 * Lifetime.  A channel is reference counted.  chan_new() returns it with one
 * reference, owned by the caller.  Give each thread that uses the channel its
 * own reference (chan_ref() before handing it over, chan_unref() when that
 * thread is done).  A thread must hold a reference for as long as any of its
 * operations on the channel is in progress; the library checks what it can:
 * dropping the last reference while threads are still blocked on the channel
 * returns EBUSY and frees nothing.
 *
 * Borrowed channels.  Some functions hand out a channel that the library
 * owns and feeds: ctx_done(), gotime_timer_chan(), gotime_ticker_chan(),
 * gopoll_chan(), and the channels of gotime_after() and gotime_tick() (of
 * which the caller owns one reference).  They are Go's receive-only
 * `<-chan T`: receive from them (chan_recv*, a select's receive case,
 * CHAN_RANGE) and take and drop references of your own (chan_ref, then
 * chan_unref), but chan_send*, chan_close, a select's send case and a
 * chan_unref that would drop the library's own reference return EPERM and
 * change nothing.  docs/porting-from-go.md has the table of which channels
 * are borrowed and which the caller owns.
 *
 * Blocking.  A blocked operation spins for up to a few microseconds (a
 * time budget that adapts per thread: it shrinks when spinning does not pay,
 * e.g. when the counterpart shares this CPU), then yields the CPU for up to
 * 50 us, then sleeps on a futex; it never busy-loops beyond that and is woken
 * exactly once, by the counterpart or by close.  A counterpart never makes a
 * wake-up system call unless the waiter really sleeps.  No allocation happens
 * on any operation after chan_new(), no registration or init call is
 * required, and the library starts no thread for channels.
 */
#ifndef GOCHAN_CHAN_H
#define GOCHAN_CHAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** An opaque channel. */
typedef struct chan chan_t;

/* A cast in a public macro: C++ users build with -Wold-style-cast. */
#ifdef __cplusplus
#define CHAN__CAST(T, v) (static_cast<T>(v))
#else
#define CHAN__CAST(T, v) ((T)(v))
#endif

/** Wait without limit. */
#define CHAN_FOREVER INT64_C(-1)
/** Do not wait at all: one non-blocking attempt. */
#define CHAN_NOWAIT INT64_C(0)

/** Largest element size accepted by chan_new() (1 GiB; Go's limit is 64 KiB). */
#define CHAN_MAX_ELEM_SIZE (CHAN__CAST(size_t, 1) << 30)

/**
 * chan_now - the current CLOCK_MONOTONIC time in nanoseconds.
 * Never blocks, never fails.  Use it to build deadlines: chan_now() + 5000000
 * is "in 5 ms".
 */
int64_t chan_now(void);

/**
 * chan_deadline_in - the deadline @ns nanoseconds from now, saturating.
 * @ns <= 0 gives a deadline that has already passed (one attempt only).
 */
int64_t chan_deadline_in(int64_t ns);

/**
 * chan_new - make a channel (Go's make(chan T, cap)).
 * @elem_size: sizeof(T); 0 is Go's chan struct{} (no data copied, only counts).
 * @cap: the buffer size; 0 makes an unbuffered (rendezvous) channel.
 *
 * Returns the channel with one reference owned by the caller, or NULL with
 * errno set to EINVAL (elem_size > CHAN_MAX_ELEM_SIZE or elem_size * cap
 * overflows) or ENOMEM.  Never blocks.  Allocates once (the buffer is inline).
 */
chan_t *chan_new(size_t elem_size, size_t cap);

/**
 * chan_ref - take one more reference to @c (NULL is ignored) and return @c.
 * Never blocks.  Relaxed increment: the caller already holds a reference, so
 * no ordering is needed to keep the channel alive.
 */
chan_t *chan_ref(chan_t *c);

/**
 * chan_unref - drop one reference; the last one frees the channel.
 *
 * Returns 0, EINVAL for NULL, EPERM when @c is a borrowed channel (see
 * above) of which only the library's own reference is left (the caller
 * holds none: nothing changes), or EBUSY when this is the last reference but
 * threads are still blocked in operations on @c: the reference is then kept
 * (the caller still owns it) and nothing is freed; close the channel or let
 * the waiters finish, then call chan_unref() again.  Never blocks.
 * Ordering: the decrement is a release, and the freeing thread acquires, so
 * every thread's last use of the channel happens before it is freed.
 */
int chan_unref(chan_t *c);

/**
 * chan_send - send the elem_size bytes at @elem (Go's ch <- v); blocks until a
 * receiver takes the value or the buffer has room.
 * Returns 0, EPIPE (channel closed, before or while blocked: the value was not
 * sent), EINVAL (NULL @c, or NULL @elem with elem_size > 0), or EPERM (@c
 * is a borrowed channel: only the library sends on it).
 * The value is copied out of @elem before chan_send returns.
 */
int chan_send(chan_t *c, const void *elem);

/** chan_try_send - as chan_send, but returns EAGAIN instead of blocking. */
int chan_try_send(chan_t *c, const void *elem);

/**
 * chan_send_until - as chan_send, but gives up with ETIMEDOUT once the
 * monotonic clock passes @deadline (CHAN_FOREVER: never).  A deadline already
 * passed makes one non-blocking attempt and returns ETIMEDOUT if it would block.
 */
int chan_send_until(chan_t *c, const void *elem, int64_t deadline);

/**
 * chan_recv - receive one value into @elem (Go's v, ok := <-ch); blocks until
 * a value is available or the channel is closed and drained.
 * @elem: where to store elem_size bytes, or NULL to discard the value.
 * @ok: optional; set to true if a value was received, false if the channel is
 *      closed and drained (then @elem, if given, is zero-filled).
 * Returns 0 (also when closed: check @ok), or EINVAL for a NULL @c.
 */
int chan_recv(chan_t *c, void *elem, bool *ok);

/** chan_try_recv - as chan_recv, but returns EAGAIN instead of blocking. */
int chan_try_recv(chan_t *c, void *elem, bool *ok);

/**
 * chan_recv_until - as chan_recv, with a deadline as for chan_send_until;
 * returns ETIMEDOUT (and leaves @elem and @ok untouched) when it passes.
 */
int chan_recv_until(chan_t *c, void *elem, bool *ok, int64_t deadline);

/**
 * chan_close - close the channel (Go's close(ch)).
 * Wakes every blocked receiver (they drain the buffer first; once it is empty
 * they get the zero value and ok == false) and every blocked sender (they
 * return EPIPE and their values never enter the channel).  Values already in
 * the buffer stay receivable.
 * Returns 0, EALREADY if already closed (nothing changes), EINVAL for NULL,
 * EPERM for a borrowed channel (only the library closes it, open or not).
 * Never blocks (beyond the channel lock).
 */
int chan_close(chan_t *c);

/** chan_len - values buffered now (Go's len(ch)); 0 for NULL.  A relaxed read. */
size_t chan_len(const chan_t *c);

/** chan_cap - the buffer size (Go's cap(ch)); 0 for NULL. */
size_t chan_cap(const chan_t *c);

/** chan_elem_size - the element size given to chan_new(); 0 for NULL. */
size_t chan_elem_size(const chan_t *c);

/** chan_is_closed - whether chan_close() has been called (a relaxed hint); false for NULL. */
bool chan_is_closed(const chan_t *c);

/** chan_strerror - Go's wording for an error returned by this library. */
const char *chan_strerror(int err);

#ifdef __cplusplus
}
#endif

#endif /* GOCHAN_CHAN_H */

/*
 * gochan/poll.h - file-descriptor readiness for chan_select, and a context
 * cancelled when a socket's peer hangs up (Go's netpoller and net/http's
 * r.Context()).
 *
 *   Go                                          gochan
 *   r.Context() (cancelled when the client      ctx = gopoll_hangup_ctx(parent, fd)
 *     goes away)                                ... ctx_cancel_release(ctx)
 *   errors.Is(context.Cause(ctx), ...)          ctx_cause(ctx, NULL) == GOPOLL_HANGUP
 *   (netpoller: block until fd readable)        w = gopoll_watch(fd, GOPOLL_READ)
 *   select { case <-readable: case <-ctx.Done(): }
 *                                               CHAN_SELECT(dl, CHAN_RECV(gopoll_chan(w), NULL, NULL),
 *                                                           CHAN_RECV(ctx_done(ctx), NULL, NULL))
 *   conn.SetReadDeadline + Read                 gopoll_wait(ctx, fd, GOPOLL_READ, deadline, &rev)
 *                                               then a non-blocking read()
 *   (a channel in an fd-based event loop)       gopoll_chanfd_new(ch), gopoll_chanfd_fd/_recv/_free
 *
 * Machinery.  ONE poller thread serves the whole process: an epoll instance
 * it waits on, started (with its epoll and eventfd descriptors) by the first
 * registration and gone GOPOLL_IDLE_LINGER_NS after the last registration
 * ends (at once at gopoll_shutdown()); a later registration starts it again.
 * Never a thread per descriptor.  (gopoll_chanfd, the other direction, is
 * not a registration: each adapter has a forwarding task of its own.)  It is a library thread in the sense of
 * godiag (kind "poller").  Registering and unregistering are one epoll_ctl()
 * call each, made by the calling thread; the poller thread only dispatches.
 *
 * Registrations.  Each gopoll_watch() and each gopoll_hangup_ctx() is one
 * registration on the descriptor NUMBER @fd, level-triggered and one-shot:
 * it fires at most once.  Any number of registrations may share a descriptor
 * (the same fd registered twice, a read watch beside a write watch beside a
 * hangup context): internally one epoll entry per descriptor carries the
 * union of their interests, each registration fires on its own, and freeing
 * one leaves the others untouched.  No descriptor is duplicated: a
 * registration costs no file descriptor of the caller's budget.
 *
 * Readiness is a hint (as with Go's netpoller and with epoll itself): a
 * watch that fired says the descriptor WAS readable/writable (or had an
 * error or hang-up) when the poller looked.  Another thread may have
 * consumed the data since, two watches on one descriptor both fire for the
 * same byte, and a socket may report readable with nothing to read.  Always
 * do the I/O non-blocking (O_NONBLOCK or MSG_DONTWAIT) and, on EAGAIN, make a
 * new watch and wait again.  Error and hang-up (EPOLLERR, EPOLLHUP) count as
 * ready for every watch, whatever it asked for: the I/O call then reports
 * the error or end of file.
 *
 * Closing a descriptor.  Close a descriptor only after every watch on it has
 * been freed and every hangup context on it cancelled (gopoll_free(),
 * ctx_cancel_release()); both unregister before they return, so closing
 * right after them is safe, and a number the kernel hands out again is never
 * confused with the old descriptor.  Closing it while still registered is a
 * caller error that corrupts nothing: the kernel drops the closed file from
 * the epoll set, so those registrations simply never fire (an event already
 * queued before the close may still be delivered); gopoll_free() /
 * ctx_cancel_release() still work and are still required; a registration
 * made later on the same, reused, number belongs to the new file and is
 * independent of the stale ones (neither ever fires the other).  (If the
 * closed file stays open elsewhere, e.g. through a dup() or in a child
 * process, the stale registrations may still fire for it, at most once.)
 *
 * Descriptors epoll refuses (regular files, directories: always "ready" for
 * the kernel) get EPERM: do the I/O directly.
 *
 * Memory ordering.  Everything done before a registration call happens
 * before the poller thread dispatches it (the poller's mutex).  The poller
 * stores a watch's events before it closes the channel, so gopoll_revents()
 * after a receive that saw the channel closed returns them (chan_close()'s
 * guarantee), and a hangup context's cause is set before its Done is closed
 * (the context's guarantee).  A peer thread of the same process that
 * write()s or close()s its end is ordered with the waiter only through the
 * kernel, an edge ThreadSanitizer cannot see: hand data between threads
 * through channels, not through the socket's readiness alone.
 *
 * Thread safety.  Every function may be called from any thread.  A watch is
 * used by its owner: gopoll_chan() / gopoll_revents() may be called
 * concurrently from several threads, gopoll_free() by one thread once nobody
 * else uses the watch.  Errors are positive errno values (0 = success);
 * constructors return NULL with errno set.
 */
#ifndef GOCHAN_POLL_H
#define GOCHAN_POLL_H

#include <errno.h>
#include <stdint.h>

#include <gochan/chan.h>
#include <gochan/context.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Interest and result bits (gopoll_watch, gopoll_revents, gopoll_wait). */
#define GOPOLL_READ 0x1u  /**< readable (data, end of file, a pending accept) */
#define GOPOLL_WRITE 0x2u /**< writable */
#define GOPOLL_HUP 0x4u   /**< result only: hung up (EPOLLHUP, or the peer shut down writing) */
#define GOPOLL_ERR 0x8u   /**< result only: an error is pending (EPOLLERR, e.g. a reset) */

/** How long the idle poller thread waits for a new registration before it exits. */
#define GOPOLL_IDLE_LINGER_NS INT64_C(5000000)

/**
 * GOPOLL_HANGUP - the cause of a hangup context cancelled because the peer
 * went away (ctx_cause(ctx, NULL) == GOPOLL_HANGUP; ctx_err() is then
 * CTX_CANCELED, as in Go).  ECONNRESET: distinct from CTX_CANCELED
 * (ECANCELED) and CTX_DEADLINE_EXCEEDED (ETIMEDOUT); gopoll_strerror() words
 * it "peer closed connection".
 */
#define GOPOLL_HANGUP ECONNRESET

/** A one-shot readiness watch on a descriptor (opaque). */
typedef struct gopoll gopoll_t;

/* ------------------------------------------------------------------------ */
/* Readiness watches: a channel closed when a descriptor is ready           */

/**
 * gopoll_watch - watch @fd until it is ready for @events (GOPOLL_READ,
 * GOPOLL_WRITE or both; hang-up and errors always count as ready), once.
 * When it is, the poller thread records what happened (gopoll_revents) and
 * CLOSES the watch's channel (gopoll_chan), so every receiver, present and
 * future, sees it ready: put CHAN_RECV(gopoll_chan(w), NULL, NULL) in a
 * chan_select next to channels, ctx_done() and timer channels.  A
 * descriptor that is already ready fires at once (soon after this returns).
 * The watch never reads from or writes to @fd.  To wait again after it
 * fired, free it and make a new one.
 *
 * Returns a watch owned by the caller (end it with gopoll_free()), or NULL
 * with errno: EINVAL (@events 0 or with other bits), EBADF (@fd is not an
 * open descriptor), EPERM (@fd cannot be polled: a regular file or a
 * directory), ENOMEM, ENOSPC (the epoll watch limit), EAGAIN (the poller
 * thread or its descriptors could not be created).  Never blocks beyond the
 * poller's mutex and one epoll_ctl() call.
 */
gopoll_t *gopoll_watch(int fd, unsigned events);

/**
 * gopoll_chan - the channel (element size 0) closed when @w fires.  The same
 * channel every call; borrowed: valid until gopoll_free(@w); never close,
 * send on or chan_unref() it.  NULL for a NULL @w (a nil channel in a
 * select).  Never blocks.
 */
chan_t *gopoll_chan(gopoll_t *w);

/**
 * gopoll_revents - what made @w fire (GOPOLL_READ / _WRITE / _HUP / _ERR),
 * 0 while it has not fired (and for NULL).  Acquire: a non-zero result
 * comes with gopoll_chan(@w) closed.  Never blocks.
 */
unsigned gopoll_revents(gopoll_t *w);

/**
 * gopoll_free - unregister @w (if it has not fired) and free it.  When this
 * returns the poller never touches @w or, on @w's behalf, @fd again: @fd may
 * be closed.  No thread may be blocked on gopoll_chan(@w) (EBUSY: then the
 * registration is gone and the watch freed, but its channel is kept, not
 * freed, so that the blocked thread is not left on freed memory; it is
 * woken only by its own deadline).  Returns 0, or EBUSY.  NULL is ignored.
 * Blocks only on the poller's mutex (never for the poller thread to finish
 * anything).
 */
int gopoll_free(gopoll_t *w);

/**
 * gopoll_wait - block until @fd is ready for @events (as gopoll_watch), @ctx
 * is done, or @deadline (a chan_now() time; CHAN_FOREVER: none) passes:
 * Go's blocking Read/Write with SetDeadline, minus the I/O.  @ctx may be
 * NULL (no context).  On 0, *@revents (if not NULL) receives what fired.
 * A deadline already passed (CHAN_NOWAIT, or @ctx's) makes one poll(2) look
 * at @fd instead of registering.  Returns 0, ETIMEDOUT (@deadline or @ctx's
 * deadline passed: ETIMEDOUT is CTX_DEADLINE_EXCEEDED), ctx_err(@ctx) when
 * @ctx is cancelled (CTX_CANCELED), or gopoll_watch()'s errors.  Readiness
 * is a hint: retry the non-blocking I/O and wait again on EAGAIN.  Blocks
 * like chan_select; one watch registered and freed per call.
 */
int gopoll_wait(ctx_t *ctx, int fd, unsigned events, int64_t deadline, unsigned *revents);

/* ------------------------------------------------------------------------ */
/* Hangup contexts                                                          */

/**
 * gopoll_hangup_ctx - a child of @parent (any context) that is ALSO
 * cancelled, with CTX_CANCELED and cause GOPOLL_HANGUP, when the peer of
 * socket @fd closes or resets the connection: epoll's EPOLLRDHUP, EPOLLHUP
 * or EPOLLERR on @fd.  Go's net/http cancels r.Context() the same way.
 *
 *   - It never reads or writes a byte of @fd: data the peer sends (a
 *     pipelined request) is no hangup and stays in the socket for its owner,
 *     so it works on a socket another library owns and reads itself (e.g.
 *     libmicrohttpd's MHD_CONNECTION_INFO_CONNECTION_FD, a socket it does not
 *     read while it sends a response).
 *   - Half-close counts as hangup: a peer that shut down its sending side
 *     (shutdown(SHUT_WR), which the kernel reports as EPOLLRDHUP) cancels
 *     the context, even while data it sent before is still unread.  This is
 *     what Go's HTTP/1.1 server does (its background read sees end of file
 *     and cancels the request context).  A local shutdown(SHUT_WR) of our
 *     own sending side is no hangup; a local shutdown(SHUT_RD) is (the
 *     kernel reports both ends' read shutdown alike, and a connection whose
 *     owner stopped reading is being closed anyway).
 *   - A peer that already left before the call makes a context that is done
 *     when this returns (the state is checked with poll(2) first).
 *   - Other descriptors that report EPOLLHUP/EPOLLERR work too (a pipe's read
 *     end is hung up when every writer has closed).
 *   - If @parent is already done, the child is done at once with the
 *     parent's error and cause, and nothing is registered.
 *
 * End it with ctx_cancel_release() (or CTX_SCOPED).  ctx_cancel(), the
 * cancel of an ancestor, and the hangup itself unregister @fd before the
 * call that did the cancelling returns; ctx_cancel() on the context itself
 * returns only once @fd is unregistered even when another thread's cancel
 * won the race.  So the caller may close @fd as soon as ctx_cancel_release()
 * returns, and a reused descriptor number never receives a stale cancel.  A
 * context released with ctx_release() alone (never cancelled) unregisters
 * when its last reference goes.  The poller thread cancels the context
 * holding a reference of its own, so a hangup racing a cancel or a release
 * is safe; the first cancel wins, as always.
 *
 * Returns the context with one reference owned by the caller, or NULL with
 * errno: EINVAL (NULL @parent), EBADF (@fd not an open descriptor), EPERM
 * (@fd cannot be polled), ENOMEM, ENOSPC, EAGAIN (as gopoll_watch).  Never
 * blocks beyond the poller's and the parent's mutexes and two system calls.
 * Everything ctx_with_cancel() guarantees holds (lifetime, ordering, values).
 */
ctx_t *gopoll_hangup_ctx(ctx_t *parent, int fd);

/**
 * gopoll_strerror - "peer closed connection" for GOPOLL_HANGUP, otherwise
 * ctx_strerror(@err).  Never NULL.
 */
const char *gopoll_strerror(int err);

/* ------------------------------------------------------------------------ */
/* The other way round: a channel as a readiness descriptor (event loops)   */

/** A channel's readiness descriptor (opaque). */
typedef struct gopoll_chanfd gopoll_chanfd_t;

/**
 * gopoll_chanfd_new - a descriptor that an event loop (epoll, poll(2),
 * libuv's uv_poll_t, libevent) waits on for channel @ch: readable while a
 * value of @ch is waiting to be taken with gopoll_chanfd_recv(), and for
 * good once @ch is closed and drained.  A library thread (a pooled group
 * thread, counted by godiag_threads()) receives from @ch on the loop's
 * behalf, one value at a time: it receives the next value only after the
 * loop has taken the previous one, so at most one value is held outside
 * the channel.  That is the one difference from a receive in the loop
 * itself: a sender on an unbuffered @ch completes when the adapter
 * receives, before the loop has taken the value.  @ch may be any channel,
 * a borrowed one too (ctx_done(ctx): readable once the context is done).
 *
 * Takes its own reference to @ch.  Returns the adapter, owned by the caller
 * (gopoll_chanfd_free()), or NULL with errno EINVAL (NULL @ch), ENOMEM,
 * EMFILE or ENFILE (no eventfd), or EAGAIN (no thread).  Never blocks
 * beyond starting a thread.
 */
gopoll_chanfd_t *gopoll_chanfd_new(chan_t *ch);

/**
 * gopoll_chanfd_fd - the eventfd to wait on for readability (POLLIN,
 * EPOLLIN, UV_READABLE); -1 for NULL.  Valid until gopoll_chanfd_free();
 * only wait on it: never read, write or close it.  Never blocks.
 */
int gopoll_chanfd_fd(const gopoll_chanfd_t *a);

/**
 * gopoll_chanfd_recv - take the waiting value, never blocking.  Returns 0
 * with the value in @elem (elem_size bytes; NULL discards it) and *@ok true;
 * 0 with the zero value and *@ok false once the channel is closed and
 * drained (for good: the descriptor stays readable, as a closed channel
 * stays ready); EAGAIN when no value is waiting (the descriptor is then not
 * readable until the next one is); EINVAL for NULL @a.  One thread at a
 * time (the loop's).  Ordering: the value's send happens before this
 * returns it, as for chan_recv().
 */
int gopoll_chanfd_recv(gopoll_chanfd_t *a, void *elem, bool *ok);

/**
 * gopoll_chanfd_free - stop the adapter's thread and wait for it (it is
 * only ever blocked in a select that the stop ends at once), close the
 * descriptor (take it out of the event loop first) and drop the adapter's
 * reference to the channel.  A value the adapter received but nobody took
 * is lost, like a value left in a channel nobody reads.  Returns 0, or
 * EINVAL for NULL.  Its wait for the thread is a gowg_wait(): on a fiber it
 * parks the fiber.
 */
int gopoll_chanfd_free(gopoll_chanfd_t *a);

/* ------------------------------------------------------------------------ */
/* Shutdown                                                                 */

/**
 * gopoll_shutdown - stop the poller thread now, if it runs and nothing is
 * registered (a leak checker's clean exit; it would exit on its own after
 * GOPOLL_IDLE_LINGER_NS).  Waits for it to have exited, and releases its
 * epoll and eventfd descriptors: when it returns 0, godiag_threads() no
 * longer counts the poller (the OS thread ends a moment later, running no
 * library code but its return).  Returns 0 (also when nothing ran), EBUSY
 * (a watch that has not fired or a hangup context not yet done is
 * registered: nothing is stopped), or EDEADLK (called on the poller thread
 * itself, e.g. from an AfterFunc function that could not get a thread of its
 * own).  A later registration starts a new poller thread.  On a fiber its
 * wait for the thread parks the fiber (gochan/fiber.h).
 */
int gopoll_shutdown(void);

#ifdef __cplusplus
}
#endif

#endif /* GOCHAN_POLL_H */

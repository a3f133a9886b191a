/*
 * gochan/context.h - Go's context package in C.
 *
 * A ctx_t carries a cancellation signal, a deadline and request-scoped
 * values across API boundaries and between threads, exactly as Go's
 * context.Context does.  Every Go rule holds:
 *
 *   Go                                        gochan
 *   context.Background(), context.TODO()      ctx_background(), ctx_todo()
 *   ctx, cancel := context.WithCancel(p)      ctx = ctx_with_cancel(p)
 *   cancel()                                  ctx_cancel(ctx)
 *   defer cancel()                            ctx_cancel_release(ctx)  (or CTX_SCOPED)
 *   ctx, cancel := WithCancelCause(p)         ctx = ctx_with_cancel_cause(p)
 *   cancel(cause)                             ctx_cancel_cause(ctx, code, data)
 *   WithDeadline(p, d) / WithTimeout(p, d)    ctx_with_deadline(p, d) / ctx_with_timeout(p, d)
 *   WithDeadlineCause / WithTimeoutCause      ctx_with_deadline_cause / ctx_with_timeout_cause
 *   WithValue(p, key, val)                    ctx_with_value(p, &key, val)
 *   WithoutCancel(p)                          ctx_without_cancel(p)
 *   stop := AfterFunc(ctx, f)                 a = ctx_after_func(ctx, fn, arg)
 *   stop()                                    ctx_after_stop(a)  (+ ctx_after_release(a))
 *   ctx.Done()                                ctx_done(ctx)   (NULL = Go's nil channel)
 *   ctx.Err()                                 ctx_err(ctx)    (0, CTX_CANCELED, CTX_DEADLINE_EXCEEDED)
 *   context.Cause(ctx)                        ctx_cause(ctx, &data)
 *   ctx.Deadline()                            ctx_deadline(ctx, &d)
 *   ctx.Value(key)                            ctx_value(ctx, &key)
 *   select { case <-ctx.Done(): ...           ctx_send / ctx_recv / ctx_select
 *            case ch <- v: }
 *
 * The usual pattern, in Go and in C:
 *
 *   func op(parent context.Context) error {   int op(ctx_t *parent) {
 *       ctx, cancel := context.WithTimeout(        ctx_t *ctx = ctx_with_timeout(parent,
 *           parent, 100*time.Millisecond)              100 * GOTIME_MILLISECOND);
 *       defer cancel()                             if (!ctx) return errno;
 *       return work(ctx)                           int err = work(ctx);
 *   }                                              ctx_cancel_release(ctx);
 *                                                  return err;
 *                                              }
 *
 * and inside work(), every blocking step gives up once ctx is done:
 *
 *   select {                                   int err = ctx_send(ctx, out, &v);
 *   case out <- v:                             if (err) return err;  // CTX_CANCELED,
 *   case <-ctx.Done(): return ctx.Err()        ...                   // CTX_DEADLINE_EXCEEDED
 *   }                                                                // or EPIPE
 *
 * Errors.  Err is 0 until the context is done, then CTX_CANCELED
 * (ECANCELED, "context canceled") or CTX_DEADLINE_EXCEEDED (ETIMEDOUT,
 * "context deadline exceeded"), distinct and never anything else; after it is
 * non-zero it never changes.  ctx_strerror() gives Go's wording.
 *
 * Causes.  Go's cause is an error value; here it is an int code chosen by the
 * application (non-zero; any value, e.g. an errno or an application code)
 * plus an optional pointer (`data`) to details, both given to
 * ctx_cancel_cause() or to the *_cause constructors.  The library never
 * dereferences or frees @data: the caller keeps it valid for as long as
 * anyone may ask for the cause.  ctx_cause() returns 0 while the context is
 * not done, the cause code if one was set, and otherwise the context's Err.
 *
 * Done.  A cancelable context's Done channel is a chan_t of element size 0
 * and capacity 0 (Go's chan struct{}), created on the first ctx_done() call
 * and CLOSED synchronously by the cancel that wins: put it in a chan_select()
 * case (CHAN_RECV(ctx_done(ctx), NULL, NULL)) next to your other cases, or use
 * ctx_send/ctx_recv/ctx_select.  Contexts that can never be cancelled
 * (Background, TODO, WithoutCancel and values over them) return NULL, which
 * chan_select() treats as Go's nil channel: never ready.  Never close, send
 * on, or chan_unref() a Done channel: it belongs to the context.
 *
 * Cancellation.  The first cancel wins (its error and cause stay).  Cancelling
 * a context cancels every context derived from it, with the same error and
 * cause, synchronously: when ctx_cancel() returns, the context and all its
 * descendants are done (even those another thread was cancelling at the same
 * time: the two cancels help each other).  A context
 * derived from a parent that is already done is done at once, with the
 * parent's error and cause.  A context's deadline is never later than its
 * parent's.  Cancelling a context removes it from its parent, stops its
 * timer, and releases everything the parent held for it, so a long-lived
 * parent with millions of short-lived children does not grow.
 *
 * Memory ordering.  Everything a thread did before the cancel that closed
 * Done happens before anything after a receive that observes Done closed
 * (chan_close()'s guarantee), and before anything after a ctx_err() /
 * ctx_cause() call that returns non-zero (a release store paired with an
 * acquire load).  Everything done before a context was created happens
 * before anything its AfterFunc functions and timers do.  An AfterFunc
 * function sees everything done before its ctx_after_func() call and
 * everything the cancelling thread did before the cancel that made the
 * context done (the registration and the cancel meet under the context's
 * lock; fn's thread is started after the cancel has released it).
 *
 * Lifetime.  Contexts are reference counted.  Each constructor returns a new
 * context with one reference owned by the caller; ctx_ref() takes another
 * (give one to each thread that keeps the context beyond the call that
 * received it), ctx_release() drops one.  A context keeps its parent alive,
 * so you may release a parent as soon as you have derived a child from it.
 * Background and TODO are static: ctx_ref/ctx_release on them do nothing.
 * Go's CancelFunc maps to ctx_cancel(), and the idiom `defer cancel()` maps
 * to ctx_cancel_release(): cancel (Go's CancelFunc: stops the timer, unlinks
 * from the parent, cancels the descendants) AND drop the creator's reference.
 * If a context is never cancelled:
 *   - if all its references are released, it is unlinked from its parent and
 *     freed (nobody can observe it any more, except through a descendant or
 *     an AfterFunc registration, which hold references to it) - except that a
 *     pending deadline timer holds a reference until it fires (Go: "leaks
 *     until the timer fires");
 *   - otherwise it stays linked into its nearest cancelable ancestor until
 *     that ancestor is cancelled, which unlinks it: nothing of it is held by
 *     the tree after that, only the references you still own (as Go: "leaks
 *     the child and its children until the parent is canceled").
 * Threads blocked on a context's Done channel must hold a reference.
 *
 * Locks (for readers of context/; the library's lock order is the table in
 * wait/lockrank.h): each cancelable context has a mutex, and no code path
 * holds two of them at once (so there is no order among them to respect,
 * and ThreadSanitizer's limit on locks held at once is never approached,
 * however deep the tree).  A cancel walks the subtree iteratively, one lock
 * at a time; concurrent cancels of overlapping subtrees help each other, and
 * each returns only when its whole subtree is done.  Timer and
 * thread-starting calls are made with no context lock held.
 *
 * Values are for request-scoped data that transits processes and APIs (trace
 * ids, authentication tokens of this request), not for passing optional
 * parameters to functions (Go's rule).  Keys compare by address: use the
 * address of a static object private to your module
 * (`static const char trace_key;` then ctx_value(ctx, &trace_key)) so that
 * modules cannot collide.  The library never dereferences keys or values.
 *
 * Misuse (a NULL context, a NULL key, a NULL function) gets EINVAL: a
 * constructor returns NULL with errno EINVAL, an int-returning call returns
 * EINVAL; nothing crashes.  Constructors may also fail with ENOMEM (and the
 * deadline forms with EAGAIN if the timer thread cannot be started).
 *
 * Thread safety.  Every function may be called from any thread on the same
 * context concurrently, except ctx_release()/ctx_after_release() of a
 * reference another call is still using.
 */
#ifndef GOCHAN_CONTEXT_H
#define GOCHAN_CONTEXT_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gochan/chan.h>
#include <gochan/select.h>

#ifdef __cplusplus
extern "C" {
#endif

/** An opaque context. */
typedef struct ctx ctx_t;
/** An opaque AfterFunc registration (Go's stop function). */
typedef struct ctx_after ctx_after_t;

/** ctx_err() of a context that was cancelled (Go's context.Canceled). */
#define CTX_CANCELED ECANCELED
/** ctx_err() of a context whose deadline passed (Go's context.DeadlineExceeded). */
#define CTX_DEADLINE_EXCEEDED ETIMEDOUT

/* ------------------------------------------------------------------------ */
/* Roots                                                                    */

/**
 * ctx_background - Go's context.Background(): never cancelled, no deadline,
 * no values; ctx_done() is NULL, ctx_err() and ctx_cause() are 0.  A static
 * object: never NULL, ctx_ref/ctx_release do nothing.  Never blocks.
 */
ctx_t *ctx_background(void);

/** ctx_todo - Go's context.TODO(): as ctx_background(), a distinct object for
 *  code that does not know yet which context to use. */
ctx_t *ctx_todo(void);

/* ------------------------------------------------------------------------ */
/* Derived contexts                                                         */

/**
 * ctx_with_cancel - Go's WithCancel(parent): a child whose Done is closed
 * when ctx_cancel() is called on it or when @parent is done, whichever is
 * first.  If @parent is already done the child is done at once, with the
 * parent's error and cause.
 *
 * Returns the child with one reference owned by the caller (end it with
 * ctx_cancel_release()), or NULL with errno EINVAL (NULL @parent) or ENOMEM.
 * The child holds a reference to @parent.  Never blocks (beyond the parent's
 * lock).
 */
ctx_t *ctx_with_cancel(ctx_t *parent);

/**
 * ctx_with_cancel_cause - Go's WithCancelCause(parent): ctx_with_cancel(),
 * meant to be cancelled with ctx_cancel_cause().  (Every cancelable context
 * accepts both ctx_cancel and ctx_cancel_cause; this name documents intent.)
 */
ctx_t *ctx_with_cancel_cause(ctx_t *parent);

/**
 * ctx_with_deadline - Go's WithDeadline(parent, d): a child that is also
 * cancelled with CTX_DEADLINE_EXCEEDED when the monotonic clock reaches
 * @deadline (a chan_now() time).
 *   - If @parent's deadline is earlier, the child behaves as
 *     ctx_with_cancel(parent) (and reports the parent's deadline).
 *   - A deadline at or before now makes a child that is done at once with
 *     CTX_DEADLINE_EXCEEDED.
 *   - CHAN_FOREVER means no deadline of its own: ctx_with_cancel(parent).
 * ctx_cancel() on it cancels with CTX_CANCELED (and stops the timer).
 * The pending timer holds a reference to the context until it fires or the
 * context is cancelled.  Returns as ctx_with_cancel, and also NULL with errno
 * EAGAIN if the timer thread could not be started.
 */
ctx_t *ctx_with_deadline(ctx_t *parent, int64_t deadline);

/**
 * ctx_with_deadline_cause - Go's WithDeadlineCause: as ctx_with_deadline, and
 * when the deadline passes the cause is (@cause, @data) instead of
 * CTX_DEADLINE_EXCEEDED.  The cause is dropped when the parent's deadline is
 * earlier (the child then behaves as ctx_with_cancel, as in Go).
 * @cause 0 means no cause.
 */
ctx_t *ctx_with_deadline_cause(ctx_t *parent, int64_t deadline, int cause, void *data);

/**
 * ctx_with_timeout - Go's WithTimeout(parent, d):
 * ctx_with_deadline(parent, chan_now() + @timeout_ns), saturating.
 * @timeout_ns <= 0 gives a context that is done at once with
 * CTX_DEADLINE_EXCEEDED (and whose deadline lies @timeout_ns before the
 * call, as in Go).
 */
ctx_t *ctx_with_timeout(ctx_t *parent, int64_t timeout_ns);

/** ctx_with_timeout_cause - Go's WithTimeoutCause: ctx_with_deadline_cause(
 *  parent, chan_now() + @timeout_ns, cause, data). */
ctx_t *ctx_with_timeout_cause(ctx_t *parent, int64_t timeout_ns, int cause, void *data);

/**
 * ctx_with_value - Go's WithValue(parent, key, val): a child whose
 * ctx_value(child, @key) is @val (even NULL: the innermost key wins); every
 * other question is answered by @parent.  Keys compare by address.  Values
 * are for request-scoped data (see the top of this file).  The library does
 * not own @key or @val.
 * Returns the child with one reference, or NULL with errno EINVAL (NULL
 * @parent or NULL @key) or ENOMEM.  Never blocks.
 */
ctx_t *ctx_with_value(ctx_t *parent, const void *key, void *val);

/**
 * ctx_without_cancel - Go's WithoutCancel(parent): a child that is never
 * cancelled when @parent is: ctx_done() NULL, ctx_err() 0, ctx_cause() 0, no
 * deadline; values pass through from @parent.
 * Returns the child with one reference, or NULL with errno EINVAL or ENOMEM.
 */
ctx_t *ctx_without_cancel(ctx_t *parent);

/* ------------------------------------------------------------------------ */
/* Cancelling and lifetime                                                  */

/**
 * ctx_cancel - Go's CancelFunc: cancel @c with CTX_CANCELED and no cause (the
 * cause reads as CTX_CANCELED), if it is not done yet: close its Done, cancel
 * its descendants, stop its timer and remove it from its parent.  Later calls
 * do nothing.  Does not wait for work running under @c to stop.
 * Returns 0 (also if @c was already done), or EINVAL if @c is NULL or a
 * context that has no cancel function of its own (Background, TODO, a value
 * or WithoutCancel context).  Never blocks beyond context locks; safe from a
 * timer callback or an AfterFunc function.
 */
int ctx_cancel(ctx_t *c);

/**
 * ctx_cancel_cause - Go's CancelCauseFunc: as ctx_cancel, recording (@cause,
 * @data) as the cause when this call is the one that cancels.  @cause 0 is
 * Go's cancel(nil): the cause then reads as CTX_CANCELED.
 */
int ctx_cancel_cause(ctx_t *c, int cause, void *data);

/**
 * ctx_cancel_release - `defer cancel()`: ctx_cancel(@c) if @c is cancelable,
 * then ctx_release(@c).  The one call to end a context you created.  NULL is
 * ignored.
 */
void ctx_cancel_release(ctx_t *c);

/** ctx_ref - take one more reference to @c and return @c (NULL is ignored).
 *  Relaxed: the caller already holds a reference. */
ctx_t *ctx_ref(ctx_t *c);

/**
 * ctx_release - drop one reference (NULL and the static roots are ignored).
 * The last one frees the context: it is unlinked from its parent (a context
 * nobody references can never be observed, so this does not cancel anything
 * that anyone can see) and drops its reference to the parent.  Does NOT
 * cancel: use ctx_cancel_release() for a context you created.  Never blocks
 * beyond context locks.  Ordering: release decrement, acquire before freeing.
 */
void ctx_release(ctx_t *c);

/**
 * CTX_SCOPED - a declaration specifier (GCC/Clang cleanup attribute) that
 * calls ctx_cancel_release() when the variable goes out of scope, as Go's
 * `defer cancel()`:
 *     CTX_SCOPED ctx_t *ctx = ctx_with_timeout(parent, GOTIME_SECOND);
 * The same statement in C++ (g++ and clang++ honour the attribute there too,
 * also when an exception unwinds the scope).
 */
#define CTX_SCOPED __attribute__((cleanup(ctx__scope_end)))

/* ------------------------------------------------------------------------ */
/* Queries (never block, never allocate except ctx_done's first call)       */

/**
 * ctx_done - Go's ctx.Done(): the channel closed when @c is done, or NULL
 * for a context that can never be done (Background, TODO, WithoutCancel and
 * values over them).  The same channel every call.  Borrowed: valid while
 * the caller holds a reference to @c; never close, send on or chan_unref it.
 * The first call on a cancelable context creates the channel (under the
 * context's lock); if that allocation fails it returns NULL with errno ENOMEM
 * (check ctx_err()/errno before treating NULL as "never done").  NULL @c:
 * NULL with errno EINVAL.
 */
chan_t *ctx_done(ctx_t *c);

/**
 * ctx_err - Go's ctx.Err(): 0 while @c is not done, then CTX_CANCELED or
 * CTX_DEADLINE_EXCEEDED forever.  EINVAL for NULL.  A non-zero result means
 * Done is already closed, and happens after the cancel that set it.  Usually
 * two acquire loads; a call that races with the cancel waits (on the
 * context's lock) until that cancel has closed Done.
 */
int ctx_err(ctx_t *c);

/**
 * ctx_cause - Go's context.Cause(c): 0 while @c is not done; the cause code
 * if the winning cancel set one; otherwise ctx_err(c).  @data, if not NULL,
 * receives the cause's pointer (NULL when there is none).  For a value
 * context, the cause of the context it wraps; for WithoutCancel, 0.
 * EINVAL for a NULL @c.  Never blocks.
 */
int ctx_cause(ctx_t *c, void **data);

/**
 * ctx_deadline - Go's ctx.Deadline(): true and *@deadline (a chan_now() time)
 * if @c has a deadline (its own or inherited), false otherwise (and for NULL).
 * @deadline may be NULL.  The same answer every call.
 */
bool ctx_deadline(ctx_t *c, int64_t *deadline);

/**
 * ctx_value - Go's ctx.Value(key): the value of the innermost
 * ctx_with_value() ancestor (or @c itself) whose key is @key (compared by
 * address), NULL if none (or NULL @c or @key).  Never blocks, no locks.
 */
void *ctx_value(ctx_t *c, const void *key);

/** ctx_strerror - Go's wording: "context canceled" for CTX_CANCELED,
 *  "context deadline exceeded" for CTX_DEADLINE_EXCEEDED, chan_strerror()'s
 *  for every other code it words, and strerror()'s for the rest (EDEADLK,
 *  EOVERFLOW, a task's own code).  Negative codes (select results) are
 *  worded as their positive. */
const char *ctx_strerror(int err);

/* ------------------------------------------------------------------------ */
/* AfterFunc                                                                */

/**
 * ctx_after_func - Go's AfterFunc(ctx, f): arrange for fn(arg) to run in a
 * thread of its own once @c is done (at once if it already is).  The thread
 * is detached and ends when fn returns (if no thread can be started, fn runs
 * on the thread that cancelled @c, after it released every context lock).
 * A registration on a context that is never done never runs.
 * The registration keeps @c alive until fn has started or it is stopped.
 * Returns a handle owned by the caller (ctx_after_release() it; releasing
 * does not stop fn), or NULL with errno EINVAL (NULL @c or @fn) or ENOMEM.
 */
ctx_after_t *ctx_after_func(ctx_t *c, void (*fn)(void *arg), void *arg);

/**
 * ctx_after_stop - Go's stop(): unregister fn.  Returns true if this call
 * prevented fn from running; false if fn has been started (in its own thread)
 * or the registration was already stopped (and for NULL).  Does not wait for
 * fn to finish.  Never blocks beyond context locks.
 */
bool ctx_after_stop(ctx_after_t *a);

/** ctx_after_release - release the handle (NULL ignored).  Does not stop fn:
 *  call ctx_after_stop() first for that. */
void ctx_after_release(ctx_after_t *a);

/* ------------------------------------------------------------------------ */
/* Channel operations that give up when the context is done                 */

/**
 * ctx_send - chan_send(@ch, @elem) that gives up when @c is done:
 *     select { case ch <- v: return nil
 *              case <-ctx.Done(): return ctx.Err() }
 * If @c is already done, returns its error without trying to send (so a
 * call under a cancelled context returns at once even if @ch is ready).
 * Honours @c's deadline even before its timer fires: a call that gives up
 * because the deadline passed expires the deadline context itself (as its
 * timer would), so ctx_err(@c) reports the same error afterwards.
 * A NULL @ch is Go's nil channel (never ready, as in a select case): the
 * call waits for @c alone and returns its error when it is done (or its
 * deadline passes).  If @c can never be done (ctx_background(), ctx_todo(),
 * ctx_without_cancel() and values over them: ctx_done() is NULL), that wait
 * could never end (Go blocks the goroutine for ever): EDEADLK at once.
 * Returns 0 (sent), EPIPE (@ch closed: not sent), CTX_CANCELED or
 * CTX_DEADLINE_EXCEEDED (not sent), EDEADLK (NULL @ch under a context that
 * is never done), EINVAL (NULL @c, a NULL @elem on a channel with elements,
 * ...), ENOMEM.  Blocks like chan_send.  Ordering as chan_send / a receive
 * of Done.  (chan_send(NULL, ...) itself still returns EINVAL: chan.h.)
 */
int ctx_send(ctx_t *c, chan_t *ch, const void *elem);

/**
 * ctx_recv - chan_recv(@ch, @elem, @ok) that gives up when @c is done, as
 * ctx_send, NULL @ch included (it waits for @c alone; EDEADLK if @c is
 * never done).  Returns 0 (check *@ok: false = @ch closed and drained),
 * CTX_CANCELED or CTX_DEADLINE_EXCEEDED (nothing received, @elem and @ok
 * untouched), EDEADLK, EINVAL (NULL @c, ...), ENOMEM.
 */
int ctx_recv(ctx_t *c, chan_t *ch, void *elem, bool *ok);

/**
 * ctx_select - chan_select(@cases, @n, forever) plus a hidden case on @c's
 * Done, with @c's deadline as the select's deadline.  Cases with a NULL
 * channel are never ready (Go's nil channel); with none but those (or @n
 * 0) it waits for @c alone, and returns -EDEADLK at once if @c can never be
 * done (where chan_select(..., CHAN_FOREVER) would block for ever).
 * Returns the index of the case that fired, or -CTX_CANCELED /
 * -CTX_DEADLINE_EXCEEDED (nothing communicated; also at once if @c is
 * already done), -EDEADLK, or -EINVAL / -ENOMEM as chan_select.  Allocates
 * once per call when @n >= CHAN_SELECT_STACK_CASES.
 */
int ctx_select(ctx_t *c, chan_case_t *cases, size_t n);

/* Implementation detail of CTX_SCOPED (C++: an inline function, which
 * compilers do not report as unused). */
#ifdef __cplusplus
inline void ctx__scope_end(ctx_t **cp)
#else
static inline void ctx__scope_end(ctx_t **cp)
#endif
{
	ctx_cancel_release(*cp);
}

#ifdef __cplusplus
}
#endif

#endif /* GOCHAN_CONTEXT_H */

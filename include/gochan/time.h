/*
 * gochan/time.h - Go's time package timers as channels (Go 1.23 semantics).
 *
 *   Go                              gochan
 *   <-time.After(d)                 c = gotime_after(d); chan_recv(c, &when, NULL); chan_unref(c)
 *   t := time.NewTimer(d)           t = gotime_timer_new(d)
 *   <-t.C                           chan_recv(gotime_timer_chan(t), &when, NULL)
 *   t.Stop()                        gotime_timer_stop(t)
 *   t.Reset(d)                      gotime_timer_reset(t, d)
 *   time.AfterFunc(d, f)            gotime_after_func(d, fn, arg)      (fn on its own thread)
 *   time.AfterFunc(d, f), Timer     gotime_after_func_detached(d, fn, arg)
 *     dropped (fire and forget)       (or gotime_timer_release() of a handle)
 *   tk := time.NewTicker(d)         tk = gotime_ticker_new(d)
 *   tk.C / tk.Stop() / tk.Reset(d)  gotime_ticker_chan / _stop / _reset
 *   time.Tick(d)                    gotime_tick(d)
 *   (garbage collection)            gotime_timer_free(t) (stops it), gotime_timer_release(t)
 *                                   (lets it fire), gotime_ticker_free(tk);
 *                                   chan_unref() of an After/Tick channel
 *
 * Durations are int64_t nanoseconds; deadlines and the values delivered are
 * chan_now() times (CLOCK_MONOTONIC nanoseconds).  A timer or ticker channel
 * carries int64_t values (elem_size 8): the chan_now() time the timer was due
 * (not the later moment it was delivered).
 *
 * Go 1.23 channel semantics:
 *   - a timer channel reports chan_len() 0 and chan_cap() 0, like an
 *     unbuffered channel, although the timer thread never blocks on it;
 *   - once gotime_timer_stop() or gotime_timer_reset() (or the ticker forms)
 *     returns, no value from the earlier setting is ever received;
 *   - Stop and Reset return true if the timer was pending, which includes a
 *     value that had already expired but had not been received yet;
 *   - a duration <= 0 fires at once (for channel timers the value is in the
 *     channel before the constructor or Reset returns);
 *   - a ticker drops ticks for a slow receiver: at most one tick waits in its
 *     channel, and the next tick is the next multiple of the period after
 *     the current time;
 *   - gotime_tick(d <= 0) is Go's nil channel (NULL: never ready in a select),
 *     gotime_ticker_new(d <= 0) fails with EINVAL;
 *   - an After or Tick timer (or a released gotime_timer_new timer, see
 *     gotime_timer_release) that nothing references any more goes away
 *     (Go 1.23 lets the garbage collector take unreferenced timers, even
 *     unstopped ones).  The C equivalent is dropping every reference to its
 *     channel with chan_unref(): the timer then stops and frees itself the
 *     next time the timer thread reaches it (a Tick at its next tick, an
 *     After when it is due), or at once in gotime_shutdown(); and making
 *     new After and Tick timers sweeps the dropped ones out in batches (as
 *     Go's runtime cleans its dead timers), so a loop that makes a
 *     gotime_after() each time round and drops it keeps a bounded number
 *     of timer objects (at most about twice the referenced ones plus 64),
 *     not one per iteration until each is due.
 *
 * Machinery.  Every timer of the process (channel timers, tickers, AfterFunc
 * and the deadlines of gochan contexts) lives in one binary min-heap guarded
 * by one mutex, served by ONE library thread.  That thread is started by the
 * first timer, sleeps until the earliest deadline, and exits once no timer
 * has been pending for GOTIME_IDLE_LINGER_NS (a short grace period so that a
 * loop creating and stopping timers does not start a thread per iteration);
 * a later timer starts it again.  Insert, Stop and Reset are O(log n) with no
 * allocation (each timer object reserves its heap slot when it is created),
 * so 100,000 pending timers cost nothing to unrelated channel operations.
 * The timer thread is detached: nothing needs joining; gotime_shutdown()
 * stops it at once where a leak checker wants a clean exit.
 *
 * Memory ordering.  A value received from a timer channel gives the usual
 * channel happens-before edge from the timer thread's send.  Everything done
 * before a call that (re)arms a timer (gotime_*_new, _reset, after_func*)
 * happens before the callback runs or the value is sent (both pass through
 * the heap mutex).
 *
 * Thread safety.  Every function may be called from any thread, including
 * from inside a timer callback, on the same timer concurrently (Stop racing
 * Reset racing delivery is well defined: the last call to return wins).
 * Only gotime_timer_free(), gotime_timer_release() and gotime_ticker_free()
 * end the handle: no other call on that handle may run concurrently with or
 * after them.
 */
#ifndef GOCHAN_TIME_H
#define GOCHAN_TIME_H

#include <stdbool.h>
#include <stdint.h>

#include <gochan/chan.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Go's time.Nanosecond ... time.Hour, as int64_t nanoseconds. */
#define GOTIME_NANOSECOND INT64_C(1)
#define GOTIME_MICROSECOND INT64_C(1000)
#define GOTIME_MILLISECOND INT64_C(1000000)
#define GOTIME_SECOND INT64_C(1000000000)
#define GOTIME_MINUTE (60 * GOTIME_SECOND)
#define GOTIME_HOUR (60 * GOTIME_MINUTE)

/** How long the idle timer thread waits for new timers before it exits. */
#define GOTIME_IDLE_LINGER_NS (5 * GOTIME_MILLISECOND)

/** A timer: a one-shot channel timer or a function timer (opaque). */
typedef struct gotime_timer gotime_timer_t;
/** A ticker (opaque). */
typedef struct gotime_ticker gotime_ticker_t;

/* ------------------------------------------------------------------------ */
/* Function timers                                                          */

/**
 * gotime_after_func_at - run fn(arg) once, on the library's timer thread,
 * when the monotonic clock reaches @deadline (a chan_now() time; a deadline
 * already passed runs fn as soon as the timer thread gets to it, never inside
 * this call).  CHAN_FOREVER means never, as everywhere else: the timer is
 * made but not armed (gotime_timer_stop returns false; gotime_timer_reset
 * arms it), and no timer thread is started for it.
 *
 * @fn must be short and must not block: it delays every other timer of the
 * process.  It may call any gochan function that does not block (chan_close,
 * chan_try_send, gotime_* except gotime_shutdown, ...).
 *
 * Returns a handle owned by the caller (end it with gotime_timer_free(),
 * which stops the timer, or gotime_timer_release(), which lets it fire;
 * either may be called at any time, even while fn runs), or NULL with errno
 * EINVAL (NULL @fn), ENOMEM, or EAGAIN (the timer thread could not be
 * started).  Never blocks beyond the heap mutex.
 */
gotime_timer_t *gotime_after_func_at(int64_t deadline, void (*fn)(void *arg), void *arg);

/**
 * gotime_after_func - Go's time.AfterFunc: run fn(arg) once, @d nanoseconds
 * from now, in a thread of its own (a new detached thread started by the
 * timer thread for this one call; it ends when fn returns, so fn may block
 * without delaying other timers).  If no thread can be started (EAGAIN from
 * pthread_create) fn runs on the timer thread instead rather than being lost.
 *
 * gotime_timer_chan() of the result is NULL, as Go's AfterFunc Timer.C is nil.
 * gotime_timer_stop() returning true means fn will not run; false means it has
 * been started (or the timer was already stopped): Stop never waits for fn.
 * gotime_timer_reset() schedules it again (once more) and returns as Stop.
 *
 * Go's `time.AfterFunc(d, f)` whose Timer is dropped still runs f: that is
 * gotime_after_func_detached() below, or gotime_timer_release() of this
 * handle (gotime_timer_free() would stop a pending timer).
 *
 * Returns a handle owned by the caller, or NULL with errno EINVAL (NULL @fn),
 * ENOMEM or EAGAIN.  Never blocks beyond the heap mutex.
 */
gotime_timer_t *gotime_after_func(int64_t d, void (*fn)(void *arg), void *arg);

/**
 * gotime_after_func_detached - Go's `time.AfterFunc(d, f)` with the Timer
 * dropped (fire and forget): gotime_after_func(d, fn, arg) followed by
 * gotime_timer_release() of the handle, in one call, so that no handle
 * exists to free and none can be misused.  fn(arg) runs exactly once, as
 * gotime_after_func's does (on a thread of its own; in a bubble, as a fiber
 * of the bubble at its virtual time), and cannot be stopped or reset; the
 * library frees the timer once it has fired.  @arg must stay valid until
 * fn runs (typically fn frees it).  Ordering, shutdown and leak checks as
 * gotime_timer_release(): the timer counts as pending until fn has started.
 *
 * Returns 0, or EINVAL (NULL @fn), ENOMEM or EAGAIN (the timer thread could
 * not be started): then fn never runs.  Never blocks beyond the heap mutex.
 */
int gotime_after_func_detached(int64_t d, void (*fn)(void *arg), void *arg);

/* ------------------------------------------------------------------------ */
/* Channel timers                                                           */

/**
 * gotime_timer_new - Go's time.NewTimer(d): a timer that sends its due time
 * (int64_t) on its channel once, @d nanoseconds from now (@d <= 0: the value
 * is in the channel before this returns).
 * Returns a handle owned by the caller (gotime_timer_free()), or NULL with
 * errno ENOMEM or EAGAIN (the timer thread could not be started).
 */
gotime_timer_t *gotime_timer_new(int64_t d);

/**
 * gotime_timer_chan - the timer's channel (Go's t.C): borrowed, valid until
 * gotime_timer_free() or gotime_timer_release(); take a chan_ref() to keep
 * it longer.  NULL for a
 * function timer or a NULL @t.  Never blocks.
 */
chan_t *gotime_timer_chan(const gotime_timer_t *t);

/**
 * gotime_timer_stop - Go's Timer.Stop.  Prevents the timer from firing.
 * Returns true if this call stopped a pending timer: it had not fired yet,
 * or (channel timers) its value had been sent but not received - that value
 * is discarded.  Returns false if it had already fired and been received (a
 * function timer: fn has started or finished) or was already stopped, and
 * for NULL.  Once it returns, no value from before the call is received from
 * the channel.  Never waits for a callback; blocks only on the heap mutex and
 * (channel timers) a delivery in progress to this timer's channel.
 */
bool gotime_timer_stop(gotime_timer_t *t);

/**
 * gotime_timer_reset - Go's Timer.Reset(d): stop the timer (as
 * gotime_timer_stop, discarding an unreceived value) and arm it to fire @d
 * nanoseconds from now.  Returns what stop would have returned: true if the
 * timer was pending.  No allocation.  If the timer thread had exited and
 * cannot be restarted (pthread_create failing), the timer stays armed and
 * fires once a later timer operation manages to start the thread.
 */
bool gotime_timer_reset(gotime_timer_t *t, int64_t d);

/**
 * gotime_timer_free - stop the timer if pending and release the caller's
 * handle.  Safe while the timer's callback runs concurrently (the timer
 * thread keeps what it needs alive, and frees it afterwards); never waits
 * for a callback.  The timer's channel goes with the handle: a thread that
 * still uses it must hold its own chan_ref().  NULL is ignored.
 */
void gotime_timer_free(gotime_timer_t *t);

/**
 * gotime_timer_release - drop the caller's handle WITHOUT stopping the timer
 * (Go: a Timer that is no longer referenced).  What follows depends on the
 * kind:
 *   - a function timer (gotime_after_func, gotime_after_func_at) still
 *     pending runs fn(arg) once, when due, exactly as if the handle were
 *     held, and the library frees the timer after fn has returned; one that
 *     has already fired, is running fn, or was stopped (or made with
 *     CHAN_FOREVER and never reset) is freed at once, or when fn returns
 *     (fn never runs again);
 *   - a channel timer (gotime_timer_new) becomes like a gotime_after
 *     timer: if the caller holds its own chan_ref() of the channel, the
 *     timer still sends its value there when due, and stops once every
 *     reference to the channel is dropped (see "an After or Tick timer that
 *     nothing references" above); if nobody holds the channel, it is an
 *     orphan and is stopped and freed by this call.
 * The handle is gone when this returns: Stop, Reset, Chan, Free or a second
 * release of it are undefined behaviour, as free() twice is (to stop or
 * reset the timer later, keep the handle and use gotime_timer_free()).
 * Safe while fn runs concurrently, and from inside fn (a function that
 * releases its own handle).
 *
 * Ordering: everything done before the call that armed the timer (its
 * creation or its last gotime_timer_reset) happens before fn runs or the
 * value is sent, as for a held timer; the release itself gives fn no edge
 * (fn may be running or done already).  The library frees the timer once
 * both this call and the firing are done with it (reference counted), so
 * neither touches freed memory; @arg is never touched by the library.
 *
 * Pending released timers count exactly as held ones: a released AfterFunc
 * keeps the timer thread alive until it has fired (and the AfterFunc thread
 * until fn has returned), so gotime_shutdown() returns EBUSY and
 * godiag_verify_none() waits meanwhile.  In a bubble (gochan/bubble.h) a
 * released timer stays the bubble's: it fires at its virtual time, in the
 * seeded order, and the bubble does not end before it has.
 *
 * Returns 0, or EINVAL for NULL.  Never blocks beyond the heap mutex and
 * (channel timers) a delivery in progress to this timer's channel.
 */
int gotime_timer_release(gotime_timer_t *t);

/**
 * gotime_after - Go's time.After(d): a channel on which the due time
 * (int64_t) is sent @d nanoseconds from now.  The caller owns one reference
 * to the channel and chan_unref()s it when done (before or after the value
 * came: either way nothing leaks); the timer keeps its own reference until
 * it is due, then frees itself.  Like Go's, it cannot be stopped (use
 * gotime_timer_new for that), but once every reference to the channel has
 * been dropped nothing is sent when it is due, and gotime_shutdown() does
 * not wait for it (Go 1.23: an unreferenced After timer is collectable).
 * Until it is due, or swept out by later gotime_after()/gotime_tick() calls
 * (see the top of this file), it counts as pending, so the timer thread
 * stays up.
 * Returns NULL with errno ENOMEM or EAGAIN on failure.
 */
chan_t *gotime_after(int64_t d);

/* ------------------------------------------------------------------------ */
/* Tickers                                                                  */

/**
 * gotime_ticker_new - Go's time.NewTicker(d): sends the due time of each tick
 * every @d nanoseconds, dropping ticks a slow receiver has not taken (the
 * channel holds at most one; the timer thread never blocks).
 * Returns a handle owned by the caller, or NULL with errno EINVAL (@d <= 0),
 * ENOMEM or EAGAIN.
 */
gotime_ticker_t *gotime_ticker_new(int64_t d);

/** gotime_ticker_chan - the ticker's channel (Go's tk.C), borrowed as
 *  gotime_timer_chan's; NULL for NULL. */
chan_t *gotime_ticker_chan(const gotime_ticker_t *tk);

/**
 * gotime_ticker_stop - Go's Ticker.Stop: no more ticks; a tick sent but not
 * received is discarded, so none is received after this returns.  NULL is
 * ignored.  Blocks as gotime_timer_stop.
 */
void gotime_ticker_stop(gotime_ticker_t *tk);

/**
 * gotime_ticker_reset - Go's Ticker.Reset(d): stop the ticker (discarding an
 * unreceived tick) and restart it with period @d; the next tick is @d from
 * now.  Returns 0, or EINVAL for NULL or @d <= 0 (nothing changes).
 */
int gotime_ticker_reset(gotime_ticker_t *tk, int64_t d);

/** gotime_ticker_free - stop the ticker and release the handle, as
 *  gotime_timer_free.  NULL is ignored. */
void gotime_ticker_free(gotime_ticker_t *tk);

/**
 * gotime_tick - Go's time.Tick(d): the channel of a ticker that has no
 * handle, so it cannot be stopped or reset.  The caller owns one reference
 * to the channel (and may give others out with chan_ref()).  The ticker runs
 * while anyone references the channel.  Go 1.23 made an unreferenced
 * Tick ticker collectable; the C equivalent is to drop every reference
 * (chan_unref()): at its next tick the timer thread finds the channel held
 * by the ticker alone, stops the ticker and frees it with its channel, and
 * the idle timer thread then exits as usual.  gotime_shutdown() does the
 * same at once for a Tick ticker nobody references (so with a long period
 * it need not wait for the next tick).
 * Returns NULL for @d <= 0 (Go's nil channel: a select case on it is never
 * ready; errno is EINVAL) and NULL with errno ENOMEM or EAGAIN on failure.
 */
chan_t *gotime_tick(int64_t d);

/* ------------------------------------------------------------------------ */
/* The timer thread                                                         */

/**
 * gotime_shutdown - stop the idle timer thread now (without its grace
 * period) and wait until it has finished, then free the heap's storage if no
 * timer object remains.  For programs and leak checkers that want no library
 * thread left at exit.
 *
 * It first stops and frees every After or Tick timer whose channel nobody
 * references any more (see gotime_tick); those never count as pending.
 * Returns 0 (also when no thread was running), EBUSY if any other timer is
 * pending or an AfterFunc thread is still running its function (nothing
 * else is stopped: stop or free those first, drop the references to After
 * and Tick channels), or EDEADLK when called from a timer callback.
 * A timer created after it returns starts the thread again.  Blocks until
 * the timer thread finishes the callbacks it is running (which are short);
 * on a fiber it parks the fiber meanwhile (gochan/fiber.h).
 * When it returns 0 the timer thread has stopped counting: godiag_threads()
 * no longer includes it (the OS thread itself ends a moment later; it runs
 * no library code but its return).
 */
int gotime_shutdown(void);

#ifdef __cplusplus
}
#endif

#endif /* GOCHAN_TIME_H */

/*
 * gochan/waitgroup.h - Go's sync.WaitGroup and the `go` statement, in C.
 *
 *   Go                                        gochan
 *   var wg sync.WaitGroup                     gowg_t *wg = gowg_new();
 *   wg.Add(n)                                 gowg_add(wg, n)
 *   wg.Done()                                 gowg_done(wg)
 *   wg.Wait()                                 gowg_wait(wg)
 *   (no Go form)                              gowg_wait_until(wg, deadline)
 *   wg.Go(func() { f(arg) })   (Go 1.25)      gowg_go(wg, f, arg)
 *   go f(arg)   (no wait)                     (none: every thread belongs to a group)
 *   (garbage collected)                       gowg_free(wg)
 *
 * A WaitGroup is a counter of outstanding work.  gowg_add() changes it,
 * gowg_done() is gowg_add(-1), and gowg_wait() blocks until it is zero.
 * gowg_go() adds one, runs fn(arg) on a new thread, and calls gowg_done()
 * when fn returns: Go 1.25's wg.Go, and the way to start a thread with
 * gochan (there is deliberately no fire-and-forget `go`: a thread nobody
 * waits for is the zombie this library exists to prevent).
 *
 * Threads.  Each gowg_go() task runs on a library thread of its own: an
 * idle one that finished an earlier task (of any group) less than 50 ms ago,
 * if there is one, else a new detached thread (pthread_create, default
 * attributes).  At most 32 threads wait idle; an idle thread exits after
 * 50 ms without work, so none is left once the program stops starting tasks.
 * (Reuse makes an empty task's go+wait about 4x cheaper than a fresh thread,
 * ~11 us against ~45 us on a loaded 2-vCPU VM; a goroutine is ~1-2 us:
 * bench/group_bench.c.)  Every such thread is counted by godiag_threads()
 * (gochan/diag.h; the leak check's report lists it as a "group" thread) for
 * its whole life, so a leak check sees it.  Because threads are reused, a task must not rely on
 * thread-local state being fresh, and what it changes about its thread
 * (signal mask, name, cancellation state, thread-local variables) may be
 * seen by later tasks: restore it before returning.  A task must return
 * (not pthread_exit()).  The thread touches nothing of the WaitGroup after
 * the task's decrement, so the WaitGroup may be freed as soon as
 * gowg_wait() returns.  A thread that cannot be started is an error
 * returned by gowg_go() (the counter is left as it was, fn never runs):
 * never a lost task.  After fork() the child starts with no idle thread.
 *
 * Counter.  The counter is at most GOWG_MAX (2^31 - 1, Go's int32).  A change
 * that would make it negative is Go's panic "sync: negative WaitGroup
 * counter": here gowg_add()/gowg_done() return EINVAL and leave the counter
 * unchanged; one beyond GOWG_MAX returns EOVERFLOW, also changing nothing.
 * As in Go, the Adds that begin a round must happen before the Wait that
 * waits for it (a Wait that sees zero returns at once).  A WaitGroup may be
 * reused once every Wait of the previous round has returned.
 *
 * Blocking.  gowg_wait() and gowg_wait_until() park the caller: on a fiber
 * (gochan/fiber.h) they park the fiber and its worker runs other fibers; on
 * a thread they sleep on a futex at once (no polling, no spinning).  They
 * are woken by the gowg_add()/gowg_done() that brings the counter to zero.
 * Neither add nor done ever blocks; a done that reaches zero wakes only if
 * someone is waiting, and makes a FUTEX_WAKE system call only for a waiting
 * thread that really sleeps.  Threads and fibers may wait on, and be woken
 * by, one WaitGroup in any mix.
 *
 * Memory ordering (Go's: "a call to Done synchronizes before the return of
 * any Wait call that it unblocks").  Everything a thread did before its
 * gowg_done() (or everything a gowg_go() task did before it returned)
 * happens before anything after the gowg_wait() that returns 0 because the
 * counter reached zero: the decrement is a release (an acq_rel
 * compare-and-swap) and the waiter's load of zero is an acquire.  Everything
 * before gowg_go() happens before fn starts (pthread_create, or the unlock
 * and lock of the pool mutex that hands the task to an idle thread).
 *
 * Errors (positive errno values, 0 = success; nothing changes on an error):
 *   EINVAL     NULL argument; a change that would make the counter negative;
 *              a call on a WaitGroup whose gowg_free() is in progress;
 *   EOVERFLOW  a change that would take the counter above GOWG_MAX;
 *   EDEADLK    gowg_wait() from inside one of this WaitGroup's own gowg_go()
 *              tasks (its own count can never reach zero: Go would deadlock);
 *   ETIMEDOUT  gowg_wait_until()'s deadline passed with the counter not zero;
 *   EBUSY      gowg_free() while the counter is not zero or a wait is in
 *              progress (nothing is freed);
 *   EAGAIN, ENOMEM  gowg_go() could not start a thread (pthread_create's error).
 *
 * Lifetime and thread safety.  gowg_new() returns a WaitGroup owned by the
 * caller; gowg_free() frees it.  Every function may be called from any thread
 * concurrently, except that no call may start after gowg_free() returned (as
 * with any freed object); calls that overlap a gowg_free() get EINVAL or make
 * it return EBUSY, whichever starts second.
 */
#ifndef GOCHAN_WAITGROUP_H
#define GOCHAN_WAITGROUP_H

#include <errno.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** An opaque WaitGroup. */
typedef struct gowg gowg_t;

/** The largest counter value (Go's WaitGroup counter is an int32). */
#define GOWG_MAX 0x7fffffffL

/**
 * gowg_new - a WaitGroup with counter zero (Go's zero sync.WaitGroup).
 * Returns it, owned by the caller, or NULL with errno ENOMEM.  Never blocks.
 */
gowg_t *gowg_new(void);

/**
 * gowg_add - Go's wg.Add(delta): add @delta (which may be negative) to the
 * counter.  If the counter becomes zero, every thread blocked in
 * gowg_wait() on @wg is released.
 * Returns 0, EINVAL (NULL @wg, or the counter would become negative:
 * unchanged), EOVERFLOW (above GOWG_MAX: unchanged).  Never blocks.
 * Ordering: a release (and acquire) read-modify-write of the counter.
 */
int gowg_add(gowg_t *wg, long delta);

/** gowg_done - Go's wg.Done(): gowg_add(@wg, -1).  EINVAL if the counter is 0. */
int gowg_done(gowg_t *wg);

/**
 * gowg_wait - Go's wg.Wait(): block until the counter is zero (at once if it
 * is).  Returns 0, EINVAL (NULL, or freeing in progress), or EDEADLK (called
 * from one of @wg's own gowg_go() tasks).  Blocks (parks a fiber, see
 * "Blocking") without limit: use gowg_wait_until() for a deadline.
 * Ordering: see the top of the file.
 */
int gowg_wait(gowg_t *wg);

/**
 * gowg_wait_until - gowg_wait() that gives up with ETIMEDOUT once the
 * monotonic clock passes @deadline (a chan_now() time; CHAN_FOREVER: no
 * limit; a deadline already passed checks once without blocking).  Giving up
 * changes nothing: the work goes on and may be waited for again.
 */
int gowg_wait_until(gowg_t *wg, int64_t deadline);

/**
 * gowg_go - Go 1.25's wg.Go(f): gowg_add(@wg, 1), then run fn(arg) on a new
 * thread, which calls gowg_done(@wg) when fn returns.  Returns once the
 * thread is started (it never waits for fn).  @arg is passed through: the
 * library never reads or frees it.
 * Returns 0, EINVAL (NULL @wg or @fn, freeing in progress), EOVERFLOW (the
 * counter is at GOWG_MAX), or the error of pthread_create (EAGAIN: no
 * thread could be started; the counter is then back where it was and fn is
 * never called).  Never blocks (beyond starting a thread).
 */
int gowg_go(gowg_t *wg, void (*fn)(void *arg), void *arg);

/**
 * gowg_free - free @wg.  Returns 0 (freed), EINVAL for NULL (or a second
 * gowg_free() already in progress), or EBUSY (nothing freed) if the counter
 * is not zero (tasks still run: wait for them first) or another thread is
 * inside gowg_wait()/gowg_go() on @wg.  After gowg_wait() returned 0 and no
 * Add followed, gowg_free() succeeds even if the last task's thread has not
 * exited yet (it no longer touches @wg).
 */
int gowg_free(gowg_t *wg);

#ifdef __cplusplus
}
#endif

#endif /* GOCHAN_WAITGROUP_H */

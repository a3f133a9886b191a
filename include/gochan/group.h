/*
 * gochan/group.h - golang.org/x/sync/errgroup in C: a group of tasks, each
 * on its own thread, that returns the first error and cancels a context.
 *
 *   Go                                        gochan
 *   var g errgroup.Group                      gogroup_t *g = gogroup_new();
 *   g, ctx := errgroup.WithContext(parent)    g = gogroup_with_context(parent, &ctx);
 *   g.SetLimit(n)                             gogroup_set_limit(g, n)
 *   g.Go(func() error { return f(arg) })      gogroup_go(g, f, arg)
 *   select { case sem <- token{}: g.Go(...)   gogroup_go_ctx(g, ctx, f, arg)
 *            case <-ctx.Done(): }
 *   (no Go form)                              gogroup_go_until(g, deadline, f, arg)
 *   ok := g.TryGo(func() error {...})         gogroup_try_go(g, f, arg) == 0
 *   err := g.Wait()                           err = gogroup_wait(g)
 *   (no Go form)                              gogroup_wait_until(g, deadline, &err)
 *   (garbage collected)                       gogroup_free(g)   (+ ctx_release(ctx))
 *
 * Typical use, as in Go:
 *
 *   ctx_t *ctx;
 *   gogroup_t *g = gogroup_with_context(parent, &ctx);
 *   if (!g) return errno;
 *   gogroup_set_limit(g, 8);
 *   for (int i = 0; i < n; i++)
 *           if ((err = gogroup_go_ctx(g, ctx, fetch, &jobs[i])) != 0)
 *                   break;           // ctx done (a task failed), or no thread
 *   int first = gogroup_wait(g);     // every task has returned
 *   gogroup_free(g);
 *   ctx_release(ctx);
 *
 * Tasks.  A task is int fn(void *arg): it returns 0 for success or a non-zero
 * error code of the application's choosing (an errno value, say).  Each task
 * runs on a library thread of its own, taken from the same pool of idle
 * threads as gowg_go() (gochan/waitgroup.h, "Threads": reused for 50 ms,
 * at most 32 idle, counted by godiag_threads(), a task must leave its
 * thread as it found it and must return, not pthread_exit()).  The thread
 * touches nothing of the group after the task has returned and released the
 * group, so the group may be freed once gogroup_wait() returned.  @arg is
 * passed through: the library never reads or frees it.
 *
 * First error.  The first task to return non-zero records its code; Wait
 * returns it (0 if every task succeeded); later errors are dropped (Go's
 * errOnce).  For a group made by gogroup_with_context(), that first error
 * also cancels the group's context at once, with the code as its cause
 * (ctx_cause(ctx) == the code, ctx_err(ctx) == CTX_CANCELED), and
 * gogroup_wait() cancels it when it returns (cause: the first error, or
 * CTX_CANCELED if there was none), exactly like Go's errgroup.
 *
 * Limit.  gogroup_set_limit(g, n) bounds the tasks running at once to @n
 * (n < 0: no limit, the default).  At the limit gogroup_go() blocks until a
 * task returns, gogroup_go_ctx() gives up when its context is done,
 * gogroup_go_until() at a deadline, and gogroup_try_go() returns EAGAIN.
 * The slots are a gochan channel of capacity @n (Go's `sem chan token`), so
 * blocked starters are served first come, first served, and park as a
 * channel send does (a fiber parks, a thread sleeps on a futex).
 * With a limit of 0 no task can ever start: gogroup_go() returns EDEADLK at
 * once (Go would block forever), the other forms wait for their context or
 * deadline, or return EAGAIN.  Changing the limit while any task runs or any
 * start is in progress is EBUSY (Go panics: "modify limit while goroutines
 * in the group are still active").
 *
 * No task outlives its group.  gogroup_wait() returns only after every task
 * started before it (and every gogroup_go*() call in progress when it began,
 * blocked or not) has returned.  A thread that cannot be started makes the
 * start call return pthread_create's error (EAGAIN) with the group unchanged:
 * fn never runs, nothing is counted, the slot is given back.
 *
 * Memory ordering.  Everything a task did before returning happens before
 * anything after the gogroup_wait() that returns (a WaitGroup's release and
 * acquire, gochan/waitgroup.h), and the first error's cancel happens before
 * anything that observes the context done (gochan/context.h).  Everything
 * before a successful gogroup_go*() happens before its task starts.
 *
 * Errors of the group's own calls (positive errno values, 0 = success):
 *   EINVAL     NULL argument, or a call on a group whose gogroup_free() is in
 *              progress;
 *   EAGAIN     gogroup_try_go() at the limit; or no thread could be started;
 *   EDEADLK    gogroup_go() under a limit of 0; gogroup_wait() from inside one
 *              of the group's own tasks (it would wait for itself);
 *   EBUSY      gogroup_set_limit() or gogroup_free() while tasks are active;
 *   CTX_CANCELED, CTX_DEADLINE_EXCEEDED  gogroup_go_ctx()'s context is done;
 *   ETIMEDOUT  gogroup_go_until()/gogroup_wait_until() deadline passed;
 *   ENOMEM     allocation failed.
 * gogroup_wait() returns a task's error code, so its own EINVAL/EDEADLK can
 * be told apart from a task's only with gogroup_wait_until(), which reports
 * the tasks' error through an out-parameter.
 *
 * Lifetime and thread safety.  gogroup_new()/gogroup_with_context() return a
 * group owned by the caller; gogroup_free() frees it (and drops the group's
 * own reference to its context).  Every function may be called concurrently
 * from any thread, tasks included (a task may start more tasks in its own
 * group), except that no call may start after gogroup_free() returned.
 */
#ifndef GOCHAN_GROUP_H
#define GOCHAN_GROUP_H

#include <errno.h>
#include <stdint.h>

#include <gochan/context.h>

#ifdef __cplusplus
extern "C" {
#endif

/** An opaque task group. */
typedef struct gogroup gogroup_t;

/**
 * gogroup_new - Go's zero errgroup.Group: no context, no limit.
 * Returns the group, owned by the caller, or NULL with errno ENOMEM.
 */
gogroup_t *gogroup_new(void);

/**
 * gogroup_with_context - Go's errgroup.WithContext(parent): a group and a
 * new context derived from @parent (ctx_with_cancel_cause) that is cancelled
 * by the first task error (cause: the error code) or when gogroup_wait()
 * returns, whichever comes first.  *@ctx_out receives the context with one
 * reference owned by the caller (release it with ctx_release() when done;
 * the group holds its own reference until gogroup_free()).
 * Returns the group, or NULL with errno EINVAL (NULL @parent or @ctx_out)
 * or ENOMEM; *@ctx_out is then untouched.  Never blocks.
 */
gogroup_t *gogroup_with_context(ctx_t *parent, ctx_t **ctx_out);

/**
 * gogroup_set_limit - Go's g.SetLimit(n): at most @n tasks of @g run at once
 * (@n < 0: no limit).  Returns 0, EINVAL (NULL), EBUSY (a task is active or a
 * start is in progress: the limit is unchanged), ENOMEM.  Never blocks.
 */
int gogroup_set_limit(gogroup_t *g, int n);

/**
 * gogroup_go - Go's g.Go(f): run fn(arg) on a new thread of @g, first
 * waiting, if @g is at its limit, until a task returns.  Returns 0 once the
 * task's thread is started (never waits for fn), or EINVAL (NULL @g or @fn),
 * EDEADLK (limit 0), ENOMEM, EAGAIN (no thread could be started: fn never
 * runs).  Blocks only at the limit, without a deadline: use gogroup_go_ctx()
 * or gogroup_go_until() where the caller must be able to give up.
 */
int gogroup_go(gogroup_t *g, int (*fn)(void *arg), void *arg);

/**
 * gogroup_go_ctx - gogroup_go() that gives up if @ctx is done before a slot
 * is free: returns ctx_err(@ctx) (CTX_CANCELED or CTX_DEADLINE_EXCEEDED) and
 * fn never runs.  If @ctx is already done it returns its error at once, even
 * with a slot free.  @ctx may be the group's own context or any other.
 * Other returns as gogroup_go() (EINVAL also for a NULL @ctx).
 */
int gogroup_go_ctx(gogroup_t *g, ctx_t *ctx, int (*fn)(void *arg), void *arg);

/**
 * gogroup_go_until - gogroup_go() that gives up with ETIMEDOUT once the
 * monotonic clock passes @deadline (chan_now() time; CHAN_FOREVER: no limit)
 * before a slot is free.
 */
int gogroup_go_until(gogroup_t *g, int64_t deadline, int (*fn)(void *arg), void *arg);

/**
 * gogroup_try_go - Go's g.TryGo(f): start fn(arg) only if @g is below its
 * limit.  Returns 0 (started), EAGAIN (at the limit, or no thread could be
 * started: fn never runs), EINVAL, ENOMEM.  Never blocks.
 */
int gogroup_try_go(gogroup_t *g, int (*fn)(void *arg), void *arg);

/**
 * gogroup_wait - Go's g.Wait(): block until every task of @g has returned
 * (see "No task outlives its group"), cancel the group's context if it has
 * one, and return the first non-zero code a task returned, or 0.  Returns
 * EINVAL (NULL, freeing in progress) or EDEADLK (called from one of @g's own
 * tasks) without waiting.  Blocks without limit, as gowg_wait() (on a fiber
 * it parks the fiber, on a thread it sleeps on a futex): the tasks are
 * expected to watch the group's context; gogroup_wait_until() has a deadline.
 * May be called more than once, and from several threads.
 */
int gogroup_wait(gogroup_t *g);

/**
 * gogroup_wait_until - gogroup_wait() with a deadline, and with the tasks'
 * outcome apart from the call's: returns 0 when every task has returned
 * (*@first_err, if not NULL, receives the first task error or 0, and the
 * group's context is cancelled as by gogroup_wait()), ETIMEDOUT when
 * @deadline passed first (nothing changes; tasks go on running), EINVAL or
 * EDEADLK as gogroup_wait().
 */
int gogroup_wait_until(gogroup_t *g, int64_t deadline, int *first_err);

/**
 * gogroup_free - free @g and drop its reference to its context.  Returns 0,
 * EINVAL (NULL, or a gogroup_free() already in progress), or EBUSY (a task is
 * active, a start is in progress or a thread is in gogroup_wait(): nothing is
 * freed; gogroup_wait() first).  Never blocks.
 */
int gogroup_free(gogroup_t *g);

#ifdef __cplusplus
}
#endif

#endif /* GOCHAN_GROUP_H */

/*
 * wait/lockrank.h - THE lock order of the whole library, in one table.
 * Every file that nests locks, or relies on never nesting them, points here
 * instead of stating its own version.  Not installed; not for users.
 *
 * A thread may only take a lock of a HIGHER rank than every lock it already
 * holds (Go's runtime/lockrank.go idea: a static partial order; any cycle is
 * then impossible).  Locks of one rank are never nested, except where the
 * row says how (select's channel locks).
 *
 *  rank  lock                       file               held while taking
 *  ----  -------------------------  -----------------  ----------------------
 *   10   context node mu (ctx->mu)  context/context.c  (nothing: never two ctx
 *                                                      locks at once)
 *   15   context AfterFunc service  context/context.c  (nothing)
 *        lock (ctx_after_mu)
 *   20   timer t->send_mu           timer/timer.c      (nothing)
 *   30   timer state g->mu          timer/thread.c     t->send_mu
 *   35   timer AfterFunc service    timer/func.c       g->mu (gotime_shutdown
 *        lock (afterfunc_mu)                           waits for AfterFunc
 *                                                      threads under both)
 *   38   poller lock (g.mu)         poll/poller.c      (nothing: taken by the
 *                                                      poller thread, by
 *                                                      watches and by the
 *                                                      hangup hook, which a
 *                                                      cancel runs with no
 *                                                      context lock held)
 *   40   channel lock (c->lock)     wait/lock.h        ctx->mu (chan_close of
 *        (also fiber/group.c's                         Done), t->send_mu
 *        group lock, a leaf)                           (delivery, clearing),
 *                                                      g.mu (the poller closes
 *                                                      a fired watch's
 *                                                      channel), and, in
 *                                                      select only, channel
 *                                                      locks of LOWER address
 *                                                      (each channel once,
 *                                                      increasing order)
 *   45   diag signal mutex (sig_mu) diag/signal.c      (nothing; held while
 *                                                      joining the dump thread,
 *                                                      which takes 47, 50, 60
 *                                                      and 70 but never sig_mu)
 *   47   dump thread's service lock diag/signal.c      sig_mu
 *        (dump_mu)
 *   50   blocked-op record mutex    wait/record.c      (nothing)
 *   55   group pool lock (pool.mu)  group/spawn.c      (nothing)
 *   57   fiber worker service lock  fiber/sched.c      (nothing)
 *        (W.life)
 *   58   word waiter list bucket    wait/word.c        any of the above (a
 *        locks (a leaf)                                wake is made under a
 *                                                      service's lock,
 *                                                      service/service.c, or
 *                                                      afterfunc_mu,
 *                                                      timer/func.c)
 *   60   thread counter mutex       service/threads.c  every service thread's
 *                                                      lock (15, 30, 35, 38,
 *                                                      47, 55, 57): a service
 *                                                      thread starts and
 *                                                      leaves under its lock,
 *                                                      and the leaving one
 *                                                      releases it while
 *                                                      holding 60
 *                                                      (gosvc__thread_exit_unlock)
 *   70   diag dump counter mutex    diag/signal.c      (nothing)
 *        (count_mu)
 *   75   errgroup mu (g->mu)        group/errgroup.c   (nothing; a leaf: only
 *                                                      reads or swaps the
 *                                                      limit's channel pointer
 *                                                      and reads the counter)
 *   77   fiber stack cache lock     fiber/stack.c      57 (an idle worker
 *        (cache_lock)                                  empties the idle
 *                                                      slots' caches into
 *                                                      it, fiber/sched.c);
 *                                                      a leaf: the cache
 *                                                      and the guard budget
 *   80   futex fallback buckets     wait/futex.c       any of the above (a
 *                                                      contended lock sleeps
 *                                                      on its word); only
 *                                                      inside gowait__futex_*,
 *                                                      portable builds only
 *
 * Rules that go with the table:
 *  - No channel code blocks, calls out or takes another lock while holding a
 *    channel lock, except select's address-ordered nesting.  Parkers are
 *    completed (owners woken) after unlocking.
 *  - g->mu is held around pthread_create and realloc only: no callback,
 *    channel operation or timer destruction runs under it.
 *  - No timer call and no thread start is made with a context mu held (the
 *    cancel walk defers them), so ctx->mu never precedes g->mu or
 *    t->send_mu.  Timer callbacks run with no lock held.
 *  - A thread parked in a gochan operation holds no lock of this table.
 *  - The blocked-operation record's dumper and a parked thread also
 *    hand-shake through two words (wait/record.c); the dumper never waits
 *    for the thread there, only the thread for the dumper, so it adds no
 *    cycle.
 *
 * Checked, not only stated: with -DGOCHAN_DEBUG each thread keeps a stack of
 * the ranks it holds (wait/debug.h, as Go's lockrank_on.go) and aborts on a
 * lock taken out of this order, a second channel lock of lower address, a
 * park with a lock held, or a condition wait whose mutex is not the highest
 * lock held (retaking it after the wait would be out of order).  Every lock
 * of the table is tracked: the channel lock through wait/lock.h, each
 * pthread mutex through gowait__mutex_lock/unlock with its enum value below,
 * a service's lock through the rank stored in its struct gosvc
 * (service/service.h), and the condition waits through
 * gowait__cond_wait_until (wait/cond.h).  The one exception is on purpose:
 * the fork handlers (wait/record.c, group/spawn.c) lock and unlock their
 * mutex directly, because in the child the lock is re-initialised and has
 * no matching release.  Their order is not the table's either: prepare
 * handlers run in reverse order of registration, so a fork after the first
 * group task takes pool.mu (55) and then the record mutex (50).  No cycle
 * can come of it, since no thread takes anything while holding the record
 * mutex.
 */
#ifndef GOCHAN_WAIT_LOCKRANK_H
#define GOCHAN_WAIT_LOCKRANK_H

enum gowait_lockrank {
	GOWAIT_LOCKRANK_CTX = 10,
	GOWAIT_LOCKRANK_CTX_AFTER = 15,
	GOWAIT_LOCKRANK_TIMER_SEND = 20,
	GOWAIT_LOCKRANK_TIMER_STATE = 30,
	GOWAIT_LOCKRANK_TIMER_AFTERFUNC = 35,
	GOWAIT_LOCKRANK_POLL = 38,
	GOWAIT_LOCKRANK_CHAN = 40,
	GOWAIT_LOCKRANK_DIAG_SIGNAL = 45,
	GOWAIT_LOCKRANK_DIAG_DUMP_THREAD = 47,
	GOWAIT_LOCKRANK_DIAG_REGISTRY = 50,
	GOWAIT_LOCKRANK_GROUP_POOL = 55,
	GOWAIT_LOCKRANK_FIBER_LIFE = 57,
	GOWAIT_LOCKRANK_WORD = 58,
	GOWAIT_LOCKRANK_DIAG_THREADS = 60,
	GOWAIT_LOCKRANK_DIAG_DUMPS = 70,
	GOWAIT_LOCKRANK_ERRGROUP = 75,
	GOWAIT_LOCKRANK_FIBER_STACKS = 77,
	GOWAIT_LOCKRANK_FUTEX_BUCKET = 80,
};

#endif

/*
 * service/service.h - THE way the library runs a thread of its own (a
 * "service thread"): the timer thread (timer/thread.c), AfterFunc threads
 * (timer/func.c, context/context.c), the poller (poll/poller.c), the pooled
 * group threads (group/spawn.c), godiag_signal's dump thread
 * (diag/signal.c) and the fiber worker (fiber/sched.c).  Not installed; not
 * for users.
 *
 * A service (struct gosvc) is a set of threads of one diagnostics kind
 * (service/threads.h) that serve one module, guarded by ONE lock, the module's
 * own state lock (*mu), so that "is there work?" and "is a thread there to
 * do it?" are decided together.  The mechanism owns the four rules every
 * such thread must keep:
 *
 *   1. Started lazily: by the first piece of work that finds no thread
 *      (gosvc__start_locked / gosvc__ensure_locked / gosvc__start), never
 *      at load time.
 *   2. Exits when idle after a stated linger (.linger_ns, given where the
 *      service is defined): a thread with no work asks
 *      gosvc__idle_expired_locked() and leaves once it has been idle that
 *      long, or at once when a shutdown asks.  GOSVC_LINGER_FOREVER: it
 *      never idles out (the dump thread, which serves a signal handler until
 *      godiag_signal(0)).
 *   3. Counted (s->live and gosvc__threads_alive) from BEFORE its
 *      pthread_create to AFTER its last access to library state.  The last
 *      call of every service thread is gosvc__leave[_locked](), and it
 *      returns at once after it: inside, the thread drops s->live under *mu,
 *      then takes the diagnostics counter's mutex, releases *mu and
 *      decrements the count (gosvc__thread_exit_unlock).  The release of
 *      the counter's mutex is the thread's last access to library state;
 *      after it the thread only returns (glibc's thread exit runs no
 *      library code).
 *   4. Shutdown returns only once the threads are gone: gosvc__shutdown
 *      asks them to stop, waits under *mu until s->live is 0, then passes
 *      through the counter's mutex (gosvc__threads_sync).  A thread that
 *      left released *mu while holding that mutex, so the shutdown gets it
 *      only after the thread's decrement and release: when it returns,
 *      godiag_threads() no longer counts the threads and each is past its
 *      last access.  A joinable service (.joinable, for a service that
 *      never idles out) is also joined.
 *
 * Why the count drops under the counter's own mutex and not under *mu (as
 * timer/thread.c did before, issue 15): then a godiag_verify_none() that saw
 * the count reach 0 could still race with the thread's unlock of *mu; now
 * both observers, the module's shutdown and the leak check, synchronise with
 * the same final release.
 *
 * Lock order (wait/lockrank.h): *mu is a module lock taken before the
 * diagnostics thread-counter mutex (rank 60); the mechanism takes no other
 * lock.  pthread_create runs under *mu in gosvc__start_locked (the timer
 * and poller singletons decide "running" under their lock) and without it
 * in gosvc__start (pooled and one-shot threads, where a create under the
 * lock would hold up hand-offs).
 *
 * The rank of *mu travels with it (.rank, given where the service is
 * defined): the mechanism takes, releases and waits on *mu only through
 * gowait__mutex_lock/unlock and gowait__cond_wait_until with that rank, and
 * hands it to gosvc__thread_exit_unlock, so a debug build tracks the
 * module's lock across the mechanism too, the hand-off to the counter's
 * mutex included.  The module takes *mu the same way (gowait__mutex_lock
 * with the same rank) wherever it takes it itself; the *_locked calls
 * assert that the caller holds it (GOWAIT_ASSERT_HELD).
 *
 * Why its own folder and prefix: it is a layer of its own, above the wait
 * layer (wait/cond.h, wait/clock.h) and the thread count (service/threads.h),
 * below timer, context, poll, group and the dump; diag/ is above chan and
 * the modules using it are not each other's business.
 */
#ifndef GOCHAN_SERVICE_SERVICE_H
#define GOCHAN_SERVICE_SERVICE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "service/threads.h"
#include "wait/lockrank.h"

/* .linger_ns of a service whose threads never idle out. */
#define GOSVC_LINGER_FOREVER INT64_MAX
/* A thread's idle clock while it has work (gosvc__idle_expired_locked). */
#define GOSVC_BUSY INT64_MIN

struct gosvc {
	/* Fixed where the service is defined (GOSVC_INIT). */
	pthread_mutex_t *mu;          /* the module's lock: guards the fields below */
	enum gowait_lockrank rank;    /* *mu's rank (wait/lockrank.h) */
	enum godiag_thread_kind kind; /* how service/threads.h counts its threads */
	bool joinable;                /* one thread at a time, joined by gosvc__shutdown */
	bool fiber_waits;             /* its shutdown and wait_gone park a fiber
					 (GOSVC_INIT_FIBER_WAITS) */
	/* Under *mu. */
	int64_t linger_ns;   /* idle time before a thread exits (<= 0: at once) */
	unsigned live;       /* threads counted (rule 3) */
	bool stop;           /* a shutdown asks idle threads to exit now */
	bool cv_ready;       /* gone is initialised */
	bool unjoined;       /* joinable: tid names a thread not yet joined */
	pthread_cond_t gone; /* broadcast when a thread leaves or a stop is cancelled */
	pthread_t tid;       /* joinable: the thread */
	uint64_t started;    /* threads started since the process began */
	/* Bumped (under *mu) with every broadcast of gone, for the waits made
	 * on a fiber of a fiber_waits service: they park on it through
	 * wait/word.h instead of blocking the fiber's worker in the condition
	 * wait (service.c, gone_wait_locked). */
	_Atomic uint32_t gone_seq;
};

#define GOSVC_INIT(mu_, rank_, kind_, linger_ns_, joinable_)                            \
	{                                                                               \
		.mu = (mu_), .rank = (rank_), .kind = (kind_), .joinable = (joinable_), \
		.linger_ns = (linger_ns_)                                               \
	}

/*
 * GOSVC_INIT_FIBER_WAITS - GOSVC_INIT for a service whose gosvc__shutdown
 * and gosvc__wait_gone are only ever called with no lock held but *mu
 * (timer, poller, group pool): called on a fiber, they park the fiber (its
 * worker runs other fibers) with *mu released.  A service whose shutdown
 * runs under another lock (the dump thread's, under sig_mu) must not opt
 * in: the fiber would park holding that lock.
 */
#define GOSVC_INIT_FIBER_WAITS(mu_, rank_, kind_, linger_ns_, joinable_)                \
	{                                                                               \
		.mu = (mu_), .rank = (rank_), .kind = (kind_), .joinable = (joinable_), \
		.fiber_waits = true, .linger_ns = (linger_ns_)                          \
	}

/*
 * gosvc__start_locked - with *s->mu held, start one more thread of @s that
 * runs main(@arg) (detached, unless s->joinable).  Counted before the
 * create.  0, or pthread_create's error (no thread: nothing changed).
 */
int gosvc__start_locked(struct gosvc *s, void *(*main)(void *), void *arg);

/* gosvc__ensure_locked - gosvc__start_locked() unless a thread of @s is
 * live: the lazy start of a single-thread service. */
int gosvc__ensure_locked(struct gosvc *s, void *(*main)(void *), void *arg);

/* gosvc__start - gosvc__start_locked() taking *s->mu itself, only around
 * the counting (the create runs without it).  0 or pthread_create's error. */
int gosvc__start(struct gosvc *s, void *(*main)(void *), void *arg);

/* gosvc__enter - the first call of every thread of @s (before it takes any
 * lock): records which service the thread serves (gosvc__on_thread). */
void gosvc__enter(struct gosvc *s);

/* gosvc__on_thread - whether the caller is a thread of @s (a shutdown
 * called there would wait for itself). */
bool gosvc__on_thread(const struct gosvc *s);

/*
 * gosvc__idle_expired_locked - with *s->mu held, on a thread of @s that has
 * no work: whether it must exit now (a shutdown asked, or it has been idle
 * for s->linger_ns).  *@idle_since is the thread's idle clock: GOSVC_BUSY
 * while it has work (the caller sets it back whenever it gets work), set to
 * now on the first call.  When it returns false, *@wake is the chan_now()
 * time at which to ask again (CHAN_FOREVER: only when woken); s->linger_ns
 * is re-read every call, so a changed linger applies to idle threads.
 */
bool gosvc__idle_expired_locked(struct gosvc *s, int64_t *idle_since, int64_t *wake);

/* gosvc__stop_requested - whether a shutdown asks the threads of @s to exit
 * (takes *s->mu; for a thread that sleeps outside it). */
bool gosvc__stop_requested(struct gosvc *s);

/* gosvc__cancel_stop_locked - new work arrived (*s->mu held): a shutdown
 * in progress must recheck (it returns EBUSY) and the threads keep serving. */
void gosvc__cancel_stop_locked(struct gosvc *s);

/*
 * gosvc__leave_locked - the LAST call of a thread of @s, with *s->mu held:
 * uncount it (rule 3) and release *s->mu.  The thread must return at once
 * after it, touching nothing of the library.
 */
void gosvc__leave_locked(struct gosvc *s);

/* gosvc__leave - gosvc__leave_locked() taking *s->mu first. */
void gosvc__leave(struct gosvc *s);

/*
 * gosvc__shutdown_locked - with *s->mu held (released while waiting, held
 * again on return): ask every thread of @s to exit and wait until all are
 * gone (rule 4).  Each round it calls @busy (may be NULL; under *s->mu;
 * it may release and retake *s->mu, and returns 0 or an error that ends the
 * shutdown, EBUSY when the service has work) and, before waiting, @wake
 * (may be NULL; under *s->mu: make sleeping threads look at s->stop).
 * Returns 0, the error of @busy, or EDEADLK on a thread of @s.  Does not
 * join (gosvc__shutdown does).
 */
int gosvc__shutdown_locked(struct gosvc *s, int (*busy)(void), void (*wake)(void));

/* gosvc__shutdown - gosvc__shutdown_locked() taking *s->mu, and joining
 * the thread of a joinable service once it is gone. */
int gosvc__shutdown(struct gosvc *s, int (*busy)(void), void (*wake)(void));

/*
 * gosvc__wait_gone - block until no thread of @s is live (each past its
 * last access, rule 4), or until @deadline (chan_now() time; CHAN_FOREVER:
 * none).  0 or ETIMEDOUT.  Only waits: asks nothing to stop.
 */
int gosvc__wait_gone(struct gosvc *s, int64_t deadline);

/*
 * gosvc__sync - every thread of @s that has begun gosvc__leave[_locked]
 * before this call (ordered by *s->mu: e.g. it made a change under *s->mu
 * that the caller observed) is past its last access and uncounted when it
 * returns.
 */
void gosvc__sync(struct gosvc *s);

/* gosvc__set_linger_locked - with *s->mu held: set s->linger_ns (a test's
 * hook; the caller wakes idle threads so that they re-read it).  Returns
 * the old value. */
int64_t gosvc__set_linger_locked(struct gosvc *s, int64_t ns);

/* Statistics for tests (take *s->mu): threads live now; started so far. */
unsigned gosvc__live(struct gosvc *s);
uint64_t gosvc__started(struct gosvc *s);

/*
 * gosvc__forget_locked - in a fork() child (*s->mu held or re-initialised
 * by the caller): the child has none of the parent's threads.  The
 * diagnostics count is not touched (its mutex may have been held by a
 * parent thread at the fork).
 */
void gosvc__forget_locked(struct gosvc *s);

#endif

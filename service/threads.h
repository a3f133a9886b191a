/*
 * service/threads.h - accounting of the threads the library itself starts
 * (timer, AfterFunc, poller, thread-group workers, the dump thread, the
 * fiber worker), so that the leak check (godiag_verify_none) can wait for
 * every one of them to be gone.
 * Not installed; not for users.
 *
 * The rule, kept by service/service.c (the only caller of the start and exit
 * calls: every library thread is a service thread): gosvc__thread_start()
 * before pthread_create (undo with gosvc__thread_exit() if the create
 * fails), and gosvc__thread_exit() as the last thing the thread does that
 * touches library state.  A thread counts as alive from the first call to
 * the second, so the count never reads 0 while one is about to start.
 *
 * A service thread's last call, gosvc__thread_exit_unlock(), drops the
 * count as its last access, and a shutdown synchronises with it through
 * gosvc__threads_sync() (service/service.h, rules 3 and 4).
 */
#ifndef GOCHAN_SERVICE_THREADS_H
#define GOCHAN_SERVICE_THREADS_H

#include <pthread.h>
#include <stdint.h>

#include "wait/lockrank.h"

enum godiag_thread_kind {
	GODIAG_THREAD_TIMER,
	GODIAG_THREAD_AFTERFUNC,
	GODIAG_THREAD_POLLER,
	GODIAG_THREAD_GROUP,
	GODIAG_THREAD_DIAG,  /* godiag_signal's dump thread */
	GODIAG_THREAD_FIBER, /* the fiber runtime's worker (fiber/sched.c) */
	GODIAG_THREAD_KINDS
};

/* One more library thread of kind @k is alive (relaxed counter; the
 * creating thread's later pthread_create orders it before the thread runs). */
void gosvc__thread_start(enum godiag_thread_kind k);

/* A library thread of kind @k is done with library state.  Release: what it
 * did happens before a gosvc__threads_wait() that sees the count drop. */
void gosvc__thread_exit(enum godiag_thread_kind k);

/*
 * gosvc__thread_exit_unlock - gosvc__thread_exit(@k) for a thread that
 * holds @mu (of rank @rank, wait/lockrank.h, taken with gowait__mutex_lock):
 * takes the counter's mutex, releases @mu, drops the count, and releases
 * the counter's mutex, which is the caller's last access to library state.
 * Whoever acquires @mu after this call and then calls gosvc__threads_sync()
 * sees the count dropped and the thread past it.
 */
void gosvc__thread_exit_unlock(enum godiag_thread_kind k, pthread_mutex_t *mu,
			       enum gowait_lockrank rank);

/* gosvc__threads_sync - pass through the counter's mutex: every
 * gosvc__thread_exit_unlock() whose release of its @mu the caller has
 * observed (by acquiring that mutex) is complete when it returns. */
void gosvc__threads_sync(void);

/* The name of kind @k ("timer", "afterfunc", "poller", "group", "diag", "fiber"). */
const char *gosvc__thread_kind_name(enum godiag_thread_kind k);

/* Library threads of kind @k alive now (GODIAG_THREAD_KINDS: all kinds). */
unsigned gosvc__threads_alive(enum godiag_thread_kind k);

/* Block until no library thread of any kind is alive, or @deadline
 * (chan_now() time; CHAN_FOREVER: none).  0 or ETIMEDOUT.  Sleeps on a
 * condition variable the last exiting thread signals (no polling). */
int gosvc__threads_wait(int64_t deadline);

#endif

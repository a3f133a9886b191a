/*
 * diag/threads.h - accounting of the threads the library itself starts
 * (timer, AfterFunc, poller, thread-group workers), so that the leak check
 * (godiag_verify_none) can wait for every one of them to be gone.
 * Not installed; not for users.
 *
 * Rule for every module that starts a thread: call godiag__thread_start()
 * before pthread_create (undo with godiag__thread_exit() if the create
 * fails), and godiag__thread_exit() as the last thing the thread does that
 * touches library state.  A thread counts as alive from the first call to
 * the second, so the count never reads 0 while one is about to start.
 *
 * One exception to "last": a service thread whose module has a shutdown
 * call (the timer thread, the poller) calls godiag__thread_exit() under
 * its module's static state lock, before the shutdown waiting under that
 * lock can see it stopped, and only unlocks that lock afterwards.  So a
 * shutdown returns with the thread already uncounted (issue 15: it used to
 * return while godiag_threads() still counted it).  The lock is static and
 * never destroyed, so touching it after the count dropped is harmless.
 */
#ifndef GOCHAN_DIAG_THREADS_H
#define GOCHAN_DIAG_THREADS_H

#include <stdint.h>

enum godiag_thread_kind {
	GODIAG_THREAD_TIMER,
	GODIAG_THREAD_AFTERFUNC,
	GODIAG_THREAD_POLLER,
	GODIAG_THREAD_GROUP,
	GODIAG_THREAD_DIAG, /* godiag_signal's dump thread */
	GODIAG_THREAD_FIBER, /* the fiber runtime's worker (fiber/sched.c) */
	GODIAG_THREAD_KINDS
};

/* One more library thread of kind @k is alive (relaxed counter; the
 * creating thread's later pthread_create orders it before the thread runs). */
void godiag__thread_start(enum godiag_thread_kind k);

/* A library thread of kind @k is done with library state.  Release: what it
 * did happens before a godiag__threads_wait() that sees the count drop. */
void godiag__thread_exit(enum godiag_thread_kind k);

/* The name of kind @k ("timer", "afterfunc", "poller", "group", "diag", "fiber"). */
const char *godiag__thread_kind_name(enum godiag_thread_kind k);

/* Library threads of kind @k alive now (GODIAG_THREAD_KINDS: all kinds). */
unsigned godiag__threads_alive(enum godiag_thread_kind k);

/* Block until no library thread of any kind is alive, or @deadline
 * (chan_now() time; CHAN_FOREVER: none).  0 or ETIMEDOUT.  Sleeps on a
 * condition variable the last exiting thread signals (no polling). */
int godiag__threads_wait(int64_t deadline);

#endif

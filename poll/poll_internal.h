/*
 * poll/poll_internal.h - queries into the poller, for tests, stress programs
 * and benchmarks only.  Not installed; not for users.
 */
#ifndef GOCHAN_POLL_POLL_INTERNAL_H
#define GOCHAN_POLL_POLL_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/* Poller threads alive now: 0 or 1 (counted until the thread has released
 * every library resource; what remains is the OS thread's own exit). */
unsigned gopoll__threads_live(void);

/* Poller threads started since the process began (to see restarts). */
uint64_t gopoll__threads_started(void);

/* Registrations attached now (watches not fired, hangup contexts not done). */
size_t gopoll__registered(void);

/* Descriptor numbers with an entry in the epoll set now. */
size_t gopoll__entries(void);

/* Registrations attached to descriptor number @fd now (0 for a number with
 * no entry): what a thread can check about its own fd while others work. */
size_t gopoll__fd_registrations(int fd);

/*
 * Block until no poller thread is alive, or until @deadline (chan_now()
 * time; CHAN_FOREVER: no limit).  Returns 0 or ETIMEDOUT.  Waits on the
 * condition variable the exiting thread signals: synchronisation, not a
 * sleep.
 */
int gopoll__wait_thread_exit(int64_t deadline);

/*
 * Block until the poller thread has dispatched every event the kernel had
 * queued, for registrations attached before this call, when this call began
 * (fired the watches, cancelled the hangup contexts, completely), or until
 * @deadline.  0 (also at once when no poller runs) or ETIMEDOUT.  It wakes
 * the thread through its eventfd and waits for a complete epoll_wait()
 * round that began after the call; a ready descriptor is on epoll's ready
 * list from the moment it became ready, so that round returns it (rounds
 * that fill the whole event array do not count).  This is how tests assert
 * "this did NOT fire" without sleeping.
 */
int gopoll__barrier(int64_t deadline);

/*
 * The poller thread's idle linger, GOPOLL_IDLE_LINGER_NS by default: set it
 * to @ns (<= 0: it exits as soon as nothing is registered) and return the
 * old value.  For tests that cycle the thread through start and idle exit.
 */
int64_t gopoll__set_linger_ns(int64_t ns);

#endif

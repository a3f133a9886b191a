/*
 * group/group_internal.h - what waitgroup.c, errgroup.c and spawn.c share:
 * the WaitGroup's layout (embedded in every errgroup), and the one way the
 * library starts a task's thread.  Not installed.
 *
 * The WaitGroup word (struct gowg.state, a 32-bit futex word):
 *
 *   bits 0-30  the counter (0 .. GOWG_MAX)
 *   bit  31    GOWG_WAITING: some thread is (or is about to be) asleep on the
 *              futex waiting for the counter to reach 0
 *
 * Add/Done change the word with one compare-and-swap (acq_rel).  The CAS that
 * brings the counter to 0 also clears GOWG_WAITING, and if that bit was set,
 * the same thread then calls FUTEX_WAKE.  That CAS is its last access to the
 * WaitGroup's memory: a waiter that sees 0 may free the WaitGroup at once,
 * and a FUTEX_WAKE on memory that has been freed (or reused) is harmless,
 * since every futex sleeper in gochan re-checks its word in a loop.  This is
 * why the waiting flag lives in the same word as the counter (a separate
 * "waiters" word written after the counter reached 0 would be a write to
 * memory the waiter may already have freed).
 *
 * A waiter sets GOWG_WAITING with a CAS from the value it read, then sleeps
 * while the word still holds exactly that value (FUTEX_WAIT compares
 * atomically with the sleep), so a zero transition between its read and its
 * sleep is never missed.
 *
 * users/closing: a call that may sleep or start a thread (wait, go) counts
 * itself in @users for its duration; gowg__close() (free) sets @closing and
 * then checks @users and the counter.  Both sides store then load, seq_cst
 * (a Dekker pair): either the call sees @closing and backs out with EINVAL,
 * or the free sees the call and backs out with EBUSY.
 */
#ifndef GOCHAN_GROUP_INTERNAL_H
#define GOCHAN_GROUP_INTERNAL_H

#include <stdatomic.h>
#include <stdint.h>

#include <gochan/waitgroup.h>

#define GOWG_WAITING 0x80000000u
#define GOWG_COUNT 0x7fffffffu

struct gowg {
	_Atomic uint32_t state;   /* counter | GOWG_WAITING (see above) */
	_Atomic uint32_t users;   /* wait/go calls in progress (seq_cst) */
	_Atomic uint32_t closing; /* 1 while gowg__close() decides (seq_cst) */
};

void gowg__init(struct gowg *wg);

/* Enter a call that free must not overlap: 0, or EINVAL if freeing. */
int gowg__enter(struct gowg *wg);
void gowg__leave(struct gowg *wg);

/* Decide a free: 0 (nothing uses @wg any more: free it), EINVAL (another
 * free is deciding), EBUSY (counter not 0 or a call in progress; @wg is
 * usable again). */
int gowg__close(struct gowg *wg);

/* The counter change of gowg_add() (no NULL check, no enter/leave). */
int gowg__add(struct gowg *wg, long delta);

/* The counter now (acquire). */
uint32_t gowg__count(struct gowg *wg);

/* The wait of gowg_wait_until() (the caller did gowg__enter()). */
int gowg__wait(struct gowg *wg, int64_t deadline);

/*
 * The WaitGroup whose task the calling thread is running (NULL outside
 * tasks), so that a wait for it from inside it is EDEADLK instead of a hang.
 */
extern _Thread_local struct gowg *gowg__current;

/*
 * A job for a library thread: run(job) is called once on a new thread, which
 * ends when it returns (after its exit from the thread accounting).  run
 * owns @job (frees it).  Its last access to any group must be the counter
 * decrement (see above).
 */
struct group_job {
	void (*run)(struct group_job *job);
};

/*
 * group__spawn - start a thread (detached, counted as GODIAG_THREAD_GROUP)
 * that runs job->run(job).  Returns 0, or pthread_create's error (EAGAIN),
 * with the thread accounting undone and @job untouched (still the caller's).
 */
int group__spawn(struct group_job *job);

/*
 * Test hook (tests/test_group_spawnfail.c): make the @k-th group__spawn()
 * from now (k >= 1) fail with @err instead of creating a thread, as if
 * pthread_create had returned it; k <= 0 disables.  One pending failure at a
 * time.  Not for production use (a relaxed counter, checked on every spawn).
 */
void group__inject_spawn_failure(long k, int err);

#endif /* GOCHAN_GROUP_INTERNAL_H */

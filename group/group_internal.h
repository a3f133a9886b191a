/*
 * group/group_internal.h - what waitgroup.c, errgroup.c and spawn.c share:
 * the WaitGroup's layout (embedded in every errgroup), and the one way the
 * library starts a task's thread.  Not installed.
 *
 * The WaitGroup word (struct gowg.state, a 32-bit word waited on through
 * wait/word.h, which parks a fiber or the thread and has the futex's
 * contract):
 *
 *   bits 0-30  the counter (0 .. GOWG_MAX)
 *   bit  31    GOWG_WAITING: some agent (thread or fiber) is (or is about to
 *              be) parked on the word waiting for the counter to reach 0
 *
 * Add/Done change the word with one compare-and-swap (acq_rel).  The CAS that
 * brings the counter to 0 also clears GOWG_WAITING, and if that bit was set,
 * the same agent then calls gowait__word_wake.  That CAS is its last access
 * to the WaitGroup's memory: a waiter that sees 0 may free the WaitGroup at
 * once, and the wake uses the word's address only as a key into
 * wait/word.c's table (never reading it), so a wake after the memory was
 * freed (or reused) is harmless: every waiter re-checks its word.  This is
 * why the waiting flag lives in the same word as the counter (a separate
 * "waiters" word written after the counter reached 0 would be a write to
 * memory the waiter may already have freed).
 *
 * A waiter sets GOWG_WAITING with a CAS from the value it read, then parks
 * while the word still holds exactly that value (gowait__word_wait compares
 * atomically with joining its waiter list), so a zero transition between its
 * read and its park is never missed.
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

/* The wait of gowg_wait_until() (the caller did gowg__enter()): parks a
 * fiber on a fiber, else the thread (wait/word.h).  @ra: the return address
 * of the public entry, for godiag_dump. */
int gowg__wait(struct gowg *wg, int64_t deadline, const void *ra);

/*
 * The WaitGroup whose task the calling thread is running (NULL outside
 * tasks), so that a wait for it from inside it is EDEADLK instead of a hang.
 */
extern _Thread_local struct gowg *gowg__current;

/*
 * A job for a library thread: run(job) is called once, on a new thread or on
 * an idle one of the pool (group/spawn.c).  run owns @job (frees it).  It
 * does the task and everything the task's group needs EXCEPT the final
 * counter decrement: it returns the WaitGroup to decrement, and the thread
 * does that decrement itself (gowg__add(wg, -1), its last access to the
 * group) right AFTER it has counted itself idle in the pool.  So when a
 * wait returns, the thread that ran the last task is already available, and
 * a go right after it reuses that thread instead of racing it.
 */
struct group_job {
	struct gowg *(*run)(struct group_job *job);
	struct group_job *next; /* the pool's hand-off list (spawn.c's) */
};

/*
 * group__spawn - have job->run(job) called on a library thread: an idle
 * thread of the pool if there is one, else a new detached thread (counted as
 * GODIAG_THREAD_GROUP from before pthread_create until it exits).  Returns 0,
 * or pthread_create's error (EAGAIN) with the thread accounting undone and
 * @job untouched (still the caller's).  Never blocks beyond the pool's mutex.
 */
int group__spawn(struct group_job *job);

/* The pool's limits (spawn.c): how long a thread waits idle for another
 * job before it exits, and how many may wait at once. */
#define GROUP_POOL_IDLE_NS ((int64_t)50000000) /* 50 ms */
#define GROUP_POOL_MAX_IDLE 32

/*
 * Test and benchmark hooks (not for production use):
 *
 * group__inject_spawn_failure - make the @k-th group__spawn() from now
 * (k >= 1) fail with @err as if pthread_create had returned it (that spawn
 * takes the thread-creating path even if a thread is idle, so the pool's
 * failure path runs); k <= 0 disarms.  One pending failure at a time.
 *
 * group__pool_set_idle_ns - set the idle timeout (ns; <= 0: a thread exits
 * as soon as its job returns, i.e. no reuse) and return the previous one.
 * Idle threads already waiting are woken to re-read it (their timeout counts
 * from when they became idle).
 *
 * group__pool_wait_idle - block until at least @n threads are idle in the
 * pool, or @deadline (chan_now() time; CHAN_FOREVER: none): 0 or ETIMEDOUT.
 */
void group__inject_spawn_failure(long k, int err);
int64_t group__pool_set_idle_ns(int64_t ns);
int group__pool_wait_idle(int n, int64_t deadline);

/*
 * group__pool_shutdown - ask every pool thread to exit (idle ones at once,
 * busy ones when their task returns: no new idle thread while it runs) and
 * return once all are gone: uncounted, past their last access to library
 * state (service/service.h).  0, or EDEADLK from a pool thread.  Tasks
 * started meanwhile still run; after it returns the pool reuses threads
 * again.  group__pool_threads: pool threads alive now;
 * group__pool_threads_started: started since the process began.
 */
int group__pool_shutdown(void);
/* Block until no pool thread is alive (each past its last access), or
 * @deadline (chan_now() time; CHAN_FOREVER: none).  0 or ETIMEDOUT; only
 * waits. */
int group__pool_wait_threads(int64_t deadline);
unsigned group__pool_threads(void);
uint64_t group__pool_threads_started(void);

#endif /* GOCHAN_GROUP_INTERNAL_H */

/*
 * group/spawn.c - the one place the group modules get a thread for a task
 * (group__spawn, group/group_internal.h): a small pool of idle threads, with
 * the library's thread accounting and the test hooks.
 *
 * Why a pool: creating a thread per task costs a pthread_create, the new
 * thread's start-up and its exit; handing the task to a thread that has just
 * finished one costs a mutex and a condition-variable signal.  Measured by
 * bench/group_bench.c (`group_bench --compare 7`, 2 loaded vCPUs), an empty
 * task's go+wait takes ~11 us with reuse against ~45 us with a fresh thread
 * (and ~47 us for a bare pthread_create+join); batches of 100 ~11 us against
 * ~29 us per task; under a limit of 8, ~11 us against ~26 us.
 *
 * The pool's rules:
 *   - a thread that finished its job waits idle for another one for at most
 *     GROUP_POOL_IDLE_NS (50 ms), then exits: a process that stops starting
 *     tasks has no group thread left 50 ms later (the leak check waits that
 *     long; no thread outlives the work by more);
 *   - at most GROUP_POOL_MAX_IDLE threads wait at once; one finishing a job
 *     beyond that exits at once (a burst of 10,000 tasks leaves no 10,000
 *     idle threads);
 *   - a job goes to an idle thread only if there are more idle threads than
 *     jobs already handed over and not yet taken (idle > queued), so every
 *     queued job has a thread that will take it: it never waits for a thread
 *     to be created or for a running job to finish;
 *   - a thread counts itself idle BEFORE it makes the counter decrement that
 *     ends its task (group_internal.h, struct group_job), so the go that
 *     follows a wait finds it idle: a queued job then waits at most for that
 *     one compare-and-swap (and wake-up call) before it is taken;
 *   - the threads are service threads (service/service.h, `svc`, guarded by
 *     pool.mu, lingering pool's idle timeout): every one counts as
 *     GODIAG_THREAD_GROUP for its whole life, idle or not, from before its
 *     pthread_create to its last access to library state, and
 *     group__pool_shutdown() returns once all are gone.
 *
 * One mutex guards the pool's fields; idle threads wait on @cv (a
 * CLOCK_MONOTONIC condition variable), and @idle_cv is broadcast whenever a
 * thread becomes idle (for group__pool_wait_idle; glibc's broadcast with no
 * waiter makes no system call).  The hold times are a few instructions.
 *
 * fork(): the child has none of the parent's threads, so the child handler
 * forgets them (no idle thread, nothing queued) and re-initialises the lock,
 * which the prepare handler took so that no other thread held it mid-update.
 */
#include "group/group_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include <gochan/chan.h>

#include "service/service.h"
#include "wait/cond.h"
#include "wait/debug.h"

static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;              /* idle threads wait here */
	pthread_cond_t idle_cv;         /* broadcast when a thread becomes idle */
	struct group_job *head, **tail; /* handed over, not yet taken */
	int queued;                     /* length of that list */
	int idle;                       /* threads waiting; invariant idle >= queued */
} pool = {
	.mu = PTHREAD_MUTEX_INITIALIZER,
};

/* The pool's threads.  Its linger is the idle timeout (<= 0: no reuse). */
static struct gosvc svc = GOSVC_INIT_FIBER_WAITS(&pool.mu, GOWAIT_LOCKRANK_GROUP_POOL,
						 GODIAG_THREAD_GROUP, GROUP_POOL_IDLE_NS, false);

static pthread_once_t pool_once = PTHREAD_ONCE_INIT;

/* pool.mu: rank GOWAIT_LOCKRANK_GROUP_POOL (wait/lockrank.h: taken with no
 * other lock held; the thread counter under it). */
static void pool_lock(void)
{
	gowait__mutex_lock(&pool.mu, GOWAIT_LOCKRANK_GROUP_POOL);
}

static void pool_unlock(void)
{
	gowait__mutex_unlock(&pool.mu, GOWAIT_LOCKRANK_GROUP_POOL);
}

/* The fork handlers take pool.mu directly, not through pool_lock: the child
 * re-initialises it and has no matching release of the rank (as
 * wait/record.c's). */
static void pool_prepare(void)
{
	pthread_mutex_lock(&pool.mu);
}

static void pool_parent(void)
{
	pthread_mutex_unlock(&pool.mu);
}

static void pool_child(void)
{
	pthread_mutex_init(&pool.mu, NULL);
	gowait__cond_init(&pool.cv);
	gowait__cond_init(&pool.idle_cv);
	gosvc__forget_locked(&svc);
	pool.head = NULL;
	pool.tail = &pool.head;
	pool.queued = 0;
	pool.idle = 0;
}

static void pool_init(void)
{
	gowait__cond_init(&pool.cv);
	gowait__cond_init(&pool.idle_cv);
	pool.tail = &pool.head;
	pthread_atfork(pool_prepare, pool_parent, pool_child);
}

/* ---- test hooks ---------------------------------------------------------------- */

/* Spawns left before the injected failure (0: none).  Relaxed: tests arm it
 * before the calls it is meant to affect, from the same thread (or one
 * ordered before them by the test's own synchronisation). */
static atomic_long inject_countdown;
static atomic_int inject_err;

void group__inject_spawn_failure(long k, int err)
{
	atomic_store_explicit(&inject_err, err, memory_order_relaxed);
	atomic_store_explicit(&inject_countdown, k > 0 ? k : 0, memory_order_relaxed);
}

/* Whether this spawn is the one the hook should fail (its error, or 0). */
static int injected_failure(void)
{
	long k = atomic_load_explicit(&inject_countdown, memory_order_relaxed);

	while (k > 0) {
		if (atomic_compare_exchange_weak_explicit(&inject_countdown, &k, k - 1,
							  memory_order_relaxed,
							  memory_order_relaxed))
			return k == 1 ? atomic_load_explicit(&inject_err, memory_order_relaxed) : 0;
	}
	return 0;
}

int64_t group__pool_set_idle_ns(int64_t ns)
{
	pthread_once(&pool_once, pool_init);
	pool_lock();
	int64_t old = gosvc__set_linger_locked(&svc, ns);
	pthread_cond_broadcast(&pool.cv); /* let idle threads re-read it */
	pool_unlock();
	return old;
}

int group__pool_wait_idle(int n, int64_t deadline)
{
	int err = 0;

	pthread_once(&pool_once, pool_init);
	pool_lock();
	while (pool.idle - pool.queued < n && err == 0)
		err = gowait__cond_wait_until(&pool.idle_cv, &pool.mu, deadline);
	if (pool.idle - pool.queued >= n)
		err = 0;
	pool_unlock();
	return err;
}

/* ---- the pool -------------------------------------------------------------------- */

/*
 * After a job: count this thread idle if the pool may keep it (caller holds
 * pool.mu).  Returns whether it did.
 */
static bool become_idle(void)
{
	GOWAIT_ASSERT_HELD(&pool.mu);
	/* No reuse, a shutdown asks the threads to go, or enough wait. */
	if (svc.linger_ns <= 0 || svc.stop || pool.idle >= GROUP_POOL_MAX_IDLE)
		return false;
	pool.idle++;
	pthread_cond_broadcast(&pool.idle_cv);
	return true;
}

/*
 * An idle thread waits for a job (caller holds pool.mu and counted itself
 * idle; returns with it held and the thread no longer idle).  NULL: exit
 * (the timeout passed with nothing queued, or reuse was turned off).
 */
static struct group_job *wait_job(void)
{
	/* The linger is re-read after every wake-up, so a changed timeout
	 * applies to the threads already idle (counted from when they became
	 * idle); a shutdown's stop ends the wait too. */
	int64_t since = GOSVC_BUSY, wake;

	GOWAIT_ASSERT_HELD(&pool.mu);
	while (!pool.head && !gosvc__idle_expired_locked(&svc, &since, &wake))
		(void)gowait__cond_wait_until(&pool.cv, &pool.mu, wake);
	pool.idle--;
	/* Leave without a job only when none is queued: with idle >= queued
	 * before our decrement and queued == 0, the invariant holds after it. */
	struct group_job *job = pool.head;
	if (job) {
		pool.head = job->next;
		if (!pool.head)
			pool.tail = &pool.head;
		pool.queued--;
	}
	return job;
}

static void *group_thread(void *p)
{
	struct group_job *job = p;

	gosvc__enter(&svc);
	for (;;) {
		struct gowg *wg = job->run(job);
		pool_lock();
		bool idle = become_idle();
		pool_unlock();
		/* The task's last decrement, with this thread already available:
		 * a start that follows the wait it releases finds it idle.  The
		 * decrement is our last access to the group. */
		gowg__add(wg, -1);
		pool_lock();
		job = idle ? wait_job() : NULL;
		if (!job)
			break;
		pool_unlock();
	}
	/* Still under pool.mu, in which it left the idle count (or never
	 * joined it): its last access to library state. */
	gosvc__leave_locked(&svc);
	return NULL;
}

int group__spawn(struct group_job *job)
{
	int err = injected_failure();

	pthread_once(&pool_once, pool_init);
	if (!err) {
		pool_lock();
		if (pool.idle > pool.queued) {
			/* Hand it over: the mutex orders everything the caller
			 * did before this call before the job runs. */
			job->next = NULL;
			*pool.tail = job;
			pool.tail = &job->next;
			pool.queued++;
			pthread_cond_signal(&pool.cv);
			pool_unlock();
			return 0;
		}
		pool_unlock();
	}

	/* A new thread, counted before it exists (service/service.h); the
	 * create runs without pool.mu, which hand-overs need. */
	if (err)
		return err;
	return gosvc__start(&svc, group_thread, job);
}

/* group__pool_shutdown's wake (under pool.mu): idle threads look at the stop. */
static void pool_wake(void)
{
	pthread_cond_broadcast(&pool.cv);
}

int group__pool_shutdown(void)
{
	pthread_once(&pool_once, pool_init);
	return gosvc__shutdown(&svc, NULL, pool_wake);
}

int group__pool_wait_threads(int64_t deadline)
{
	return gosvc__wait_gone(&svc, deadline);
}

unsigned group__pool_threads(void)
{
	return gosvc__live(&svc);
}

uint64_t group__pool_threads_started(void)
{
	return gosvc__started(&svc);
}

/*
 * service/service.c - the service threads of service/service.h: start,
 * idle linger, leave and shutdown, written once.
 */
#include "service/service.h"

#include <errno.h>
#include <limits.h>
#include <stdatomic.h>

#include <gochan/chan.h>

#include "wait/clock.h"
#include "wait/cond.h"
#include "wait/debug.h"
#include "wait/park.h"
#include "wait/word.h"

/* *s->mu with its rank: tracked in a debug build (wait/debug.h), a plain
 * pthread_mutex_lock/unlock otherwise. */
static void svc_lock(struct gosvc *s)
{
	gowait__mutex_lock(s->mu, s->rank);
}

static void svc_unlock(struct gosvc *s)
{
	gowait__mutex_unlock(s->mu, s->rank);
}

/* The service the calling thread serves (NULL: not a service thread). */
static _Thread_local const struct gosvc *current;

/* Under *s->mu: s->gone exists (made on first use: a static service needs
 * a run-time call for its CLOCK_MONOTONIC condition variable, and every use
 * is under *s->mu, so a plain flag decides it). */
static void cv_ready_locked(struct gosvc *s)
{
	if (!s->cv_ready) {
		gowait__cond_init(&s->gone);
		s->cv_ready = true;
	}
}

/*
 * The waits for "a thread left or a stop was cancelled": a thread waits in
 * the condition variable s->gone, as it always did; a fiber must not block
 * its worker there, so on a fiber_waits service (service.h) it parks on
 * s->gone_seq (wait/word.h) with *s->mu released (the only lock it holds,
 * by that service's promise), and every broadcast of such a service also
 * bumps that word and wakes its waiters (with no fiber waiting the wake is
 * one fence and one load).  The bump and the fiber's read of the word are
 * both under *s->mu, so a broadcast after that read changes the word before
 * the fiber's compare and wakes it, and one before it is seen by the
 * caller's re-check under *s->mu.
 */
static void gone_broadcast_locked(struct gosvc *s)
{
	pthread_cond_broadcast(&s->gone);
	if (!s->fiber_waits)
		return;
	/* Relaxed: *s->mu orders it against the fiber's read; the wake's own
	 * fence orders it against the wait (wait/word.h). */
	atomic_fetch_add_explicit(&s->gone_seq, 1, memory_order_relaxed);
	gowait__word_wake(&s->gone_seq, INT_MAX);
}

/* Under *s->mu (released while waiting, held again on return): wait for a
 * broadcast or the chan_now() time @deadline (CHAN_FOREVER: none).  0 or
 * ETIMEDOUT; spurious returns happen (callers re-check in a loop). */
static int gone_wait_locked(struct gosvc *s, int64_t deadline, const void *ra)
{
	if (caa_likely(!s->fiber_waits || gowait__self() == NULL))
		return gowait__cond_wait_until(&s->gone, s->mu, deadline);

	const struct gowait__site site = {GOWAIT_OP_LIB_WAIT, NULL, NULL, ra};
	uint32_t seq = atomic_load_explicit(&s->gone_seq, memory_order_relaxed);

	svc_unlock(s);
	int err = gowait__word_wait(&s->gone_seq, seq, deadline, &site);
	svc_lock(s);
	return err;
}

/* Under *s->mu: one thread fewer; wake whoever waits for that. */
static void drop_live_locked(struct gosvc *s)
{
	s->live--;
	cv_ready_locked(s);
	gone_broadcast_locked(s);
}

static int create(struct gosvc *s, void *(*main)(void *), void *arg, pthread_t *tid)
{
	pthread_attr_t attr;
	int err = pthread_attr_init(&attr);

	if (err)
		return err;
	/* Detached unless joined by gosvc__shutdown: a thread that idles out
	 * on its own must not remain an unjoined (zombie) thread. */
	if (!s->joinable)
		err = pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (!err)
		err = pthread_create(tid, &attr, main, arg);
	pthread_attr_destroy(&attr);
	return err;
}

int gosvc__start_locked(struct gosvc *s, void *(*main)(void *), void *arg)
{
	pthread_t tid;

	GOWAIT_ASSERT_HELD(s->mu);
	/* Counted before the create (rule 3), so neither count reads 0 while
	 * a thread is about to run; pthread_create orders both before it. */
	s->live++;
	gosvc__thread_start(s->kind);
	int err = create(s, main, arg, &tid);
	if (err) {
		gosvc__thread_exit(s->kind);
		drop_live_locked(s);
		return err;
	}
	if (s->joinable) {
		s->tid = tid;
		s->unjoined = true;
	}
	s->started++;
	return 0;
}

int gosvc__ensure_locked(struct gosvc *s, void *(*main)(void *), void *arg)
{
	GOWAIT_ASSERT_HELD(s->mu);
	return s->live > 0 ? 0 : gosvc__start_locked(s, main, arg);
}

int gosvc__start(struct gosvc *s, void *(*main)(void *), void *arg)
{
	pthread_t tid;
	int err;

	svc_lock(s);
	s->live++;
	s->started++;
	svc_unlock(s);
	gosvc__thread_start(s->kind);
	err = create(s, main, arg, &tid);
	if (err) {
		gosvc__thread_exit(s->kind);
		svc_lock(s);
		s->started--;
		drop_live_locked(s);
		svc_unlock(s);
		return err;
	}
	if (s->joinable) {
		/* A joinable service runs one thread at a time, started by its
		 * owner under the owner's own serialisation (godiag_signal). */
		svc_lock(s);
		s->tid = tid;
		s->unjoined = true;
		svc_unlock(s);
	}
	return 0;
}

void gosvc__enter(struct gosvc *s)
{
	current = s;
}

bool gosvc__on_thread(const struct gosvc *s)
{
	return current == s;
}

bool gosvc__idle_expired_locked(struct gosvc *s, int64_t *idle_since, int64_t *wake)
{
	GOWAIT_ASSERT_HELD(s->mu);
	if (s->stop || s->linger_ns <= 0)
		return true;
	if (s->linger_ns == GOSVC_LINGER_FOREVER) {
		*wake = CHAN_FOREVER;
		return false;
	}
	int64_t now = chan_now();
	if (*idle_since == GOSVC_BUSY)
		*idle_since = now;
	int64_t end = gowait__time_add(*idle_since, s->linger_ns);
	if (now >= end)
		return true;
	*wake = end;
	return false;
}

bool gosvc__stop_requested(struct gosvc *s)
{
	svc_lock(s);
	bool stop = s->stop;
	svc_unlock(s);
	return stop;
}

void gosvc__cancel_stop_locked(struct gosvc *s)
{
	GOWAIT_ASSERT_HELD(s->mu);
	if (s->stop) {
		s->stop = false;
		cv_ready_locked(s);
		gone_broadcast_locked(s);
	}
}

void gosvc__leave_locked(struct gosvc *s)
{
	GOWAIT_ASSERT_HELD(s->mu);
	drop_live_locked(s);
	current = NULL;
	/* Releases *s->mu under the counter's mutex, then drops the count:
	 * the release of the counter's mutex is this thread's last access to
	 * library state (rule 3; gosvc__sync is its partner). */
	gosvc__thread_exit_unlock(s->kind, s->mu, s->rank);
}

void gosvc__leave(struct gosvc *s)
{
	svc_lock(s);
	gosvc__leave_locked(s);
}

int gosvc__shutdown_locked(struct gosvc *s, int (*busy)(void), void (*wake)(void))
{
	int err = 0;

	GOWAIT_ASSERT_HELD(s->mu);
	if (gosvc__on_thread(s))
		return EDEADLK;
	cv_ready_locked(s);
	for (;;) {
		if (busy && (err = busy()) != 0)
			break;
		if (s->live == 0)
			break;
		if (!s->stop) {
			s->stop = true;
			if (wake)
				wake();
		}
		/* Woken by a thread leaving, or by new work cancelling the
		 * stop (then @busy reports it). */
		(void)gone_wait_locked(s, CHAN_FOREVER, __builtin_return_address(0));
	}
	/* A stop outlives no shutdown: a thread started later serves as
	 * usual. */
	s->stop = false;
	/* The threads that left are past their last access (rule 4). */
	gosvc__threads_sync();
	return err;
}

int gosvc__shutdown(struct gosvc *s, int (*busy)(void), void (*wake)(void))
{
	pthread_t tid;
	bool join = false;

	svc_lock(s);
	int err = gosvc__shutdown_locked(s, busy, wake);
	if (err == 0 && s->joinable && s->unjoined) {
		s->unjoined = false;
		tid = s->tid;
		join = true;
	}
	svc_unlock(s);
	if (join)
		pthread_join(tid, NULL);
	return err;
}

int gosvc__wait_gone(struct gosvc *s, int64_t deadline)
{
	int err = 0;

	svc_lock(s);
	cv_ready_locked(s);
	while (s->live > 0 && err == 0)
		err = gone_wait_locked(s, deadline, __builtin_return_address(0));
	err = s->live > 0 ? ETIMEDOUT : 0;
	svc_unlock(s);
	if (err == 0)
		gosvc__threads_sync();
	return err;
}

void gosvc__sync(struct gosvc *s)
{
	svc_lock(s);
	svc_unlock(s);
	gosvc__threads_sync();
}

int64_t gosvc__set_linger_locked(struct gosvc *s, int64_t ns)
{
	int64_t old = s->linger_ns;

	GOWAIT_ASSERT_HELD(s->mu);
	s->linger_ns = ns;
	return old;
}

unsigned gosvc__live(struct gosvc *s)
{
	svc_lock(s);
	unsigned n = s->live;
	svc_unlock(s);
	return n;
}

uint64_t gosvc__started(struct gosvc *s)
{
	svc_lock(s);
	uint64_t n = s->started;
	svc_unlock(s);
	return n;
}

void gosvc__forget_locked(struct gosvc *s)
{
	s->live = 0;
	s->stop = false;
	s->unjoined = false;
	if (s->cv_ready)
		gowait__cond_init(&s->gone);
}

/*
 * group/waitgroup.c - Go's sync.WaitGroup (gochan/waitgroup.h): a counter
 * and a waiting flag in one word that waiters wait on through wait/word.h
 * (so a wait parks a fiber, or the thread; the protocol is described in
 * group/group_internal.h), and wg.Go on a library thread.
 */
#include "group/group_internal.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>

#include <gochan/chan.h>

#include "wait/word.h"

_Thread_local struct gowg *gowg__current;

void gowg__init(struct gowg *wg)
{
	atomic_init(&wg->state, 0);
	atomic_init(&wg->users, 0);
	atomic_init(&wg->closing, 0);
}

int gowg__enter(struct gowg *wg)
{
	/* seq_cst store then seq_cst load; gowg__close() does the mirror image
	 * (see the Dekker pair in group_internal.h). */
	atomic_fetch_add(&wg->users, 1);
	if (atomic_load(&wg->closing)) {
		atomic_fetch_sub(&wg->users, 1);
		return EINVAL;
	}
	return 0;
}

void gowg__leave(struct gowg *wg)
{
	/* Release: the call's accesses to @wg happen before a free that reads
	 * users == 0 (gowg__close's seq_cst load is also an acquire). */
	atomic_fetch_sub_explicit(&wg->users, 1, memory_order_release);
}

int gowg__close(struct gowg *wg)
{
	uint32_t expected = 0;

	if (!atomic_compare_exchange_strong(&wg->closing, &expected, 1))
		return EINVAL;
	/* Acquire (seq_cst) loads: every task's last decrement and every call's
	 * leave happen before the caller frees the memory. */
	if (atomic_load(&wg->users) != 0 || atomic_load(&wg->state) & GOWG_COUNT) {
		atomic_store(&wg->closing, 0);
		return EBUSY;
	}
	return 0;
}

uint32_t gowg__count(struct gowg *wg)
{
	return atomic_load_explicit(&wg->state, memory_order_acquire) & GOWG_COUNT;
}

int gowg__add(struct gowg *wg, long delta)
{
	uint32_t s = atomic_load_explicit(&wg->state, memory_order_relaxed), ns;
	long n;

	if (delta > GOWG_MAX)
		return EOVERFLOW;
	if (delta < -GOWG_MAX)
		return EINVAL;
	do {
		n = (long)(s & GOWG_COUNT) + delta;
		if (n < 0)
			return EINVAL;
		if (n > GOWG_MAX)
			return EOVERFLOW;
		/* Reaching zero clears the waiting flag: the waiters are all
		 * released by the wake below, and a later waiter sets it anew. */
		ns = n == 0 ? 0 : (uint32_t)n | (s & GOWG_WAITING);
		/* acq_rel: release so that everything before this Done happens
		 * before a waiter's acquire load of 0 (a chain of Dones forms
		 * one release sequence); acquire so that the thread that brings
		 * the count to 0 sees the earlier Dones' work too. */
	} while (!atomic_compare_exchange_weak_explicit(&wg->state, &s, ns, memory_order_acq_rel,
							memory_order_relaxed));
	/* The CAS above was our last access to @wg's memory (it may be freed
	 * now); the wake uses its address only as a key (wait/word.h), so a
	 * wake on a stale address is harmless. */
	if (n == 0 && (s & GOWG_WAITING))
		gowait__word_wake(&wg->state, INT_MAX);
	return 0;
}

int gowg__wait(struct gowg *wg, int64_t deadline, const void *ra)
{
	uint32_t s = atomic_load_explicit(&wg->state, memory_order_acquire);
	/* What godiag_dump shows while we wait (wait/record.h). */
	const struct gowait__site site = {GOWAIT_OP_WG_WAIT, NULL, NULL, ra};

	if (gowg__current == wg)
		return EDEADLK;
	while (s & GOWG_COUNT) {
		if (!(s & GOWG_WAITING)) {
			/* Acquire on failure too: a fresh value of 0 must order
			 * the Dones before our return. */
			if (!atomic_compare_exchange_weak_explicit(&wg->state, &s, s | GOWG_WAITING,
								   memory_order_acquire,
								   memory_order_acquire))
				continue;
			s |= GOWG_WAITING;
		}
		/* Parks this fiber or thread while the word still reads s
		 * (any negative deadline but CHAN_FOREVER has passed: one
		 * look, ETIMEDOUT). */
		int rc = gowait__word_wait(&wg->state, s, deadline, &site);
		s = atomic_load_explicit(&wg->state, memory_order_acquire);
		if (rc == ETIMEDOUT && (s & GOWG_COUNT))
			return ETIMEDOUT;
	}
	return 0;
}

gowg_t *gowg_new(void)
{
	struct gowg *wg = malloc(sizeof *wg);

	if (!wg) {
		errno = ENOMEM;
		return NULL;
	}
	gowg__init(wg);
	return wg;
}

int gowg_add(gowg_t *wg, long delta)
{
	return wg ? gowg__add(wg, delta) : EINVAL;
}

int gowg_done(gowg_t *wg)
{
	return wg ? gowg__add(wg, -1) : EINVAL;
}

/* gowg_wait_until for a public entry called from @ra. */
static int wait_until(gowg_t *wg, int64_t deadline, const void *ra)
{
	if (!wg)
		return EINVAL;
	int err = gowg__enter(wg);
	if (err)
		return err;
	err = gowg__wait(wg, deadline, ra);
	gowg__leave(wg);
	return err;
}

int gowg_wait_until(gowg_t *wg, int64_t deadline)
{
	return wait_until(wg, deadline, __builtin_return_address(0));
}

int gowg_wait(gowg_t *wg)
{
	return wait_until(wg, CHAN_FOREVER, __builtin_return_address(0));
}

struct wg_job {
	struct group_job job;
	struct gowg *wg;
	void (*fn)(void *);
	void *arg;
};

static struct gowg *wg_job_run(struct group_job *j)
{
	struct wg_job *job = (struct wg_job *)j;
	struct gowg *wg = job->wg;
	void (*fn)(void *) = job->fn;
	void *arg = job->arg;

	free(job);
	gowg__current = wg;
	fn(arg);
	gowg__current = NULL;
	/* The thread decrements for us (our +1 is still in the counter), as
	 * its last touch of @wg. */
	return wg;
}

int gowg_go(gowg_t *wg, void (*fn)(void *arg), void *arg)
{
	if (!wg || !fn)
		return EINVAL;
	int err = gowg__enter(wg);
	if (err)
		return err;
	struct wg_job *job = malloc(sizeof *job);
	if (!job) {
		err = ENOMEM;
		goto out;
	}
	*job = (struct wg_job){.job.run = wg_job_run, .wg = wg, .fn = fn, .arg = arg};
	err = gowg__add(wg, 1);
	if (err) {
		free(job);
		goto out;
	}
	err = group__spawn(&job->job);
	if (err) {
		free(job);
		gowg__add(wg, -1); /* cannot fail: our +1 is there */
	}
out:
	gowg__leave(wg);
	return err;
}

int gowg_free(gowg_t *wg)
{
	if (!wg)
		return EINVAL;
	int err = gowg__close(wg);
	if (!err)
		free(wg);
	return err;
}

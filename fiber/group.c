/*
 * fiber/group.c - fiber groups: Go's WaitGroup with wg.Go, whose wait parks
 * a fiber (or blocks a thread) through the wait layer (wait/park.h), so a
 * fiber waiting for other fibers frees its worker for them.
 *
 * Everything is under the group's lock (a gowait_lock: held for a few
 * instructions, never across a park).  A waiter puts a parker on its stack
 * into the group's list; the done that brings the count to zero takes the
 * whole list under the lock and completes each waiter after unlocking (a
 * waiter completed may run at once and free the group: nothing of it is
 * touched after the unlock, and gowait__unlock's late wake on a freed word
 * is harmless, wait/lock.h).  Waits have no deadline, so a waiter is never
 * abandoned: the claim CAS always succeeds and only keeps the protocol.
 */
#include <errno.h>
#include <gochan/chan.h>
#include <gochan/fiber.h>
#include <stdlib.h>

#include "fiber/fiber_impl.h"
#include "wait/clock.h"
#include "wait/lock.h"
#include "wait/park.h"

struct group_waiter {
	struct gowait_parker p;
	struct group_waiter *next;
};

struct gofiber_group {
	struct gowait_lock lock;
	long n;                       /* fibers outstanding; under lock */
	unsigned waiting;             /* waits in progress; under lock */
	struct group_waiter *waiters; /* under lock */
};

gofiber_group_t *gofiber_group_new(void)
{
	struct gofiber_group *g = calloc(1, sizeof *g);

	if (!g)
		errno = ENOMEM;
	return g;
}

void gofiber__group_add(struct gofiber_group *g)
{
	gowait__lock(&g->lock);
	g->n++;
	gowait__unlock(&g->lock);
}

void gofiber__group_done(struct gofiber_group *g)
{
	struct group_waiter *w = NULL;

	gowait__lock(&g->lock);
	if (--g->n == 0) {
		w = g->waiters;
		g->waiters = NULL;
	}
	gowait__unlock(&g->lock);
	while (w) {
		struct group_waiter *next = w->next; /* before completing: w dies then */
		/* The claim (acq_rel, wait/park.h; never fails: no deadline);
		 * then the release of gowait__complete publishes everything the
		 * group's fibers did (they all went through this lock before
		 * us). */
		(void)gowait__claim(&w->p, 1);
		gowait__complete(&w->p);
		w = next;
	}
}

int gofiber_group_wait(gofiber_group_t *g)
{
	struct group_waiter w;
	struct gowait__site site = {GOWAIT_OP_FIBER_WAIT, NULL, NULL, __builtin_return_address(0)};

	if (!g)
		return EINVAL;
	gowait__lock(&g->lock);
	if (g->n == 0) { /* the lock's acquire ordered the fibers' work before us */
		gowait__unlock(&g->lock);
		return 0;
	}
	gowait__parker_init(&w.p);
	w.next = g->waiters;
	g->waiters = &w;
	g->waiting++;
	gowait__unlock(&g->lock);
	(void)gowait__park_wait(&w.p, GOWAIT_FOREVER, &site);
	gowait__lock(&g->lock);
	g->waiting--;
	gowait__unlock(&g->lock);
	return 0;
}

int gofiber_group_free(gofiber_group_t *g)
{
	if (!g)
		return EINVAL;
	gowait__lock(&g->lock);
	bool busy = g->n != 0 || g->waiting != 0;

	gowait__unlock(&g->lock);
	if (busy)
		return EBUSY;
	free(g);
	return 0;
}

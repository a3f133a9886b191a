/*
 * fiber/blocking.c - gofiber_run_blocking: a blocking function run on a
 * plain thread of the library's pool (gowg_go, gochan/waitgroup.h) while
 * the fiber that asked is parked through the wait layer (wait/park.h), so
 * its worker runs other fibers meanwhile.
 *
 * The job lives on the parked fiber's stack.  The pool thread runs fn,
 * then claims (never fails: no deadline, one counterpart) and completes the
 * fiber's parker; gowait__complete's release publishes everything fn did to
 * the fiber's acquire, and after it the thread touches the job no more (the
 * fiber may have returned).  The pool's own WaitGroup (one for the process,
 * never waited on) only counts the tasks in flight.
 */
#include <errno.h>
#include <gochan/fiber.h>
#include <gochan/waitgroup.h>
#include <pthread.h>

#include "fiber/fiber_impl.h"
#include "wait/clock.h"
#include "wait/park.h"

struct job {
	void (*fn)(void *);
	void *arg;
	struct gowait_parker p;
};

static gowg_t *pool_wg;
static pthread_once_t pool_once = PTHREAD_ONCE_INIT;

static void pool_init(void)
{
	pool_wg = gowg_new(); /* NULL: every run_blocking reports EAGAIN */
}

static void trampoline(void *arg)
{
	struct job *j = arg;

	j->fn(j->arg);
	(void)gowait__claim(&j->p, 1);
	gowait__complete(&j->p); /* the last access to j */
}

int gofiber_run_blocking(void (*fn)(void *), void *arg)
{
	struct job j = {fn, arg, {0}};
	struct gowait__site site = {GOWAIT_OP_FIBER_WAIT, NULL, NULL, __builtin_return_address(0)};

	if (!fn)
		return EINVAL;
	if (!gofiber__cur) {
		fn(arg);
		return 0;
	}
	pthread_once(&pool_once, pool_init);
	gowait__parker_init(&j.p);
	if (!pool_wg || gowg_go(pool_wg, trampoline, &j) != 0)
		return EAGAIN;
	(void)gowait__park_wait(&j.p, GOWAIT_FOREVER, &site);
	return 0;
}

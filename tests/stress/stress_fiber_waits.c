/*
 * tests/stress/stress_fiber_waits.c - the waits of wait/word.h with threads
 * and fibers on both sides (gochan/fiber.h, gochan/waitgroup.h,
 * gochan/group.h): each round a WaitGroup gets four dones, two from fibers
 * and two from threads, while two fibers (one without deadline, one
 * retrying a short deadline) and this thread wait on it; every wait must
 * return 0 only after all four dones (checked with the work they publish),
 * and the WaitGroup is freed at once.  Then errgroups whose tasks (threads)
 * are waited for by fibers.  Then gotime_shutdown on fibers and on this
 * thread at once, racing with timers that start the timer thread again (a
 * fiber parks in the shutdown's wait for the thread, service/service.c).  Built for ThreadSanitizer too (zig build
 * tsan): the done's release and the wait's acquire are what orders the
 * work, through the word waiter lists and the fiber switches.
 */
#include <errno.h>
#include <gochan/chan.h>
#include <gochan/fiber.h>
#include <gochan/group.h>
#include <gochan/time.h>
#include <gochan/waitgroup.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

#include "stress_check.h"

#define ROUNDS 3000
#define EG_ROUNDS 300
#define EG_TASKS 4
#define DONERS 2

struct round {
	gowg_t *wg;
	long work[4]; /* one slot per done, written before it (plain writes) */
};

static chan_t *to_doners; /* struct fdone (by value) for the threads' dones */

static void check_work(const struct round *r, long i, const char *who)
{
	for (int k = 0; k < 4; k++)
		CHECK(r->work[k] == i, "%s: round %ld slot %d reads %ld", who, i, k, r->work[k]);
}

struct fdone {
	struct round *r;
	int slot;
	long i;
};

static void fiber_done(void *p)
{
	struct fdone *d = p;

	d->r->work[d->slot] = d->i;
	CHECK(gowg_done(d->r->wg) == 0, "fiber done");
}

struct fwait {
	struct round *r;
	long i;
	bool deadline;
};

static void fiber_wait(void *p)
{
	struct fwait *w = p;
	int rc;

	if (w->deadline) {
		while ((rc = gowg_wait_until(w->r->wg, chan_now() + 3000)) == ETIMEDOUT)
			;
	} else {
		rc = gowg_wait(w->r->wg);
	}
	CHECK(rc == 0, "fiber wait %d", rc);
	check_work(w->r, w->i, w->deadline ? "fiber wait_until" : "fiber wait");
}

static void *doner(void *unused)
{
	struct fdone d;
	bool ok;

	(void)unused;
	while (chan_recv(to_doners, &d, &ok) == 0 && ok) {
		d.r->work[d.slot] = d.i;
		CHECK(gowg_done(d.r->wg) == 0, "thread done");
	}
	return NULL;
}

static void waitgroups(void)
{
	pthread_t th[DONERS];

	to_doners = chan_new(sizeof(struct fdone), 0);
	for (int k = 0; k < DONERS; k++)
		pthread_create(&th[k], NULL, doner, NULL);
	for (long i = 0; i < ROUNDS; i++) {
		struct round r = {gowg_new(), {-1, -1, -1, -1}};
		struct fdone d[4] = {{&r, 0, i}, {&r, 1, i}, {&r, 2, i}, {&r, 3, i}};
		struct fwait w[2] = {{&r, i, false}, {&r, i, true}};
		gofiber_group_t *g = gofiber_group_new();

		CHECK(r.wg && g, "alloc");
		CHECK(gowg_add(r.wg, 4) == 0, "add");
		CHECK(gofiber_go(g, fiber_wait, &w[i & 1]) == 0, "go");
		CHECK(gofiber_go(g, fiber_done, &d[0]) == 0, "go");
		CHECK(chan_send(to_doners, &d[2]) == 0, "hand to a thread");
		CHECK(gofiber_go(g, fiber_wait, &w[!(i & 1)]) == 0, "go");
		CHECK(gofiber_go(g, fiber_done, &d[1]) == 0, "go");
		CHECK(chan_send(to_doners, &d[3]) == 0, "hand to a thread");
		CHECK(gowg_wait(r.wg) == 0, "thread wait");
		check_work(&r, i, "thread wait");
		CHECK(gofiber_group_wait(g) == 0, "group wait");
		CHECK(gowg_free(r.wg) == 0, "free");
		gofiber_group_free(g);
	}
	chan_close(to_doners);
	for (int k = 0; k < DONERS; k++)
		pthread_join(th[k], NULL);
	chan_unref(to_doners);
}

/* ---- errgroups waited for by fibers ---- */

struct eg {
	gogroup_t *g;
	long out[EG_TASKS];
	long i;
};

struct eg_task {
	struct eg *e;
	int k;
};

static int eg_task(void *p)
{
	struct eg_task *t = p;

	t->e->out[t->k] = t->e->i * 10 + t->k;
	return t->k == 2 ? 7 : 0;
}

static void eg_fiber(void *p)
{
	struct eg *e = p;
	struct eg_task t[EG_TASKS];
	int first = -1;

	for (int k = 0; k < EG_TASKS; k++) {
		t[k] = (struct eg_task){e, k};
		CHECK(gogroup_go(e->g, eg_task, &t[k]) == 0, "gogroup_go");
	}
	CHECK(gogroup_wait_until(e->g, CHAN_FOREVER, &first) == 0, "gogroup wait");
	CHECK(first == 7, "first %d", first);
	for (int k = 0; k < EG_TASKS; k++)
		CHECK(e->out[k] == e->i * 10 + k, "task %d out %ld", k, e->out[k]);
}

static void errgroups(void)
{
	for (long i = 0; i < EG_ROUNDS; i++) {
		struct eg e[2] = {{gogroup_new(), {0}, i}, {gogroup_new(), {0}, i + 1}};
		gofiber_group_t *g = gofiber_group_new();

		CHECK(e[0].g && e[1].g && g, "alloc");
		/* One limited to one task at a time: its starts park too. */
		CHECK(gogroup_set_limit(e[1].g, 1) == 0, "limit");
		CHECK(gofiber_go(g, eg_fiber, &e[0]) == 0, "go");
		CHECK(gofiber_go(g, eg_fiber, &e[1]) == 0, "go");
		CHECK(gofiber_group_wait(g) == 0, "group wait");
		CHECK(gogroup_free(e[0].g) == 0 && gogroup_free(e[1].g) == 0, "free");
		gofiber_group_free(g);
	}
}

/* ---- timer shutdowns on fibers ---- */

#define SD_ROUNDS 300

static atomic_long fired;

static void tick(void *unused)
{
	(void)unused;
	atomic_fetch_add_explicit(&fired, 1, memory_order_relaxed);
}

static void shutdown_fiber(void *unused)
{
	(void)unused;
	for (int i = 0; i < 4; i++) {
		gotime_timer_t *t = gotime_after_func_at(chan_now(), tick, NULL);
		CHECK(t != NULL, "timer");
		int rc = gotime_shutdown();
		CHECK(rc == 0 || rc == EBUSY, "fiber shutdown %d", rc);
		gotime_timer_free(t);
	}
}

static void shutdowns(void)
{
	for (int i = 0; i < SD_ROUNDS; i++) {
		gofiber_group_t *g = gofiber_group_new();

		CHECK(g != NULL, "alloc");
		CHECK(gofiber_go(g, shutdown_fiber, NULL) == 0, "go");
		CHECK(gofiber_go(g, shutdown_fiber, NULL) == 0, "go");
		int rc = gotime_shutdown();
		CHECK(rc == 0 || rc == EBUSY, "thread shutdown %d", rc);
		CHECK(gofiber_group_wait(g) == 0, "group wait");
		gofiber_group_free(g);
	}
	/* Every timer fired or was freed (stopped), and none runs a thread of
	 * its own: nothing is pending, so the last shutdown succeeds. */
	int rc = gotime_shutdown();

	CHECK(rc == 0, "final shutdown %d", rc);
}

int main(void)
{
	waitgroups();
	errgroups();
	shutdowns();
	printf("stress_fiber_waits: %ld checks passed, %ld failed\n", atomic_load(&passed),
	       atomic_load(&failed));
	return atomic_load(&failed) == 0 ? 0 : 1;
}

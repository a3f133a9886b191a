/*
 * tests/test_wait_agent.c - the wait layer's agent interface (wait/park.h):
 * a second kind of waiter behind the same park / complete calls.
 *
 * No fiber runtime exists yet, so the "fibers" here are threads that the
 * test's ops declare to be agents: ops.self returns a per-thread agent
 * record, ops.park implements the protocol wait/park.h asks of a fiber
 * runtime (commit with the CAS futex 0 -> 2, wait for ready() or the
 * deadline, then the abandon CAS), and ops.ready wakes the agent through a
 * word of its own.  What is checked is the wait layer's side: that a parker
 * made on an agent carries it, that the park goes through ops.park and the
 * completion through ops.ready (never FUTEX_WAKE on the parker), that a
 * deadline abandons, that plain threads are untouched while ops are
 * installed, and that the dump lists a parked agent as a fiber.  Each
 * Criterion test runs in a process of its own, so installing ops here
 * touches no other test.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <gochan/chan.h>
#include <gochan/diag.h>
#include <gochan/time.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "tests/leakcheck.h"
#include "tests/testutil.h"
#include "wait/futex.h"
#include "wait/park.h"

TU_LEAK_CHECKED_SUITE(wait_agent);

struct agent {
	_Atomic uint32_t wake;      /* ready() sets 1 and wakes it */
	_Atomic uint32_t committed; /* park: the 0 -> 2 CAS succeeded */
	_Atomic uint32_t readies;   /* ready() calls on this agent */
};

static _Thread_local struct agent *self_agent;
static _Atomic uint32_t parks; /* ops.park calls, all agents */

static void *t_self(void)
{
	return self_agent;
}

static void t_ready(void *a)
{
	struct agent *ag = a;

	atomic_fetch_add_explicit(&ag->readies, 1, memory_order_relaxed);
	/* release: pairs with the acquire load in wait_ready. */
	atomic_store_explicit(&ag->wake, 1, memory_order_release);
	gowait__futex_wake(&ag->wake, 1);
}

/* Wait for ready() (or @deadline); true if it came. */
static bool wait_ready(struct agent *ag, int64_t deadline)
{
	while (!atomic_exchange_explicit(&ag->wake, 0, memory_order_acquire))
		if (gowait__futex_wait(&ag->wake, 0, deadline) == ETIMEDOUT &&
		    !atomic_load_explicit(&ag->wake, memory_order_acquire))
			return false;
	return true;
}

static bool complete(struct gowait_parker *p)
{
	return atomic_load_explicit(&p->futex, memory_order_acquire) == 1;
}

/* What a fiber runtime's park must do (wait/park.h, the agent interface). */
static int t_park(struct gowait_parker *p, int64_t deadline)
{
	struct agent *ag = p->agent;
	uint32_t expected = 0;

	atomic_fetch_add_explicit(&parks, 1, memory_order_relaxed);
	cr_assert_eq(ag, self_agent, "the parker carries the agent that made it");
	/* The commit (Go's unlockf): from now on the completer calls ready(). */
	if (!atomic_compare_exchange_strong_explicit(&p->futex, &expected, 2, memory_order_acquire,
						     memory_order_acquire))
		return 0; /* completed before we committed: resumed at once */
	atomic_store_explicit(&ag->committed, 1, memory_order_release);
	while (!complete(p)) {
		if (wait_ready(ag, deadline))
			continue;
		/* Deadline: abandon, unless a completer claimed us first. */
		uint32_t w = GOWAIT_PARK_WAITING;

		if (atomic_compare_exchange_strong_explicit(&p->state, &w, GOWAIT_PARK_ABANDONED,
							    memory_order_acq_rel,
							    memory_order_acquire))
			return ETIMEDOUT;
		while (!complete(p))
			(void)wait_ready(ag, -1);
	}
	return 0;
}

static const struct gowait_fiber_ops ops = {t_self, t_park, t_ready, NULL};

struct job {
	chan_t *c;
	struct agent ag;
	int64_t deadline;
	int value, rc;
	bool ok;
};

static void *agent_recv(void *p)
{
	struct job *j = p;

	self_agent = &j->ag;
	j->rc = chan_recv_until(j->c, &j->value, &j->ok, j->deadline);
	self_agent = NULL;
	return NULL;
}

static void wait_committed(struct agent *ag)
{
	int64_t give_up = chan_deadline_in(60 * GOTIME_SECOND);

	while (!atomic_load_explicit(&ag->committed, memory_order_acquire)) {
		cr_assert_lt(chan_now(), give_up, "the agent never parked");
		sched_yield();
	}
}

/* A parked agent is completed through ready(), and gets the value. */
Test(wait_agent, completion_goes_through_ready, .timeout = 120)
{
	gowait__set_fiber_ops(&ops);
	for (int round = 0; round < 100; round++) {
		struct job j = {.c = chan_new(sizeof(int), 0), .deadline = CHAN_FOREVER, .rc = -1};
		/* A thread in fiber mode too: the agent of this test's fiber ops. */
		tu_go_t th = tu_spawn_thread(agent_recv, &j);
		int v = round;

		wait_committed(&j.ag);
		cr_assert_eq(chan_send(j.c, &v), 0);
		tu_join(th);
		cr_assert_eq(j.rc, 0);
		cr_assert(j.ok);
		cr_assert_eq(j.value, round);
		cr_assert_eq(atomic_load(&j.ag.readies), 1, "one ready() per completion");
		cr_assert_eq(chan_unref(j.c), 0);
	}
	cr_assert_geq(atomic_load(&parks), 100);
	gowait__set_fiber_ops(NULL);
}

/* A deadline abandons the agent's parker: ETIMEDOUT, no ready(), and the
 * channel holds no stale waiter (a send afterwards does not complete it). */
Test(wait_agent, deadline_abandons, .timeout = 120)
{
	gowait__set_fiber_ops(&ops);
	struct job j = {.c = chan_new(sizeof(int), 0),
			.deadline = chan_deadline_in(2 * GOTIME_MILLISECOND),
			.rc = -1};
	/* A thread in fiber mode too: the agent of this test's fiber ops. */
	tu_go_t th = tu_spawn_thread(agent_recv, &j);

	tu_join(th);
	cr_assert_eq(j.rc, ETIMEDOUT);
	cr_assert_eq(atomic_load(&j.ag.readies), 0);
	int v = 1;
	cr_assert_eq(chan_try_send(j.c, &v), EAGAIN, "no receiver left queued");
	cr_assert_eq(chan_unref(j.c), 0);
	gowait__set_fiber_ops(NULL);
}

struct plain {
	chan_t *c;
	int value, rc;
	bool ok;
};

static void *plain_recv(void *p)
{
	struct plain *j = p;

	j->rc = chan_recv(j->c, &j->value, &j->ok);
	return NULL;
}

/* With ops installed, a plain thread (self() NULL) still parks as a thread. */
Test(wait_agent, threads_unaffected, .timeout = 120)
{
	gowait__set_fiber_ops(&ops);
	uint32_t before = atomic_load(&parks);

	for (int round = 0; round < 100; round++) {
		struct plain j = {.c = chan_new(sizeof(int), 0), .rc = -1};
		/* A thread in fiber mode too: a fiber would park through fake ops. */
		tu_go_t th = tu_spawn_thread(plain_recv, &j);
		int v = round;

		cr_assert_eq(chan_send(j.c, &v), 0);
		tu_join(th);
		cr_assert_eq(j.rc, 0);
		cr_assert_eq(j.value, round);
		cr_assert_eq(chan_unref(j.c), 0);
	}
	cr_assert_eq(atomic_load(&parks), before, "no thread went through ops.park");
	gowait__set_fiber_ops(NULL);
}

/* The dump lists a parked agent as a fiber (tid 0, "fiber"). */
Test(wait_agent, dump_shows_fiber, .timeout = 120)
{
	gowait__set_fiber_ops(&ops);
	struct job j = {.c = chan_new(sizeof(int), 0), .deadline = CHAN_FOREVER, .rc = -1};
	/* A thread in fiber mode too: the agent of this test's fiber ops. */
	tu_go_t th = tu_spawn_thread(agent_recv, &j);

	wait_committed(&j.ag);
	char *json = godiag_dump_json();

	cr_assert_not_null(json);
	cr_assert_not_null(strstr(json, "\"tid\":0"), "%s", json);
	cr_assert_not_null(strstr(json, "\"fiber\":\"0x"), "%s", json);
	free(json);
	cr_assert_eq(chan_close(j.c), 0);
	tu_join(th);
	cr_assert_eq(j.rc, 0);
	cr_assert_not(j.ok);
	cr_assert_eq(chan_unref(j.c), 0);
	gowait__set_fiber_ops(NULL);
}

/*
 * tests/test_group_pool.c - the reuse of idle task threads (group/spawn.c):
 * a task started while a thread is idle runs on that thread; idle threads
 * exit after the idle timeout (none is left once the work stops); at most
 * GROUP_POOL_MAX_IDLE wait at once; reuse off means a fresh thread per
 * task; and a child process after fork() does not hand tasks to the
 * parent's idle threads, which it does not have.
 *
 * Waits are for conditions (group__pool_wait_idle, gosvc__threads_wait),
 * never sleeps; the checks that something does NOT happen are bounded waits.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <gochan/chan.h>
#include <gochan/group.h>
#include <gochan/waitgroup.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

#include "service/threads.h"
#include "group/group_internal.h"
#include "tests/leakcheck.h"

TU_LEAK_CHECKED_SUITE(group_pool);

#define SECOND ((int64_t)1000000000)
#define MS ((int64_t)1000000)

static void record_self(void *p)
{
	*(pthread_t *)p = pthread_self();
}

static int record_self_int(void *p)
{
	record_self(p);
	return 0;
}

Test(group_pool, idle_thread_is_reused_then_exits, .timeout = 30)
{
	gowg_t *wg = gowg_new();
	gogroup_t *g = gogroup_new();
	pthread_t a, b, c;
	cr_assert(wg && g);
	/* No idle timeout can pass on a loaded machine while we check reuse. */
	group__pool_set_idle_ns(1000 * SECOND);
	cr_assert_eq(gowg_go(wg, record_self, &a), 0);
	cr_assert_eq(gowg_wait(wg), 0);
	cr_assert_eq(group__pool_wait_idle(1, chan_now() + 10 * SECOND), 0,
		     "the task's thread waits idle");
	cr_assert_eq(gosvc__threads_alive(GODIAG_THREAD_GROUP), 1, "one thread, idle");
	cr_assert_eq(gowg_go(wg, record_self, &b), 0);
	cr_assert_eq(gowg_wait(wg), 0);
	cr_assert(pthread_equal(a, b), "the second task ran on the idle thread");
	cr_assert_eq(group__pool_wait_idle(1, chan_now() + 10 * SECOND), 0);
	cr_assert_eq(gogroup_go(g, record_self_int, &c), 0, "errgroup tasks share the pool");
	cr_assert_eq(gogroup_wait(g), 0);
	cr_assert(pthread_equal(a, c));
	/* Gone when unused: the default idle timeout (re-read by the idle
	 * thread) ends it. */
	group__pool_set_idle_ns(GROUP_POOL_IDLE_NS);
	cr_assert_eq(gosvc__threads_wait(chan_now() + 10 * SECOND), 0, "the idle thread exits");
	cr_assert_eq(gosvc__threads_alive(GODIAG_THREAD_GROUP), 0);
	cr_assert_eq(gowg_free(wg), 0);
	cr_assert_eq(gogroup_free(g), 0);
}

Test(group_pool, reuse_off_gives_fresh_threads, .timeout = 30)
{
	gowg_t *wg = gowg_new();
	pthread_t a;
	cr_assert_not_null(wg);
	cr_assert_eq(group__pool_set_idle_ns(0), GROUP_POOL_IDLE_NS, "the default");
	for (int i = 0; i < 20; i++) {
		cr_assert_eq(gowg_go(wg, record_self, &a), 0);
		cr_assert_eq(gowg_wait(wg), 0);
		cr_assert_eq(gosvc__threads_wait(chan_now() + 10 * SECOND), 0,
			     "the thread exits as soon as its task returned");
	}
	cr_assert_eq(group__pool_wait_idle(1, chan_now() + 20 * MS), ETIMEDOUT,
		     "no thread waits idle");
	cr_assert_eq(group__pool_set_idle_ns(GROUP_POOL_IDLE_NS), 0);
	cr_assert_eq(gowg_free(wg), 0);
}

Test(group_pool, setting_reuse_off_ends_idle_threads, .timeout = 30)
{
	gowg_t *wg = gowg_new();
	pthread_t a;
	cr_assert_not_null(wg);
	/* A very long idle timeout, then off: the idle thread must not wait
	 * out its old deadline. */
	group__pool_set_idle_ns(1000 * SECOND);
	cr_assert_eq(gowg_go(wg, record_self, &a), 0);
	cr_assert_eq(gowg_wait(wg), 0);
	cr_assert_eq(group__pool_wait_idle(1, chan_now() + 10 * SECOND), 0);
	group__pool_set_idle_ns(0);
	cr_assert_eq(gosvc__threads_wait(chan_now() + 10 * SECOND), 0);
	group__pool_set_idle_ns(GROUP_POOL_IDLE_NS);
	cr_assert_eq(gowg_free(wg), 0);
}

static int wait_gate(void *p)
{
	return chan_recv((chan_t *)p, NULL, NULL);
}

Test(group_pool, at_most_max_idle_threads_wait, .timeout = 60)
{
	enum {
		N = GROUP_POOL_MAX_IDLE + 16
	};
	gogroup_t *g = gogroup_new();
	chan_t *gate = chan_new(0, 0);
	cr_assert(g && gate);
	group__pool_set_idle_ns(1000 * SECOND); /* no thread times out meanwhile */
	/* N tasks at once, so N threads; they all finish together. */
	for (int i = 0; i < N; i++)
		cr_assert_eq(gogroup_go(g, wait_gate, gate), 0);
	cr_assert_eq(gosvc__threads_alive(GODIAG_THREAD_GROUP), N);
	cr_assert_eq(chan_close(gate), 0);
	cr_assert_eq(gogroup_wait(g), 0);
	cr_assert_eq(group__pool_wait_idle(GROUP_POOL_MAX_IDLE, chan_now() + 10 * SECOND), 0);
	cr_assert_eq(group__pool_wait_idle(GROUP_POOL_MAX_IDLE + 1, chan_now() + 20 * MS),
		     ETIMEDOUT, "more idle threads than GROUP_POOL_MAX_IDLE");
	/* A second wave reuses the idle threads (and creates the rest). */
	gate = (chan_unref(gate), chan_new(0, 0));
	cr_assert_not_null(gate);
	for (int i = 0; i < N; i++)
		cr_assert_eq(gogroup_go(g, wait_gate, gate), 0);
	cr_assert_eq(gosvc__threads_alive(GODIAG_THREAD_GROUP), N,
		     "idle threads took tasks: no more threads than tasks");
	cr_assert_eq(chan_close(gate), 0);
	cr_assert_eq(gogroup_wait(g), 0);
	group__pool_set_idle_ns(GROUP_POOL_IDLE_NS);
	cr_assert_eq(gosvc__threads_wait(chan_now() + 10 * SECOND), 0);
	cr_assert_eq(gogroup_free(g), 0);
	chan_unref(gate);
}

static void nothing(void *p)
{
	(void)p;
}

Test(group_pool, fork_child_does_not_use_parent_threads, .timeout = 30)
{
	gowg_t *wg = gowg_new();
	cr_assert_not_null(wg);
	cr_assert_eq(gowg_go(wg, nothing, NULL), 0);
	cr_assert_eq(gowg_wait(wg), 0);
	cr_assert_eq(group__pool_wait_idle(1, chan_now() + 10 * SECOND), 0);
	pid_t pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		/* The parent's idle thread does not exist here: the task must
		 * get a thread of its own and run. */
		int rc = gowg_go(wg, nothing, NULL);
		if (rc == 0)
			rc = gowg_wait_until(wg, chan_now() + 10 * SECOND);
		_exit(rc == 0 ? 0 : 10 + rc);
	}
	int status = 0;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
	cr_assert_eq(gowg_go(wg, nothing, NULL), 0, "the parent's pool still works");
	cr_assert_eq(gowg_wait(wg), 0);
	cr_assert_eq(gowg_free(wg), 0);
}

/* A task's thread counts itself idle before the decrement that releases the
 * wait, so go right after wait always finds it: one thread for the whole
 * sequence, without waiting for it to become idle. */
Test(group_pool, go_after_wait_always_reuses, .timeout = 30)
{
	gowg_t *wg = gowg_new();
	gogroup_t *g = gogroup_new();
	pthread_t first, t;
	cr_assert(wg && g);
	group__pool_set_idle_ns(1000 * SECOND);
	cr_assert_eq(gowg_go(wg, record_self, &first), 0);
	cr_assert_eq(gowg_wait(wg), 0);
	for (int i = 0; i < 200; i++) {
		if (i % 2) {
			cr_assert_eq(gowg_go(wg, record_self, &t), 0);
			cr_assert_eq(gowg_wait(wg), 0);
		} else {
			cr_assert_eq(gogroup_go(g, record_self_int, &t), 0);
			cr_assert_eq(gogroup_wait(g), 0);
		}
		cr_assert(pthread_equal(t, first), "round %d ran on another thread", i);
	}
	cr_assert_eq(gosvc__threads_alive(GODIAG_THREAD_GROUP), 1);
	group__pool_set_idle_ns(GROUP_POOL_IDLE_NS);
	cr_assert_eq(gosvc__threads_wait(chan_now() + 10 * SECOND), 0);
	cr_assert_eq(gowg_free(wg), 0);
	cr_assert_eq(gogroup_free(g), 0);
}

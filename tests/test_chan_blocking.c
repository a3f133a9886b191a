/*
 * tests/test_chan_blocking.c - how blocking behaves (gochan/chan.h
 * "Blocking"): a blocked operation spins only briefly and then sleeps (it
 * does not burn CPU while it waits), deadline waits sleep too, and channels
 * start no library threads.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <gochan/chan.h>
#include <time.h>

#include "tests/leakcheck.h"
#include "testutil.h"

TU_LEAK_CHECKED_SUITE(chan_blocking);

#define MS ((int64_t)1000000)

static int64_t thread_cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Threads of this process right now. */
static int count_threads(void)
{
	DIR *d = opendir("/proc/self/task");
	int n = 0;
	struct dirent *e;
	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

struct cpu_arg {
	chan_t *c;
	int mode; /* 0 recv, 1 send, 2 recv_until (times out), 3 send_until (times out) */
	int rc;
	int64_t cpu_ns, wall_ns;
	tu_blocker_t blk;
};
static void *cpu_waiter(void *p)
{
	struct cpu_arg *a = p;
	int v = 1;
	int64_t c0 = thread_cpu_ns(), w0 = tu_now_ns();
	tu_about_to_block(&a->blk);
	switch (a->mode) {
	case 0:
		a->rc = chan_recv(a->c, &v, NULL);
		break;
	case 1:
		a->rc = chan_send(a->c, &v);
		break;
	case 2:
		a->rc = chan_recv_until(a->c, &v, NULL, chan_deadline_in(200 * MS));
		break;
	default:
		a->rc = chan_send_until(a->c, &v, chan_deadline_in(200 * MS));
		break;
	}
	a->cpu_ns = thread_cpu_ns() - c0;
	a->wall_ns = tu_now_ns() - w0;
	return NULL;
}

/* Wait ~200 ms without touching @c (a timed wait on a private channel). */
static void pause_200ms(void)
{
	chan_t *idle = chan_new(0, 0);
	cr_assert_eq(chan_recv_until(idle, NULL, NULL, chan_deadline_in(200 * MS)), ETIMEDOUT);
	chan_unref(idle);
}

static void check_sleeps(int mode)
{
	chan_t *c = chan_new(sizeof(int), 0);
	struct cpu_arg a = {.c = c, .mode = mode, .rc = -1};
	tu_go_t th = tu_spawn(cpu_waiter, &a);
	cr_assert(tu_wait_blocked(&a.blk, TU_BLOCK_TIMEOUT_NS));
	if (mode < 2) {
		pause_200ms();
		int v = 2;
		if (mode == 0)
			cr_assert_eq(chan_send(c, &v), 0);
		else
			cr_assert_eq(chan_recv(c, &v, NULL), 0);
	}
	tu_join(th);
	cr_assert_eq(a.rc, mode < 2 ? 0 : ETIMEDOUT);
	cr_assert_geq(a.wall_ns, 150 * MS);
	/* Spinning is bounded to microseconds; allow generous slack for a
	 * slow, shared machine and sanitizers, far below the 200 ms waited. */
	cr_assert_lt(a.cpu_ns, 40 * MS, "mode %d: blocked %lld ms and used %lld ms of CPU", mode,
		     (long long)(a.wall_ns / MS), (long long)(a.cpu_ns / MS));
	cr_assert_eq(chan_unref(c), 0);
}
Test(chan_blocking, blocked_recv_sleeps, .timeout = 10)
{
	check_sleeps(0);
}
Test(chan_blocking, blocked_send_sleeps, .timeout = 10)
{
	check_sleeps(1);
}
Test(chan_blocking, recv_until_sleeps, .timeout = 10)
{
	check_sleeps(2);
}
Test(chan_blocking, send_until_sleeps, .timeout = 10)
{
	check_sleeps(3);
}

/* Channels, including their deadline waits, run on the caller's threads only. */
Test(chan_blocking, no_library_threads, .timeout = 10)
{
	int before = count_threads();
	cr_assert_gt(before, 0);
	chan_t *c = chan_new(sizeof(int), 1);
	int v = 1;
	cr_assert_eq(chan_send(c, &v), 0);
	cr_assert_eq(chan_recv(c, &v, NULL), 0);
	cr_assert_eq(chan_recv_until(c, &v, NULL, chan_deadline_in(5 * MS)), ETIMEDOUT);
	cr_assert_eq(chan_send(c, &v), 0);
	cr_assert_eq(chan_send_until(c, &v, chan_deadline_in(5 * MS)), ETIMEDOUT);
	cr_assert_eq(count_threads(), before, "a channel operation started a thread");
	cr_assert_eq(chan_close(c), 0);
	cr_assert_eq(chan_unref(c), 0);
	cr_assert_eq(count_threads(), before);
}

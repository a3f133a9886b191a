/*
 * tests/test_service.c - the one service-thread mechanism (service/service.h)
 * and the CLOCK_MONOTONIC waits (wait/cond.h): a test service of its own
 * started lazily, idling out after its linger, shut down (0, EBUSY,
 * EDEADLK), joined when joinable, cycled thousands of times with the count
 * 0 after every shutdown; then each of the library's six service threads
 * (timer, timer AfterFunc, context AfterFunc, poller, group pool, dump)
 * cycled through start, idle exit or shutdown and restart, its count 0 at
 * once after each.  Every wait is for an event, never a sleep;
 * tests/stress/stress_service.c runs the same cycles longer and under TSan.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <gochan/chan.h>
#include <gochan/context.h>
#include <gochan/diag.h>
#include <gochan/poll.h>
#include <gochan/time.h>
#include <gochan/waitgroup.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <unistd.h>

#include "context/ctx_internal.h"
#include "diag/diag_internal.h"
#include "group/group_internal.h"
#include "poll/poll_internal.h"
#include "service/service.h"
#include "service/threads.h"
#include "tests/leakcheck.h"
#include "timer/timer_internal.h"
#include "wait/cond.h"
#include "wait/debug.h"

TU_LEAK_CHECKED_SUITE(service);

#define ROUNDS 1000

/* The rank of this file's mutexes (wait/lockrank.h): a gowait__cond_wait_until
 * mutex, and a service's lock, must be one of the table taken with its rank
 * (checked in debug-test).  The test service counts its threads as group
 * threads, so its lock ranks as the group pool's, below the thread counter. */
#define T_RANK GOWAIT_LOCKRANK_GROUP_POOL

/* ---- wait/cond.h ------------------------------------------------------------ */

Test(service, timespec_conversion)
{
	struct timespec ts = gowait__timespec(INT64_C(1500000000));
	cr_assert_eq(ts.tv_sec, 1);
	cr_assert_eq(ts.tv_nsec, 500000000);
	ts = gowait__timespec(-5);
	cr_assert(ts.tv_sec == 0 && ts.tv_nsec == 0, "a negative time is 0");
	ts = gowait__timespec(INT64_MAX);
	cr_assert_eq(ts.tv_nsec, INT64_MAX % 1000000000);
}

Test(service, cond_wait_until_past_deadline_times_out)
{
	pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	pthread_cond_t cv;

	gowait__cond_init(&cv);
	gowait__mutex_lock(&mu, T_RANK);
	cr_assert_eq(gowait__cond_wait_until(&cv, &mu, chan_now() - 1), ETIMEDOUT);
	cr_assert_eq(gowait__cond_wait_until(&cv, &mu, -7), ETIMEDOUT, "negative: past");
	gowait__mutex_unlock(&mu, T_RANK);
	pthread_cond_destroy(&cv);
}

/* ---- a test service --------------------------------------------------------- */

/* Work is a count of items under t_mu; the thread takes them one by one and
 * idles (on t_cv) when there are none. */
static pthread_mutex_t t_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t t_cv, t_done_cv;
static int t_work;
static long t_done;
static int t_self_rc = -1; /* gosvc__shutdown called on the thread itself */
static struct gosvc tsvc =
	GOSVC_INIT(&t_mu, T_RANK, GODIAG_THREAD_GROUP, GOSVC_LINGER_FOREVER, false);

static void t_init(int64_t linger, bool joinable)
{
	gowait__cond_init(&t_cv);
	gowait__cond_init(&t_done_cv);
	tsvc.linger_ns = linger;
	tsvc.joinable = joinable;
}

static void *t_main(void *arg)
{
	int64_t since = GOSVC_BUSY, wake;

	gosvc__enter(&tsvc);
	if (arg)
		t_self_rc = gosvc__shutdown(&tsvc, NULL, NULL);
	gowait__mutex_lock(&t_mu, T_RANK);
	for (;;) {
		if (t_work > 0) {
			t_work--;
			t_done++;
			pthread_cond_broadcast(&t_done_cv);
			since = GOSVC_BUSY;
			continue;
		}
		if (gosvc__idle_expired_locked(&tsvc, &since, &wake))
			break;
		(void)gowait__cond_wait_until(&t_cv, &t_mu, wake);
	}
	gosvc__leave_locked(&tsvc);
	return NULL;
}

/* Hand one item to the service, starting its thread if none is live, and
 * wait until it is done. */
static void t_do_one(void)
{
	gowait__mutex_lock(&t_mu, T_RANK);
	long want = t_done + 1;
	t_work++;
	cr_assert_eq(gosvc__ensure_locked(&tsvc, t_main, NULL), 0);
	pthread_cond_signal(&t_cv);
	while (t_done < want)
		(void)gowait__cond_wait_until(&t_done_cv, &t_mu, CHAN_FOREVER);
	gowait__mutex_unlock(&t_mu, T_RANK);
}

static void t_wake(void)
{
	pthread_cond_broadcast(&t_cv);
}

static int t_busy(void)
{
	return t_work > 0 ? EBUSY : 0;
}

Test(service, started_lazily_one_thread)
{
	t_init(GOSVC_LINGER_FOREVER, false);
	cr_assert_eq(gosvc__live(&tsvc), 0, "no thread before the first work");
	cr_assert_eq(godiag_threads(), 0);
	for (int i = 0; i < 10; i++)
		t_do_one();
	cr_assert_eq(gosvc__live(&tsvc), 1, "one thread serves all");
	cr_assert_eq(gosvc__started(&tsvc), 1);
	cr_assert_eq(gosvc__threads_alive(GODIAG_THREAD_GROUP), 1);
	cr_assert_eq(gosvc__shutdown(&tsvc, t_busy, t_wake), 0);
	cr_assert_eq(gosvc__live(&tsvc), 0);
	cr_assert_eq(godiag_threads(), 0, "shutdown returned with the thread counted");
}

Test(service, idles_out_after_linger_and_restarts)
{
	t_init(1000000 /* 1 ms */, false);
	for (int i = 0; i < 50; i++) {
		t_do_one();
		cr_assert_eq(gosvc__wait_gone(&tsvc, CHAN_FOREVER), 0);
		cr_assert_eq(godiag_threads(), 0, "round %d: counted after it left", i);
	}
	cr_assert_eq(gosvc__started(&tsvc), 50, "a new thread for each round");
}

Test(service, idle_linger_is_respected)
{
	const int64_t linger = 100000000; /* 100 ms */

	t_init(linger, false);
	int64_t t0 = chan_now(); /* the thread's idle clock starts after this */
	t_do_one();
	/* Lower bounds only: a slow machine makes the thread late, never early. */
	unsigned live = gosvc__live(&tsvc);
	int64_t t1 = chan_now();
	if (live == 0)
		cr_assert_geq(t1 - t0, linger, "left %lld ns after its work, linger %lld",
			      (long long)(t1 - t0), (long long)linger);
	cr_assert_eq(gosvc__wait_gone(&tsvc, CHAN_FOREVER), 0);
	cr_assert_geq(chan_now() - t0, linger);
}

Test(service, shutdown_busy_and_deadlock)
{
	t_init(GOSVC_LINGER_FOREVER, false);
	t_do_one();
	gowait__mutex_lock(&t_mu, T_RANK);
	t_work = 1000000; /* pretend: work pending that the thread has not taken */
	cr_assert_eq(gosvc__shutdown_locked(&tsvc, t_busy, t_wake), EBUSY);
	t_work = 0;
	gowait__mutex_unlock(&t_mu, T_RANK);
	cr_assert_eq(gosvc__shutdown(&tsvc, t_busy, t_wake), 0);

	/* On its own thread: EDEADLK. */
	gowait__mutex_lock(&t_mu, T_RANK);
	cr_assert_eq(gosvc__start_locked(&tsvc, t_main, (void *)1), 0);
	gowait__mutex_unlock(&t_mu, T_RANK);
	t_do_one(); /* ordered after the thread's own call, which precedes its loop */
	cr_assert_eq(t_self_rc, EDEADLK);
	cr_assert_eq(gosvc__shutdown(&tsvc, t_busy, t_wake), 0);
	cr_assert_eq(godiag_threads(), 0);
}

Test(service, joinable_is_joined)
{
	t_init(GOSVC_LINGER_FOREVER, true);
	for (int i = 0; i < 100; i++) {
		t_do_one();
		cr_assert_eq(gosvc__shutdown(&tsvc, t_busy, t_wake), 0);
		cr_assert_eq(godiag_threads(), 0);
		cr_assert(!tsvc.unjoined, "round %d: not joined", i);
	}
}

Test(service, start_shutdown_cycles, .timeout = 120)
{
	t_init(GOSVC_LINGER_FOREVER, false);
	for (int i = 0; i < 5 * ROUNDS; i++) {
		t_do_one();
		cr_assert_eq(gosvc__shutdown(&tsvc, t_busy, t_wake), 0);
		cr_assert_eq(godiag_threads(), 0, "round %d", i);
	}
}

/* ---- the library's service threads ----------------------------------------- */

static void signal_fn(void *arg)
{
	int64_t v = 1;
	cr_assert_eq(chan_send(arg, &v), 0);
}

static void recv1(chan_t *c)
{
	int64_t v;
	cr_assert_eq(chan_recv(c, &v, NULL), 0);
}

Test(service, timer_thread_cycles, .timeout = 120)
{
	for (int i = 0; i < ROUNDS; i++) {
		bool idle_exit = i % 2;
		gotime__set_linger_ns(idle_exit ? 0 : GOTIME_IDLE_LINGER_NS);
		chan_t *c = gotime_after(0);
		cr_assert_not_null(c);
		recv1(c);
		chan_unref(c);
		if (idle_exit)
			cr_assert_eq(gotime__wait_thread_exit(CHAN_FOREVER), 0);
		else
			cr_assert_eq(gotime_shutdown(), 0);
		cr_assert_eq(godiag_threads(), 0, "round %d", i);
	}
	gotime__set_linger_ns(GOTIME_IDLE_LINGER_NS);
}

Test(service, timer_afterfunc_cycles, .timeout = 120)
{
	chan_t *ev = chan_new(sizeof(int64_t), 1);
	for (int i = 0; i < ROUNDS; i++) {
		gotime_timer_t *t = gotime_after_func(0, signal_fn, ev);
		cr_assert_not_null(t);
		recv1(ev);
		cr_assert_eq(gotime__wait_afterfuncs(CHAN_FOREVER), 0);
		cr_assert_eq(gosvc__threads_alive(GODIAG_THREAD_AFTERFUNC), 0,
			     "round %d: the function returned but its thread is counted", i);
		gotime_timer_free(t);
		cr_assert_eq(gotime_shutdown(), 0);
		cr_assert_eq(godiag_threads(), 0, "round %d", i);
	}
	chan_unref(ev);
}

Test(service, context_afterfunc_cycles, .timeout = 120)
{
	chan_t *ev = chan_new(sizeof(int64_t), 1);
	for (int i = 0; i < ROUNDS; i++) {
		ctx_t *c = ctx_with_cancel(ctx_background());
		ctx_after_t *a = ctx_after_func(c, signal_fn, ev);
		cr_assert(c && a);
		ctx_cancel(c);
		recv1(ev);
		cr_assert_eq(ctx__after_wait_threads(CHAN_FOREVER), 0);
		cr_assert_eq(godiag_threads(), 0, "round %d", i);
		ctx_after_release(a);
		ctx_cancel_release(c);
	}
	cr_assert_eq(ctx__after_threads_started(), ROUNDS);
	chan_unref(ev);
}

Test(service, poller_cycles, .timeout = 120)
{
	int p[2];
	char b = 'x';
	cr_assert_eq(pipe(p), 0);
	for (int i = 0; i < ROUNDS; i++) {
		bool idle_exit = i % 2;
		gopoll__set_linger_ns(idle_exit ? 0 : GOPOLL_IDLE_LINGER_NS);
		gopoll_t *w = gopoll_watch(p[0], GOPOLL_READ);
		cr_assert_not_null(w);
		cr_assert_eq(write(p[1], &b, 1), 1);
		bool ok = true;
		cr_assert_eq(chan_recv(gopoll_chan(w), NULL, &ok), 0);
		cr_assert(!ok, "the watch's channel is closed when it fires");
		cr_assert_eq(read(p[0], &b, 1), 1);
		cr_assert_eq(gopoll_free(w), 0);
		if (idle_exit)
			cr_assert_eq(gopoll__wait_thread_exit(CHAN_FOREVER), 0);
		else
			cr_assert_eq(gopoll_shutdown(), 0);
		cr_assert_eq(godiag_threads(), 0, "round %d", i);
	}
	cr_assert_eq(gopoll__threads_started(), ROUNDS);
	gopoll__set_linger_ns(GOPOLL_IDLE_LINGER_NS);
	close(p[0]);
	close(p[1]);
}

static void nop(void *arg)
{
	(void)arg;
}

Test(service, group_pool_cycles, .timeout = 120)
{
	int64_t idle0 = group__pool_set_idle_ns(0);
	for (int i = 0; i < ROUNDS; i++) {
		bool idle_exit = i % 2;
		group__pool_set_idle_ns(idle_exit ? 0 : idle0);
		gowg_t *wg = gowg_new();
		cr_assert_not_null(wg);
		for (int k = 0; k < 3; k++)
			cr_assert_eq(gowg_go(wg, nop, NULL), 0);
		cr_assert_eq(gowg_wait(wg), 0);
		cr_assert_eq(gowg_free(wg), 0);
		if (idle_exit)
			cr_assert_eq(group__pool_wait_threads(CHAN_FOREVER), 0);
		else
			cr_assert_eq(group__pool_shutdown(), 0);
		cr_assert_eq(godiag_threads(), 0, "round %d", i);
	}
	group__pool_set_idle_ns(idle0);
}

Test(service, dump_thread_cycles, .timeout = 120)
{
	unsigned long dumps = godiag__signal_dumps();
	for (int i = 0; i < ROUNDS; i++) {
		cr_assert_eq(godiag_signal(SIGUSR1), 0);
		cr_assert_eq(gosvc__threads_alive(GODIAG_THREAD_DIAG), 1);
		if (i % 100 == 0) {
			raise(SIGUSR1);
			cr_assert_eq(godiag__signal_wait_dumps(++dumps, CHAN_FOREVER), 0);
		}
		cr_assert_eq(godiag_signal(0), 0);
		cr_assert_eq(godiag_threads(), 0, "round %d", i);
	}
}

/*
 * tests/test_wait_debug.c - the checks of wait/debug.h really fire.
 *
 * `zig build debug-test` compiles the tests and the library with
 * -DGOCHAN_DEBUG: there, taking channel locks or pthread mutexes against
 * wait/lockrank.h's order, parking with a lock held, a false "caller holds",
 * and a condition wait on a mutex not held or under a higher lock must each
 * abort, and a condition wait keeps the held-rank stack right.  In the ordinary build the same checks compile to nothing, which is
 * checked too (a false assertion does not abort and costs no call).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <gochan/chan.h>
#include <gochan/time.h>
#include <pthread.h>
#include <signal.h>

#include "tests/leakcheck.h"
#include "wait/cond.h"
#include "wait/debug.h"
#include "wait/lock.h"

TU_LEAK_CHECKED_SUITE(wait_debug);

#ifdef GOCHAN_DEBUG

/* Two channel locks, the higher address first: select's rule broken. */
Test(wait_debug, channel_locks_out_of_address_order_abort, .signal = SIGABRT)
{
	static struct gowait_lock l[2];

	gowait__lock(&l[1]);
	gowait__lock(&l[0]);
}

/* A park with a lock of the table held (wait/lockrank.h: never). */
Test(wait_debug, park_with_a_lock_held_aborts, .signal = SIGABRT)
{
	static struct gowait_lock l;
	chan_t *c = chan_new(sizeof(int), 0);
	int v;

	gowait__lock(&l);
	(void)chan_recv_until(c, &v, NULL, chan_deadline_in(GOTIME_MILLISECOND));
}

/* "Caller holds" a lock it does not hold. */
Test(wait_debug, false_caller_holds_aborts, .signal = SIGABRT)
{
	static struct gowait_lock l;

	GOWAIT_ASSERT_HELD(&l);
}

/* Two pthread mutexes of the table against its order (a context lock taken
 * under the timer state lock: wait/lockrank.h says never). */
Test(wait_debug, mutexes_out_of_rank_order_abort, .signal = SIGABRT)
{
	static pthread_mutex_t a = PTHREAD_MUTEX_INITIALIZER, b = PTHREAD_MUTEX_INITIALIZER;

	gowait__mutex_lock(&a, GOWAIT_LOCKRANK_TIMER_STATE);
	gowait__mutex_lock(&b, GOWAIT_LOCKRANK_CTX);
}

/* A condition wait retakes its mutex under every other held lock: under a
 * higher one that is the out-of-order acquisition, caught before the wait. */
Test(wait_debug, cond_wait_under_a_higher_lock_aborts, .signal = SIGABRT)
{
	static pthread_mutex_t a = PTHREAD_MUTEX_INITIALIZER, b = PTHREAD_MUTEX_INITIALIZER;
	pthread_cond_t cv;

	gowait__cond_init(&cv);
	gowait__mutex_lock(&a, GOWAIT_LOCKRANK_TIMER_STATE);
	gowait__mutex_lock(&b, GOWAIT_LOCKRANK_DIAG_THREADS);
	(void)gowait__cond_wait_until(&cv, &a, chan_now() - 1);
}

/* A condition wait on a mutex this thread does not hold (not taken through
 * gowait__mutex_lock). */
Test(wait_debug, cond_wait_without_its_mutex_aborts, .signal = SIGABRT)
{
	static pthread_mutex_t a = PTHREAD_MUTEX_INITIALIZER;
	pthread_cond_t cv;

	gowait__cond_init(&cv);
	pthread_mutex_lock(&a);
	(void)gowait__cond_wait_until(&cv, &a, chan_now() - 1);
}

/* A condition wait on the greatest held lock, with a lower one held: allowed
 * (gotime_shutdown waits so), and the stack is the same afterwards. */
Test(wait_debug, cond_wait_keeps_the_stack)
{
	static pthread_mutex_t a = PTHREAD_MUTEX_INITIALIZER, b = PTHREAD_MUTEX_INITIALIZER;
	pthread_cond_t cv;

	gowait__cond_init(&cv);
	gowait__mutex_lock(&a, GOWAIT_LOCKRANK_TIMER_STATE);
	gowait__mutex_lock(&b, GOWAIT_LOCKRANK_TIMER_AFTERFUNC);
	cr_assert_eq(gowait__cond_wait_until(&cv, &b, chan_now() - 1), ETIMEDOUT);
	cr_assert(gowait__rank_held(&a) && gowait__rank_held(&b));
	gowait__mutex_unlock(&b, GOWAIT_LOCKRANK_TIMER_AFTERFUNC);
	gowait__mutex_unlock(&a, GOWAIT_LOCKRANK_TIMER_STATE);
	cr_assert(gowait__rank_none_held());
	pthread_cond_destroy(&cv);
}

/* The same locks in order, released, and a park with nothing held: fine. */
Test(wait_debug, in_order_is_fine)
{
	static struct gowait_lock l[2];
	chan_t *c = chan_new(sizeof(int), 0);
	int v;

	gowait__lock(&l[0]);
	gowait__lock(&l[1]);
	GOWAIT_ASSERT_HELD(&l[1]);
	gowait__unlock(&l[1]);
	gowait__unlock(&l[0]);
	cr_assert(gowait__rank_none_held());
	cr_assert_eq(chan_recv_until(c, &v, NULL, chan_deadline_in(GOTIME_MILLISECOND)), ETIMEDOUT);
	cr_assert_eq(chan_unref(c), 0);
}

#else

/* Without GOCHAN_DEBUG a false assertion is not even evaluated. */
Test(wait_debug, checks_compile_to_nothing)
{
	int evaluated = 0;

	GOWAIT_ASSERT(++evaluated == 42);
	cr_assert_eq(evaluated, 0);
}

#endif

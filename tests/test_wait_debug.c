/*
 * tests/test_wait_debug.c - the checks of wait/debug.h really fire.
 *
 * `zig build debug-test` compiles the tests and the library with
 * -DGOCHAN_DEBUG: there, taking channel locks against wait/lockrank.h's
 * order, parking with a lock held and a false "caller holds" must each
 * abort.  In the ordinary build the same checks compile to nothing, which is
 * checked too (a false assertion does not abort and costs no call).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <gochan/chan.h>
#include <gochan/time.h>
#include <signal.h>

#include "tests/leakcheck.h"
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

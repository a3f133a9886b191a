/*
 * tests/test_xb_thread_locals.c - crossbeam-channel's tests/thread_locals.rs
 * ported: a blocking operation made while the thread exits, after the
 * library's own per-thread state was torn down, must work.
 *
 * gochan's per-thread state that has a destructor is the wait layer's
 * record of blocked operations (wait/record.c: one per thread that ever
 * parked, freed by a pthread key destructor at thread exit).  crossbeam's
 * thread_local! FOO, dropped after the channel's thread-locals, becomes a
 * pthread key whose destructor runs after the library's: glibc runs key
 * destructors in key order, so the test's key is created after the
 * library's (the body parks once first, which creates the library's key).
 * Its destructor parks in a select with a deadline (crossbeam: an
 * unbounded channel nobody sends on, and default(100 ms)).
 *
 * Ported: use_while_exiting (1); all of thread_locals.rs.  The goroutines
 * are threads in both run modes (tu_spawn_thread): the subject is a
 * thread's exit, which a fiber does not have.
 */
#include <criterion/criterion.h>
#include <gochan/chan.h>
#include <gochan/diag.h>
#include <gochan/select.h>
#include <pthread.h>

#include "test_xb_util.h"
#include "tests/leakcheck.h"

TU_LEAK_CHECKED_SUITE(xb_thread_locals);

static pthread_key_t foo_key;
static atomic_int foo_dropped; /* 1: the select timed out; -1: it did not */

/* Foo's Drop: a blocking operation after the library's thread-locals went. */
static void foo_drop(void *p)
{
	(void)p;
	chan_t *r = chan_new(0, 4); /* the unbounded (_s, r): nobody sends */
	int k = CHAN_SELECT(chan_now() + XB_MS, CHAN_RECV(r, NULL, NULL));
	/* relaxed: the body reads it after pthread_join. */
	atomic_store_explicit(&foo_dropped, k == CHAN_TIMEOUT && chan_unref(r) == 0 ? 1 : -1,
			      memory_order_relaxed);
}

static void *exiting(void *p)
{
	(void)pthread_setspecific(foo_key, &foo_key); /* FOO.with(|_| ()) */
	XB_CHECK(xb_recv_int(p) == 0);                /* r.recv(): parks */
	return NULL;                                  /* then the exit */
}

static void *sender(void *p)
{
	XB_CHECK(xb_send_int(p, 0) == 0);
	return NULL;
}

Test(xb_thread_locals, use_while_exiting, .timeout = 60)
{
	/* Park once here first, so that the library's key exists before FOO's. */
	chan_t *warm = chan_new(0, 0);
	cr_assert_eq(chan_recv_until(warm, NULL, NULL, chan_now() + XB_MS), ETIMEDOUT);
	cr_assert_eq(chan_unref(warm), 0);
	cr_assert_eq(pthread_key_create(&foo_key, foo_drop), 0);

	chan_t *c = chan_new(sizeof(int), 0);
	/* Threads in both modes: the test is about a thread's exit. */
	tu_go_t r = tu_spawn_thread(exiting, c), s = tu_spawn_thread(sender, c);
	tu_join(r);
	tu_join(s);
	XB_ASSERT_OK();
	cr_assert_eq(atomic_load(&foo_dropped), 1);
	cr_assert_eq(chan_unref(c), 0);
	/* The exited thread's records are gone: nobody is listed as blocked. */
	cr_assert_eq(godiag_verify_none(chan_now() + XB_PATIENCE), 0);
	cr_assert_eq(pthread_key_delete(foo_key), 0);
}

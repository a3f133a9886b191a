/*
 * tests/leakcheck.h - the leak check after every Criterion test (goleak's
 * VerifyNone, gochan/diag.h's godiag_verify_none).
 *
 * Each suite file declares, once, TU_LEAK_CHECKED_SUITE(<its suite>): the
 * suite's .fini then runs after every test of the suite (after the test's
 * own .fini) and waits up to TU_LEAK_PATIENCE_NS for every library thread
 * (timer, AfterFunc, poller, group, diag, fiber) to end and for no thread to be
 * blocked in a gochan operation.  If either remains it prints the counts and
 * the dump to stderr and fails the test.
 *
 * Criterion ignores assertions in a .fini when it decides pass/fail, so the
 * report hooks in tests/test_leakcheck.c turn a test whose .fini failed an
 * assertion into a failed test (and the run's exit status into 1).
 *
 * The check only waits: a test that leaves a timer pending keeps the timer
 * thread alive and fails; it must stop or receive its timers (or call
 * gotime_shutdown) before it ends.
 */
#ifndef GOCHAN_TESTS_LEAKCHECK_H
#define GOCHAN_TESTS_LEAKCHECK_H

#include <criterion/criterion.h>
#include <gochan/chan.h>
#include <gochan/diag.h>

/* Generous: the timer thread lingers 5 ms after its last timer, and six
 * builds share two CPUs; a clean test passes as soon as the counts are 0. */
#ifndef TU_LEAK_PATIENCE_NS
#define TU_LEAK_PATIENCE_NS ((int64_t)5000000000)
#endif

__attribute__((unused)) static void tu_leak_check(void)
{
	int err = godiag_verify_none(chan_now() + TU_LEAK_PATIENCE_NS);

	cr_assert_eq(err, 0,
		     "leak check: %u library thread(s) alive, %zu thread(s) blocked in gochan "
		     "after the test (dump on stderr)",
		     godiag_threads(), godiag_blocked());
}

#define TU_LEAK_CHECKED_SUITE(suite) TestSuite(suite, .fini = tu_leak_check)

#endif

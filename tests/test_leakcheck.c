/*
 * tests/test_leakcheck.c - what makes tests/leakcheck.h's per-test leak check
 * able to fail a test: Criterion runs a suite's .fini in the test's worker
 * but has already decided the test passed, so an assertion failing there is
 * printed and otherwise ignored.  These report hooks run in the runner: a
 * test reported as passed whose assertions failed can only have failed them
 * in its .fini, so it is turned into a failure, and the global counts (from
 * which the runner's exit status is computed) are corrected at the end.
 */
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <stdio.h>

static size_t fini_failures;

ReportHook(POST_FINI)(struct criterion_test_stats *st)
{
	if (st->test_status == CR_STATUS_PASSED && st->failed_asserts > 0) {
		st->test_status = CR_STATUS_FAILED;
		fini_failures++;
		fprintf(stderr, "[FAIL] %s::%s: failed in its .fini (leak check)\n",
			st->test->category, st->test->name);
	}
}

ReportHook(POST_ALL)(struct criterion_global_stats *gs)
{
	gs->tests_failed += fini_failures;
	gs->tests_passed -= fini_failures;
}

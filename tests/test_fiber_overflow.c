/*
 * tests/test_fiber_overflow.c - a fiber's stack overflow is reported as
 * such (gochan/fiber.h "Stacks"), under each guard policy of fiber/stack.h:
 * the guard page made by madvise(MADV_GUARD_INSTALL) (where the kernel has
 * it), by mprotect, and the canary checked when the fiber switches away.
 * Each case runs in a forked child (the report aborts the process) whose
 * stderr the test reads.
 */
#include <criterion/criterion.h>
#include <gochan/chan.h>
#include <gochan/fiber.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fiber/stack.h"
#include "tests/leakcheck.h"

TU_LEAK_CHECKED_SUITE(fiber_overflow);

/* Recurse, writing every frame, until a frame lies below @limit. */
static long dive(uintptr_t limit)
{
	volatile char buf[256];

	for (size_t i = 0; i < sizeof buf; i++)
		buf[i] = (char)i;
	if ((uintptr_t)buf > limit)
		return dive(limit) + buf[17];
	return buf[3];
}

/* One frame with a @n-byte array written from top to bottom: unlike
 * recursion (whose frames leave gaps unwritten, where a canary may sit), it
 * covers every byte from its caller's frame down to @n below. */
static long smear(size_t n)
{
	volatile char buf[n];

	for (size_t i = n; i-- > 0;)
		buf[i] = (char)i;
	return buf[0];
}

static uintptr_t below; /* how far below the stack's start to go */
static bool use_smear;

static void overflow_fiber(void *unused)
{
	char here;

	(void)unused;
	if (use_smear)
		(void)smear(below);
	else
		(void)dive((uintptr_t)&here - below);
	gofiber_yield(); /* the canary is checked when it switches away */
}

/* Run one overflowing fiber in a child with the given stack policy; return
 * its stderr (static buffer) and termination status. */
static const char *run_child(bool madvise_ok, long budget, int *status)
{
	static char out[4096];
	int fd[2];

	cr_assert_eq(pipe(fd), 0);
	fflush(NULL);
	pid_t pid = fork();

	cr_assert_neq(pid, -1);
	if (pid == 0) {
		gofiber_group_t *g;

		dup2(fd[1], 2);
		close(fd[0]);
		gofiber__stack_policy(madvise_ok, budget);
		g = gofiber_group_new();
		gofiber_go(g, overflow_fiber, NULL);
		gofiber_group_wait(g);
		_exit(0); /* not reached when the overflow is reported */
	}
	close(fd[1]);
	size_t n = 0;
	ssize_t r;

	while (n < sizeof out - 1 && (r = read(fd[0], out + n, sizeof out - 1 - n)) > 0)
		n += (size_t)r;
	out[n] = 0;
	close(fd[0]);
	cr_assert_eq(waitpid(pid, status, 0), pid);
	return out;
}

static void expect_reported(const char *out, int status, const char *how)
{
	cr_expect(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
		  "the child should abort after the report (status %#x)", status);
	cr_expect(strstr(out, "gochan: fiber 1 overflowed its stack"), "stderr: %s", out);
	cr_expect(strstr(out, how), "stderr should say '%s': %s", how, out);
}

Test(fiber_overflow, guard_page_default_policy)
{
	int st;

	below = 2 * GOFIBER_STACK_SIZE;
	const char *out = run_child(true, -1, &st);

	expect_reported(out, st, "fault at 0x");
}

Test(fiber_overflow, guard_page_mprotect)
{
	int st;

	below = 2 * GOFIBER_STACK_SIZE;
	const char *out = run_child(false, -1, &st);

	expect_reported(out, st, "fault at 0x");
}

Test(fiber_overflow, canary_beyond_the_guard_budget)
{
	int st;

	/* Just past the usable stack, into the canary page (a page below it
	 * is writable for canary stacks): found at the next switch. */
	below = GOFIBER_STACK_SIZE + 512;
	use_smear = true;
	const char *out = run_child(false, 0, &st);

	expect_reported(out, st, "canary was overwritten");
}

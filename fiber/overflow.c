/*
 * fiber/overflow.c - a fiber's stack overflow reported as such: a SIGSEGV
 * handler, on each worker's alternate signal stack (the faulting stack is
 * the one that overflowed), that recognises a fault in or just below the
 * running fiber's guard page.  Go reports "goroutine stack exceeds limit"
 * the same way.  Faults that are not ours go to the handler that was
 * installed before (or the default action, by reinstalling it and returning
 * to the faulting instruction).
 */
#include <gochan/fiber.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fiber/fiber_impl.h"

#define ALTSTACK_SIZE (64 * 1024)

static struct sigaction previous;

/* Async-signal-safe formatting: @v in base @base into the end of @buf. */
static char *fmt(char *end, uint64_t v, unsigned base)
{
	*--end = 0;
	do
		*--end = "0123456789abcdef"[v % base];
	while (v /= base);
	return end;
}

static void put(const char *s)
{
	ssize_t r = write(2, s, strlen(s));

	(void)r;
}

_Noreturn void gofiber__overflow_report(const struct gofiber *f, const void *addr)
{
	char b[32];

	put("gochan: fiber ");
	put(fmt(b + sizeof b, f->id, 10));
	put(" overflowed its stack (");
	put(fmt(b + sizeof b, GOFIBER_STACK_SIZE, 10));
	put(" bytes, lowest usable address 0x");
	put(fmt(b + sizeof b, (uintptr_t)gofiber__stack_lo(&f->stack), 16));
	if (addr) {
		put("): fault at 0x");
		put(fmt(b + sizeof b, (uintptr_t)addr, 16));
	} else {
		put("): its canary was overwritten");
	}
	put("; fiber function 0x");
	put(fmt(b + sizeof b, (uintptr_t)f->fn, 16));
	put("\n");
	/* abort() from here: the default SIGABRT action, even if SIGSEGV's
	 * handler (this one) is still running. */
	signal(SIGABRT, SIG_DFL);
	abort();
}

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	const struct gofiber *f = gofiber__cur;

	if (f && gofiber__stack_overflowed_at(&f->stack, si->si_addr))
		gofiber__overflow_report(f, si->si_addr);
	if (previous.sa_flags & SA_SIGINFO) {
		previous.sa_sigaction(sig, si, uc);
	} else if (previous.sa_handler == SIG_DFL || previous.sa_handler == SIG_IGN) {
		/* Not ours: the fault recurs on return, under the old action. */
		sigaction(SIGSEGV, &previous, NULL);
	} else {
		previous.sa_handler(sig);
	}
}

void gofiber__overflow_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_segv;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, &previous);
}

void *gofiber__overflow_thread_init(void)
{
	stack_t ss = {.ss_sp = malloc(ALTSTACK_SIZE), .ss_size = ALTSTACK_SIZE};

	/* Without one, an overflow is still a SIGSEGV: just not reported. */
	if (ss.ss_sp && sigaltstack(&ss, NULL) != 0) {
		free(ss.ss_sp);
		ss.ss_sp = NULL;
	}
	return ss.ss_sp;
}

void gofiber__overflow_thread_fini(void *altstack)
{
	stack_t ss = {.ss_flags = SS_DISABLE};

	if (altstack) {
		sigaltstack(&ss, NULL);
		free(altstack);
	}
}

/*
 * fiber/switch.h - the context switch: save the running context's
 * callee-saved state on its own stack, load another's, go on there.
 *
 * What a context holds is exactly what the ABI says survives a call, since
 * a switch looks like a call to whoever made it (Boost.Context's fcontext is
 * the reference):
 *   x86_64   rbx, rbp, r12-r15, the stack pointer, MXCSR and the x87 control
 *            word (both FP control state, so a fiber's rounding mode is its own)
 *   aarch64  x19-x28, x29 (fp), x30 (lr), d8-d15, sp, and FPCR (same reason)
 * Everything else is caller-saved and was saved by the C caller.
 *
 * Backends (chosen at compile time; GOFIBER_UCONTEXT=1 forces the fallback):
 *   asm       x86_64 and aarch64: about 30 instructions each, in switch.c.
 *   ucontext  every other target, and x86_64 compiled for CET shadow stacks
 *             (-fcf-protection=return|full defines __CET__ bit 2): a hand
 *             switch would return to an address the shadow stack does not
 *             hold, while glibc's swapcontext switches shadow stacks.  It
 *             makes a sigprocmask system call per switch (~0.5 us).
 * Indirect-branch tracking: the asm entry points start with endbr64 (IBT,
 * __CET__ bit 1) or `bti c` (aarch64 -mbranch-protection), and the compiler
 * marks the object for the whole translation unit.
 */
#ifndef GOCHAN_FIBER_SWITCH_H
#define GOCHAN_FIBER_SWITCH_H

#include <stddef.h>

#ifndef GOFIBER_UCONTEXT
#if (defined(__x86_64__) && !(defined(__CET__) && (__CET__ & 2))) || defined(__aarch64__)
#define GOFIBER_UCONTEXT 0
#else
#define GOFIBER_UCONTEXT 1
#endif
#endif

#if GOFIBER_UCONTEXT
#include <ucontext.h>
#endif

struct gofiber__ctx {
	void *sp; /* asm: the saved stack pointer (the state lies below it) */
#if GOFIBER_UCONTEXT
	ucontext_t uc;
	void (*entry)(void *);
	void *arg;
#endif
};

/*
 * gofiber__ctx_make - prepare @c so that the first switch to it runs
 * entry(arg) on the stack [lo, lo + size) (16-byte aligned top is taken
 * below lo + size).  @entry must never return: it ends by switching away
 * for good.  A context that only ever switches away (a worker's scheduler
 * context) needs no make: its first switch away fills it.
 */
void gofiber__ctx_make(struct gofiber__ctx *c, void *lo, size_t size, void (*entry)(void *),
		       void *arg);

/*
 * gofiber__ctx_switch - save the running context into @from and resume @to.
 * Returns when some other context switches back to @from.  No memory
 * ordering of its own: both sides run on the same thread.
 */
void gofiber__ctx_switch(struct gofiber__ctx *from, struct gofiber__ctx *to);

#endif

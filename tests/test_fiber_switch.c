/*
 * tests/test_fiber_switch.c - the context switch (fiber/switch.c) and the
 * fiber basics (gochan/fiber.h): every callee-saved register and the FP
 * control state survive a switch while other fibers use them, a new fiber
 * starts with the default FP environment, errno is per fiber, go + wait
 * from a thread and from a fiber, yield's order on the one worker.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fenv.h>
#include <gochan/chan.h>
#include <gochan/fiber.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "fiber/sched.h"
#include "fiber/switch.h"
#include "tests/leakcheck.h"

TU_LEAK_CHECKED_SUITE(fiber_switch);

/*
 * regs_kept(fn, seed): load every callee-saved register with seed + k, call
 * fn(), and return a bit mask of the registers that no longer hold their
 * value (0: all kept).  In assembly, since C cannot pin values in them.
 */
uint64_t regs_kept(void (*fn)(void), uint64_t seed);

/* clang-format off */
#if defined(__x86_64__)
#define CHK(reg, k, bit) \
	"	leaq " #k "(%rcx), %rdx\n	cmpq %rdx, %" #reg "\n	je 1f\n	orq $" #bit ", %rax\n1:\n"
__asm__(".text\n.globl regs_kept\n.type regs_kept,@function\nregs_kept:\n"
	"	pushq %rbp\n	pushq %rbx\n	pushq %r12\n	pushq %r13\n	pushq %r14\n"
	"	pushq %r15\n	subq $8, %rsp\n	movq %rsi, (%rsp)\n"
	"	leaq 1(%rsi), %rbx\n	leaq 2(%rsi), %rbp\n	leaq 3(%rsi), %r12\n"
	"	leaq 4(%rsi), %r13\n	leaq 5(%rsi), %r14\n	leaq 6(%rsi), %r15\n"
	"	callq *%rdi\n	movq (%rsp), %rcx\n	xorl %eax, %eax\n"
	CHK(rbx, 1, 1) CHK(rbp, 2, 2) CHK(r12, 3, 4) CHK(r13, 4, 8) CHK(r14, 5, 16) CHK(r15, 6, 32)
	"	addq $8, %rsp\n	popq %r15\n	popq %r14\n	popq %r13\n	popq %r12\n"
	"	popq %rbx\n	popq %rbp\n	ret\n.size regs_kept, .-regs_kept\n");
#elif defined(__aarch64__)
#define SET(x, k) "	add " #x ", x1, #" #k "\n"
#define CHK(x, k, bit) "	add x2, x1, #" #k "\n	cmp " #x ", x2\n	b.eq 1f\n	orr x0, x0, #" #bit "\n1:\n"
#define SETD(d, k) "	add x2, x1, #" #k "\n	fmov " #d ", x2\n"
#define CHKD(d, k, bit) "	fmov x3, " #d "\n" CHK(x3, k, bit)
__asm__(".text\n.globl regs_kept\n.type regs_kept,%function\nregs_kept:\n"
	"	stp x29, x30, [sp, #-176]!\n	mov x29, sp\n"
	"	stp x19, x20, [sp, #16]\n	stp x21, x22, [sp, #32]\n	stp x23, x24, [sp, #48]\n"
	"	stp x25, x26, [sp, #64]\n	stp x27, x28, [sp, #80]\n	stp d8, d9, [sp, #96]\n"
	"	stp d10, d11, [sp, #112]\n	stp d12, d13, [sp, #128]\n	stp d14, d15, [sp, #144]\n"
	"	str x1, [sp, #160]\n"
	SET(x19, 1) SET(x20, 2) SET(x21, 3) SET(x22, 4) SET(x23, 5)
	SET(x24, 6) SET(x25, 7) SET(x26, 8) SET(x27, 9) SET(x28, 10)
	SETD(d8, 11) SETD(d9, 12) SETD(d10, 13) SETD(d11, 14)
	SETD(d12, 15) SETD(d13, 16) SETD(d14, 17) SETD(d15, 18)
	"	blr x0\n	ldr x1, [sp, #160]\n	mov x0, #0\n"
	CHK(x19, 1, 0x1) CHK(x20, 2, 0x2) CHK(x21, 3, 0x4) CHK(x22, 4, 0x8)
	CHK(x23, 5, 0x10) CHK(x24, 6, 0x20) CHK(x25, 7, 0x40) CHK(x26, 8, 0x80)
	CHK(x27, 9, 0x100) CHK(x28, 10, 0x200)
	CHKD(d8, 11, 0x400) CHKD(d9, 12, 0x800) CHKD(d10, 13, 0x1000) CHKD(d11, 14, 0x2000)
	CHKD(d12, 15, 0x4000) CHKD(d13, 16, 0x8000) CHKD(d14, 17, 0x10000) CHKD(d15, 18, 0x20000)
	"	ldp x19, x20, [sp, #16]\n	ldp x21, x22, [sp, #32]\n	ldp x23, x24, [sp, #48]\n"
	"	ldp x25, x26, [sp, #64]\n	ldp x27, x28, [sp, #80]\n	ldp d8, d9, [sp, #96]\n"
	"	ldp d10, d11, [sp, #112]\n	ldp d12, d13, [sp, #128]\n	ldp d14, d15, [sp, #144]\n"
	"	ldp x29, x30, [sp], #176\n	ret\n.size regs_kept, .-regs_kept\n");
#else
#define NO_REGS_TEST 1
#endif
/* clang-format on */

static void yield_thrice(void)
{
	for (int i = 0; i < 3; i++)
		gofiber_yield();
}

/*
 * Start fn(arg + i * size) for i < n as fibers from a launcher fiber, and
 * wait for all: started on the worker, they are queued in order before
 * any of them runs, so their yields interleave round robin (milestone 1's
 * one FIFO worker).  From a thread, the first could finish before the last
 * is started.
 */
struct launch {
	void (*fn)(void *);
	char *arg;
	size_t size;
	int n, bad;
};

static void launcher(void *p)
{
	struct launch *l = p;
	gofiber_group_t *g = gofiber_group_new();

	for (int i = 0; i < l->n; i++)
		if (!g || gofiber_go(g, l->fn, l->arg + (size_t)i * l->size) != 0)
			l->bad++;
	if (!g || gofiber_group_wait(g) != 0 || gofiber_group_free(g) != 0)
		l->bad++;
}

static void run_fibers(void (*fn)(void *), void *arg, size_t size, int n)
{
	struct launch l = {fn, arg, size, n, 0};
	gofiber_group_t *g = gofiber_group_new();

	cr_assert(g);
	cr_assert_eq(gofiber_go(g, launcher, &l), 0);
	cr_assert_eq(gofiber_group_wait(g), 0);
	cr_assert_eq(gofiber_group_free(g), 0);
	cr_assert_eq(l.bad, 0);
}

struct regs_arg {
	uint64_t seed, mask;
};

static void regs_fiber(void *p)
{
	struct regs_arg *a = p;

	a->mask = 1; /* stays if regs_kept never returns */
#ifndef NO_REGS_TEST
	a->mask = regs_kept(yield_thrice, a->seed);
#else
	a->mask = 0;
#endif
}

Test(fiber_switch, callee_saved_registers_survive_switches)
{
	/* Three fibers interleave their yields, each with its own values in
	 * every callee-saved register across them. */
	struct regs_arg a[3] = {{0x1000, 0}, {0x7777000, 0}, {UINT64_C(0xfedc000000), 0}};

	fprintf(stderr, "fiber_switch: switch backend %s\n",
		GOFIBER_UCONTEXT ? "ucontext" : "assembly");
	run_fibers(regs_fiber, a, sizeof a[0], 3);
	for (int i = 0; i < 3; i++)
		cr_expect_eq(a[i].mask, 0, "fiber %d: clobbered registers, mask %#llx", i,
			     (unsigned long long)a[i].mask);
}

struct fp_arg {
	int mode, seen, start;
#if defined(__x86_64__)
	uint16_t cw, cw_seen;
#endif
};

static void fp_fiber(void *p)
{
	struct fp_arg *a = p;

	a->start = fegetround();
	fesetround(a->mode);
#if defined(__x86_64__)
	/* The x87 control word apart from MXCSR: precision control bits. */
	uint16_t cw;
	__asm__ volatile("fnstcw %0" : "=m"(cw));
	cw = (uint16_t)((cw & ~0x300u) | a->cw);
	__asm__ volatile("fldcw %0" : : "m"(cw));
#endif
	yield_thrice();
	a->seen = fegetround();
#if defined(__x86_64__)
	__asm__ volatile("fnstcw %0" : "=m"(cw));
	a->cw_seen = cw & 0x300u;
	/* Leave the worker's x87 state as it found it (the default). */
	cw = (uint16_t)((cw & ~0x300u) | 0x300u);
	__asm__ volatile("fldcw %0" : : "m"(cw));
#endif
}

Test(fiber_switch, fp_control_state_is_per_fiber)
{
	struct fp_arg a[3] = {{.mode = FE_TOWARDZERO}, {.mode = FE_UPWARD}, {.mode = FE_DOWNWARD}};

#if defined(__x86_64__)
	a[0].cw = 0x000; /* single precision */
	a[1].cw = 0x200; /* double */
	a[2].cw = 0x300; /* extended */
#endif
	run_fibers(fp_fiber, a, sizeof a[0], 3);
	for (int i = 0; i < 3; i++) {
		/* Each started with the default (a new fiber does not inherit
		 * the one that ran before it) and kept its own mode. */
		cr_expect_eq(a[i].start, FE_TONEAREST, "fiber %d", i);
		cr_expect_eq(a[i].seen, a[i].mode, "fiber %d: rounding mode lost", i);
#if defined(__x86_64__)
		cr_expect_eq(a[i].cw_seen, a[i].cw, "fiber %d: x87 precision lost", i);
#endif
	}
}

static void errno_fiber(void *p)
{
	int *out = p;

	errno = out[0];
	yield_thrice();
	out[1] = errno;
}

Test(fiber_switch, errno_is_per_fiber)
{
	int a[2][2] = {{1234, 0}, {77, 0}};

	run_fibers(errno_fiber, a, sizeof a[0], 2);
	cr_expect_eq(a[0][1], 1234);
	cr_expect_eq(a[1][1], 77);
}

/* Yield order on one worker: round robin, FIFO. */
static _Atomic int order[32];
static atomic_int norder;
static int ids[3] = {0, 1, 2};

static void order_fiber(void *p)
{
	int id = *(int *)p;

	for (int i = 0; i < 4; i++) {
		order[atomic_fetch_add(&norder, 1)] = id;
		gofiber_yield();
	}
}

Test(fiber_switch, yield_is_round_robin)
{
	struct gofiber__sched_stats st;

	/* One worker (read at the first gofiber_go of this test's process):
	 * with several, the order across workers is not defined. */
	setenv("GOFIBER_WORKERS", "1", 1);
	run_fibers(order_fiber, ids, sizeof ids[0], 3);
	gofiber__sched_stats(&st);
	if (st.workers != 1)
		cr_skip_test("the runtime started before this test (--no-fork?)");
	cr_assert_eq(atomic_load(&norder), 12);
	/* Round robin: the first three are the three fibers (in the order
	 * the launcher's runnext gives: the last started runs first, as Go's
	 * newproc), and then the same cycle repeats. */
	cr_expect(order[0] != order[1] && order[1] != order[2] && order[0] != order[2]);
	for (int i = 3; i < 12; i++)
		cr_expect_eq(order[i], order[i % 3], "slot %d", i);
}

/* go + wait from a fiber: a tree of fibers, each waiting for its children. */
struct tree_arg {
	int depth;
	atomic_long *count, *bad; /* no cr_assert off the test's thread */
};

static void tree_fiber(void *p)
{
	struct tree_arg *a = p;

	atomic_fetch_add(a->count, 1);
	if (gofiber_id() == 0)
		atomic_fetch_add(a->bad, 1);
	if (a->depth == 0)
		return;
	struct tree_arg kids[4];
	gofiber_group_t *g = gofiber_group_new();

	if (!g) {
		atomic_fetch_add(a->bad, 1);
		return;
	}
	for (int i = 0; i < 4; i++) {
		kids[i] = (struct tree_arg){a->depth - 1, a->count, a->bad};
		if (gofiber_go(g, tree_fiber, &kids[i]) != 0)
			atomic_fetch_add(a->bad, 1);
	}
	if (gofiber_group_wait(g) != 0 || gofiber_group_free(g) != 0)
		atomic_fetch_add(a->bad, 1);
}

Test(fiber_switch, go_and_wait_from_fibers)
{
	atomic_long count = 0, bad = 0;
	struct tree_arg root = {4, &count, &bad}; /* 1 + 4 + 16 + 64 + 256 fibers */
	gofiber_group_t *g = gofiber_group_new();

	cr_assert_eq(gofiber_id(), 0, "a thread has no fiber id");
	cr_assert_eq(gofiber_go(g, tree_fiber, &root), 0);
	cr_assert_eq(gofiber_group_wait(g), 0);
	cr_expect_eq(atomic_load(&count), 341);
	cr_expect_eq(atomic_load(&bad), 0);
	cr_expect_eq(gofiber_group_free(g), 0);
	cr_expect_eq(gofiber_go(NULL, NULL, NULL), EINVAL);
	cr_expect_eq(gofiber_group_wait(NULL), EINVAL);
	cr_expect_eq(gofiber_group_free(NULL), EINVAL);
}

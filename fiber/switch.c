/*
 * fiber/switch.c - the context switch's backends (fiber/switch.h): the
 * x86_64 and aarch64 assembly, and the ucontext fallback.
 *
 * The assembly is file-scope asm in a C file (as minicoro does) so that the
 * build compiles it like every other library source; the symbols are hidden
 * (never exported from libgochan.so).
 *
 * Frame a switch leaves at the saved stack pointer (lowest address first):
 *   x86_64   [MXCSR:4][x87 CW:2][pad:2] r15 r14 r13 r12 rbx rbp  return-address
 *   aarch64  x19..x28, x29, x30, d8..d15, FPCR, pad      (176 bytes)
 * The first switch to a new context "returns" into gofiber__trampoline with
 * entry in r13/x20 and arg in r12/x19, which calls entry(arg) with the stack
 * aligned as the ABI requires at a call; entry never returns (ud2/brk
 * otherwise).  The trampoline's CFI marks the return address undefined, so
 * unwinders and debuggers stop there instead of walking off the stack.
 */
#include "fiber/switch.h"

#include <stdint.h>
#include <string.h>

#if !GOFIBER_UCONTEXT

/* ctx->sp of the running context is stored through @save; @sp is loaded. */
void gofiber__switch_asm(void **save, void *sp) __attribute__((visibility("hidden")));
void gofiber__trampoline(void) __attribute__((visibility("hidden")));

#if defined(__x86_64__)
#if defined(__CET__) && (__CET__ & 1)
#define GOFIBER_ENDBR "	endbr64\n"
#else
#define GOFIBER_ENDBR ""
#endif
/* clang-format off */
__asm__(".text\n"
	".globl gofiber__switch_asm\n"
	".hidden gofiber__switch_asm\n"
	".type gofiber__switch_asm,@function\n"
	".p2align 4\n"
	"gofiber__switch_asm:\n"
	GOFIBER_ENDBR
	"	pushq %rbp\n"
	"	pushq %rbx\n"
	"	pushq %r12\n"
	"	pushq %r13\n"
	"	pushq %r14\n"
	"	pushq %r15\n"
	"	subq $8, %rsp\n"
	"	stmxcsr (%rsp)\n"
	"	fnstcw 4(%rsp)\n"
	"	movq %rsp, (%rdi)\n"
	"	movq %rsi, %rsp\n"
	"	ldmxcsr (%rsp)\n"
	"	fldcw 4(%rsp)\n"
	"	addq $8, %rsp\n"
	"	popq %r15\n"
	"	popq %r14\n"
	"	popq %r13\n"
	"	popq %r12\n"
	"	popq %rbx\n"
	"	popq %rbp\n"
	"	ret\n"
	".size gofiber__switch_asm, .-gofiber__switch_asm\n"
	".globl gofiber__trampoline\n"
	".hidden gofiber__trampoline\n"
	".type gofiber__trampoline,@function\n"
	".p2align 4\n"
	"gofiber__trampoline:\n"
	"	.cfi_startproc\n"
	"	.cfi_undefined rip\n"
	GOFIBER_ENDBR
	"	movq %r12, %rdi\n"
	"	callq *%r13\n"
	"	ud2\n"
	"	.cfi_endproc\n"
	".size gofiber__trampoline, .-gofiber__trampoline\n");
/* clang-format on */

/* ABI defaults: all exceptions masked, round to nearest; x87 double
 * extended precision.  A new fiber starts with them, not its creator's. */
#define GOFIBER_MXCSR 0x1F80u
#define GOFIBER_X87CW 0x037Fu
#define GOFIBER_FRAME 80

void gofiber__ctx_make(struct gofiber__ctx *c, void *lo, size_t size, void (*entry)(void *),
		       void *arg)
{
	uintptr_t top = ((uintptr_t)lo + size) & ~(uintptr_t)15;
	uint64_t *f = (uint64_t *)(top - GOFIBER_FRAME);

	memset(f, 0, GOFIBER_FRAME);
	f[0] = GOFIBER_MXCSR | (uint64_t)GOFIBER_X87CW << 32;
	f[3] = (uint64_t)(uintptr_t)entry; /* r13 */
	f[4] = (uint64_t)(uintptr_t)arg;   /* r12 */
	/* The return address at top - 24: after the ret, rsp = top - 16, a
	 * multiple of 16, as a call instruction (the trampoline's) needs. */
	f[7] = (uint64_t)(uintptr_t)gofiber__trampoline;
	c->sp = f;
}

#elif defined(__aarch64__)
#if defined(__ARM_FEATURE_BTI_DEFAULT) && __ARM_FEATURE_BTI_DEFAULT
#define GOFIBER_BTI "	hint #34\n" /* bti c */
#else
#define GOFIBER_BTI ""
#endif
/* clang-format off */
__asm__(".text\n"
	".globl gofiber__switch_asm\n"
	".hidden gofiber__switch_asm\n"
	".type gofiber__switch_asm,%function\n"
	".p2align 4\n"
	"gofiber__switch_asm:\n"
	GOFIBER_BTI
	"	sub sp, sp, #176\n"
	"	stp x19, x20, [sp, #0]\n"
	"	stp x21, x22, [sp, #16]\n"
	"	stp x23, x24, [sp, #32]\n"
	"	stp x25, x26, [sp, #48]\n"
	"	stp x27, x28, [sp, #64]\n"
	"	stp x29, x30, [sp, #80]\n"
	"	stp d8, d9, [sp, #96]\n"
	"	stp d10, d11, [sp, #112]\n"
	"	stp d12, d13, [sp, #128]\n"
	"	stp d14, d15, [sp, #144]\n"
	"	mrs x9, fpcr\n"
	"	str x9, [sp, #160]\n"
	"	mov x9, sp\n"
	"	str x9, [x0]\n"
	"	mov sp, x1\n"
	"	ldr x9, [sp, #160]\n"
	"	msr fpcr, x9\n"
	"	ldp x19, x20, [sp, #0]\n"
	"	ldp x21, x22, [sp, #16]\n"
	"	ldp x23, x24, [sp, #32]\n"
	"	ldp x25, x26, [sp, #48]\n"
	"	ldp x27, x28, [sp, #64]\n"
	"	ldp x29, x30, [sp, #80]\n"
	"	ldp d8, d9, [sp, #96]\n"
	"	ldp d10, d11, [sp, #112]\n"
	"	ldp d12, d13, [sp, #128]\n"
	"	ldp d14, d15, [sp, #144]\n"
	"	add sp, sp, #176\n"
	"	ret\n"
	".size gofiber__switch_asm, .-gofiber__switch_asm\n"
	".globl gofiber__trampoline\n"
	".hidden gofiber__trampoline\n"
	".type gofiber__trampoline,%function\n"
	".p2align 4\n"
	"gofiber__trampoline:\n"
	"	.cfi_startproc\n"
	"	.cfi_undefined x30\n"
	GOFIBER_BTI
	"	mov x0, x19\n"
	"	blr x20\n"
	"	brk #1\n"
	"	.cfi_endproc\n"
	".size gofiber__trampoline, .-gofiber__trampoline\n");
/* clang-format on */

#define GOFIBER_FRAME 176

void gofiber__ctx_make(struct gofiber__ctx *c, void *lo, size_t size, void (*entry)(void *),
		       void *arg)
{
	uintptr_t top = ((uintptr_t)lo + size) & ~(uintptr_t)15;
	uint64_t *f = (uint64_t *)(top - GOFIBER_FRAME);

	memset(f, 0, GOFIBER_FRAME);                      /* FPCR 0: round to nearest, no traps */
	f[0] = (uint64_t)(uintptr_t)arg;                  /* x19 */
	f[1] = (uint64_t)(uintptr_t)entry;                /* x20 */
	f[11] = (uint64_t)(uintptr_t)gofiber__trampoline; /* x30: ret goes there */
	c->sp = f;
}
#else
#error "fiber/switch.c: no assembly for this target (GOFIBER_UCONTEXT should be 1)"
#endif

void gofiber__ctx_switch(struct gofiber__ctx *from, struct gofiber__ctx *to)
{
	gofiber__switch_asm(&from->sp, to->sp);
}

#else /* GOFIBER_UCONTEXT */

/* makecontext passes only ints: the context's address in two halves. */
static void uc_entry(unsigned hi, unsigned lo)
{
	struct gofiber__ctx *c = (struct gofiber__ctx *)(((uintptr_t)hi << 16 << 16) | lo);

	c->entry(c->arg);
	__builtin_trap(); /* entry never returns */
}

void gofiber__ctx_make(struct gofiber__ctx *c, void *lo, size_t size, void (*entry)(void *),
		       void *arg)
{
	uintptr_t a = (uintptr_t)c;

	getcontext(&c->uc);
	c->uc.uc_stack.ss_sp = lo;
	c->uc.uc_stack.ss_size = size;
	c->uc.uc_link = NULL;
	c->entry = entry;
	c->arg = arg;
	makecontext(&c->uc, (void (*)(void))uc_entry, 2, (unsigned)(a >> 16 >> 16),
		    (unsigned)(a & 0xffffffffu));
}

void gofiber__ctx_switch(struct gofiber__ctx *from, struct gofiber__ctx *to)
{
	swapcontext(&from->uc, &to->uc);
}
#endif

/*
 * fiber/fiber_impl.h - a fiber's record and the runtime's internal calls,
 * shared by fiber/sched.c (the worker), fiber/overflow.c (the SIGSEGV
 * report) and fiber/group.c (the groups).  Not installed.
 */
#ifndef GOCHAN_FIBER_IMPL_H
#define GOCHAN_FIBER_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fiber/stack.h"
#include "fiber/switch.h"
#include "wait/park.h"

struct gofiber_group;
struct gofiber__bubble;

/* Why a fiber switched to the scheduler. */
enum gofiber__why {
	GOFIBER_YIELD,
	GOFIBER_PARK,
	GOFIBER_EXIT,
	GOFIBER_REQUEUE /* gofiber_syscall_exit found no free slot: queue it */
};

/*
 * One fiber.  It lives at the top of its own stack (no allocation of its
 * own), so it dies with the stack when the worker puts that back.  Its
 * fields are written by the fiber itself or by the scheduler of the worker
 * it runs on; a fiber that is runnable or parked belongs to whoever holds
 * it (a run queue's owner or thief, the global queue under its lock, the
 * deadline heap under its lock), and each hand-over is a release/acquire
 * pair named in fiber/sched.c.  heap_at is read and written under the
 * deadline heap's lock only.
 */
struct gofiber {
	struct gofiber__ctx ctx;
	struct gofiber *next;         /* run queue link */
	struct gowait_parker *parker; /* the park in progress */
	int64_t deadline;             /* its deadline (GOWAIT_FOREVER: none) */
	size_t heap_at;               /* 1 + index in the deadline heap; 0: not in it */
	enum gofiber__why why;
	bool timed_out;  /* the park ended by its deadline */
	int saved_errno; /* errno while switched out */
	void (*fn)(void *);
	void *arg;
	struct gofiber_group *group;
	struct gofiber__stack stack;
	uint64_t id;
	/* Its record of blocked operations (wait/record.h: the slot lent by
	 * gowait__record_set_fiber_slot), so that a park allocates nothing.
	 * Zeroed at gofiber_go; unlinked when the fiber ends. */
	struct gowait__rec rec;
	void *tsan;      /* ThreadSanitizer's fiber (fiber/sanitize.h) */
	void *asan_fake; /* AddressSanitizer's fake stack while switched out */
	/* The bubble it belongs to (fiber/bubble.c), for its whole life; NULL:
	 * an ordinary fiber of the M:N runtime. */
	struct gofiber__bubble *bubble;
	uint64_t prio; /* in a bubble under PCT: its priority (fiber/bubble.c) */
#ifdef GOFIBER_TRACE
	uint32_t trace_slot; /* 1 + the slot it last ran on (fiber/trace.h) */
#endif
};

/* The fiber running on this thread; NULL on a plain thread or on the
 * worker's scheduler context.  (Initial-exec TLS: read by the SIGSEGV
 * handler.  Fibers migrate: fiber-side code reads it only through a call
 * made after its last switch, never across one; see fiber/sched.c.) */
extern _Thread_local struct gofiber *gofiber__cur __attribute__((tls_model("initial-exec")));

/* Report an overflow of @f's stack (fault at @addr; NULL: a broken canary)
 * on stderr and abort.  Async-signal-safe. */
_Noreturn void gofiber__overflow_report(const struct gofiber *f, const void *addr);

/* Install the SIGSEGV handler (once per process), and the calling worker
 * thread's alternate signal stack (and remove it at the worker's end). */
void gofiber__overflow_install(void);
void *gofiber__overflow_thread_init(void);
void gofiber__overflow_thread_fini(void *altstack);

/* The group a fiber belongs to lost it (fiber/group.c). */
void gofiber__group_add(struct gofiber_group *g);
void gofiber__group_done(struct gofiber_group *g);

/* ---- the bubble's hooks (fiber/bubble.c, issue 19) ----
 * fiber/sched.c hands a fiber whose ->bubble is set to the bubble at its
 * three routing points (the switch out, ready, gofiber_go from a bubble
 * fiber); nothing else of the M:N scheduler sees bubble fibers. */

/* The runtime's one-time set-up (wait-layer ops, record slots, handler). */
void gofiber__runtime_init(void);

/* A new fiber record on a fresh stack (group not yet counted, queued
 * nowhere); NULL: out of memory.  gofiber__free ends it after its exit. */
struct gofiber *gofiber__new(struct gofiber_group *g, void (*fn)(void *), void *arg);
void gofiber__free(struct gofiber *f);

/* The wait layer's part of bubble @b (wait/bubble.h). */
struct gowait__bubble *gofiber__bubble_hooks(struct gofiber__bubble *b);
/* The bubble fiber @f (its why set) switches to its bubble's scheduler;
 * returns when it runs again. */
void gofiber__bubble_switch(struct gofiber *f);
/* Make the bubble fiber @f runnable (from its bubble's worker or outside). */
void gofiber__bubble_ready(struct gofiber *f);
/* gofiber_go from the bubble fiber @parent: the new fiber joins its bubble. */
int gofiber__bubble_go(struct gofiber *parent, struct gofiber_group *g, void (*fn)(void *),
		       void *arg);

#endif

/*
 * gochan/fiber.h - goroutines: fibers that gochan's channels, select and
 * fiber groups park and ready in user space (issue 18, milestone 1).
 *
 *   Go                                        gochan
 *   var wg sync.WaitGroup; wg.Go(f)           gofiber_group_t *g = gofiber_group_new();
 *                                             gofiber_go(g, f, arg)
 *   wg.Wait()                                 gofiber_group_wait(g)  (thread or fiber)
 *   go f(arg)                                 gofiber_go(NULL, f, arg)
 *   runtime.Gosched()                         gofiber_yield()
 *
 * Opt-in.  Nothing of this module runs until the first gofiber_go(): a
 * program that never starts a fiber has no worker thread, no signal
 * handler, and pays one predictable branch per blocking operation.
 *
 * The runtime (milestone 1).  ONE worker thread runs every fiber, started by
 * the first gofiber_go() and exiting 50 ms after the last fiber ended
 * (counted by godiag_threads() as a "fiber" thread while it lives).  Fibers
 * are cooperative: a fiber runs until it blocks in gochan (a channel
 * operation, a select, gofiber_group_wait), yields, or returns.  There is
 * no preemption: a fiber that computes for long without one of those holds
 * up every other fiber; call gofiber_yield() in long loops.  A fiber never
 * moves to another thread, so errno, _Thread_local variables and the signal
 * mask are those of the worker thread; errno is saved and restored per fiber
 * at every switch (a fiber reads the errno it left), other thread-local
 * state is shared by all fibers (do not keep a thread-local value across a
 * blocking call and expect it unchanged).
 *
 * What parks a fiber (and not its thread): every gochan call that waits.
 * chan_send/chan_recv and their _until forms, chan_select (select {}
 * included); receiving from a timer's or a context's channel (the timer
 * thread's send, or the cancel, readies the fiber), ctx_send, ctx_recv and
 * ctx_select; gopoll_wait and receiving from a watch's channel (the poller
 * thread readies the fiber); gowg_wait and gowg_wait_until, gogroup_wait and
 * gogroup_wait_until, a gogroup_go* start at the group's limit,
 * gopoll_chanfd_free; gotime_shutdown and gopoll_shutdown (their wait for the
 * library thread to leave); and gofiber_group_wait.  Threads and fibers mix
 * freely on both sides of each (a thread's gowg_done wakes a fiber's
 * gowg_wait and the other way round).  What still blocks the worker thread,
 * and with it every fiber, until it returns: mutexes (gochan's own are held
 * for a few instructions), godiag_signal, and every blocking system call
 * (milestone 3 adds a way out).  A fiber and a thread may use one channel at
 * once, on either side; a fiber blocked on a thread (or the other way round)
 * is woken by the counterpart's operation, with the same memory ordering as
 * between threads (gochan/chan.h).  A fiber blocked in gochan is listed by
 * godiag_dump() beside the blocked threads ("fiber 0x..." with its operation,
 * channels and caller; "tid":0 and a "fiber" member in the JSON), and counted
 * by godiag_blocked() and the leak check godiag_verify_none().
 *
 * Stacks.  Each fiber runs on its own GOFIBER_STACK_SIZE (256 KiB) stack,
 * reserved with mmap(MAP_NORESERVE): only the pages a fiber touches cost
 * memory (one 4 KiB page for a fiber parked in a channel receive, one
 * more for a canary-guarded stack: tests/test_fiber_chan.c prints both).  Up to
 * GOFIBER_STACK_CACHE ended fibers' stacks are kept for reuse.  Below each
 * stack is a guard page, made by madvise(MADV_GUARD_INSTALL) where the
 * kernel has it (Linux 6.13+; costs no extra mapping), else by mprotect for
 * the first vm.max_map_count/8 stacks alive, else (beyond that budget) a
 * canary checked at every switch away from the fiber and at its exit, so
 * that 100,000 fibers fit Linux's default vm.max_map_count of 65,530.  An
 * overflow into a guard page is reported on stderr ("gochan: fiber N
 * overflowed its stack", the fault address and the fiber's function) by a
 * SIGSEGV handler running on the worker's alternate signal stack, and the
 * program aborts; a broken canary is reported the same way.  Any other
 * SIGSEGV goes to the handler installed before the first gofiber_go() (or
 * the default action).  A program must not replace the SIGSEGV handler
 * afterwards if it wants overflows reported.
 *
 * Errors are positive errno values (0 = success).
 *
 * Tools.  A library built with ThreadSanitizer or AddressSanitizer tells
 * them about every switch (__tsan_switch_to_fiber,
 * __sanitizer_start/finish_switch_fiber), so both run over fiber programs
 * without false reports (ASan's detect_stack_use_after_return then costs
 * tens of KiB of fake stack per fiber).  Debuggers see only the worker
 * thread and the fiber running on it (a gdb script: milestone 3).
 */
#ifndef GOCHAN_FIBER_H
#define GOCHAN_FIBER_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The usable stack of every fiber, in bytes (a guard page lies below it). */
#define GOFIBER_STACK_SIZE (256 * 1024)

/** How many ended fibers' stacks are kept for reuse. */
#define GOFIBER_STACK_CACHE 256

/** An opaque group of fibers to wait for (Go's WaitGroup used with wg.Go). */
typedef struct gofiber_group gofiber_group_t;

/**
 * gofiber_group_new - an empty fiber group.  Returns it, owned by the
 * caller, or NULL with errno ENOMEM.  Never blocks.
 */
gofiber_group_t *gofiber_group_new(void);

/**
 * gofiber_go - start fn(arg) as a new fiber (Go's `go fn(arg)`), counted by
 * group @g until fn returns (NULL @g: counted by nothing, like a bare Go
 * `go`).  Callable from a thread or a fiber; starts the worker thread if none
 * runs.  The new fiber runs later, never inside this call (from a fiber: not
 * before the caller blocks or yields).  Returns 0, EINVAL (NULL @fn), ENOMEM
 * (no stack could be mapped), EAGAIN (the worker thread could not be
 * started); on an error fn never runs and @g is unchanged.  Never blocks.
 * Ordering: everything before gofiber_go() happens before fn starts.
 * A fiber must return from fn to end (no pthread_exit, no longjmp out).
 */
int gofiber_go(gofiber_group_t *g, void (*fn)(void *), void *arg);

/**
 * gofiber_group_wait - block until every fiber started in @g has returned
 * (at once if none is outstanding).  On a fiber it parks the fiber (others
 * keep running); on a thread it blocks the thread.  Returns 0 or EINVAL (NULL
 * @g).  Waiting on a group from one of its own fibers never returns.
 * Ordering: everything a fiber of @g did happens before the wait returns.
 * The group may be reused (more gofiber_go) once the wait returned.
 */
int gofiber_group_wait(gofiber_group_t *g);

/**
 * gofiber_group_free - free @g.  Returns 0, EINVAL (NULL), or EBUSY (fibers
 * outstanding or a wait in progress: nothing is freed).  Never blocks.
 */
int gofiber_group_free(gofiber_group_t *g);

/**
 * gofiber_yield - Go's runtime.Gosched(): on a fiber, let every other
 * runnable fiber run once, then continue; on a thread, sched_yield().
 * Returns 0.  No memory ordering of its own.
 */
int gofiber_yield(void);

/**
 * gofiber_id - the running fiber's id (1, 2, ... in start order, unique for
 * the process), or 0 when called on a thread.  Never blocks.
 */
uint64_t gofiber_id(void);

#ifdef __cplusplus
}
#endif

#endif

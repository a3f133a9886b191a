/*
 * gochan/fiber.h - goroutines: fibers that gochan's channels, select and
 * fiber groups park and ready in user space (issue 18, milestone 2).
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
 * The runtime (milestone 2: M:N).  Fibers run on worker threads, at most
 * GOFIBER_WORKERS at once: the environment variable of that name, read once
 * at the first gofiber_go() (a positive number), else the number of online
 * CPUs.  Each worker has its own run queue; a worker without work steals
 * half of another's; the fiber that a fiber just readied (a channel
 * hand-off) or started runs next on the same worker, as in Go.  Idle
 * workers sleep and are woken only when there is work for them (Go's
 * spinning rule: a burst of N readies wakes at most min(N, workers)
 * threads while the woken ones are still looking for work);
 * worker threads are started as needed and exit 50 ms after they were last
 * needed once no fiber lives (counted by godiag_threads() as "fiber"
 * threads while they live; none outlives the fibers by more than that).
 * Fibers are cooperative: a fiber runs until it blocks in gochan (a channel
 * operation, a select, gofiber_group_wait, gofiber_run_blocking), yields,
 * or returns.  There is no preemption: a fiber that computes for long
 * without one of those holds up the fibers queued on its worker until
 * another worker steals them, and with every worker busy so, every fiber;
 * call gofiber_yield() in long loops.
 *
 * Threads: errno and _Thread_local.  A fiber may resume on another thread
 * after ANY switch (a blocking gochan call, gofiber_yield,
 * gofiber_syscall_exit), so:
 *   - errno is saved and restored per fiber at every switch: a fiber reads
 *     the errno it left, through a fresh read.  But a compiler may keep
 *     errno's address (or the thread pointer) in a register across a call
 *     within one function (__errno_location is declared const; GCC PR 26461;
 *     no flag prevents it), and after a migration that address is the old
 *     thread's.  So in a function that runs on a fiber, do not use errno
 *     both before and after a blocking gochan call: read or set it in a
 *     separate non-inlined function, or set it only after the call (the
 *     usual pattern, a system call followed by a read of errno with no
 *     gochan call between them, is safe).
 *   - The same holds for the program's own _Thread_local variables: a
 *     value read before a switch may belong to another thread after it, and
 *     an address taken before it certainly may.  Keep per-fiber state in
 *     the fiber's own memory (its argument, its stack), not in thread-locals.
 *   - The signal mask is the worker thread's, inherited from whichever
 *     thread started that worker (one that readied a fiber); block signals
 *     before the first gofiber_go() to keep them off every worker, and do
 *     not change the mask on a fiber.
 * gochan's own thread-local state is never read across a switch on a fiber
 * (the fiber runtime reads its own after each switch in fresh calls; the
 * wait layer's per-thread record and spin budget serve threads only, a
 * fiber's record is its own; select's per-thread random state is read only
 * before the park).
 *
 * Blocking system calls.  A fiber that calls read(), a mutex wait or any
 * other blocking call blocks its worker thread, and the fibers queued on
 * that worker wait (others steal them only if their workers run dry).  Wrap
 * the call in gofiber_syscall_enter()/gofiber_syscall_exit() (the worker's
 * queue goes to another thread, which is started if needed, while this one
 * blocks), or run it with gofiber_run_blocking() (on a thread of the pool;
 * the fiber parks meanwhile).  A call that waits for a gochan operation of
 * another fiber to happen must use one of these, or it may wait forever.
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
 * (see "Blocking system calls" above).  A fiber and a thread may use one channel at
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
 * more for a canary-guarded stack: tests/test_fiber_chan.c prints both).  Ended
 * fibers' stacks are kept for reuse, with their touched pages: first by the
 * worker they ended on (at most 64 per worker, the next fibers started there
 * take them, most recent first, as Go does), then in a cache shared by all.
 * Stacks are mapped 32 at a time, only when both caches are empty, so no more
 * are mapped than the peak of fibers alive at once plus 32 per worker; a
 * worker thread that runs out of work empties the idle workers' caches into
 * the shared one and unmaps the cached stacks beyond GOFIBER_STACK_CACHE or
 * the fibers alive, if more.  Below each
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
 * tens of KiB of fake stack per fiber).  Each worker thread has its own
 * alternate signal stack for the overflow report.  Debuggers see only the
 * worker threads and the fiber running on each; scripts/gdb/gochan-fibers.py
 * (gdb's Python API; a library built with -g) adds `info fibers` (each
 * fiber's id, state - running, runnable or parked - function, and where it
 * is parked: the operation, its channel, since when, the caller's
 * file:line) and `fiber bt ID|all [full]` (a switched-out fiber's
 * backtrace: its saved stack pointer, pc, frame pointer and callee-saved
 * registers loaded into the selected thread for `bt`, the thread's own put
 * back afterwards; x86_64 and aarch64, not the ucontext fallback).
 * `zig build gdb-fibers` tests both under gdb -batch.
 */
#ifndef GOCHAN_FIBER_H
#define GOCHAN_FIBER_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The usable stack of every fiber, in bytes (a guard page lies below it). */
#define GOFIBER_STACK_SIZE (256 * 1024)

/** How many ended fibers' stacks an idle worker leaves cached (more while
 * more fibers are alive: see "Stacks" above). */
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
 * `go`).  Callable from a thread or a fiber; starts a worker thread if none
 * runs.  The new fiber runs later, never inside this call: from a fiber it
 * runs next on the caller's worker once the caller blocks or yields (Go's
 * runnext), unless an idle worker takes it first; from a thread, on any
 * worker.  Returns 0, EINVAL (NULL @fn), ENOMEM (no stack could be mapped),
 * EAGAIN (no worker thread runs and none could be started); on an error fn
 * never runs and @g is unchanged.  Never blocks.
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
 * gofiber_yield - Go's runtime.Gosched(): on a fiber, let the other
 * runnable fibers of its worker run once (it goes to the back of the
 * worker's queue; it may continue on another worker), then continue; on a
 * thread, sched_yield().
 * Returns 0.  No memory ordering of its own.
 */
int gofiber_yield(void);

/**
 * gofiber_syscall_enter - about to make a blocking system call (Go's
 * entersyscall).  On a fiber: this thread gives its worker slot, with the
 * fibers queued on it, to another worker thread (woken or started), so that
 * the other fibers keep running while this thread blocks; the fiber goes on
 * running on this thread.  On a plain thread: nothing.  Returns 0.  Never
 * blocks.  Call gofiber_syscall_exit() when the call returned.
 */
int gofiber_syscall_enter(void);

/**
 * gofiber_syscall_exit - the blocking call is over (Go's exitsyscall).  On a
 * fiber: it continues on this thread if a worker slot is free; else it is
 * queued (it runs later, perhaps on another thread) and this thread becomes
 * a spare worker that exits after the linger.  On a plain thread, or with no
 * gofiber_syscall_enter() before: nothing.  Returns 0.  errno is kept.
 */
int gofiber_syscall_exit(void);

/**
 * gofiber_run_blocking - run fn(arg), a function that may block for long
 * (a blocking system call, a library that waits), without holding up the
 * other fibers.  On a fiber: fn runs on a plain thread of the library's
 * thread pool (the one gowg_go uses, counted by godiag_threads()) while the
 * fiber is parked (listed by godiag_dump as "fiber_group_wait"); it
 * continues when fn has returned.  On a thread: calls fn(arg) directly.
 * Returns 0 once fn returned, EINVAL (NULL @fn), or EAGAIN (no pool thread
 * could be started: fn did not run).  Ordering: everything before the call
 * happens before fn starts, and everything fn did happens before the call
 * returns.  fn runs on another thread: its errno and thread-locals are that
 * thread's.
 */
int gofiber_run_blocking(void (*fn)(void *), void *arg);

/**
 * gofiber_id - the running fiber's id (unique for the process, never 0;
 * the first fiber started is 1; increasing in start order on each worker,
 * not across workers: a worker takes ids 16 at a time, as Go's goid cache),
 * or 0 when called on a thread.  Never blocks.
 */
uint64_t gofiber_id(void);

#ifdef __cplusplus
}
#endif

#endif

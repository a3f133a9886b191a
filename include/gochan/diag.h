/*
 * gochan/diag.h - zombie diagnostics: which threads are blocked in a gochan
 * operation right now (Go's goroutine dump), and a leak check for tests
 * (Uber's goleak.VerifyNone).  Prefix godiag_.
 *
 * What is recorded.  Every thread that parks in a gochan operation (a send
 * or receive that has to wait, a select that has to wait, select with no
 * live case, i.e. Go's `select {}`) is listed from the moment it parks until
 * it returns: its kernel thread id and name (pthread_setname_np), the
 * operation, each channel it waits on (address, element size, len/cap,
 * closed or not, and for a select the case index and direction), the time it
 * blocked, the return address of the public gochan call it made (always;
 * symbolised with backtrace_symbols when printed) and, in the opt-in
 * backtrace mode, its call stack at the moment it blocked.  Operations that
 * complete without parking never appear: an operation that does not park
 * pays nothing for any of this (no atomic read-modify-write, no write to
 * shared memory; the caller's return address travels down as an argument).
 *
 * Costs.  A parked operation writes a per-thread record with plain stores
 * and one release store, and clears it with one store and one load (see
 * wait/record.c for the protocol); the first park of a thread registers it
 * once (a mutex and a pthread key).  Measured (bench/diag_bench.c,
 * park_record, thread CPU time on a 2-vCPU VM): about 8 ns per park, against
 * ~900 ns for a ping-pong round trip that parks twice.  The backtrace mode
 * adds a backtrace() call (several microseconds) to every park.
 *
 * Ownership: godiag_dump_json() returns malloc'd memory the caller frees.
 * Every other function owns nothing it returns.
 *
 * Threads: all functions may be called from any thread, concurrently with
 * any gochan operation.  None may be called from a signal handler (use
 * godiag_signal for that).
 */
#ifndef GOCHAN_DIAG_H
#define GOCHAN_DIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * godiag_dump - write a text dump of every thread blocked in a gochan
 * operation now to @out, followed by the count of library threads alive,
 * one line per kind.  The snapshot is taken first (each blocked thread is
 * held at its wake-up, at most for the copying of its own record, never
 * while @out is written), then formatted; a thread that wakes while the
 * dump is taken either appears with a consistent record or not at all.
 * Returns 0, EINVAL (@out NULL), ENOMEM, or EIO (a write to @out failed).
 * Blocks only on @out and on the registry mutex (threads registering or
 * exiting).
 */
int godiag_dump(FILE *out);

/**
 * godiag_dump_json - the same snapshot as JSON (for a /debug endpoint):
 *   {"blocked":[{"tid":N,"name":"...","op":"send"|"receive"|"select"|
 *     "select_none"|"fiber_group_wait"|"waitgroup_wait"|"library_wait",
 *     "ncases":N,"blocked_ns":N,"since_ns":N,
 *     "caller":"0x...","caller_symbol":"...","backtrace":["...",...],
 *     "channels":[{"case":N,"dir":"send"|"receive","addr":"0x...",
 *       "elem_size":N,"len":N,"cap":N,"closed":false},...]},...],
 *    "count":N,
 *    "threads":{"timer":N,"afterfunc":N,"poller":N,"group":N,"diag":N,
 *      "fiber":N,"total":N}}
 * Strings are escaped (quotes, backslashes, control bytes as \u00XX).
 * "backtrace" is present only for threads that blocked in backtrace mode.
 * An operation blocked in a fiber (none until a fiber runtime runs) has
 * "tid":0 and a "fiber":"0x..." member.
 * Returns a malloc'd NUL-terminated string (free it), or NULL with errno
 * ENOMEM.
 */
char *godiag_dump_json(void);

/**
 * godiag_blocked - how many threads are blocked in a gochan operation now.
 * A snapshot: it may change as soon as it is returned.  Never blocks except
 * on the registry mutex.
 */
size_t godiag_blocked(void);

/**
 * godiag_threads - how many threads the library itself runs now: the timer
 * thread, AfterFunc threads (timers' and contexts'), the poller, thread-group
 * workers, godiag_signal's dump thread, the fiber worker (gochan/fiber.h).
 */
unsigned godiag_threads(void);

/**
 * godiag_verify_none - the leak check of a test (goleak.VerifyNone): wait
 * until no library thread is alive (godiag_threads() == 0) and no thread is
 * blocked in a gochan operation (godiag_blocked() == 0), or until @deadline
 * (a chan_now() time; CHAN_FOREVER waits without limit).
 *
 * It only waits: it never stops a timer, cancels a context or wakes a
 * thread.  A pending timer keeps the timer thread alive (it exits
 * GOTIME_IDLE_LINGER_NS after the last timer is gone), so a test must stop
 * or receive its timers (or call gotime_shutdown) before the check; an
 * active godiag_signal keeps its dump thread alive until godiag_signal(0).
 * Library threads are waited for with a condition variable; blocked threads
 * are polled (1 us, doubling up to 10 ms), since a thread leaving a gochan
 * operation signals nobody (that is what keeps the park path cheap).
 *
 * Returns 0 when both counts are 0.  Otherwise, at the deadline, prints to
 * stderr one line with both counts (and the library threads per kind)
 * followed by godiag_dump(stderr), and returns ETIMEDOUT.
 */
int godiag_verify_none(int64_t deadline);

/**
 * godiag_signal - opt-in dump on a signal (Go prints every goroutine on
 * SIGQUIT).  godiag_signal(signo) installs a handler for @signo (SA_RESTART)
 * and starts one library thread (counted by godiag_threads()); each delivery
 * of @signo makes that thread write godiag_dump(stderr).  Signals that
 * arrive while a dump is pending are merged into it.  godiag_signal(0)
 * restores the handler that was there before, stops the thread and joins
 * it.  A second godiag_signal(s) moves the dump to signal s.
 *
 * Why a thread: a dump reads thread names, symbolises addresses (malloc),
 * takes the registry mutex and writes through stdio, none of which is
 * async-signal-safe; and the signal may interrupt the very thread that holds
 * the registry mutex.  The handler only write()s one byte to a non-blocking
 * pipe (async-signal-safe, errno preserved); the thread, blocked in poll(),
 * does the dump in ordinary context.
 *
 * Returns 0; EINVAL (@signo not a catchable signal: SIGKILL, SIGSTOP, out of
 * range); or the errno of pipe2/pthread_create/sigaction (nothing is left
 * installed then).
 */
int godiag_signal(int signo);

/**
 * godiag_set_backtrace - switch the backtrace mode on or off for parks that
 * start afterwards (relaxed flag: a park that races with the switch may use
 * either setting).  Also switched on at load time by the environment
 * variable GOCHAN_DIAG_BACKTRACE=1.  Each park in this mode records up to 32
 * frames with backtrace(3); the dump symbolises them with
 * backtrace_symbols(3) (link with -rdynamic for function names).
 */
void godiag_set_backtrace(bool on);

#ifdef __cplusplus
}
#endif

#endif

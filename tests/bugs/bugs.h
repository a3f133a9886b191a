/*
 * tests/bugs/bugs.h - the catalogue of classic concurrency bugs (issue 19):
 * small gochan programs, each with a deterministic oracle, and the shim they
 * run on.
 *
 * Each bug is one function `int bug_NAME(struct bug_env *e)` in its own file.
 * It runs the buggy (or, with BUG_FIX, the fixed) program once and answers
 * BUG_MANIFESTED or BUG_CLEAN (BUG_ERROR when something outside the story
 * failed: an allocation, a thread start, the safety limit of bug_settle).
 * Every answer is exact, never a guess from elapsed time:
 *   - a wrong value, an error code Go would panic on (EPIPE: send on a closed
 *     channel; EALREADY: close of a closed channel), or an order of events
 *     recorded by the program itself;
 *   - a deadlock or a leak: bug_settle() waits, without any time bound, until
 *     either every goroutine of the run has returned or every one still alive
 *     is blocked in gochan for good (below), and says which.
 * After its verdict a bug frees what it stranded (it closes the channels its
 * leaked goroutines are blocked on: a blocked send then fails with EPIPE, a
 * blocked receive returns !ok, and the goroutine returns), so that one
 * process can run a bug thousands of times and ends each run with nothing
 * blocked (bugs_run_one checks godiag_blocked() == 0).
 *
 * Modes (bits of e->mode):
 *   0            the buggy program, schedule left alone: whether the bug shows
 *                depends on the schedule (the runner counts how often, with
 *                and without GOCHAN_CHAOS);
 *   BUG_FORCE    gates (channels the program waits on only in this mode) put
 *                the goroutines in the order that exposes the bug: the buggy
 *                program must then ALWAYS manifest (the check that the oracle
 *                sees the bug);
 *   BUG_FIX      the fixed program: must NEVER manifest, alone or with
 *                BUG_FORCE (the gates then hold the goroutines in the same
 *                bad order where the fixed program allows it; each file says
 *                where it cannot).
 *
 * Goroutines.  A bug starts its goroutines only with bug_go(), from the
 * run's own thread (never from a goroutine: bug_settle relies on it).  Today
 * bug_go is a gochan thread group (gowg_go); with BUGS_RUNTIME=fiber in the
 * environment it is gofiber_go on the fiber runtime (issue 18).  Nothing in
 * a bug knows which: the bubble (docs/design-bubble.md) runs the same
 * functions on one seeded worker.
 */
#ifndef GOCHAN_TESTS_BUGS_H
#define GOCHAN_TESTS_BUGS_H

#include <gochan.h>
#include <gochan/bubble.h>
#include <stdatomic.h>
#include <stdbool.h>

/* A bug's verdict. */
enum bug_result {
	BUG_ERROR = -1,     /* the run failed for a reason outside the story */
	BUG_CLEAN = 0,      /* the bug did not show this time */
	BUG_MANIFESTED = 1, /* the bug showed (the oracle saw it) */
};

/* Mode bits (see the top of the file). */
enum {
	BUG_FORCE = 1, /* gates force the bad schedule */
	BUG_FIX = 2,   /* the fixed program */
};

/* What runs a goroutine. */
enum bug_runtime {
	BUG_THREADS = 0, /* gowg_go: a gochan thread group */
	BUG_FIBERS = 1,  /* gofiber_go: the fiber runtime */
	BUG_BUBBLE = 2,  /* gofiber_go inside a bubble (gochan/bubble.h): the run
			    is one gobubble_run with bugs_bubble_opts */
};

/* BUG_BUBBLE: the options of each run's bubble (seed, switch points), and
 * the report of the last run.  Set by the runner before bugs_run_one. */
extern gobubble_opts bugs_bubble_opts;
extern gobubble_report bugs_bubble_report;

/* One run of one bug: its mode and every goroutine it started. */
struct bug_env {
	int mode;
	enum bug_runtime runtime;
	gowg_t *wg;              /* BUG_THREADS: every goroutine of the run */
	gofiber_group_t *fibers; /* BUG_FIBERS: the same */
	/* Goroutines started (by bug_go) and not yet returned.  Incremented by
	 * bug_go before the start, decremented (release) as the goroutine's
	 * last action; bug_settle's acquire loads pair with that decrement. */
	atomic_long alive;
};

static inline bool bug_forced(const struct bug_env *e)
{
	return (e->mode & BUG_FORCE) != 0;
}

static inline bool bug_fixed(const struct bug_env *e)
{
	return (e->mode & BUG_FIX) != 0;
}

/* Go's `go fn(arg)` for a bug: 0 or an errno (the goroutine never runs). */
int bug_go(struct bug_env *e, void (*fn)(void *), void *arg);

/*
 * bug_settle - wait until every goroutine of @e has returned (returns 0), or
 * until every one still alive is blocked in gochan for good (returns how
 * many: a deadlock, or a leak if the run's thread has moved on).
 *
 * "For good": (1) a godiag snapshot lists as many parks (thread or fiber,
 * and the time it parked) as goroutines alive; (2) then no other thread of
 * the process is running or runnable (/proc/self/task/TID/stat); (3) then a
 * second snapshot lists the same parks and as many goroutines are alive.
 * By (1) and (3) every goroutine stayed in one park from its entry in the
 * first snapshot to its entry in the second, running no code of its own.  A
 * park is listed until its thread runs again, so a listed park may already
 * be woken: but a wake-up is a futex wake (or, for a fiber, a runnable
 * worker) issued by a thread that ran, and the parks of (3) are the only
 * parks there are, issued before the window by threads now parked; such a
 * woken thread is runnable during the window, which (2) rules out.  In this
 * catalogue only the run's goroutines and its own thread touch the run's
 * channels, no blocked operation has a deadline and no timer is pending
 * while a bug settles, and the run's thread is here doing nothing: nobody
 * is left to wake them.  (Spinning before a park shows as runnable: it only
 * delays the verdict.)
 *
 * There is no time bound on the answer; a safety limit of 120 s (a run gone
 * wrong) prints godiag_dump(stderr) and returns -1.
 * In a bubble (BUG_BUBBLE) none of that is needed: gobubble_wait() returns
 * when every other fiber of the bubble is parked, and with no deadline
 * pending nothing inside can wake them: the count alive is the answer.
 */
int bug_settle(struct bug_env *e);

/* Wait until every goroutine of @e has returned (a bug calls it before it
 * returns: its goroutines use its stack frame).  Never call it while one is
 * stranded: free them first. */
void bug_join(struct bug_env *e);

/* A gate: a channel BUG_FORCE waits on, opened by closing it.  bug_gate_new
 * gives a shut gate, or NULL with errno. */
chan_t *bug_gate_new(void);
/* Wait until @g is opened (returns at once if it is). */
void bug_gate_wait(chan_t *g);
/* Open @g (idempotent). */
void bug_gate_open(chan_t *g);

/* A two-party barrier: each side calls bug_meet with its own index. */
struct bug_barrier {
	chan_t *arrived[2];
};
int bug_barrier_init(struct bug_barrier *b);
void bug_barrier_meet(struct bug_barrier *b, int me);
void bug_barrier_free(struct bug_barrier *b);

/* The catalogue. */
struct bug_entry {
	const char *name;
	const char *what; /* one line */
	int (*run)(struct bug_env *e);
};
extern const struct bug_entry bug_catalogue[];
extern const unsigned bug_catalogue_len;

/* Run @b once in @mode on @rt: its verdict; BUG_ERROR if anything of the
 * run is still blocked afterwards. */
int bugs_run_one(const struct bug_entry *b, int mode, enum bug_runtime rt);

/* The bugs (one file each). */
int bug_leak_early_return(struct bug_env *e);
int bug_zombie_scan(struct bug_env *e);
int bug_missed_close(struct bug_env *e);
int bug_lost_wakeup(struct bug_env *e);
int bug_select_starve(struct bug_env *e);
int bug_wg_add_after_wait(struct bug_env *e);
int bug_send_on_closed(struct bug_env *e);
int bug_deadlock_two_chans(struct bug_env *e);
int bug_timeout_before_reply(struct bug_env *e);
int bug_double_close(struct bug_env *e);

#endif

/*
 * gochan/bubble.h - seeded, replayable runs of fiber code with virtual time
 * (issue 19; Go's testing/synctest bubble, plus a seeded schedule).
 *
 *   Go (testing/synctest)                     gochan
 *   synctest.Test(t, f)                       gobubble_run(&opts, f, arg, &report)
 *   synctest.Wait()                           gobubble_wait()
 *
 * gobubble_run() runs fn(arg) as the first fiber of a bubble, on the calling
 * thread, which becomes the bubble's only worker until the call returns.
 * Every fiber started by gofiber_go() from a fiber of the bubble belongs to
 * it and runs on that thread only; no other fiber runs there.
 *
 * The schedule.  Every choice the runtime makes inside the bubble comes from
 * one decision source, splitmix64 of opts->seed: which runnable fiber runs
 * next (at every park, yield, start and end of a fiber), the random order
 * in which chan_select() polls its cases, and which of several timers due
 * at the same virtual instant fires first.  Seed 0 is the default
 * schedule: first-in first-out, as a single plain worker would run it, and
 * tied timers in the order they were armed (its selects still poll in a
 * seeded order).  The same seed gives the same execution, and the same
 * output, on any machine, as long as the bubble's fibers touch nothing
 * outside it (below).
 *
 * Virtual time.  chan_now() on a bubble fiber returns the bubble's clock,
 * which starts at GOBUBBLE_EPOCH (2000-01-01T00:00:00Z in ns, as synctest)
 * and moves only when no fiber of the bubble can run: it then jumps to the
 * earliest pending deadline and fires it: a parked fiber's (chan_recv_until,
 * chan_send_until, chan_select with a deadline, ... computed from chan_now()
 * or chan_deadline_in() inside the bubble), which times out, or a timer's.
 * Timers, tickers, gotime_after, gotime_after_func and context deadlines
 * (ctx_with_deadline, ctx_with_timeout) created on a bubble fiber belong to
 * the bubble: they are armed on its clock and fired by it, on its worker,
 * one at a time (a timer due at the same instant as a fiber's deadline
 * fires first); the library's timer thread never serves them.  A
 * gotime_after_func function and a ctx_after_func function started from
 * the bubble run as fibers of the bubble; a gotime_after_func_at function
 * (the hook under context deadlines) runs on the bubble's scheduler itself,
 * outside every fiber, and must not block.  A 30 s timeout inside a bubble
 * returns at once in real time, exactly 30 s later on the bubble's clock.
 * A ticker nobody reads keeps the clock moving while everything else is
 * blocked (as in synctest): stop it first.
 *
 * Verdicts (report->verdict).  The bubble returns when no fiber of it is
 * runnable and no deadline is pending:
 *   GOBUBBLE_OK        fn returned and every fiber of the bubble ended;
 *   GOBUBBLE_DEADLOCK  fn had not returned: every fiber is blocked for ever
 *                      (Go's "all goroutines are asleep - deadlock!");
 *   GOBUBBLE_LEAK      fn returned but report->blocked fibers are still
 *                      parked.
 * With a deadlock or a leak, if opts->dump is set, godiag_dump()'s listing of
 * the blocked operations (with the fibers') is written to it.  Blocked
 * fibers are left parked: their stacks and the bubble's record stay
 * allocated (Go leaks them too); the channels they wait on must outlive them.
 *
 * Outside the bubble.  The bubble replays only what runs inside it.  What
 * it detects, each counted in the report and, with opts->dump set, named in
 * a line "gochan: bubble (seed N): not replayable: ..." written when the
 * run ends (a thread wait on the worker also at once, as it starts):
 *   report->outside        a thread outside the bubble (a plain thread,
 *                          the poller, another bubble's worker) readied a
 *                          bubble fiber: on a channel shared with it, it
 *                          sent what a fiber waited for (also when it
 *                          came before the fiber had finished parking).
 *                          While nothing
 *                          inside can run and no deadline is pending, the
 *                          bubble waits for such a ready only if
 *                          opts->outside_wait_ns > 0 (that long, in real
 *                          time), else it reports a deadlock.
 *   report->thread_wakes   a fiber of the bubble completed a plain thread
 *                          parked on a shared channel: that thread goes on
 *                          at the OS's pace.
 *   report->worker_blocks  the library made a thread wait on the bubble's
 *                          worker: its thread park (an operation reached
 *                          from the scheduler, outside every fiber, e.g. in
 *                          a gotime_after_func_at function), a condition
 *                          variable wait of the library (gowait's), or
 *                          select {} on a thread.  Nothing of the bubble
 *                          runs until it returns, and a deadline it carries
 *                          came from the virtual clock, decades past the
 *                          real one: it may never return, hence the line at
 *                          once.
 * What it cannot detect (documented, not caught): a fiber's own
 * pthread_mutex_lock, pthread_cond_wait, sleep, blocking system call or
 * pthread_join (they go straight to the kernel and block the worker, no
 * switch happens meanwhile); a CPU loop (no preemption); the real clock read
 * directly (clock_gettime, time(), gettimeofday: the bubble cannot see the
 * call, and only chan_now() is virtual); a real fd (gopoll_*: the poller
 * thread's ready is counted in report->outside); and a deadline computed
 * outside from real time and passed in (it lies decades before the virtual
 * epoch: the wait times out at once).  A single worker runs one fiber at a
 * time, so every execution is sequentially consistent: weak-memory
 * reorderings are never found here (keep ThreadSanitizer and real hardware
 * for those).
 *
 * GOCHAN_SEED.  If the environment variable GOCHAN_SEED is set (a decimal
 * or 0x number) and opts->ignore_env is false, it replaces opts->seed: the
 * way to replay a failing seed that a runner printed.
 *
 * The decision log (replay and shrink).  Every choice drawn from the
 * decision source (a pick among several runnable fibers, a switch point's
 * choice, 64 bits for a select's poll order or PCT) is one
 * gobubble_decision {kind, n, chosen}; a choice among one option draws
 * nothing.  With opts->record the run's decisions are returned in
 * report->log; with opts->decisions_out (or GOCHAN_DECISIONS=FILE in the
 * environment, rewritten by each run) they are written as text, one per
 * line (gobubble_decisions_write).  opts->replay (or GOCHAN_REPLAY=FILE)
 * makes a list the source instead of the seed: the i-th draw takes the
 * i-th entry's chosen, whatever its kind; an entry with chosen >= n (the
 * program changed) is clamped to n - 1 and counted in report->misfits;
 * past the list's end every draw answers 0 (the default order: FIFO, keep
 * running, a select polls its cases in order) and is counted in
 * report->past_end.  A recorded list replays the run exactly.
 * opts->fuzz_input makes bytes the source (a fuzzer's input): byte i
 * answers the i-th draw, byte % n (64 bits: the byte in every byte of the
 * word), 0 past the end.  gobubble_shrink() cuts a failing list down.
 *
 * Errors (the return value): 0, the run happened and report says how it
 * ended; EINVAL (fn NULL, or called from a fiber); ENOMEM.
 */
#ifndef GOCHAN_BUBBLE_H
#define GOCHAN_BUBBLE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The bubble clock's start: 2000-01-01T00:00:00Z, in ns since 1970. */
#define GOBUBBLE_EPOCH INT64_C(946684800000000000)

/* How the seed picks the next fiber. */
typedef enum gobubble_strategy {
	GOBUBBLE_RANDOM = 0, /* uniformly among the runnable fibers */
	/* PCT (Burckhardt et al., ASPLOS 2010): each fiber gets a random
	 * priority when it starts, the highest-priority runnable fiber always
	 * runs, and at pct_depth - 1 random steps among the first pct_steps
	 * (a step: each pick of the next fiber and each switch point) the
	 * running fiber drops below all others.  Finds a bug of depth d among
	 * n fibers with probability at least 1/(n k^(d-1)) per run.  With
	 * switch points, PCT switches only at its change points (no time
	 * jumps); a yield puts the fiber below every runnable one. */
	GOBUBBLE_PCT = 1
} gobubble_strategy;

/* What a decision chose (the log's kinds). */
typedef enum gobubble_decision_kind {
	GOBUBBLE_PICK = 0,   /* the next fiber: index in the run queue (0: oldest) */
	GOBUBBLE_SWITCH = 1, /* a switch point: 0 keep running, 1 switch, 2 jump */
	GOBUBBLE_BITS = 2,   /* 64 bits (n 0): select's poll order, PCT */
	GOBUBBLE_OTHER = 3,  /* any other choice among n */
	GOBUBBLE_TIMER = 4   /* which of n timers due at one instant fires next
			      * (0: the earliest armed) */
} gobubble_decision_kind;

/* One decision: a choice of @chosen in [0, n) (any 64 bits when n is 0). */
typedef struct gobubble_decision {
	uint32_t kind; /* gobubble_decision_kind */
	uint32_t n;
	uint64_t chosen;
} gobubble_decision;

typedef struct gobubble_opts {
	uint64_t seed;           /* the decision source; 0 = the default order */
	bool ignore_env;         /* true: GOCHAN_SEED does not replace seed */
	int64_t outside_wait_ns; /* real ns to wait for an outside ready (0: none) */
	FILE *dump;              /* deadlock and leak listings go here (NULL: none) */
	/* Switch points: at the entry of every channel operation and select
	 * (before any lock), the running fiber yields to another runnable one
	 * when the seed says so (one decision per point with another fiber
	 * runnable); at most max_switches times per run (0: no bound), after
	 * which every point keeps running (loom's preemption bound).  Opens
	 * the windows that a cooperative run never switches in. */
	bool switch_points;
	uint32_t max_switches;
	/* With switch_points: a switch point may also let the clock jump to
	 * the next pending deadline (a timer, a parked fiber's timeout) as if
	 * the code running since the last switch had taken that long; its
	 * timer fires or its fiber times out, and the seed picks who runs
	 * next.  Without it virtual time never passes while a fiber can run,
	 * so a timeout can never beat a reply that is only slow. */
	bool time_jumps;
	gobubble_strategy strategy;
	uint32_t pct_depth; /* d (0: 3) */
	uint32_t pct_steps; /* k (0: 100; GOCHAN_PCT_STEPS replaces it): best
			       the report's points of a typical run */
	/* The decision log (above).  replay: the source instead of the seed
	 * (replay_len entries); fuzz_input: bytes as the source (when replay
	 * is NULL); record: report->log gets every decision; decisions_out:
	 * they are written there as text at the end of the run.  GOCHAN_REPLAY
	 * and GOCHAN_DECISIONS (unless ignore_env) replace replay and
	 * decisions_out. */
	const gobubble_decision *replay;
	size_t replay_len;
	const uint8_t *fuzz_input;
	size_t fuzz_len;
	bool record;
	FILE *decisions_out;
} gobubble_opts;

typedef enum gobubble_verdict {
	GOBUBBLE_OK = 0,
	GOBUBBLE_DEADLOCK,
	GOBUBBLE_LEAK
} gobubble_verdict;

typedef struct gobubble_report {
	gobubble_verdict verdict;
	uint64_t seed;      /* the seed the run used (after GOCHAN_SEED) */
	uint64_t fibers;    /* fibers the bubble ran, fn's included */
	uint64_t blocked;   /* fibers still parked at the end */
	uint64_t decisions; /* choices drawn from the seed with more than one option */
	uint64_t steps;     /* scheduling points (a fiber switched to the scheduler) */
	uint64_t outside;   /* readies that came from outside the bubble */
	uint64_t switches;  /* switch points that switched (or jumped) */
	uint64_t jumps;     /* of them, time jumps */
	uint64_t points;    /* PCT's steps: picks of the next fiber, switch points */
	int64_t elapsed_ns; /* virtual time from GOBUBBLE_EPOCH to the end */
	/* More ways out of the bubble the run saw, besides outside (any of
	 * the three nonzero: the run is not replayable; "Outside the
	 * bubble" above): */
	uint64_t thread_wakes;  /* plain threads its fibers completed */
	uint64_t worker_blocks; /* thread waits on its worker */
	/* With opts->record: every decision, in order (malloc'd: the caller
	 * frees it with free(); NULL when none was drawn).  log_short: an entry
	 * was lost (out of memory). */
	gobubble_decision *log;
	size_t log_len;
	bool log_short;
	uint64_t misfits;  /* replayed entries clamped (chosen >= n) */
	uint64_t past_end; /* draws past the end of the replay list or bytes */
} gobubble_report;

/*
 * gobubble_run - run fn(arg) in a new bubble on this thread (see above) and
 * return when the bubble is quiescent.  @opts may be NULL (seed 0); @report
 * may be NULL.  Must not be called from a fiber.
 */
int gobubble_run(const gobubble_opts *opts, void (*fn)(void *), void *arg, gobubble_report *report);

/*
 * gobubble_decisions_write - write @n decisions to @f as text: a comment
 * line "# gochan bubble decisions v1: KIND N CHOSEN", then one line per
 * decision, "pick 3 1", "switch 2 0", "bits 0 0x9e3779b97f4a7c15",
 * "other 4 2" (KIND a name, N and CHOSEN numbers; bits in hex).  0, or EIO.
 */
int gobubble_decisions_write(FILE *f, const gobubble_decision *d, size_t n);

/*
 * gobubble_decisions_read - read what gobubble_decisions_write wrote (lines
 * starting with '#' and blank lines are skipped; numbers decimal or 0x) into
 * a malloc'd array *@out of *@n entries (free it with free()).  0, EINVAL
 * (a malformed line; nothing is returned), ENOMEM.
 */
int gobubble_decisions_read(FILE *f, gobubble_decision **out, size_t *n);

/*
 * gobubble_shrink - delta debugging of a failing decision list: find a
 * shorter, simpler list that still fails.  @fails(list, n, ctx) runs the
 * test once with the list as opts->replay and returns true when it fails
 * the same way (the caller's oracle: the same verdict, the same assertion).
 * The list @d (*@n entries) is first checked to fail, then shrunk in place:
 * chunks are dropped (halves, quarters, ... single entries), then each
 * remaining choice is lowered toward 0 (0 first, then smaller values), and
 * trailing zeros are cut (past the end a replay answers 0 anyway); the
 * passes repeat until none changes the list or @max_runs calls of @fails
 * are spent (0: 10,000).  *@n is the new length; *@runs (may be NULL) the
 * calls made.  Every change kept was a list that failed, so the result
 * fails (replays are exact).  0; EINVAL if the list given does not fail.
 * To get a list with the right kinds and counts, replay the result once
 * with opts->record and cut the log's trailing zeros.
 */
int gobubble_shrink(gobubble_decision *d, size_t *n,
		    bool (*fails)(const gobubble_decision *list, size_t n, void *ctx), void *ctx,
		    uint64_t max_runs, uint64_t *runs);

/*
 * gobubble_wait - Go's synctest.Wait: on a fiber of a bubble, return once
 * every other fiber of the bubble is blocked (parked, none runnable); the
 * clock does not move meanwhile.  0, or EINVAL when not on a bubble fiber.
 * (Each wait is a scheduling point: it may run the other fibers in a seeded
 * order.)
 */
int gobubble_wait(void);

/*
 * gobubble_now - the bubble's virtual clock when called on a fiber of a
 * bubble (as chan_now() there), else -1.
 */
int64_t gobubble_now(void);

#ifdef __cplusplus
}
#endif

#endif

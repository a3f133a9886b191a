/*
 * wait/stats.h - counters of what the wait strategy did (issue 21's
 * load-switch trace): yields taken and refused, late yields, the gate's
 * probes, how parks ended, futex sleeps and wakes.  Compiled in only with
 * -DGOWAIT_STATS (bench/loadswitch.sh's LOADSWITCH_STATS=1 build); without
 * it every GOWAIT_STAT() is empty and gowait__stats_read() reads zeros.
 * Not installed; not for users.
 *
 * Per thread, so that counting adds no shared cache line to a hand-off: a
 * thread's block is allocated at its first count and never freed (a
 * diagnostic build: one small leak per thread), linked into a list that
 * gowait__stats_read() sums.  Each counter has one writer (its thread:
 * relaxed load + store, no read-modify-write); readers load relaxed and may
 * see a sum a few counts old.
 */
#ifndef GOCHAN_WAIT_STATS_H
#define GOCHAN_WAIT_STATS_H

#include <stdint.h>

enum gowait_stat {
	GOWAIT_ST_YIELD,        /* sched_yield taken through the gate */
	GOWAIT_ST_YIELD_OFF,    /* a yield refused: the gate was closed */
	GOWAIT_ST_LATE,         /* a late yield that closed (or kept closed) the gate */
	GOWAIT_ST_LATE_OURS,    /* a late yield blamed on our own threads: gate kept open */
	GOWAIT_ST_PROBE,        /* a probe yield after a back-off */
	GOWAIT_ST_PROBE_PROMPT, /* ... that reopened the gate */
	GOWAIT_ST_REPLACE,      /* a thread that yielded too long without sleeping sleeps */
	GOWAIT_ST_PARK,         /* thread parks (spinning ones) */
	GOWAIT_ST_PARK_SPIN,    /* ... completed while spinning */
	GOWAIT_ST_PARK_YIELD,   /* ... completed in the yield phase */
	GOWAIT_ST_PARK_SLEEP,   /* ... that announced a sleep (phase 3) */
	GOWAIT_ST_FUTEX_WAIT,   /* futex waits of a park */
	GOWAIT_ST_FUTEX_WAKE,   /* futex wakes of a completion */
	GOWAIT_ST_LOCK_SLEEP,   /* channel-lock slow paths that slept */
	GOWAIT_ST_N
};

#ifdef GOWAIT_STATS
void gowait__stat_add(enum gowait_stat s);
#define GOWAIT_STAT(s) gowait__stat_add(s)
#else
#define GOWAIT_STAT(s) ((void)0)
#endif

/* The sums over every thread that counted (zeros without GOWAIT_STATS).
 * Returns 1 when counting is compiled in, 0 when not. */
int gowait__stats_read(uint64_t out[GOWAIT_ST_N]);

/* The counters' names, for printing ("yield", "yield_off", ...). */
extern const char *const gowait__stat_names[GOWAIT_ST_N];

#endif

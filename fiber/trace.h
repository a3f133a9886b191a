/*
 * fiber/trace.h - counters of the scheduler's decisions, for diagnosing a
 * benchmark (which decision gives a slow mode: wakes, steals, runnext hits,
 * spins, migrations).  Compiled in only with -DGOFIBER_TRACE (e.g.
 * CFLAGS="-O3 -DNDEBUG -DGOFIBER_TRACE" bench/run.sh ...); the environment
 * variable GOFIBER_TRACE=1 then prints them on stderr at exit, summed over
 * the threads, with the fibers run by each thread.  Without the macro every
 * GOFIBER_TR() is nothing.  Not installed.
 */
#ifndef GOCHAN_FIBER_TRACE_H
#define GOCHAN_FIBER_TRACE_H

enum gofiber__ev {
	GOFIBER_EV_READY_NEXT,   /* ready() into runnext */
	GOFIBER_EV_DISPLACE,     /* ... displacing a fiber to the ring */
	GOFIBER_EV_READY_GLOBAL, /* ready() into the global queue */
	GOFIBER_EV_WAKE,         /* futex wake of an idle thread */
	GOFIBER_EV_STEAL,        /* a successful steal */
	GOFIBER_EV_STEAL_ONE,    /* ... of one fiber (runnext, or a ring of 1) */
	GOFIBER_EV_SPIN_GQ,      /* a spinner found the global queue or a deadline */
	GOFIBER_EV_GIVEUP,       /* a thread gave its slot back */
	GOFIBER_EV_RESPIN,       /* ... and took one again (work seen after) */
	GOFIBER_EV_SLEEP,        /* an idle thread went to sleep */
	GOFIBER_EV_WATCH,        /* the watch took a slot for a stuck one */
	GOFIBER_EV_COMMIT,       /* a park committed */
	GOFIBER_EV_COMMIT_FAIL,  /* ... found complete: ran again at once */
	GOFIBER_EV_GET_NEXT,     /* the owner ran its runnext */
	GOFIBER_EV_GET_RING,     /* the owner ran the head of its ring */
	GOFIBER_EV_RUN,          /* a fiber ran (counted per thread too) */
	GOFIBER_EV_MIGRATE,      /* ... on another slot than last time */
	GOFIBER_EV_WAKEP_READY,  /* ready() looked for a thread to wake */
	GOFIBER_EV_WAKEP_SPIN,   /* the last spinner, having found work, did */
	GOFIBER_EV_N
};

#ifdef GOFIBER_TRACE
void gofiber__trace(enum gofiber__ev ev);
#define GOFIBER_TR(ev) gofiber__trace(ev)
#else
#define GOFIBER_TR(ev) ((void)0)
#endif

#endif

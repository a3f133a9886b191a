/*
 * wait/record.h - the record of blocked operations: what the park of
 * wait/park.h writes around every wait (one record per thread, or per
 * parked fiber), and the walk that diagnostics (diag/snapshot.c) read it
 * through.  The protocol between the two sides is described at the top of
 * wait/record.c.  The wait layer itself never reads a channel or a case: the
 * site's pointers are opaque here, and only the walk's caller dereferences
 * them, inside the hand-shake that keeps them alive.  Not installed; not for
 * users.
 */
#ifndef GOCHAN_WAIT_RECORD_H
#define GOCHAN_WAIT_RECORD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <urcu/list.h>

enum gowait__op {
	GOWAIT_OP_SEND = 1,
	GOWAIT_OP_RECV,
	GOWAIT_OP_SELECT,      /* select with at least one live case */
	GOWAIT_OP_SELECT_NONE, /* select {}: no live case, never woken */
	GOWAIT_OP_FIBER_WAIT,  /* gofiber_group_wait (fiber/group.c, gochan/fiber.h) */
	GOWAIT_OP_WG_WAIT,     /* gowg_wait, gogroup_wait (group/waitgroup.c, wait/word.h) */
	GOWAIT_OP_LIB_WAIT,    /* another wait of wait/word.h: a shutdown on a
				  fiber waiting for a service thread to leave
				  (service/service.c), the timer module's wait
				  for AfterFunc functions (a test hook) */
};

/*
 * Where a select came from, passed down from chan_select to the park (so
 * that a one-case select, run as the plain operation, still shows as a
 * select of its cases).  NULL for plain operations.  @cases is the caller's
 * chan_case_t array (gochan/select.h), opaque to the wait layer.
 */
struct gowait__sel {
	const void *cases;
	uint32_t ncases;
};

/* What a parked operation is, built by its caller on the slow path only. */
struct gowait__site {
	enum gowait__op op;
	const void *chan;              /* send/receive: the channel; else NULL */
	const struct gowait__sel *sel; /* select (or a one-case select run as a
					  plain operation): its cases; else NULL */
	const void *ra;                /* return address of the public entry */
};

#define GOWAIT_BT_MAX 32

/*
 * One record (wait/record.c describes the protocol).  Defined here only so
 * that the fiber runtime can embed one in each fiber (see
 * gowait__record_set_fiber_slot); nothing outside wait/record.c reads or
 * writes its fields.
 */
struct gowait__rec {
	struct cds_list_head link; /* in the registry, under its mutex */
	pthread_t self;            /* immutable after registration */
	pid_t tid;                 /* 0 for a fiber's record */
	const void *fiber;         /* the fiber, or NULL: a thread's record */
	bool embedded;             /* a fiber's slot: linked from its first park
				      to gowait__record_fiber_fini */
	_Atomic uint32_t blocked;  /* 1 while parked (protocol in record.c) */
	_Atomic uint32_t reader;   /* 1 while a dumper may read this record */
	/* Written by the owner with plain stores before blocked = 1. */
	enum gowait__op op;
	uint32_t ncases;
	const void *chan;
	const void *cases;
	const void *ra;
	int64_t since;
	int nbt;
	void *bt[GOWAIT_BT_MAX];
};

/*
 * gowait__record_set_fiber_slot - the fiber runtime's record slots: @slot
 * (agent) returns the record embedded in that fiber, zeroed when the fiber
 * was made (its `fiber` member NULL: not linked yet).  A fiber's park then
 * uses its slot, linked into the registry on the fiber's first park and
 * unlinked by gowait__record_fiber_fini when the fiber ends, so that a park
 * allocates nothing and takes the registry mutex only on a fiber's first
 * park.  Without it (NULL, the default) each fiber park mallocs a record
 * and links and unlinks it.  Set once, before the first fiber parks
 * (release; block_begin reads it with acquire).
 */
void gowait__record_set_fiber_slot(struct gowait__rec *(*slot)(void *agent));

/*
 * gowait__record_fiber_fini - the fiber that owns the embedded record @r
 * ended (it is not parked): unlink @r if a park linked it.  After it
 * returns no dumper reads @r, and its memory may be reused.
 */
void gowait__record_fiber_fini(struct gowait__rec *r);

/*
 * gowait__block_begin - the calling agent is about to park (no lock held)
 * in @site's operation; @now: chan_now() (the park reads the clock anyway);
 * @agent: the parker's agent (NULL: this thread; else a fiber, listed by
 * that id in a record of its own).  With site->sel a send/receive shows as
 * the select it came from.  Returns the record (NULL if it could not be
 * registered: then the park is simply not listed) for gowait__block_end.
 */
struct gowait__rec *gowait__block_begin(const struct gowait__site *site, int64_t now, void *agent);

/*
 * gowait__block_end - the park is over (completed or timed out); any thread
 * may call it (a fiber may resume on another worker).  It may wait
 * (yielding) while a dumper is copying this very record; after it returns,
 * no dumper touches the operation's channels or cases any more, so the
 * caller may return to its user (who may free them).
 */
void gowait__block_end(struct gowait__rec *r);

/* ---- the reading side (diag/) ---- */

/* One blocked operation, as the walk shows it. */
struct gowait__rec_view {
	pid_t tid;         /* the thread (0 for a fiber's record) */
	const void *fiber; /* the fiber (agent), or NULL for a thread */
	enum gowait__op op;
	uint32_t ncases;   /* select: the caller's n (nil cases included); else 1 */
	const void *chan;  /* send/receive: the channel */
	const void *cases; /* select: the caller's chan_case_t array */
	const void *ra;    /* return address of the public entry point */
	int64_t since;     /* chan_now() when it blocked */
	int nbt;           /* frames in bt (0: backtrace mode was off) */
	void *const *bt;
};

struct gowait__walk {
	/* Called for each blocked record, inside the hand-shake: while it runs
	 * the operation stays parked, so when @deref is true its channels and
	 * cases may be read (through public calls).  @deref false: the
	 * hand-shake could not be trusted this time (wait/record.c,
	 * barrier_all), list the operation without reading them.  Return false
	 * to stop (out of memory); the walk then returns ENOMEM. */
	bool (*blocked)(const struct gowait__rec_view *v, bool deref, void *arg);
	/* Called after that pass, still under the record mutex (so @self has
	 * not finished exiting), once per registered thread: for names. */
	void (*thread)(pid_t tid, pthread_t self, void *arg);
	void *arg;
};

/* gowait__record_walk - visit every blocked operation (the dumper's side of
 * the protocol).  0 or ENOMEM (a blocked() returned false). */
int gowait__record_walk(const struct gowait__walk *w);

/* How many operations are blocked now (a count, not a snapshot). */
size_t gowait__record_blocked(void);

/* Record a backtrace with each park from now on (relaxed; a racing park may
 * use either setting).  GOCHAN_DIAG_BACKTRACE=1 turns it on at start. */
void gowait__record_set_backtrace(bool on);

#endif

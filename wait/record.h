/*
 * wait/record.h - the registry of threads blocked in a gochan operation:
 * what chan/ and select/ call around a park.  The protocol is described at
 * the top of wait/record.c.  Not installed; not for users.
 */
#ifndef GOCHAN_WAIT_RECORD_H
#define GOCHAN_WAIT_RECORD_H

#include <gochan/select.h>
#include <stdint.h>

enum gowait__op {
	GOWAIT_OP_SEND = 1,
	GOWAIT_OP_RECV,
	GOWAIT_OP_SELECT,      /* select with at least one live case */
	GOWAIT_OP_SELECT_NONE, /* select {}: no live case, never woken */
};

/*
 * Where a select came from, passed down from chan_select to the park (so
 * that a one-case select, run as the plain operation, still shows as a
 * select of its cases).  NULL for plain operations.
 */
struct gowait__sel {
	const chan_case_t *cases;
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

struct gowait__rec;

/*
 * gowait__block_begin - the calling thread is about to park (no lock held)
 * in @site's operation; @now: chan_now() (the park reads the clock anyway).
 * With site->sel a send/receive shows as the select it came from.  Returns
 * the thread's record (NULL if it could not be registered: then the park is
 * simply not listed) for gowait__block_end.
 */
struct gowait__rec *gowait__block_begin(const struct gowait__site *site, int64_t now);

/*
 * gowait__block_end - the park is over (completed or timed out).  It may
 * wait (yielding) while a dumper is copying this very record; after it
 * returns, no dumper touches the operation's channels or cases any more,
 * so the caller may return to its user (who may free them).
 */
void gowait__block_end(struct gowait__rec *r);

#endif

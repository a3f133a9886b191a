/*
 * diag/registry.h - the registry of threads blocked in a gochan operation:
 * what chan/ and select/ call around a park.  The protocol is described at
 * the top of diag/registry.c.  Not installed; not for users.
 */
#ifndef GOCHAN_DIAG_REGISTRY_H
#define GOCHAN_DIAG_REGISTRY_H

#include <gochan/select.h>
#include <stdint.h>

enum godiag__op {
	GODIAG_OP_SEND = 1,
	GODIAG_OP_RECV,
	GODIAG_OP_SELECT,      /* select with at least one live case */
	GODIAG_OP_SELECT_NONE, /* select {}: no live case, never woken */
	GODIAG_OP_FIBER_WAIT,  /* gofiber_group_wait (gochan/fiber.h) */
};

/*
 * Where a select came from, passed down from chan_select to the park (so
 * that a one-case select, run as the plain operation, still shows as a
 * select of its cases).  NULL for plain operations.
 */
struct godiag__sel {
	const chan_case_t *cases;
	uint32_t ncases;
};

/* What a parked operation is, built by its caller on the slow path only. */
struct godiag__site {
	enum godiag__op op;
	const void *chan;              /* send/receive: the channel; else NULL */
	const struct godiag__sel *sel; /* select (or a one-case select run as a
					  plain operation): its cases; else NULL */
	const void *ra;                /* return address of the public entry */
};

struct godiag__rec;

/*
 * godiag__block_begin - the calling thread is about to park (no lock held)
 * in @site's operation; @now: chan_now() (the park reads the clock anyway).
 * With site->sel a send/receive shows as the select it came from.  Returns
 * the thread's record (NULL if it could not be registered: then the park is
 * simply not listed) for godiag__block_end.
 */
struct godiag__rec *godiag__block_begin(const struct godiag__site *site, int64_t now);

/*
 * godiag__block_end - the park is over (completed or timed out).  It may
 * wait (yielding) while a dumper is copying this very record; after it
 * returns, no dumper touches the operation's channels or cases any more,
 * so the caller may return to its user (who may free them).
 */
void godiag__block_end(struct godiag__rec *r);

#endif

/*
 * poll/poll_impl.h - the insides of the poller, shared by the poll module
 * sources (poller.c: the thread and the descriptor table; watch.c: readiness
 * watches; hangup.c: hangup contexts).  Not installed; not for users (tests
 * use poll/poll_internal.h).
 *
 * The table.  One `struct pent` per descriptor NUMBER that has at least one
 * attached registration, found by number in g.fds[], and one epoll entry per
 * pent, whose event mask is the union of its registrations' interests,
 * level-triggered and EPOLLONESHOT.  The epoll entry's data is
 * (pent->gen << 32 | fd): gen is a process-wide counter taken by each new
 * pent, so an event the kernel queued for an older pent of the same number
 * (one since unregistered, or whose file was closed) is recognised as stale
 * and dropped.  That, and doing every epoll_ctl() under g.mu, is what makes
 * "after unregistering returns, the poller never touches that registration
 * or fd again" hold without waiting for the poller thread.
 *
 * One-shot: the kernel disables the entry once it has reported an event; the
 * poller thread, dispatching it, detaches every registration the event
 * satisfies (each fires at most once) and re-arms the entry (EPOLL_CTL_MOD)
 * with the union of those that remain, or deletes it (EPOLL_CTL_DEL) and
 * frees the pent when none remain.  Level-triggered + one-shot means a
 * condition nobody asked for any more cannot make the thread spin, and a
 * stale entry (closed file still open elsewhere) fires at most once.
 *
 * A new registration on a number that has a pent re-arms it with MOD; ENOENT
 * there means the number now names another file than the one the pent was
 * made for (the old one was closed while registered): the stale
 * registrations are detached for good (they never fire), and a fresh pent
 * with a new gen is added for the new file.
 *
 * Locks.  g.mu guards everything here.  It is a leaf for the callers of
 * poller.c (no context lock is held while taking it, and nothing is called
 * under it that takes another lock, except chan_close() of a watch's
 * channel, whose lock is a leaf).  The poller thread cancels hangup contexts
 * with g.mu released (a cancel runs hooks that take g.mu).
 */
#ifndef GOCHAN_POLL_POLL_IMPL_H
#define GOCHAN_POLL_POLL_IMPL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <urcu/list.h>

#include <gochan/chan.h>
#include <gochan/context.h>
#include <gochan/poll.h>

/* A watch's channel is owned by the library (chan__new_owned & co.). */
#include "chan/chan_internal.h"

enum preg_kind {
	PREG_WATCH = 1,
	PREG_HANGUP,
};

enum preg_state {
	PREG_NEW = 0,  /* made, not attached yet */
	PREG_ATTACHED, /* in its pent's list: may fire */
	PREG_DONE,     /* fired, unregistered, or stale: never fires again */
};

/* One registration.  Embedded in a watch (watch.c) or a hangup (hangup.c). */
struct preg {
	struct cds_list_head node; /* in ent->regs while ATTACHED (under g.mu) */
	struct pent *ent;          /* while ATTACHED (under g.mu) */
	int fd;                    /* immutable */
	uint32_t interest;         /* epoll bits, immutable */
	unsigned char kind;        /* enum preg_kind, immutable */
	unsigned char state;       /* enum preg_state, under g.mu */
	struct preg *fire_next;    /* poller thread only: its batch of hangups */
};

/* One descriptor number's epoll entry. */
struct pent {
	int fd;
	uint32_t gen;
	struct cds_list_head regs; /* struct preg.node, at least one */
};

struct gopoll {
	struct preg r;
	chan_t *ch; /* closed when it fires */
	/* 0 until the poller stores what fired (release, under g.mu, before
	 * closing ch); read with acquire by gopoll_revents(). */
	atomic_uint revents;
};

struct gopoll_hup {
	struct preg r;
	ctx_t *ctx; /* the hangup context; no reference: it owns this */
};

/*
 * gopoll__attach - attach @r (PREG_NEW) to the table: start the poller
 * thread if needed, add or re-arm the epoll entry of r->fd.  Under g.mu,
 * which the caller holds.  0, or EBADF, EPERM, ENOMEM, ENOSPC, EAGAIN
 * (r stays NEW and unregistered).
 */
int gopoll__attach_locked(struct preg *r);

/* gopoll__detach_locked - if @r is ATTACHED, take it out of the table (the
 * epoll entry re-armed without it, or deleted); @r becomes DONE either way.
 * Under g.mu. */
void gopoll__detach_locked(struct preg *r);

void gopoll__lock(void);
void gopoll__unlock(void);

/* The hangup module's dispatch, on the poller thread with g.mu held: @r (a
 * PREG_HANGUP just detached) fired; return true to have
 * gopoll__hup_fire(@r) called after g.mu is released. */
bool gopoll__hup_claim_locked(struct preg *r);
/* ... and then, with no lock held: cancel it (and drop the claim's
 * reference).  @r may be freed by this call. */
void gopoll__hup_fire(struct preg *r);

/* Epoll bits -> GOPOLL_* result bits. */
unsigned gopoll__revents_from_epoll(uint32_t ev);

#endif

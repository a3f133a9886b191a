/*
 * context/ctx_impl.h - the insides of a context, shared by the context module sources.
 * Not installed; not for users (tests use context/ctx_internal.h).
 *
 * One struct serves every kind of context; which fields mean something
 * depends on the kind:
 *
 *   ROOT     Background / TODO: static, never cancelled.
 *   CANCEL   WithCancel(Cause), and WithDeadline whose parent's deadline is
 *            earlier: a mutex, a Done channel, an error, a cause, children.
 *   TIMER    WithDeadline(Cause) / WithTimeout(Cause): CANCEL plus a timer
 *            and the cause to use when it fires.
 *   VALUE    WithValue: key and value; everything else is its parent's.
 *   WITHOUT  WithoutCancel: never cancelled; values are its parent's.
 *   AFTER    an AfterFunc registration (handed out as ctx_after_t): a
 *            cancelable node with no Done channel of interest whose "cancel"
 *            starts fn in a thread of its own.
 *
 * A CANCEL node may carry a hook (ctx_hook.h, made by ctx__with_hook for
 * another module, e.g. poll/'s hangup context): hook->cancel runs after the
 * cancel that marks the node (queued on the deferred list like a timer stop)
 * and after every ctx_cancel*() of the node itself; hook->destroy runs first
 * thing in ctx_destroy().
 *
 * The tree.  Every context holds one reference to its direct parent
 * (`parent`), so a context keeps its whole ancestry alive.  A cancelable
 * node (CANCEL, TIMER, AFTER) is linked into the children list of its
 * nearest cancelable ancestor (`link_parent`, the parent's `canceler`),
 * skipping VALUE nodes as Go's parentCancelCtx does; WITHOUT and ROOT end
 * the search (link_parent NULL: never cancelled from above).  The list does
 * NOT hold references: a context whose last reference goes unlinks itself
 * (under the link parent's lock) before it is freed.  Nobody can observe
 * such a context any more: anything that could (a descendant, an AfterFunc
 * registration, a pending timer, a thread blocked on Done) holds a reference.
 *
 * Locks.  `mu` guards children, timer, after_taken and the marking of the
 * first cancel; `sibling` and `linked` are guarded by link_parent->mu.  Lock
 * order: wait/lockrank.h (the one table).  No code path holds two context
 * locks at once (chan_close() of Done runs under one: a channel lock ranks
 * above it).  cancel_ctx() walks the subtree
 * iteratively with one lock at a time: a node is marked before its children
 * are visited, stays in its parent's list until its own subtree is complete
 * and is unlinked post-order; the walk descends into the first child (with a
 * reference) and climbs back by link_parent, so concurrent cancels of
 * overlapping subtrees help each other and each returns only when its whole
 * subtree is done.  The C stack does not grow with the depth of the tree,
 * and ThreadSanitizer's limit on locks held at once is never approached.
 * No timer call and no thread start is made with any mu held: the node that
 * needs one is queued on the cancelling thread's `deferred` list (each node
 * at most once: only the cancel that marks it) and served after the walk.
 *
 * References held by the library:
 *   - a child on its parent (dropped when the child is freed);
 *   - a cancel walk on each node from its descent to its ascent, and on a
 *     node whose timer it queued for stopping (until stopped);
 *   - a pending deadline timer on its TIMER (dropped by the timer callback
 *     after it ran, or by whoever stopped the timer before it fired);
 *   - a pending AfterFunc registration on itself, when it has a link parent
 *     (dropped when fn has returned, or by ctx_after_stop());
 *   - the winning cancel on a hooked node whose hook it queued (until the
 *     deferred hook->cancel has returned).
 */
#ifndef GOCHAN_CONTEXT_CTX_IMPL_H
#define GOCHAN_CONTEXT_CTX_IMPL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <urcu/list.h>

#include <gochan/chan.h>
#include <gochan/context.h>
#include <gochan/time.h>

#include "context/ctx_hook.h"

enum ctx_kind {
	CTX_K_ROOT = 1,
	CTX_K_CANCEL,
	CTX_K_TIMER,
	CTX_K_VALUE,
	CTX_K_WITHOUT,
	CTX_K_AFTER,
};

struct ctx {
	/* References (unused for static roots).  Increments are relaxed (the
	 * incrementer already holds one); the decrement is acq_rel so that
	 * every holder's last use happens before the free. */
	atomic_long refs;
	unsigned char kind;
	bool is_static;

	/* Immutable after construction. */
	ctx_t *parent;      /* direct parent (one reference held); NULL for roots */
	ctx_t *canceler;    /* self for CANCEL/TIMER/AFTER, the nearest cancelable
			       ancestor for VALUE, NULL if never cancelled */
	ctx_t *link_parent; /* cancelable node: where it is registered, or NULL */
	int64_t deadline;   /* effective deadline; CHAN_FOREVER = none */
	const void *key;    /* VALUE */
	void *val;          /* VALUE */
	int dl_cause;       /* TIMER: the cause when the deadline passes (0: none) */
	void *dl_data;
	void (*fn)(void *); /* AFTER */
	void *arg;
	const struct ctx_hook *hook; /* CANCEL made by ctx__with_hook, else NULL */
	void *hook_arg;

	/* Cancelable kinds only. */
	pthread_mutex_t mu;
	/* Done: NULL until ctx_done() creates it or a cancel stores the shared
	 * closed channel.  Written under mu with release; read lock-free with
	 * acquire by ctx_done(), so the channel's initialisation is visible. */
	_Atomic(chan_t *) done;
	/* 0 until the winning cancel stores the error (release, under mu, after
	 * writing cause/cause_data, which never change afterwards); readers
	 * load it with acquire and may then read the cause without the lock;
	 * loads made under mu are relaxed (mu orders them). */
	atomic_int err;
	/* false until the winning cancel has closed Done (release, under mu).
	 * ctx_err()/ctx_cause() that see err but not settled wait on mu, which
	 * the cancel holds until it has closed Done: so a non-zero Err always
	 * means Done is closed (as in Go, whose Err takes the lock). */
	atomic_bool settled;
	int cause;
	void *cause_data;
	struct cds_list_head children; /* under mu */
	struct cds_list_head sibling;  /* under link_parent->mu */
	bool linked;                   /* under link_parent->mu: in its list */
	gotime_timer_t *timer;         /* TIMER: pending timer, under mu */
	bool after_taken;              /* AFTER: fn started or stopped, under mu */

	/* Owned by the thread whose cancel won (set under mu, then used by that
	 * thread alone after every lock is released). */
	gotime_timer_t *dead_timer; /* timer to stop and free */
	bool launch;                /* AFTER: start fn */
	bool run_hook;              /* hooked: call hook->cancel */
	ctx_t *deferred_next;
};

static inline bool ctx_kind_cancelable(enum ctx_kind k)
{
	return k == CTX_K_CANCEL || k == CTX_K_TIMER || k == CTX_K_AFTER;
}

static inline bool ctx__cancelable(const ctx_t *c)
{
	return ctx_kind_cancelable((enum ctx_kind)c->kind);
}

/*
 * ctx__expire - @c's deadline has passed (the caller saw the clock reach
 * it): cancel the deadline context that owns it exactly as its timer will
 * (DEADLINE_EXCEEDED with its cause), so that an operation giving up on the
 * deadline and ctx_err() agree even before the timer thread gets there.
 * First cancel wins, so the timer's later attempt changes nothing.
 */
void ctx__expire(ctx_t *c);

#endif

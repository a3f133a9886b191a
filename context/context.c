/*
 * context/context.c - the context tree: construction, cancellation,
 * lifetime, queries and AfterFunc (Go's src/context/context.go).
 * See ctx_impl.h for the data structure, its locks and its references.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "chan/chan_internal.h" /* Done channels are library-owned */
#include "ctx_impl.h"
#include "ctx_internal.h"
#include "service/service.h"
#include "wait/bubble.h"
#include "wait/clock.h"
#include "wait/debug.h"

/* Objects alive, for leak tests (relaxed: a counter nobody synchronises on). */
static atomic_long ctx_live_count;

/* ------------------------------------------------------------------------ */
/* Roots and the shared closed channel                                      */

static ctx_t ctx_bg = {.kind = CTX_K_ROOT, .is_static = true, .deadline = CHAN_FOREVER};
static ctx_t ctx_td = {.kind = CTX_K_ROOT, .is_static = true, .deadline = CHAN_FOREVER};

ctx_t *ctx_background(void)
{
	return &ctx_bg;
}

ctx_t *ctx_todo(void)
{
	return &ctx_td;
}

/*
 * A cancel that finds no Done channel yet stores this closed one instead of
 * allocating (Go's closedchan).  Made once, before the first cancelable
 * context exists, so that a cancel never has to allocate.  It lives for the
 * whole process (reachable from this static: not a leak).
 */
static chan_t *ctx_closed_chan;
static pthread_once_t ctx_closed_once = PTHREAD_ONCE_INIT;

static void ctx_closed_init(void)
{
	chan_t *c = chan__new_owned(0, 0);
	if (c)
		chan__close_owned(c);
	ctx_closed_chan = c;
}

static bool ctx_closed_ready(void)
{
	/* pthread_once orders the initialisation before every return. */
	pthread_once(&ctx_closed_once, ctx_closed_init);
	return ctx_closed_chan != NULL;
}

/* ------------------------------------------------------------------------ */
/* Allocation and release                                                   */

static ctx_t *ctx_alloc(enum ctx_kind kind, ctx_t *parent)
{
	if (ctx_kind_cancelable(kind) && !ctx_closed_ready()) {
		errno = ENOMEM;
		return NULL;
	}
	ctx_t *c = calloc(1, sizeof(*c));
	if (!c) {
		errno = ENOMEM;
		return NULL;
	}
	atomic_init(&c->refs, 1);
	c->kind = (unsigned char)kind;
	c->parent = ctx_ref(parent);
	c->deadline = parent->deadline;
	if (ctx_kind_cancelable(kind)) {
		pthread_mutex_init(&c->mu, NULL);
		atomic_init(&c->done, NULL);
		atomic_init(&c->err, 0);
		atomic_init(&c->settled, false);
		CDS_INIT_LIST_HEAD(&c->children);
		CDS_INIT_LIST_HEAD(&c->sibling);
		c->canceler = c;
		c->link_parent = parent->canceler;
	} else {
		c->canceler = parent->canceler;
	}
	atomic_fetch_add_explicit(&ctx_live_count, 1, memory_order_relaxed);
	return c;
}

/* Remove a cancelable @c from its link parent's children, if it is there. */
static void ctx_unlink(ctx_t *c)
{
	ctx_t *lp = c->link_parent;
	if (!lp)
		return;
	gowait__mutex_lock(&lp->mu, GOWAIT_LOCKRANK_CTX);
	if (c->linked) {
		cds_list_del(&c->sibling);
		c->linked = false;
	}
	gowait__mutex_unlock(&lp->mu, GOWAIT_LOCKRANK_CTX);
}

/* Free @c, whose last reference is gone.  Returns its parent, whose
 * reference the caller now has to drop. */
static ctx_t *ctx_destroy(ctx_t *c)
{
	ctx_t *parent = c->parent;
	/* Before anything is torn down: the hook's owner may still reach @c
	 * (under its own lock, with ctx__tryref) until destroy returns. */
	if (c->hook)
		c->hook->destroy(c->hook_arg);
	if (ctx__cancelable(c)) {
		/* Waits for a cancel that is visiting the link parent's subtree:
		 * after this, no other thread can reach @c. */
		ctx_unlink(c);
		/* Relaxed: ctx_release()'s acq_rel decrement that brought us
		 * here already ordered every store to done before this. */
		chan_t *d = atomic_load_explicit(&c->done, memory_order_relaxed);
		/* Every thread that used Done held a reference: none is blocked
		 * on it now, so the unref cannot fail with EBUSY.  (If a caller
		 * broke that rule, chan_unref keeps the channel: a leak, not a
		 * use after free.) */
		if (d && d != ctx_closed_chan)
			(void)chan__unref_owner(d);
		pthread_mutex_destroy(&c->mu);
	}
	atomic_fetch_sub_explicit(&ctx_live_count, 1, memory_order_relaxed);
	free(c);
	return parent;
}

ctx_t *ctx_ref(ctx_t *c)
{
	if (c && !c->is_static)
		atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
	return c;
}

void ctx_release(ctx_t *c)
{
	/* Iterative, so that freeing a long chain does not recurse. */
	while (c && !c->is_static) {
		/* acq_rel: our uses of @c happen before the free (release), and
		 * the freeing thread sees every other holder's uses (acquire). */
		if (atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) != 1)
			return;
		c = ctx_destroy(c);
	}
}

/* ------------------------------------------------------------------------ */
/* Cancellation                                                             */

static void *ctx_after_thread(void *arg);
static void *ctx_after_main(void *arg);

/*
 * Mark @c cancelled; called with c->mu held by the cancel that wins.  Sets
 * the cause before the error (release) so that a reader who sees the error
 * sees the cause; closes Done; takes the timer or the AfterFunc start for
 * the deferred list.
 */
static void ctx_mark(ctx_t *c, int err, int cause, void *data, ctx_t **deferred)
{
	bool defer = false;

	GOWAIT_ASSERT_HELD(&c->mu);
	if (cause == 0) {
		cause = err;
		data = NULL;
	}
	c->cause = cause;
	c->cause_data = data;
	atomic_store_explicit(&c->err, err, memory_order_release);
	/* Relaxed: we hold mu, which every writer of done holds. */
	chan_t *d = atomic_load_explicit(&c->done, memory_order_relaxed);
	if (d)
		chan__close_owned(d); /* cannot fail: only this first cancel closes it */
	else
		atomic_store_explicit(&c->done, ctx_closed_chan, memory_order_release);
	atomic_store_explicit(&c->settled, true, memory_order_release);
	if (c->timer) {
		c->dead_timer = c->timer;
		c->timer = NULL;
		/* Keep @c alive until the deferred stop: if the callback is
		 * running now it drops the timer's reference on its own.  Safe
		 * to increment: the callback has not got past its cancel (which
		 * would have marked @c first), so that reference is still held. */
		atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
		defer = true;
	}
	if (c->kind == CTX_K_AFTER && !c->after_taken) {
		c->after_taken = true;
		c->launch = true;
		defer = true;
	}
	if (c->hook) {
		/* Keep @c alive until the deferred hook->cancel has returned
		 * (the walk drops its own reference on the way up).  Safe to
		 * increment: the cancel marking @c holds a reference to it. */
		atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
		c->run_hook = true;
		defer = true;
	}
	if (defer) {
		c->deferred_next = *deferred;
		*deferred = c;
	}
}

/* The AfterFunc threads: one-shot service threads (service/service.h) that
 * leave as soon as their function has returned (linger 0), under a lock of
 * their own (GOWAIT_LOCKRANK_CTX_AFTER: no ctx->mu is held when one starts
 * or leaves). */
static pthread_mutex_t ctx_after_mu = PTHREAD_MUTEX_INITIALIZER;
static struct gosvc ctx_after_svc =
	GOSVC_INIT(&ctx_after_mu, GOWAIT_LOCKRANK_CTX_AFTER, GODIAG_THREAD_AFTERFUNC, 0, false);

/* Start the AfterFunc of @n on a thread of its own; the pending reference
 * travels with it.  If no thread can be started, run fn here (no lock is
 * held) rather than lose it. */
static void ctx_after_fiber(void *arg)
{
	(void)ctx_after_thread(arg);
}

static void ctx_launch(ctx_t *n)
{
	struct gowait__bubble *b = gowait__bubble_cur;

	/* On a bubble's worker (the cancel ran in a fiber of the bubble, or
	 * its deadline timer fired there): a fiber of the bubble instead, as
	 * synctest runs context.AfterFunc's goroutine in the bubble, so fn
	 * runs on the bubble's clock and seeded schedule (wait/bubble.h). */
	if (b && b->go(b, ctx_after_fiber, n) == 0)
		return;
	if (gosvc__start(&ctx_after_svc, ctx_after_main, n) != 0)
		ctx_after_thread(n);
}

/*
 * Stop and free @t, the deadline timer of @c (no lock held).  If the stop
 * won, the callback will never run and the timer's reference on @c is ours
 * to drop; if not, the callback is running (maybe on this very thread) and
 * drops that reference itself.
 */
static void ctx_timer_drop(ctx_t *c, gotime_timer_t *t)
{
	bool stopped = gotime_timer_stop(t);
	gotime_timer_free(t);
	if (stopped)
		ctx_release(c);
}

/* Serve what the winning cancels queued, with no lock held. */
static void ctx_run_deferred(ctx_t *d)
{
	while (d) {
		ctx_t *next = d->deferred_next;
		if (d->run_hook) {
			/* Only hooked CANCEL nodes: no timer, no AfterFunc. */
			d->run_hook = false;
			d->hook->cancel(d->hook_arg);
			ctx_release(d); /* ctx_mark()'s */
			d = next;
			continue;
		}
		gotime_timer_t *t = d->dead_timer;
		if (t) {
			d->dead_timer = NULL;
			ctx_timer_drop(d, t);
			ctx_release(d); /* ctx_mark()'s */
		} else if (d->launch) {
			d->launch = false;
			ctx_launch(d);
		}
		d = next;
	}
}

/* Take a reference to @c unless its count already reached 0 (then it is
 * being freed by a thread that waits for its link parent's lock to unlink
 * it).  Called with c->link_parent->mu held, so @c is still allocated (or,
 * from another module through ctx_hook.h, with the lock its hook's destroy
 * takes). */
bool ctx__tryref(ctx_t *c)
{
	/* Relaxed, like ctx_ref(): the held lock is what keeps @c allocated
	 * (a thread freeing it must first take it, in ctx_unlink()), and our
	 * later uses of @c are ordered before its free by the acq_rel
	 * decrement of our own ctx_release(). */
	long r = atomic_load_explicit(&c->refs, memory_order_relaxed);
	while (r > 0)
		if (atomic_compare_exchange_weak_explicit(&c->refs, &r, r + 1, memory_order_relaxed,
							  memory_order_relaxed))
			return true;
	return false;
}

/*
 * Cancel @root (the caller holds a reference) and its whole subtree with
 * (err, cause, data), first cancel winning at each node; @remove: also take
 * @root out of its link parent's children afterwards (its own cancel, not
 * one arriving from above).
 *
 * The walk holds at most one context lock at a time and no recursion:
 *   - a node is marked (ctx_mark) before its children are visited, so once
 *     marked its list only shrinks (ctx_link adds nothing to a done node);
 *   - a child stays in its parent's list until its own subtree is complete,
 *     and is unlinked post-order, by whoever finds its list empty;
 *   - the walk always descends into the first child of the list (taking a
 *     reference) and climbs back by link_parent, so any number of threads
 *     cancelling overlapping subtrees help each other, and a cancel returns
 *     only once its root's list is empty, i.e. every descendant is done -
 *     even those a concurrent cancel of an intermediate node reached first.
 * Each node visited holds one reference of ours from descent to ascent.
 * Children are cancelled with their parent's recorded error and cause.
 */
static void ctx_cancel_tree(ctx_t *root, int err, int cause, void *data, bool remove)
{
	ctx_t *deferred = NULL;
	ctx_t *cur = root;

	gowait__mutex_lock(&root->mu, GOWAIT_LOCKRANK_CTX);
	if (atomic_load_explicit(&root->err, memory_order_relaxed) == 0)
		ctx_mark(root, err, cause, data, &deferred);
	for (;;) {
		/* cur->mu is held and cur is marked. */
		ctx_t *child = NULL;
		while (!cds_list_empty(&cur->children)) {
			ctx_t *c = cds_list_first_entry(&cur->children, ctx_t, sibling);
			if (ctx__tryref(c)) {
				child = c;
				break;
			}
			/* Unreferenced (so childless, timerless) and about to be
			 * freed: nobody can observe it, just unlink it. */
			cds_list_del(&c->sibling);
			c->linked = false;
		}
		int perr = atomic_load_explicit(&cur->err, memory_order_relaxed);
		int pcause = cur->cause;
		void *pdata = cur->cause_data;
		gowait__mutex_unlock(&cur->mu, GOWAIT_LOCKRANK_CTX);

		if (child) {
			gowait__mutex_lock(&child->mu, GOWAIT_LOCKRANK_CTX);
			if (atomic_load_explicit(&child->err, memory_order_relaxed) == 0)
				ctx_mark(child, perr, pcause, pdata, &deferred);
			cur = child;
			continue;
		}
		/* cur's list is empty: its subtree is complete. */
		if (cur == root)
			break;
		ctx_t *up = cur->link_parent;
		ctx_unlink(cur);
		ctx_release(cur); /* ours; up keeps its own (or is root) */
		cur = up;
		gowait__mutex_lock(&cur->mu, GOWAIT_LOCKRANK_CTX);
	}

	if (remove)
		ctx_unlink(root);
	ctx_run_deferred(deferred);
}

/*
 * Register a new cancelable @c (not yet visible to anyone) with its link
 * parent, or cancel it at once if that parent is already done (Go's
 * propagateCancel).  The check and the insertion are one critical section,
 * so a parent cancelled concurrently either finds @c in its list or is seen
 * as done here.
 */
static void ctx_link(ctx_t *c)
{
	ctx_t *lp = c->link_parent;
	if (!lp)
		return;
	gowait__mutex_lock(&lp->mu, GOWAIT_LOCKRANK_CTX);
	int perr = atomic_load_explicit(&lp->err, memory_order_relaxed);
	if (perr == 0) {
		cds_list_add(&c->sibling, &lp->children);
		c->linked = true;
		gowait__mutex_unlock(&lp->mu, GOWAIT_LOCKRANK_CTX);
		return;
	}
	int pcause = lp->cause;
	void *pdata = lp->cause_data;
	gowait__mutex_unlock(&lp->mu, GOWAIT_LOCKRANK_CTX);
	ctx_cancel_tree(c, perr, pcause, pdata, false);
}

/* ------------------------------------------------------------------------ */
/* Constructors                                                             */

ctx_t *ctx_with_cancel(ctx_t *parent)
{
	if (!parent) {
		errno = EINVAL;
		return NULL;
	}
	ctx_t *c = ctx_alloc(CTX_K_CANCEL, parent);
	if (!c)
		return NULL;
	ctx_link(c);
	return c;
}

ctx_t *ctx_with_cancel_cause(ctx_t *parent)
{
	return ctx_with_cancel(parent);
}

ctx_t *ctx__with_hook(ctx_t *parent, const struct ctx_hook *hook, void *arg)
{
	if (!parent || !hook) {
		errno = EINVAL;
		return NULL;
	}
	ctx_t *c = ctx_alloc(CTX_K_CANCEL, parent);
	if (!c)
		return NULL;
	/* Set before ctx_link() publishes @c to cancels of the parent. */
	c->hook = hook;
	c->hook_arg = arg;
	ctx_link(c);
	return c;
}

/* Cancel TIMER @k as its deadline passing does: DEADLINE_EXCEEDED with the
 * cause given at construction.  Used by the timer, by a construction whose
 * deadline already passed and by ctx__expire(). */
static void ctx_deadline_cancel(ctx_t *k)
{
	ctx_cancel_tree(k, CTX_DEADLINE_EXCEEDED, k->dl_cause, k->dl_data, true);
}

/* The timer callback (timer thread): cancel with the deadline's error, then
 * drop the reference the pending timer held. */
static void ctx_timer_fire(void *arg)
{
	ctx_t *c = arg;
	ctx_deadline_cancel(c);
	ctx_release(c);
}

ctx_t *ctx_with_deadline_cause(ctx_t *parent, int64_t deadline, int cause, void *data)
{
	if (!parent) {
		errno = EINVAL;
		return NULL;
	}
	/* No deadline of its own, or the parent's is sooner: WithCancel. */
	if (deadline == CHAN_FOREVER ||
	    (parent->deadline != CHAN_FOREVER && parent->deadline < deadline))
		return ctx_with_cancel(parent);

	ctx_t *c = ctx_alloc(CTX_K_TIMER, parent);
	if (!c)
		return NULL;
	c->deadline = deadline;
	c->dl_cause = cause;
	c->dl_data = cause ? data : NULL;
	ctx_link(c);
	if (deadline <= chan_now()) {
		ctx_deadline_cancel(c);
		return c;
	}
	/* The parent was done: ctx_link() cancelled @c on this thread.
	 * Relaxed: an early exit only, whose other case (a parent cancel
	 * racing with us) is settled under c->mu below. */
	if (atomic_load_explicit(&c->err, memory_order_relaxed) != 0)
		return c;

	/* The timer's reference; the caller's keeps @c alive meanwhile. */
	atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
	gotime_timer_t *t = gotime_after_func_at(deadline, ctx_timer_fire, c);
	if (!t) {
		int e = errno;
		/* Relaxed: takes back the increment above; the caller's
		 * reference remains, so this never reaches 0. */
		atomic_fetch_sub_explicit(&c->refs, 1, memory_order_relaxed);
		ctx_cancel_tree(c, CTX_CANCELED, 0, NULL, true);
		ctx_release(c);
		errno = e;
		return NULL;
	}
	/* The timer was made without c->mu (no timer call under a context
	 * lock); publish it unless a cancel came first, which then could not
	 * see it: stop it ourselves. */
	gowait__mutex_lock(&c->mu, GOWAIT_LOCKRANK_CTX);
	if (atomic_load_explicit(&c->err, memory_order_relaxed) == 0) {
		c->timer = t;
		gowait__mutex_unlock(&c->mu, GOWAIT_LOCKRANK_CTX);
		return c;
	}
	gowait__mutex_unlock(&c->mu, GOWAIT_LOCKRANK_CTX);
	ctx_timer_drop(c, t);
	return c;
}

void ctx__expire(ctx_t *c)
{
	/* The deadline belongs to the nearest TIMER on the cancel path with
	 * the same deadline (CANCEL and VALUE nodes inherit it). */
	for (ctx_t *k = c->canceler; k; k = k->link_parent) {
		if (k->kind == CTX_K_TIMER && k->deadline == c->deadline) {
			ctx_deadline_cancel(k);
			return;
		}
	}
}

ctx_t *ctx_with_deadline(ctx_t *parent, int64_t deadline)
{
	return ctx_with_deadline_cause(parent, deadline, 0, NULL);
}

/* chan_now() + @timeout_ns, saturating both ways (Go: time.Now().Add(d),
 * which may lie in the past), and never CHAN_FOREVER, which would mean "no
 * deadline" to ctx_with_deadline. */
static int64_t ctx_deadline_after(int64_t timeout_ns)
{
	int64_t d = gowait__time_add(chan_now(), timeout_ns);
	if (d == CHAN_FOREVER)
		d = CHAN_FOREVER - 1;
	return d;
}

ctx_t *ctx_with_timeout_cause(ctx_t *parent, int64_t timeout_ns, int cause, void *data)
{
	if (!parent) {
		errno = EINVAL;
		return NULL;
	}
	return ctx_with_deadline_cause(parent, ctx_deadline_after(timeout_ns), cause, data);
}

ctx_t *ctx_with_timeout(ctx_t *parent, int64_t timeout_ns)
{
	return ctx_with_timeout_cause(parent, timeout_ns, 0, NULL);
}

ctx_t *ctx_with_value(ctx_t *parent, const void *key, void *val)
{
	if (!parent || !key) {
		errno = EINVAL;
		return NULL;
	}
	ctx_t *c = ctx_alloc(CTX_K_VALUE, parent);
	if (!c)
		return NULL;
	c->key = key;
	c->val = val;
	return c;
}

ctx_t *ctx_without_cancel(ctx_t *parent)
{
	if (!parent) {
		errno = EINVAL;
		return NULL;
	}
	ctx_t *c = ctx_alloc(CTX_K_WITHOUT, parent);
	if (!c)
		return NULL;
	c->canceler = NULL;
	c->deadline = CHAN_FOREVER;
	return c;
}

/* ------------------------------------------------------------------------ */
/* Cancel functions                                                         */

int ctx_cancel_cause(ctx_t *c, int cause, void *data)
{
	if (!c || (c->kind != CTX_K_CANCEL && c->kind != CTX_K_TIMER))
		return EINVAL;
	ctx_cancel_tree(c, CTX_CANCELED, cause, data, true);
	/* Even if another thread's cancel won (and is running the hook right
	 * now), this call returns only once the hook's work is done. */
	if (c->hook)
		c->hook->cancel(c->hook_arg);
	return 0;
}

int ctx_cancel(ctx_t *c)
{
	return ctx_cancel_cause(c, 0, NULL);
}

void ctx_cancel_release(ctx_t *c)
{
	if (!c)
		return;
	(void)ctx_cancel(c); /* EINVAL for kinds without a cancel: nothing to do */
	ctx_release(c);
}

/* ------------------------------------------------------------------------ */
/* Queries                                                                  */

chan_t *ctx_done(ctx_t *c)
{
	if (!c) {
		errno = EINVAL;
		return NULL;
	}
	ctx_t *k = c->canceler;
	if (!k)
		return NULL; /* never cancelled: Go's nil channel */
	/* Acquire: pairs with the release store below or in ctx_mark(). */
	chan_t *d = atomic_load_explicit(&k->done, memory_order_acquire);
	if (d)
		return d;
	gowait__mutex_lock(&k->mu, GOWAIT_LOCKRANK_CTX);
	d = atomic_load_explicit(&k->done, memory_order_relaxed);
	if (!d) {
		d = chan__new_owned(0, 0); /* users may only receive */
		if (!d) {
			gowait__mutex_unlock(&k->mu, GOWAIT_LOCKRANK_CTX);
			errno = ENOMEM;
			return NULL;
		}
		atomic_store_explicit(&k->done, d, memory_order_release);
	}
	gowait__mutex_unlock(&k->mu, GOWAIT_LOCKRANK_CTX);
	return d;
}

/*
 * The error of cancelable @k, 0 if not done.  Acquire: pairs with
 * ctx_mark()'s release store, so the cause is visible too.  Seen in the
 * middle of the cancel that sets it (err stored, Done not closed yet), wait
 * for that cancel to let go of k->mu: a non-zero error then always comes
 * with a closed Done.  The wait is only ever this window, and no caller of
 * this holds a context lock.
 */
static int ctx_load_err(ctx_t *k)
{
	int e = atomic_load_explicit(&k->err, memory_order_acquire);
	if (e && !atomic_load_explicit(&k->settled, memory_order_acquire)) {
		gowait__mutex_lock(&k->mu, GOWAIT_LOCKRANK_CTX);
		gowait__mutex_unlock(&k->mu, GOWAIT_LOCKRANK_CTX);
	}
	return e;
}

int ctx_err(ctx_t *c)
{
	if (!c)
		return EINVAL;
	ctx_t *k = c->canceler;
	if (!k)
		return 0;
	return ctx_load_err(k);
}

int ctx_cause(ctx_t *c, void **data)
{
	if (data)
		*data = NULL;
	if (!c)
		return EINVAL;
	ctx_t *k = c->canceler;
	if (!k)
		return 0;
	/* After an acquire load that sees the error, cause and cause_data
	 * (written before it and never again) are stable. */
	if (ctx_load_err(k) == 0)
		return 0;
	if (data)
		*data = k->cause_data;
	return k->cause;
}

bool ctx_deadline(ctx_t *c, int64_t *deadline)
{
	if (!c || c->deadline == CHAN_FOREVER)
		return false;
	if (deadline)
		*deadline = c->deadline;
	return true;
}

void *ctx_value(ctx_t *c, const void *key)
{
	if (!key)
		return NULL;
	for (; c; c = c->parent)
		if (c->kind == CTX_K_VALUE && c->key == key)
			return c->val;
	return NULL;
}

const char *ctx_strerror(int err)
{
	if (err < 0)
		err = -err;
	switch (err) {
	case CTX_CANCELED:
		return "context canceled";
	case CTX_DEADLINE_EXCEEDED:
		return "context deadline exceeded";
	default: {
		const char *s = chan__strerror_known(err);

		return s ? s : strerror(err);
	}
	}
}

/* ------------------------------------------------------------------------ */
/* AfterFunc                                                                */

static void *ctx_after_thread(void *arg)
{
	ctx_t *n = arg;
	n->fn(n->arg);
	ctx_release(n); /* the pending reference */
	return NULL;
}

/* The AfterFunc thread: the function, then its last touch of library state. */
static void *ctx_after_main(void *arg)
{
	gosvc__enter(&ctx_after_svc);
	ctx_after_thread(arg);
	gosvc__leave(&ctx_after_svc);
	return NULL;
}

ctx_after_t *ctx_after_func(ctx_t *c, void (*fn)(void *arg), void *arg)
{
	if (!c || !fn) {
		errno = EINVAL;
		return NULL;
	}
	ctx_t *n = ctx_alloc(CTX_K_AFTER, c);
	if (!n)
		return NULL;
	n->fn = fn;
	n->arg = arg;
	/* A registration that can fire holds itself until fn has returned or
	 * it is stopped, so releasing the handle does not lose it.  One that
	 * can never fire (c never done) holds nothing. */
	if (n->link_parent)
		atomic_fetch_add_explicit(&n->refs, 1, memory_order_relaxed);
	ctx_link(n); /* starts fn at once if c is already done */
	return (ctx_after_t *)n;
}

bool ctx_after_stop(ctx_after_t *a)
{
	ctx_t *n = (ctx_t *)a;
	if (!n)
		return false;
	gowait__mutex_lock(&n->mu, GOWAIT_LOCKRANK_CTX);
	bool stopped = !n->after_taken;
	n->after_taken = true;
	gowait__mutex_unlock(&n->mu, GOWAIT_LOCKRANK_CTX);
	if (stopped && n->link_parent) {
		ctx_unlink(n);
		ctx_release(n); /* the pending reference; the handle's remains */
	}
	return stopped;
}

void ctx_after_release(ctx_after_t *a)
{
	ctx_release((ctx_t *)a);
}

/* ------------------------------------------------------------------------ */
/* Test hooks (ctx_internal.h)                                              */

size_t ctx__nchildren(ctx_t *c)
{
	size_t n = 0;
	ctx_t *k = c ? c->canceler : NULL;
	if (!k)
		return 0;
	struct cds_list_head *pos;
	gowait__mutex_lock(&k->mu, GOWAIT_LOCKRANK_CTX);
	cds_list_for_each(pos, &k->children)
		n++;
	gowait__mutex_unlock(&k->mu, GOWAIT_LOCKRANK_CTX);
	return n;
}

long ctx__refs(ctx_t *c)
{
	return c && !c->is_static ? atomic_load_explicit(&c->refs, memory_order_relaxed) : -1;
}

bool ctx__timer_pending(ctx_t *c)
{
	if (!c || c->kind != CTX_K_TIMER)
		return false;
	gowait__mutex_lock(&c->mu, GOWAIT_LOCKRANK_CTX);
	bool t = c->timer != NULL;
	gowait__mutex_unlock(&c->mu, GOWAIT_LOCKRANK_CTX);
	return t;
}

long ctx__live(void)
{
	return atomic_load_explicit(&ctx_live_count, memory_order_relaxed);
}

unsigned ctx__after_threads_live(void)
{
	return gosvc__live(&ctx_after_svc);
}

uint64_t ctx__after_threads_started(void)
{
	return gosvc__started(&ctx_after_svc);
}

int ctx__after_wait_threads(int64_t deadline)
{
	return gosvc__wait_gone(&ctx_after_svc, deadline);
}

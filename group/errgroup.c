/*
 * group/errgroup.c - golang.org/x/sync/errgroup (gochan/group.h).
 *
 * A group is a WaitGroup (struct gowg, group/group_internal.h) that counts
 * every task and every start in progress, the first error, an optional
 * context to cancel, and an optional limit: a gochan channel of element
 * size 0 and capacity n, Go's `sem chan token`.  Starting a task sends a
 * token (blocking, with a context, a deadline, or not at all); the task
 * takes its token back out when it returns.
 *
 * Invariants:
 *   - the counter is raised BEFORE a start reads @sem and lowered only after
 *     the token is given back, so while any start or task holds a token the
 *     counter is non-zero; gogroup_set_limit() swaps @sem under @mu only
 *     when it reads the counter 0 under @mu, and starts read @sem under @mu
 *     after their increment: nobody ever holds a token of a channel that
 *     set_limit frees;
 *   - a task's last access to the group is its counter decrement (after it
 *     recorded its error, cancelled the context and gave its token back), so
 *     the group may be freed as soon as a wait has seen the counter at 0.
 */
#include "group/group_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include <gochan/chan.h>
#include <gochan/context.h>
#include <gochan/group.h>

#include "wait/debug.h"

struct gogroup {
	struct gowg wg;     /* tasks + starts in progress; users/closing for free */
	pthread_mutex_t mu; /* guards sem and limit against set_limit (a leaf, rank 75) */
	chan_t *sem;        /* NULL: no limit; else capacity = limit */
	int limit;          /* < 0: none */
	_Atomic int err;    /* the first task error (0: none yet) */
	ctx_t *ctx;         /* WithContext's context (the group's reference) or NULL */
};

enum go_mode {
	GO_BLOCK,
	GO_CTX,
	GO_UNTIL,
	GO_TRY
};

struct group_task {
	struct group_job job;
	struct gogroup *g;
	int (*fn)(void *);
	void *arg;
	chan_t *sem; /* the channel holding this task's token, or NULL */
};

static gogroup_t *group_alloc(ctx_t *ctx)
{
	struct gogroup *g = malloc(sizeof *g);

	if (!g) {
		errno = ENOMEM;
		return NULL;
	}
	gowg__init(&g->wg);
	pthread_mutex_init(&g->mu, NULL);
	g->sem = NULL;
	g->limit = -1;
	atomic_init(&g->err, 0);
	g->ctx = ctx;
	return g;
}

gogroup_t *gogroup_new(void)
{
	return group_alloc(NULL);
}

gogroup_t *gogroup_with_context(ctx_t *parent, ctx_t **ctx_out)
{
	if (!parent || !ctx_out) {
		errno = EINVAL;
		return NULL;
	}
	ctx_t *ctx = ctx_with_cancel_cause(parent);
	if (!ctx)
		return NULL; /* errno from ctx_with_cancel_cause */
	gogroup_t *g = group_alloc(ctx);
	if (!g) {
		ctx_cancel_release(ctx);
		errno = ENOMEM;
		return NULL;
	}
	*ctx_out = ctx_ref(ctx);
	return g;
}

/* Go's errOnce: the first non-zero code wins and cancels the context. */
static void record_error(struct gogroup *g, int err)
{
	int expected = 0;

	/* Relaxed is enough for the value: readers read it after the wait's
	 * acquire of the counter, which our later decrement releases. */
	if (atomic_compare_exchange_strong_explicit(&g->err, &expected, err, memory_order_relaxed,
						    memory_order_relaxed) &&
	    g->ctx)
		ctx_cancel_cause(g->ctx, err, NULL);
}

/* Give a token back (it is there: we put it there). */
static void release_token(chan_t *sem)
{
	if (sem)
		chan_try_recv(sem, NULL, NULL);
}

static struct gowg *task_run(struct group_job *j)
{
	struct group_task *t = (struct group_task *)j;
	struct gogroup *g = t->g;
	int (*fn)(void *) = t->fn;
	void *arg = t->arg;
	chan_t *sem = t->sem;

	free(t);
	gowg__current = &g->wg;
	int err = fn(arg);
	gowg__current = NULL;
	if (err)
		record_error(g, err);
	release_token(sem);
	/* The thread decrements for us, as its last touch of the group (see
	 * the invariants above). */
	return &g->wg;
}

static int group_go(gogroup_t *g, enum go_mode mode, ctx_t *ctx, int64_t deadline,
		    int (*fn)(void *), void *arg)
{
	if (!g || !fn || (mode == GO_CTX && !ctx))
		return EINVAL;
	int err = mode == GO_CTX ? ctx_err(ctx) : 0;
	if (err)
		return err; /* already done: start nothing, as ctx_send */
	err = gowg__enter(&g->wg);
	if (err)
		return err;
	struct group_task *t = malloc(sizeof *t);
	if (!t) {
		err = ENOMEM;
		goto out;
	}
	err = gowg__add(&g->wg, 1);
	if (err) {
		free(t);
		goto out;
	}
	gowait__mutex_lock(&g->mu, GOWAIT_LOCKRANK_ERRGROUP);
	chan_t *sem = g->sem;
	int limit = g->limit;
	gowait__mutex_unlock(&g->mu, GOWAIT_LOCKRANK_ERRGROUP);
	if (sem) {
		switch (mode) {
		case GO_BLOCK:
			/* Nothing could ever free a slot: Go blocks forever. */
			err = limit == 0 ? EDEADLK : chan_send(sem, NULL);
			break;
		case GO_CTX:
			err = ctx_send(ctx, sem, NULL);
			break;
		case GO_UNTIL:
			err = chan_send_until(sem, NULL, deadline);
			break;
		case GO_TRY:
			err = chan_try_send(sem, NULL);
			break;
		}
	}
	if (!err) {
		*t = (struct group_task){
			.job.run = task_run, .g = g, .fn = fn, .arg = arg, .sem = sem};
		err = group__spawn(&t->job);
		if (err)
			release_token(sem);
	}
	if (err) {
		free(t);
		gowg__add(&g->wg, -1); /* cannot fail: our +1 is there */
	}
out:
	gowg__leave(&g->wg);
	return err;
}

int gogroup_go(gogroup_t *g, int (*fn)(void *arg), void *arg)
{
	return group_go(g, GO_BLOCK, NULL, CHAN_FOREVER, fn, arg);
}

int gogroup_go_ctx(gogroup_t *g, ctx_t *ctx, int (*fn)(void *arg), void *arg)
{
	return group_go(g, GO_CTX, ctx, CHAN_FOREVER, fn, arg);
}

int gogroup_go_until(gogroup_t *g, int64_t deadline, int (*fn)(void *arg), void *arg)
{
	return group_go(g, GO_UNTIL, NULL, deadline, fn, arg);
}

int gogroup_try_go(gogroup_t *g, int (*fn)(void *arg), void *arg)
{
	return group_go(g, GO_TRY, NULL, CHAN_NOWAIT, fn, arg);
}

int gogroup_set_limit(gogroup_t *g, int n)
{
	if (!g)
		return EINVAL;
	int err = gowg__enter(&g->wg);
	if (err)
		return err;
	chan_t *sem = NULL, *old = NULL;
	if (n >= 0 && !(sem = chan_new(0, (size_t)n))) {
		err = ENOMEM;
		goto out;
	}
	gowait__mutex_lock(&g->mu, GOWAIT_LOCKRANK_ERRGROUP);
	if (gowg__count(&g->wg) != 0) {
		err = EBUSY; /* Go: "modify limit while ... still active" */
		old = sem;
	} else {
		old = g->sem;
		g->sem = sem;
		g->limit = n < 0 ? -1 : n;
	}
	gowait__mutex_unlock(&g->mu, GOWAIT_LOCKRANK_ERRGROUP);
	if (old)
		chan_unref(old);
out:
	gowg__leave(&g->wg);
	return err;
}

/* gogroup_wait_until for a public entry called from @ra. */
static int wait_until(gogroup_t *g, int64_t deadline, int *first_err, const void *ra)
{
	if (!g)
		return EINVAL;
	int err = gowg__enter(&g->wg);
	if (err)
		return err;
	err = gowg__wait(&g->wg, deadline, ra);
	if (!err) {
		int first = atomic_load_explicit(&g->err, memory_order_relaxed);
		if (first_err)
			*first_err = first;
		/* Go's Wait: g.cancel(g.err) (0: plain CTX_CANCELED). */
		if (g->ctx)
			ctx_cancel_cause(g->ctx, first, NULL);
	}
	gowg__leave(&g->wg);
	return err;
}

int gogroup_wait_until(gogroup_t *g, int64_t deadline, int *first_err)
{
	return wait_until(g, deadline, first_err, __builtin_return_address(0));
}

int gogroup_wait(gogroup_t *g)
{
	int first = 0;
	int err = wait_until(g, CHAN_FOREVER, &first, __builtin_return_address(0));

	return err ? err : first;
}

int gogroup_free(gogroup_t *g)
{
	if (!g)
		return EINVAL;
	int err = gowg__close(&g->wg);
	if (err)
		return err;
	if (g->sem)
		chan_unref(g->sem);
	ctx_release(g->ctx);
	pthread_mutex_destroy(&g->mu);
	free(g);
	return 0;
}

/* TEMPORARY stand-in for gogroup (see search/shim/README.md): joinable
 * pthreads, first error cancels the group context. */
#include <gochan/group.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

struct task {
	pthread_t t;
	gogroup_t *g;
	int (*fn)(void *);
	void *arg;
	struct task *next;
};

struct gogroup {
	pthread_mutex_t mu;
	ctx_t *ctx;
	struct task *tasks;
	int err;
};

gogroup_t *gogroup_with_context(ctx_t *parent, ctx_t **ctx_out)
{
	gogroup_t *g = calloc(1, sizeof *g);
	if (!g)
		return NULL;
	if (!(g->ctx = ctx_with_cancel_cause(parent))) {
		free(g);
		return NULL;
	}
	pthread_mutex_init(&g->mu, NULL);
	*ctx_out = ctx_ref(g->ctx);
	return g;
}

static void *run(void *arg)
{
	struct task *t = arg;
	int err = t->fn(t->arg);
	if (err) {
		pthread_mutex_lock(&t->g->mu);
		if (!t->g->err)
			t->g->err = err;
		pthread_mutex_unlock(&t->g->mu);
		ctx_cancel_cause(t->g->ctx, err, NULL);
	}
	return NULL;
}

int gogroup_go(gogroup_t *g, int (*fn)(void *), void *arg)
{
	struct task *t = calloc(1, sizeof *t);
	if (!t)
		return ENOMEM;
	t->g = g, t->fn = fn, t->arg = arg;
	int err = pthread_create(&t->t, NULL, run, t);
	if (err) {
		free(t);
		return err;
	}
	pthread_mutex_lock(&g->mu);
	t->next = g->tasks;
	g->tasks = t;
	pthread_mutex_unlock(&g->mu);
	return 0;
}

int gogroup_wait(gogroup_t *g)
{
	pthread_mutex_lock(&g->mu);
	struct task *t = g->tasks;
	g->tasks = NULL;
	pthread_mutex_unlock(&g->mu);
	while (t) {
		struct task *n = t->next;
		pthread_join(t->t, NULL);
		free(t);
		t = n;
	}
	ctx_cancel(g->ctx);
	return g->err;
}

int gogroup_free(gogroup_t *g)
{
	if (!g)
		return EINVAL;
	gogroup_wait(g);
	ctx_cancel_release(g->ctx);
	pthread_mutex_destroy(&g->mu);
	free(g);
	return 0;
}

/* search/dirq.c - see dirq.h. */
#include "search/dirq.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <gochan/select.h>

int dirq_init(struct dirq *q, int workers)
{
	memset(q, 0, sizeof *q);
	if (!(q->wake = chan_new(0, (size_t)workers)))
		return ENOMEM;
	pthread_mutex_init(&q->mu, NULL);
	return 0;
}

void dirq_destroy(struct dirq *q, void (*drop)(void *tag))
{
	for (size_t i = 0; i < q->n; i++) {
		free(q->stack[i].dir);
		if (drop)
			drop(q->stack[i].tag);
	}
	free(q->stack);
	chan_unref(q->wake);
	pthread_mutex_destroy(&q->mu);
}

bool dirq_push(struct dirq *q, const char *dir, size_t len, void *tag)
{
	char *d = malloc(len + 1);
	if (!d)
		return false;
	memcpy(d, dir, len);
	d[len] = 0;
	pthread_mutex_lock(&q->mu);
	if (q->n == q->cap) {
		size_t cap = q->cap ? 2 * q->cap : 64;
		struct dirq_item *st = realloc(q->stack, cap * sizeof *st);
		if (!st) {
			pthread_mutex_unlock(&q->mu);
			free(d);
			return false;
		}
		q->stack = st;
		q->cap = cap;
	}
	q->stack[q->n++] = (struct dirq_item){.dir = d, .tag = tag};
	q->pending++;
	if (q->idle > 0)
		(void)chan_try_send(q->wake, NULL); /* EAGAIN: enough tokens already */
	pthread_mutex_unlock(&q->mu);
	return true;
}

char *dirq_pop(struct dirq *q, ctx_t *ctx, void **tag, bool (*before_wait)(void *), void *arg)
{
	chan_t *done = ctx_done(ctx);
	pthread_mutex_lock(&q->mu);
	for (;;) {
		/* ctx_err under our mutex: a context's lock is never held while
		 * taking ours, so there is no order to break. */
		if (ctx_err(ctx) != 0 || (q->n == 0 && q->pending == 0)) {
			pthread_mutex_unlock(&q->mu);
			return NULL;
		}
		if (q->n > 0) {
			struct dirq_item it = q->stack[--q->n];
			pthread_mutex_unlock(&q->mu);
			*tag = it.tag;
			return it.dir;
		}
		if (before_wait) {
			pthread_mutex_unlock(&q->mu);
			bool again = before_wait(arg);
			pthread_mutex_lock(&q->mu);
			if (again)
				continue; /* it may have taken a while: look again */
		}
		q->idle++;
		pthread_mutex_unlock(&q->mu);
		/* Either case: look again (the loop head sees Done or the end). */
		(void)CHAN_SELECT(CHAN_FOREVER, CHAN_RECV(q->wake, NULL, NULL),
				  CHAN_RECV(done, NULL, NULL));
		pthread_mutex_lock(&q->mu);
		q->idle--;
	}
}

void dirq_finished(struct dirq *q, bool whole)
{
	pthread_mutex_lock(&q->mu);
	if (!whole)
		q->partial = true;
	if (--q->pending == 0) {
		q->complete = !q->partial;
		chan_close(q->wake);
	}
	pthread_mutex_unlock(&q->mu);
}

bool dirq_complete(struct dirq *q)
{
	pthread_mutex_lock(&q->mu);
	bool c = q->complete;
	pthread_mutex_unlock(&q->mu);
	return c;
}

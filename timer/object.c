/*
 * timer/object.c - the timer object: allocation together with its heap slot
 * and channel, and destruction when the last reference goes (references:
 * timer_impl.h).
 */
#include <errno.h>
#include <stdlib.h>

#include "timer/timer_impl.h"
#include "wait/bubble.h"

struct gotime_timer *gotime__timer_alloc(enum timer_kind kind, void (*fn)(void *), void *arg,
					 bool handleless)
{
	/* Sized for a ticker, so that any channel timer may be handed out
	 * as one. */
	struct gotime_timer *t = calloc(1, sizeof(struct gotime_ticker));
	int err;

	if (!t) {
		errno = ENOMEM;
		return NULL;
	}
	t->kind = kind;
	t->handleless = handleless;
	t->fn = fn;
	t->arg = arg;
	t->heap_idx = HEAP_NONE;
	t->bubble = gowait__bubble_cur;
	atomic_init(&t->refs, 1); /* the creator's */
	if (kind == TK_CHAN) {
		t->ch = chan__new_timer(sizeof(int64_t));
		if (!t->ch) {
			free(t);
			errno = ENOMEM;
			return NULL;
		}
		pthread_mutex_init(&t->send_mu, NULL);
	}
	gowait__mutex_lock(&g->mu, GOWAIT_LOCKRANK_TIMER_STATE);
	err = gotime__heap_reserve();
	gowait__mutex_unlock(&g->mu, GOWAIT_LOCKRANK_TIMER_STATE);
	if (err) {
		if (t->ch) {
			chan__unref_owner(t->ch);
			pthread_mutex_destroy(&t->send_mu);
		}
		free(t);
		errno = err;
		return NULL;
	}
	return t;
}

void gotime__timer_destroy(struct gotime_timer *t)
{
	gowait__mutex_lock(&g->mu, GOWAIT_LOCKRANK_TIMER_STATE);
	gotime__heap_unreserve();
	gowait__mutex_unlock(&g->mu, GOWAIT_LOCKRANK_TIMER_STATE);
	if (t->ch) {
		/* EBUSY here means a thread is still blocked on the channel
		 * without its own reference, against the documented contract;
		 * the channel is then left to it rather than freed under it. */
		(void)chan__unref_owner(t->ch);
		pthread_mutex_destroy(&t->send_mu);
	}
	free(t);
}

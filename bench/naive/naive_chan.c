/*
 * bench/naive/naive_chan.c - the naive channel (see naive_chan.h): one
 * global mutex, a condition variable per blocked operation, no spinning.
 *
 * Invariants (all under naive_lock):
 *   - A channel's buffer holds len values, oldest at buf[head].
 *   - recvq holds receive waiters only while the buffer is empty; sendq
 *     holds send waiters only while the buffer is full (for cap 0: always
 *     "full"), apart from stale waiters (below).
 *   - A waiter belongs to an operation (naive_op) on its owner's stack; the
 *     operation fires once (fired goes from -1 to a case index) and only
 *     while its owner is blocked in pthread_cond_wait on op->cond, so the
 *     owner cannot return, and take its stack with it, before the firing
 *     thread has released the lock.
 *   - A select queues one waiter per case; once one fires, its other
 *     waiters are stale: q_take() drops them when it meets them, and the
 *     owner unlinks those still queued after it wakes (waiter.queued says
 *     which).
 */
#include "naive_chan.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* The one lock of every naive channel. */
static pthread_mutex_t naive_lock = PTHREAD_MUTEX_INITIALIZER;

/* Rotates select's polling start (Go shuffles; a rotation is enough for the
 * ported programs not to starve a case).  Under naive_lock. */
static unsigned naive_select_seq;

/* A blocked operation: a send, a receive or a whole select. */
struct naive_op {
	pthread_cond_t cond; /* its owner waits here, nobody else */
	int fired;           /* -1 while waiting, then the index of the case done */
	bool ok;             /* false: completed by close */
};

/* One case of a blocked operation, queued on its channel. */
struct naive_waiter {
	struct naive_waiter *next, *prev;
	struct naive_op *op;
	int index;   /* the case's index in its select (0 for a plain op) */
	void *elem;  /* send: the value; receive: the destination or NULL */
	bool queued; /* still linked in its channel's queue */
};

struct naive_queue {
	struct naive_waiter *head, *tail;
};

struct naive_chan {
	size_t elem_size, cap;
	size_t len, head; /* the ring: buf[(head + i) % cap] for i < len */
	bool closed;
	struct naive_queue sendq, recvq;
	unsigned char *buf;
};

naive_chan_t *naive_chan_new(size_t elem_size, size_t cap)
{
	naive_chan_t *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->elem_size = elem_size;
	c->cap = cap;
	if (cap && elem_size) {
		c->buf = calloc(cap, elem_size);
		if (!c->buf) {
			free(c);
			return NULL;
		}
	}
	return c;
}

void naive_chan_free(naive_chan_t *c)
{
	if (!c)
		return;
	free(c->buf);
	free(c);
}

static void copy_elem(const naive_chan_t *c, void *dst, const void *src)
{
	if (c->elem_size && dst)
		memcpy(dst, src, c->elem_size);
}

static void zero_elem(const naive_chan_t *c, void *dst)
{
	if (c->elem_size && dst)
		memset(dst, 0, c->elem_size);
}

static unsigned char *slot(const naive_chan_t *c, size_t i)
{
	return c->buf + ((c->head + i) % c->cap) * c->elem_size;
}

static void q_push(struct naive_queue *q, struct naive_waiter *w)
{
	w->next = NULL;
	w->prev = q->tail;
	if (q->tail)
		q->tail->next = w;
	else
		q->head = w;
	q->tail = w;
	w->queued = true;
}

static void q_unlink(struct naive_queue *q, struct naive_waiter *w)
{
	if (w->prev)
		w->prev->next = w->next;
	else
		q->head = w->next;
	if (w->next)
		w->next->prev = w->prev;
	else
		q->tail = w->prev;
	w->queued = false;
}

/* The first waiter whose operation has not fired yet, unlinked; stale ones
 * met on the way are unlinked too. */
static struct naive_waiter *q_take(struct naive_queue *q)
{
	struct naive_waiter *w;
	while ((w = q->head)) {
		q_unlink(q, w);
		if (w->op->fired < 0)
			return w;
	}
	return NULL;
}

static void fire(struct naive_waiter *w, bool ok)
{
	w->op->fired = w->index;
	w->op->ok = ok;
	pthread_cond_signal(&w->op->cond);
}

/* A send that does not block: 1 done, 0 it would block, -1 closed. */
static int try_send(naive_chan_t *c, const void *elem)
{
	if (c->closed)
		return -1;
	struct naive_waiter *w = q_take(&c->recvq);
	if (w) {
		copy_elem(c, w->elem, elem);
		fire(w, true);
		return 1;
	}
	if (c->len < c->cap) {
		copy_elem(c, c->elem_size ? slot(c, c->len) : NULL, elem);
		c->len++;
		return 1;
	}
	return 0;
}

/* A receive that does not block: 1 done (*ok set), 0 it would block. */
static int try_recv(naive_chan_t *c, void *elem, bool *ok)
{
	struct naive_waiter *w;
	if (c->len > 0) {
		copy_elem(c, elem, c->elem_size ? slot(c, 0) : NULL);
		c->head = (c->head + 1) % c->cap;
		c->len--;
		/* A slot is free: the first blocked sender's value goes in. */
		if ((w = q_take(&c->sendq))) {
			copy_elem(c, c->elem_size ? slot(c, c->len) : NULL, w->elem);
			c->len++;
			fire(w, true);
		}
		*ok = true;
		return 1;
	}
	if ((w = q_take(&c->sendq))) { /* unbuffered: straight from the sender */
		copy_elem(c, elem, w->elem);
		fire(w, true);
		*ok = true;
		return 1;
	}
	if (c->closed) {
		zero_elem(c, elem);
		*ok = false;
		return 1;
	}
	return 0;
}

/* Wait, with naive_lock held, until @op fires. */
static void wait_op(struct naive_op *op)
{
	while (op->fired < 0)
		pthread_cond_wait(&op->cond, &naive_lock);
}

int naive_send(naive_chan_t *c, const void *elem)
{
	if (!c)
		return EINVAL;
	pthread_mutex_lock(&naive_lock);
	int r = try_send(c, elem);
	if (r == 0) {
		struct naive_op op = {.fired = -1};
		pthread_cond_init(&op.cond, NULL);
		struct naive_waiter w = {.op = &op, .elem = (void *)elem};
		q_push(&c->sendq, &w);
		wait_op(&op);
		pthread_cond_destroy(&op.cond);
		r = op.ok ? 1 : -1;
	}
	pthread_mutex_unlock(&naive_lock);
	return r > 0 ? 0 : EPIPE;
}

int naive_recv(naive_chan_t *c, void *elem, bool *ok)
{
	if (!c)
		return EINVAL;
	bool got;
	pthread_mutex_lock(&naive_lock);
	if (!try_recv(c, elem, &got)) {
		struct naive_op op = {.fired = -1};
		pthread_cond_init(&op.cond, NULL);
		struct naive_waiter w = {.op = &op, .elem = elem};
		q_push(&c->recvq, &w);
		wait_op(&op);
		pthread_cond_destroy(&op.cond);
		got = op.ok; /* close zeroed elem when !ok */
	}
	pthread_mutex_unlock(&naive_lock);
	if (ok)
		*ok = got;
	return 0;
}

int naive_close(naive_chan_t *c)
{
	if (!c)
		return EINVAL;
	pthread_mutex_lock(&naive_lock);
	if (c->closed) {
		pthread_mutex_unlock(&naive_lock);
		return EPIPE;
	}
	c->closed = true;
	struct naive_waiter *w;
	while ((w = q_take(&c->recvq))) {
		zero_elem(c, w->elem);
		fire(w, false);
	}
	while ((w = q_take(&c->sendq)))
		fire(w, false);
	pthread_mutex_unlock(&naive_lock);
	return 0;
}

#define NAIVE_STACK_CASES 8

int naive_select(naive_case_t *cases, size_t n, bool block)
{
	if (n && !cases)
		return -EINVAL;
	pthread_mutex_lock(&naive_lock);
	size_t start = n ? naive_select_seq++ % n : 0;
	size_t live = 0;
	for (size_t k = 0; k < n; k++) {
		size_t i = (start + k) % n;
		naive_case_t *cs = &cases[i];
		if (!cs->chan)
			continue;
		live++;
		int r;
		bool ok = true;
		if (cs->send) {
			r = try_send(cs->chan, cs->elem);
			ok = r > 0;
		} else {
			r = try_recv(cs->chan, cs->elem, &ok);
		}
		if (r != 0) {
			pthread_mutex_unlock(&naive_lock);
			if (cs->ok)
				*cs->ok = ok;
			return (int)i;
		}
	}
	if (!block || live == 0) {
		pthread_mutex_unlock(&naive_lock);
		return block ? -EINVAL : -1;
	}

	struct naive_waiter stack_ws[NAIVE_STACK_CASES];
	struct naive_waiter *ws = n <= NAIVE_STACK_CASES ? stack_ws : calloc(n, sizeof *ws);
	if (!ws) {
		pthread_mutex_unlock(&naive_lock);
		return -ENOMEM;
	}
	struct naive_op op = {.fired = -1};
	pthread_cond_init(&op.cond, NULL);
	for (size_t i = 0; i < n; i++) {
		naive_case_t *cs = &cases[i];
		ws[i] = (struct naive_waiter){.op = &op, .index = (int)i, .elem = cs->elem};
		if (cs->chan)
			q_push(cs->send ? &cs->chan->sendq : &cs->chan->recvq, &ws[i]);
	}
	wait_op(&op);
	for (size_t i = 0; i < n; i++) /* the other cases' waiters are stale now */
		if (ws[i].queued)
			q_unlink(cases[i].send ? &cases[i].chan->sendq : &cases[i].chan->recvq,
				 &ws[i]);
	pthread_cond_destroy(&op.cond);
	int fired = op.fired;
	bool ok = op.ok;
	pthread_mutex_unlock(&naive_lock);
	if (ws != stack_ws)
		free(ws);
	if (cases[fired].ok)
		*cases[fired].ok = ok;
	return fired;
}

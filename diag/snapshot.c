/*
 * diag/snapshot.c - the snapshot a dump is made from: a copy of every
 * blocked operation of the wait layer's record (wait/record.h), with the
 * len/cap/closed of each channel it waits on, read at snapshot time through
 * the public channel calls.  The record's walk keeps each operation parked
 * while its channels and cases are read (the hand-shake of wait/record.c),
 * so this file, above chan/, is the only one that dereferences them; the
 * wait layer below never does.
 */
#include "diag/snapshot.h"

#include <errno.h>
#include <gochan/chan.h>
#include <gochan/diag.h>
#include <gochan/select.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "wait/record.h"

struct grow {
	void *p;
	size_t n, cap, size;
};

static void *grow_one(struct grow *g)
{
	if (g->n == g->cap) {
		size_t cap = g->cap ? 2 * g->cap : 16;
		void *p = realloc(g->p, cap * g->size);

		if (!p)
			return NULL;
		g->p = p;
		g->cap = cap;
	}
	return (char *)g->p + g->n++ * g->size;
}

struct snap_walk {
	struct grow threads, chans;
};

static bool snap_chan(struct grow *chans, const chan_t *c, uint32_t idx, bool send)
{
	struct godiag__snap_chan *sc = grow_one(chans);

	if (!sc)
		return false;
	sc->addr = c;
	sc->case_index = idx;
	sc->send = send;
	/* The channel is alive: its user is inside the call (the walk's
	 * hand-shake). */
	sc->elem_size = chan_elem_size(c);
	sc->len = chan_len(c);
	sc->cap = chan_cap(c);
	sc->closed = chan_is_closed(c);
	return true;
}

/* Copy one blocked operation; @deref: the hand-shake holds, so its channels
 * and cases may be read. */
static bool snap_op(const struct gowait__rec_view *v, struct grow *threads, struct grow *chans,
		    bool deref)
{
	struct godiag__snap_thread *t = grow_one(threads);

	if (!t)
		return false;
	t->tid = v->tid;
	t->fiber = v->fiber;
	t->name[0] = '\0';
	t->op = v->op;
	t->ncases = v->ncases;
	t->since = v->since;
	t->ra = v->ra;
	t->nbt = v->nbt;
	memcpy(t->bt, v->bt, sizeof(void *) * (size_t)v->nbt);
	t->first_chan = chans->n;
	t->nchans = 0;
	if (!deref)
		return true; /* listed without its channels (wait/record.c) */
	if (v->op == GOWAIT_OP_SEND || v->op == GOWAIT_OP_RECV) {
		if (!snap_chan(chans, v->chan, 0, v->op == GOWAIT_OP_SEND))
			return false;
	} else if (v->op == GOWAIT_OP_SELECT) {
		const chan_case_t *cases = v->cases;

		for (uint32_t i = 0; i < v->ncases; i++)
			if (cases[i].chan &&
			    !snap_chan(chans, cases[i].chan, i, chan__case_sends(&cases[i])))
				return false;
	}
	t->nchans = chans->n - t->first_chan;
	return true;
}

static bool on_blocked(const struct gowait__rec_view *v, bool deref, void *arg)
{
	struct snap_walk *w = arg;
	size_t nt = w->threads.n, nc = w->chans.n;

	if (snap_op(v, &w->threads, &w->chans, deref))
		return true;
	w->threads.n = nt;
	w->chans.n = nc;
	return false;
}

static void on_thread(pid_t tid, pthread_t self, void *arg)
{
	struct snap_walk *w = arg;
	struct godiag__snap_thread *t = w->threads.p;

	for (size_t k = 0; k < w->threads.n; k++)
		if (!t[k].fiber && t[k].tid == tid && !t[k].name[0] &&
		    pthread_getname_np(self, t[k].name, sizeof(t[k].name)) != 0)
			t[k].name[0] = '\0';
}

int godiag__snapshot(struct godiag__snap *s)
{
	struct snap_walk w = {
		.threads = {.size = sizeof(struct godiag__snap_thread)},
		.chans = {.size = sizeof(struct godiag__snap_chan)},
	};
	struct gowait__walk walk = {on_blocked, on_thread, &w};
	int err = gowait__record_walk(&walk);

	memset(s, 0, sizeof(*s));
	s->now = chan_now();
	s->threads = w.threads.p;
	s->nthreads = w.threads.n;
	s->chans = w.chans.p;
	s->nchans = w.chans.n;
	if (err) {
		godiag__snap_free(s);
		return err;
	}
	return 0;
}

void godiag__snap_free(struct godiag__snap *s)
{
	free(s->threads);
	free(s->chans);
	memset(s, 0, sizeof(*s));
}

size_t godiag_blocked(void)
{
	return gowait__record_blocked();
}

void godiag_set_backtrace(bool on)
{
	gowait__record_set_backtrace(on);
}

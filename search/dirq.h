/*
 * search/dirq.h - the directories a scan's workers still have to read: a
 * shared stack (depth first, so it stays small) with a termination count,
 * whose idle workers wait in a chan_select that also watches the scan's
 * context.
 *
 * Invariant (under the mutex): pending = directories on the stack +
 * directories popped and not yet finished.  The walk is over when pending
 * reaches 0: nobody can push any more.  An idle worker waits on `wake`
 * (a gochan channel of capacity = workers, elements of size 0) in a select
 * with Done; a push that finds idle workers drops a token into it
 * (chan_try_send: never blocks, and a full channel already wakes them all),
 * and the worker that brings pending to 0 closes it, which wakes every idle
 * worker at once.  A token nobody needed costs its taker one more look.
 */
#ifndef GOCHAN_SEARCH_DIRQ_H
#define GOCHAN_SEARCH_DIRQ_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include <gochan/chan.h>
#include <gochan/context.h>

/* A directory to read and what its parent handed down (the ignore rules in
 * force there: ignore.h), owned by the stack until popped. */
struct dirq_item {
	char *dir;
	void *tag;
};

struct dirq {
	pthread_mutex_t mu;
	struct dirq_item *stack;
	size_t n, cap;
	size_t pending;
	int idle;
	bool complete, partial;
	chan_t *wake;
};

/* 0 or ENOMEM. */
int dirq_init(struct dirq *q, int workers);
/* Frees what is left; @drop (if not NULL) is called on each tag left. */
void dirq_destroy(struct dirq *q, void (*drop)(void *tag));

/* Push a copy of @dir (@len bytes, relative to the scan's root, "" = the
 * root) with @tag (the stack owns it until popped); false on ENOMEM (the
 * directory is then not scanned, and @tag is still the caller's). */
bool dirq_push(struct dirq *q, const char *dir, size_t len, void *tag);

/* The next directory (the caller frees it and calls dirq_finished) and its
 * tag in *@tag, or NULL once the walk is over or @ctx is done.  Blocks only
 * while other workers are reading directories that may yield more; before
 * it would, it calls @before_wait(@arg) (if not NULL) without the lock, and
 * looks again if that returns true (the worker sends the results it holds,
 * so that none wait while it is idle). */
char *dirq_pop(struct dirq *q, ctx_t *ctx, void **tag, bool (*before_wait)(void *), void *arg);

/* A popped directory is done with: read to the end (@whole), or given up
 * because the scan is stopping. */
void dirq_finished(struct dirq *q, bool whole);

/* Whether every directory was read whole (meaningful once the walk is over). */
bool dirq_complete(struct dirq *q);

#endif

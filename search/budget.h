/*
 * search/budget.h - the server-wide budget of scan threads (--scan-threads,
 * default: the number of cores).
 *
 * Every scan worker holds one token, so all scans together never run more
 * threads than there are cores.  More would not scan faster (the walk is
 * CPU- or I/O-bound either way), and they would slow the stop: a cancelled
 * scan stops when its workers next check the context, which takes a
 * scheduling round when more workers than cores are runnable (tens of ms
 * under load, against about 1 ms).  A scan takes one token, waiting for it
 * under the request's context (a hang-up, the deadline or shutdown ends the
 * wait), then as many more as are free, up to --workers, without waiting.
 * A worker blocked on its results channel (a client reading slower than
 * the scan finds, or not at all) is not runnable: it gives its token back
 * while it waits and takes one again before going on (scan.c), so a
 * stalled client's scan holds no thread of the budget.
 * Tokens are a buffered gochan channel: waiters are served in order.
 */
#ifndef GOCHAN_SEARCH_BUDGET_H
#define GOCHAN_SEARCH_BUDGET_H

#include <gochan/context.h>

/* Make @n tokens.  0, or an errno. */
int budget_init(int n);

/* Take 1..@want tokens (waiting for the first under @c); returns how many,
 * or 0 when @c ended the wait (or on ENOMEM). */
int budget_take(ctx_t *c, int want);

/* Give back @n tokens taken by budget_take. */
void budget_give(int n);

/* Tokens free now (for /debug/vars). */
long budget_free_now(void);

void budget_fini(void);

#endif

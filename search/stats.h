/*
 * search/stats.h - the service's own gauges and counters, read by
 * /debug/vars and by the tests to prove that a cancelled request leaves
 * nothing behind.  Each is one C11 atomic updated with relaxed order: they
 * are statistics, nothing is synchronised through them.  A gauge is exact
 * whenever the server is quiescent; the log line of a request is written
 * after every gauge it moved is back, so a client that has read that line
 * sees them settled.
 *
 * contexts_alive counts the per-request contexts this service created and
 * has not yet released (timeout, hangup, scan and group contexts; not the
 * server's own, so an idle server reads 0): gochan's own count
 * of live contexts (ctx__live) is a test-only internal, and ours is the
 * number an operator can act on.
 */
#ifndef GOCHAN_SEARCH_STATS_H
#define GOCHAN_SEARCH_STATS_H

#include <stdatomic.h>

struct search_stats {
	atomic_long requests_in_progress; /* /search requests, access to completion */
	atomic_long requests_total;
	atomic_long scans_in_progress; /* /search requests that started a scan */
	atomic_long scans_canceled;    /* scans that ended "canceled" */
	atomic_long workers_alive;     /* scan worker threads running their function */
	atomic_long fds_held;          /* directories and files open in scans */
	atomic_long contexts_alive;    /* see above */
};

extern struct search_stats stats;

static inline void stat_add(atomic_long *v, long d)
{
	atomic_fetch_add_explicit(v, d, memory_order_relaxed);
}

static inline long stat_get(atomic_long *v)
{
	return atomic_load_explicit(v, memory_order_relaxed);
}

#endif

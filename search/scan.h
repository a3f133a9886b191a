/*
 * search/scan.h - one request's parallel directory walk.
 *
 * scan_start() starts @workers threads in a gogroup bound to a context
 * derived from the request's; they share the stack of directories still to
 * read (dirq.h), so the walk spreads over the workers and ends when the
 * stack is empty and no worker is reading a directory (which could push
 * more).
 * Each result (one JSON line) goes through the bounded channel
 * scan_results() with ctx_send: when the HTTP writer falls behind, the
 * workers block there, and a cancelled context unblocks them.
 *
 * The workers give up once the context is done: they check it before every
 * directory, between files and after every 64 KiB read, and every blocking
 * step (the results channel, waiting for a directory) is a select that
 * includes Done.  Nothing is followed through a symlink: directories are
 * opened with openat2(RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS) relative to the
 * scan's root fd, files with O_NOFOLLOW relative to their directory's fd.
 */
#ifndef GOCHAN_SEARCH_SCAN_H
#define GOCHAN_SEARCH_SCAN_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gochan/chan.h>
#include <gochan/context.h>

struct matcher;

/* One exclude= glob (handler.c normalises it). */
struct scan_exclude {
	char *glob;    /* fnmatch(3) on the base name, or (path) gitignore's glob on the path */
	bool path;     /* the glob held a '/': matched against the path from the served root */
	bool dir_only; /* it ended in '/': directories only */
};

/* What to look for. */
struct scan_params {
	const struct matcher *m; /* content pattern, or NULL (names only) */
	const char *glob;        /* fnmatch(3) on the base name, or NULL */
	int dir_fd;              /* where the walk starts; the scan owns (closes) it */
	const char *prefix;      /* reported path of dir_fd ("" = the served root) */
	int workers; /* as many scan-thread tokens (budget.h), which the scan now owns */
	/* exclude=: entries not met (files and directories).  Borrowed for
	 * the scan's life. */
	const struct scan_exclude *exclude;
	int n_exclude;
	bool hidden; /* false: names starting with '.' are not met (unless an ignore file re-includes them) */
	bool ignore; /* true: .ignore, .gitignore, .git/info/exclude are obeyed and .git, .hg, .svn skipped */
	int before, after; /* context lines around each match (rg -B, -A) */
	int max_depth;     /* files at most this many levels below dir_fd (1: its own); 0: any */
	int64_t max_file_size;
	size_t text_max; /* a match line is cut to this many bytes */
};

/* One result: a malloc'd JSON line ending in '\n' (the receiver frees). */
struct scan_item {
	char *line; /* one or more whole JSON lines, each ending in '\n' (malloc'd) */
	size_t len;
	long n; /* how many lines */
};

/* Totals, updated by the workers with relaxed atomics (progress figures). */
struct scan_totals {
	atomic_llong files, bytes, skipped, errors;
};

struct scan;

/* Start the walk under @parent (the scan takes its own references).  Each
 * worker owns one of the @p->workers scan-thread tokens the caller took,
 * gives it back while blocked on the results channel and at its end.
 * Returns NULL with errno on failure (then @p->dir_fd has been closed and
 * the tokens given back). */
struct scan *scan_start(ctx_t *parent, const struct scan_params *p);

/* The results channel (elements: struct scan_item), closed by the last
 * worker to finish.  Borrowed until scan_free(). */
chan_t *scan_results(struct scan *s);

/* Whether the walk went over the whole tree (every directory was read):
 * meaningful once scan_results() is closed. */
bool scan_complete(struct scan *s);

struct scan_totals *scan_totals(struct scan *s);

/* chan_now() when a worker first found the context done, or 0. */
int64_t scan_first_seen(struct scan *s);

/* Cancel the walk and join every worker; returns the CLOCK_MONOTONIC time
 * (chan_now()) at which the last one was joined.  Idempotent: later calls
 * return the same time. */
int64_t scan_stop(struct scan *s, int64_t *joined_realtime_ns);

/* scan_stop(), then free the results still queued and everything else. */
void scan_free(struct scan *s);

#endif

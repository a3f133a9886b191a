/*
 * search/scan_impl.h - what scan.c (the walk, the workers, the lifecycle)
 * and file.c (searching one file) share.  Internal to search/.
 */
#ifndef GOCHAN_SEARCH_SCAN_IMPL_H
#define GOCHAN_SEARCH_SCAN_IMPL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gochan/group.h>
#include <gochan/time.h>

#include "search/dirq.h"
#include "search/json.h"
#include "search/scan.h"

#define RESULTS_CAP 64 /* batches of results waiting for the HTTP writer */
/* A worker sends its batch when it reaches BATCH_BYTES or BATCH_LINES, when
 * its first line has waited FLUSH_NS (checked after each chunk read and each
 * directory), before the worker waits for a directory, and at its end: one
 * channel hand-off, writer wake-up and send() per batch, and no result held
 * longer than FLUSH_NS plus a chunk's matching while the scan runs (a
 * progress line comes every 250 ms: stream.c). */
#define BATCH_BYTES ((size_t)16 << 10)
#define BATCH_LINES 256
#define FLUSH_NS (50 * GOTIME_MILLISECOND)
#define CHUNK ((size_t)64 << 10) /* read size, and the cancellation grain */
#define BINARY_PROBE 8192        /* a NUL in the first 8 KiB: binary, skipped */
#define SLICE ((size_t)16 << 10) /* matching checks the context this often */

struct scan {
	struct scan_params p;
	char *prefix;
	ctx_t *scan_ctx;  /* child of the request's context, cancelled by scan_stop */
	ctx_t *group_ctx; /* the gogroup's context (caller's reference) */
	gogroup_t *group;
	chan_t *results;
	struct scan_totals totals;

	struct dirq dirs;

	/* The glob's shape, so that the common ones skip fnmatch (6% of a
	 * name search's profile): GLOB_ANY "*", GLOB_EXACT "name", GLOB_SUFFIX
	 * "*.log" (glob_lit = ".log"), else GLOB_FNMATCH. */
	enum {
		GLOB_NONE,
		GLOB_ANY,
		GLOB_EXACT,
		GLOB_SUFFIX,
		GLOB_FNMATCH
	} glob_kind;
	const char *glob_lit;
	size_t glob_len;
	bool path_excludes; /* an exclude= glob is matched against the path */

	atomic_int running; /* workers still in worker(); the last closes results */
	/* chan_now() when a worker first found the context done (0: none yet),
	 * for the log's hang-up-to-joined time; the first CAS wins. */
	atomic_llong first_seen;
	bool stopped;
	int64_t joined_mono, joined_real;
};

struct worker {
	struct scan *s;
	char *buf; /* per-worker read buffer */
	size_t cap;
	struct match_state *st;
	bool token;       /* holds a scan-thread token (budget.h): not while blocked sending */
	struct jbuf path; /* scratch for "dir/name" */
	/* Result lines not yet sent: one channel operation per batch rather
	 * than per line (a name search sends thousands). */
	struct jbuf batch;
	long batch_n;
	int64_t batch_t0; /* chan_now() when the batch's first line came (0: empty) */
};

/* Whether the scan's context is done; the first worker to see it records
 * the time (scan_first_seen). */
bool scan__stopping(struct scan *s);

/* The caller has appended one whole JSON line to w->batch: count it, and
 * send the batch if it is full.  False when the context is done or memory
 * ran out: the caller stops. */
bool scan__added(struct worker *w);
/* The caller has appended a context line (not a result) to w->batch: send
 * the batch if it is full.  False when the caller must stop. */
bool scan__added_context(struct worker *w);
/* Send w->batch now if it holds anything (the bounded channel's
 * back-pressure: blocks while it is full, gives up when the context is
 * done).  False when the caller must stop. */
bool scan__flush(struct worker *w);
/* scan__flush if the batch's first line has waited FLUSH_NS; else true. */
bool scan__flush_due(struct worker *w);

/* A file or directory @path that could not be searched, or not wholly:
 * count it in errors and send a "file_error" line saying why (@msg), with
 * the number of lines left unchecked and the first of them when @lines > 0.
 * The batch so far goes first.  False when the caller must stop. */
bool scan__file_error(struct worker *w, const struct jbuf *path, const char *msg, long long lines,
		      long long first_line);

/* openat(@dirfd, @name, @flags|O_CLOEXEC|O_NOFOLLOW|O_NOCTTY), counted in
 * stats.fds_held; scan__close_fd() closes and uncounts. */
int scan__open_fd(int dirfd, const char *name, int flags);
void scan__close_fd(int fd);

/* Search the regular file @name of directory @dirfd, reported as @path
 * (file.c).  Returns false when the scan must stop. */
bool scan__file(struct worker *w, int dirfd, const char *name, const struct jbuf *path);

#endif

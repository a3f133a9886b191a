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

#include "search/dirq.h"
#include "search/json.h"
#include "search/scan.h"

#define RESULTS_CAP 256          /* results waiting for the HTTP writer */
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
	struct jbuf path; /* scratch for "dir/name" */
};

/* Whether the scan's context is done; the first worker to see it records
 * the time (scan_first_seen). */
bool scan__stopping(struct scan *s);

/* Send one JSON line (@line is consumed); false when the context is done or
 * memory ran out: the caller stops. */
bool scan__emit(struct scan *s, struct jbuf *line);

/* openat(@dirfd, @name, @flags|O_CLOEXEC|O_NOFOLLOW|O_NOCTTY), counted in
 * stats.fds_held; scan__close_fd() closes and uncounts. */
int scan__open_fd(int dirfd, const char *name, int flags);
void scan__close_fd(int fd);

/* Search the regular file @name of directory @dirfd, reported as @path
 * (file.c).  Returns false when the scan must stop. */
bool scan__file(struct worker *w, int dirfd, const char *name, const struct jbuf *path);

#endif

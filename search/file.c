/* search/file.c - search one regular file for a scan (scan_impl.h):
 * read it in 64 KiB chunks through the worker's buffer, skip it if it is
 * binary, match whole lines in 16 KiB slices, and check the scan's context
 * between chunks and slices. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "search/match.h"
#include "search/memfind.h"
#include "search/scan_impl.h"

static bool emit_match(struct worker *w, const struct jbuf *path, long long line, const char *text,
		       size_t len)
{
	struct jbuf *j = &w->batch;
	size_t full = len, ms, me;
	len = json_utf8_cut(text, len, w->s->p.text_max); /* never inside a character */
	match_span(w->st, &ms, &me);
	jbuf_puts(j, "{\"type\":\"match\",");
	jbuf_field(j, "path", path->p, path->len);
	jbuf_printf(j, ",\"line\":%lld,", line);
	jbuf_field(j, "text", text, len);
	/* The first match, as byte offsets in the whole line (it may lie past
	 * the cut text); column is 1-based, as rg's and grep's. */
	if (me <= full)
		jbuf_printf(j, ",\"column\":%zu,\"submatch\":[%zu,%zu]", ms + 1, ms, me);
	jbuf_puts(j, "}\n");
	return scan__added(w);
}

/* One context line (rg -A/-B/-C): not a result, so it counts in neither
 * max= nor "matches" (scan__added_context). */
static bool emit_context(struct worker *w, const struct jbuf *path, long long line,
			 const char *text, size_t len)
{
	struct jbuf *j = &w->batch;
	len = json_utf8_cut(text, len, w->s->p.text_max);
	jbuf_puts(j, "{\"type\":\"context\",");
	jbuf_field(j, "path", path->p, path->len);
	jbuf_printf(j, ",\"line\":%lld,", line);
	jbuf_field(j, "text", text, len);
	jbuf_puts(j, "}\n");
	return scan__added_context(w);
}

/*
 * Context lines of one file.  Each line is written once, as a match or as
 * context, in order: `last` is the last line written.  The lines after a
 * match are written from the cursor (`cur`, the offset of line last + 1 in
 * the worker's buffer) up to `after_to`, before the next match or before
 * the buffer lets go of them (the end of each chunk); the lines before a
 * match are found by going back from it, and the chunk loop keeps the last
 * `before` whole lines of each chunk in the buffer for the next one.
 */
struct around {
	long long last, after_to;
	size_t cur;
};

/* The line ending at or after @from: its end (the '\n' or @end). */
static size_t eol(const char *buf, size_t from, size_t end)
{
	const char *nl = memchr(buf + from, '\n', end - from);
	return nl ? (size_t)(nl - buf) : end;
}

/* Write the lines last+1 .. @to that start at a->cur, as far as @end (the
 * end of the complete lines in the buffer).  False when the scan stops. */
static bool after_lines(struct worker *w, const struct jbuf *path, struct around *a, long long to,
			size_t end)
{
	while (a->last < to && a->cur < end) {
		size_t z = eol(w->buf, a->cur, end);
		if (!emit_context(w, path, a->last + 1, w->buf + a->cur, z - a->cur))
			return false;
		a->last++;
		a->cur = z + 1;
	}
	return true;
}

/* The context before a match on line @line at @ls (and the rest of the
 * previous match's after-context), then the match's own bookkeeping. */
static bool before_lines(struct worker *w, const struct jbuf *path, struct around *a,
			 long long line, size_t ls)
{
	const struct scan_params *p = &w->s->p;
	if (!after_lines(w, path, a, a->after_to < line - 1 ? a->after_to : line - 1, ls))
		return false;
	long long from = line - p->before > a->last + 1 ? line - p->before : a->last + 1;
	/* Back from the match to the start of line @from: the chunk loop
	 * kept enough lines in the buffer for this. */
	size_t s = ls;
	for (long long k = line; k > from && s > 0; k--) {
		const char *nl = s > 1 ? memrchr(w->buf, '\n', s - 1) : NULL;
		s = nl ? (size_t)(nl - w->buf) + 1 : 0;
	}
	for (long long k = from; k < line; k++) {
		size_t z = eol(w->buf, s, ls);
		if (!emit_context(w, path, k, w->buf + s, z - s))
			return false;
		s = z + 1;
	}
	return true;
}

/* Grow the worker's buffer to hold @need bytes. */
static bool grow(struct worker *w, size_t need)
{
	if (need <= w->cap)
		return true;
	size_t cap = w->cap ? w->cap : 4 * CHUNK;
	while (cap < need)
		cap *= 2;
	char *b = realloc(w->buf, cap);
	if (!b)
		return false;
	w->buf = b;
	w->cap = cap;
	return true;
}

/* Search one regular file.  Returns false when the scan must stop. */
bool scan__file(struct worker *w, int dirfd, const char *name, const struct jbuf *path)
{
	struct scan *s = w->s;
	int fd = scan__open_fd(dirfd, name, O_RDONLY | O_NONBLOCK);
	if (fd < 0) {
		/* ELOOP: it became a symlink (not searched, as symlinks are not);
		 * ENOENT: it vanished; EACCES: unreadable. */
		return errno == ELOOP || scan__file_error(w, path, strerror(errno), 0, 0);
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		scan__close_fd(fd);
		return true;
	}
	if (st.st_size > s->p.max_file_size) {
		atomic_fetch_add_explicit(&s->totals.skipped, 1, memory_order_relaxed);
		scan__close_fd(fd);
		return true;
	}
	const char *failed = NULL; /* why the file was not (wholly) searched */
	char why[128];
	long long unchecked = 0, first_unchecked = 0; /* lines the matcher failed on */
	bool go_on = true, probed = false, eof = false;
	bool context = s->p.before || s->p.after;
	struct around ar = {0};
	size_t have = 0;    /* bytes in w->buf */
	size_t keep = 0;    /* of which lines already matched, kept for before-context */
	long long line = 1; /* number of the line at w->buf[0] */
	int64_t total = 0;
	while (!eof) {
		if (scan__stopping(s)) {
			go_on = false;
			break;
		}
		if (!grow(w, have + CHUNK)) {
			failed = "out of memory";
			break;
		}
		ssize_t r = read(fd, w->buf + have, CHUNK);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			failed = strerror(errno);
			break;
		}
		have += (size_t)r;
		total += r;
		/* At the size fstat gave, a short read is the end: no read()
		 * that returns 0 (one syscall per file saved).  A file that grew
		 * meanwhile is read as it was at the fstat. */
		eof = r == 0 || ((size_t)r < CHUNK && total >= st.st_size);
		atomic_fetch_add_explicit(&s->totals.bytes, r, memory_order_relaxed);
		if (total > s->p.max_file_size) { /* it grew past the limit while read */
			atomic_fetch_add_explicit(&s->totals.skipped, 1, memory_order_relaxed);
			break;
		}
		if (!probed && (have >= BINARY_PROBE || eof)) {
			probed = true;
			if (memchr(w->buf, 0, have < BINARY_PROBE ? have : BINARY_PROBE)) {
				atomic_fetch_add_explicit(&s->totals.skipped, 1,
							  memory_order_relaxed);
				break;
			}
		}
		if (!probed)
			continue;
		/* Process the complete lines (all of it at EOF). */
		size_t end = have;
		if (!eof) {
			const char *nl = memrchr(w->buf + keep, '\n', have - keep);
			end = nl ? (size_t)(nl - w->buf) + 1 : keep;
		}
		/* Match in slices of about SLICE bytes (whole lines), checking the
		 * context between them: a slow pattern on a 64 KiB chunk would
		 * otherwise delay the stop by the time of the whole chunk. */
		size_t pos = keep, counted = 0;
		while (go_on && pos < end) {
			size_t lim = end;
			if (end - pos > SLICE) {
				const char *nl =
					memchr(w->buf + pos + SLICE, '\n', end - pos - SLICE);
				lim = nl ? (size_t)(nl - w->buf) + 1 : end;
			}
			while (pos < lim) {
				size_t ls, le;
				int rc = match_next(s->p.m, w->st, w->buf, lim, &pos, &ls, &le);
				if (rc == 0)
					break;
				line += (long long)count_newlines(w->buf + counted, ls - counted);
				counted = ls;
				if (rc < 0) { /* this line alone could not be checked */
					if (!unchecked++) {
						first_unchecked = line;
						match_error_message(rc, why, sizeof why);
					}
					continue;
				}
				if (context && !before_lines(w, path, &ar, line, ls)) {
					go_on = false;
					break;
				}
				if (!emit_match(w, path, line, w->buf + ls, le - ls)) {
					go_on = false;
					break;
				}
				ar.last = line;
				ar.after_to = line + s->p.after;
				ar.cur = le + 1;
			}
			pos = lim;
			if (go_on && pos < end && scan__stopping(s))
				go_on = false;
		}
		/* The after-context in this chunk's lines goes out before the
		 * buffer lets go of them. */
		if (go_on && context && ar.after_to > ar.last)
			go_on = after_lines(w, path, &ar, ar.after_to, end);
		/* A large file's matches go out as they wait (FLUSH_NS). */
		if (!go_on || !scan__flush_due(w)) {
			go_on = false;
			break;
		}
		if (eof)
			break;
		/* The next chunk's lines need the count (after the last chunk
		 * nothing does: most files are one chunk, mostly without a hit),
		 * and before-context the last lines: the buffer keeps them. */
		line += (long long)count_newlines(w->buf + counted, end - counted);
		size_t from = end;
		for (int k = 0; k < s->p.before && from > 0; k++) {
			const char *nl = from > 1 ? memrchr(w->buf, '\n', from - 1) : NULL;
			from = nl ? (size_t)(nl - w->buf) + 1 : 0;
			line--;
		}
		/* The cursor is at `end` whenever after-context is pending. */
		ar.cur = ar.cur >= from ? ar.cur - from : 0;
		memmove(w->buf, w->buf + from, have - from);
		have -= from;
		keep = end - from;
	}
	scan__close_fd(fd);
	if (go_on && (failed || unchecked))
		go_on = scan__file_error(w, path, failed ? failed : why, unchecked,
					 first_unchecked);
	return go_on;
}

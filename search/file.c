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
#include "search/scan_impl.h"

static bool emit_match(struct scan *s, const struct jbuf *path, long long line, const char *text,
		       size_t len)
{
	struct jbuf j = {0};
	if (len > s->p.text_max)
		len = s->p.text_max;
	jbuf_puts(&j, "{\"type\":\"match\",\"path\":");
	jbuf_str(&j, path->p, path->len);
	jbuf_printf(&j, ",\"line\":%lld,\"text\":", line);
	jbuf_str(&j, text, len);
	jbuf_puts(&j, "}\n");
	return scan__emit(s, &j);
}

/* Newlines in p[0, n).  Through memchr (libc's vectorised scan, one call
 * per line) rather than a byte loop: the service is built with UBSan in the
 * safe modes, whose checks on every iteration would keep the loop from being
 * vectorised, and this runs over every byte searched. */
static size_t count_nl(const char *p, size_t n)
{
	size_t c = 0;
	const char *end = p + n;
	while (p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		c++;
		p++;
	}
	return c;
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
		/* ELOOP: it became a symlink; ENOENT: it vanished. */
		if (errno != ELOOP)
			atomic_fetch_add_explicit(&s->totals.errors, 1, memory_order_relaxed);
		return true;
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
	bool go_on = true, probed = false, eof = false;
	size_t have = 0;    /* bytes in w->buf, all past the last processed line */
	long long line = 1; /* number of the line at w->buf[0] */
	int64_t total = 0;
	while (!eof) {
		if (scan__stopping(s)) {
			go_on = false;
			break;
		}
		if (!grow(w, have + CHUNK)) {
			atomic_fetch_add_explicit(&s->totals.errors, 1, memory_order_relaxed);
			break;
		}
		ssize_t r = read(fd, w->buf + have, CHUNK);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			atomic_fetch_add_explicit(&s->totals.errors, 1, memory_order_relaxed);
			break;
		}
		eof = r == 0;
		have += (size_t)r;
		total += r;
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
			const char *nl = memrchr(w->buf, '\n', have);
			end = nl ? (size_t)(nl - w->buf) + 1 : 0;
		}
		/* Match in slices of about SLICE bytes (whole lines), checking the
		 * context between them: a slow pattern on a 64 KiB chunk would
		 * otherwise delay the stop by the time of the whole chunk. */
		size_t pos = 0, counted = 0;
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
				if (rc < 0)
					atomic_fetch_add_explicit(&s->totals.errors, 1,
								  memory_order_relaxed);
				if (rc <= 0)
					break;
				line += (long long)count_nl(w->buf + counted, ls - counted);
				counted = ls;
				if (!emit_match(s, path, line, w->buf + ls, le - ls)) {
					go_on = false;
					break;
				}
			}
			pos = lim;
			if (go_on && pos < end && scan__stopping(s))
				go_on = false;
		}
		if (!go_on)
			break;
		line += (long long)count_nl(w->buf + counted, end - counted);
		memmove(w->buf, w->buf + end, have - end);
		have -= end;
	}
	scan__close_fd(fd);
	return go_on;
}

/* search/scan.c - see scan.h. */
#include "search/scan.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <gochan/group.h>
#include <gochan/select.h>

#include "search/json.h"
#include "search/match.h"
#include "search/stats.h"

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

	/* The directory stack.  Invariant (under mu): pending = directories on
	 * the stack + directories being read by a worker; the walk is over
	 * when it reaches 0.  Idle workers wait on `wake` (capacity = workers,
	 * elements of size 0) in a select with Done; a push with idle workers
	 * drops a token into it (never blocks: try_send), and the worker that
	 * brings pending to 0 closes it, which wakes every idle worker at once.
	 * A token nobody needed only costs its taker one more look. */
	pthread_mutex_t mu;
	char **stack;
	size_t n, cap;
	size_t pending;
	int idle;
	bool complete;
	chan_t *wake;

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
 * the time. */
static bool stopping(struct scan *s)
{
	if (ctx_err(s->group_ctx) == 0)
		return false;
	long long zero = 0;
	atomic_compare_exchange_strong_explicit(&s->first_seen, &zero, (long long)chan_now(),
						memory_order_relaxed, memory_order_relaxed);
	return true;
}

/* ---- the directory stack ---- */

/* Push a copy of @dir (@len bytes); false on ENOMEM. */
static bool push(struct scan *s, const char *dir, size_t len)
{
	char *d = malloc(len + 1);
	if (!d)
		return false;
	memcpy(d, dir, len);
	d[len] = 0;
	pthread_mutex_lock(&s->mu);
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		char **st = realloc(s->stack, cap * sizeof *st);
		if (!st) {
			pthread_mutex_unlock(&s->mu);
			free(d);
			return false;
		}
		s->stack = st;
		s->cap = cap;
	}
	s->stack[s->n++] = d;
	s->pending++;
	if (s->idle > 0)
		(void)chan_try_send(s->wake, NULL); /* EAGAIN: enough tokens already */
	pthread_mutex_unlock(&s->mu);
	return true;
}

/* The next directory to read (the caller owns it), or NULL once the walk is
 * over or the context is done. */
static char *pop(struct scan *s)
{
	chan_t *done = ctx_done(s->group_ctx);
	pthread_mutex_lock(&s->mu);
	for (;;) {
		if (stopping(s) || (s->n == 0 && s->pending == 0)) {
			pthread_mutex_unlock(&s->mu);
			return NULL;
		}
		if (s->n > 0) {
			char *d = s->stack[--s->n];
			pthread_mutex_unlock(&s->mu);
			return d;
		}
		s->idle++;
		pthread_mutex_unlock(&s->mu);
		int r = CHAN_SELECT(CHAN_FOREVER, CHAN_RECV(s->wake, NULL, NULL),
				    CHAN_RECV(done, NULL, NULL));
		pthread_mutex_lock(&s->mu);
		s->idle--;
		(void)r; /* either way, look again: the loop head sees Done */
	}
}

/* A directory popped by this worker has been read. */
static void dir_finished(struct scan *s)
{
	pthread_mutex_lock(&s->mu);
	if (--s->pending == 0) {
		s->complete = true;
		chan_close(s->wake);
	}
	pthread_mutex_unlock(&s->mu);
}

/* ---- results ---- */

static void path_join(struct jbuf *out, const char *prefix, const char *dir, const char *name)
{
	out->len = 0;
	if (*prefix) {
		jbuf_puts(out, prefix);
		if (*dir || name)
			jbuf_put(out, "/", 1);
	}
	if (*dir) {
		jbuf_puts(out, dir);
		if (name)
			jbuf_put(out, "/", 1);
	}
	if (name)
		jbuf_puts(out, name);
}

/* Send one JSON line; false when the context is done (or out of memory):
 * the caller stops. */
static bool emit(struct scan *s, struct jbuf *line)
{
	struct scan_item it;
	it.line = jbuf_take(line, &it.len);
	if (!it.line)
		return false;
	if (ctx_send(s->group_ctx, s->results, &it) != 0) {
		free(it.line);
		(void)stopping(s);
		return false;
	}
	return true;
}

static bool emit_name(struct scan *s, const struct jbuf *path)
{
	struct jbuf j = {0};
	jbuf_puts(&j, "{\"type\":\"name\",\"path\":");
	jbuf_str(&j, path->p, path->len);
	jbuf_puts(&j, "}\n");
	return emit(s, &j);
}

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
	return emit(s, &j);
}

/* ---- files ---- */

static size_t count_nl(const char *p, size_t n)
{
	size_t c = 0;
	for (size_t i = 0; i < n; i++)
		c += p[i] == '\n';
	return c;
}

static int open_fd(int dirfd, const char *name, int flags)
{
	int fd = openat(dirfd, name, flags | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd >= 0)
		stat_add(&stats.fds_held, 1);
	return fd;
}

static void close_fd(int fd)
{
	close(fd);
	stat_add(&stats.fds_held, -1);
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
static bool scan_file(struct worker *w, int dirfd, const char *name, const struct jbuf *path)
{
	struct scan *s = w->s;
	int fd = open_fd(dirfd, name, O_RDONLY | O_NONBLOCK);
	if (fd < 0) {
		/* ELOOP: it became a symlink; ENOENT: it vanished. */
		if (errno != ELOOP)
			atomic_fetch_add_explicit(&s->totals.errors, 1, memory_order_relaxed);
		return true;
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close_fd(fd);
		return true;
	}
	if (st.st_size > s->p.max_file_size) {
		atomic_fetch_add_explicit(&s->totals.skipped, 1, memory_order_relaxed);
		close_fd(fd);
		return true;
	}
	bool go_on = true, probed = false, eof = false;
	size_t have = 0;    /* bytes in w->buf, all past the last processed line */
	long long line = 1; /* number of the line at w->buf[0] */
	int64_t total = 0;
	while (!eof) {
		if (stopping(s)) {
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
			if (go_on && pos < end && stopping(s))
				go_on = false;
		}
		if (!go_on)
			break;
		line += (long long)count_nl(w->buf + counted, end - counted);
		memmove(w->buf, w->buf + end, have - end);
		have -= end;
	}
	close_fd(fd);
	return go_on;
}

/* ---- directories ---- */

static int open_dir(struct scan *s, const char *rel)
{
	struct open_how how = {
		.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	int fd = (int)syscall(SYS_openat2, s->p.dir_fd, *rel ? rel : ".", &how, sizeof how);
	if (fd >= 0)
		stat_add(&stats.fds_held, 1);
	return fd;
}

/* Read directory @rel (relative to the scan's root).  Returns false when
 * the scan must stop. */
static bool scan_dir(struct worker *w, const char *rel)
{
	struct scan *s = w->s;
	if (stopping(s))
		return false;
	int fd = open_dir(s, rel);
	if (fd < 0) {
		/* EACCES: unreadable; ENOENT: vanished; ELOOP/EXDEV: replaced by
		 * a symlink since it was listed.  Counted, never fatal. */
		atomic_fetch_add_explicit(&s->totals.errors, 1, memory_order_relaxed);
		return true;
	}
	DIR *d = fdopendir(fd);
	if (!d) {
		close_fd(fd);
		atomic_fetch_add_explicit(&s->totals.errors, 1, memory_order_relaxed);
		return true;
	}
	bool go_on = true;
	size_t rlen = strlen(rel);
	for (;;) {
		errno = 0;
		struct dirent *de = readdir(d);
		if (!de) {
			if (errno)
				atomic_fetch_add_explicit(&s->totals.errors, 1,
							  memory_order_relaxed);
			break;
		}
		const char *name = de->d_name;
		if (name[0] == '.' && (!name[1] || (name[1] == '.' && !name[2])))
			continue;
		if (stopping(s)) {
			go_on = false;
			break;
		}
		unsigned char type = de->d_type;
		if (type == DT_UNKNOWN) {
			struct stat st;
			if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
				continue; /* vanished */
			type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_LNK;
		}
		if (type == DT_DIR) {
			/* rel + "/" + name, without a leading "/" at the top. */
			struct jbuf *j = &w->path;
			j->len = 0;
			if (rlen) {
				jbuf_put(j, rel, rlen);
				jbuf_put(j, "/", 1);
			}
			jbuf_puts(j, name);
			if (j->oom || !push(s, j->p, j->len)) {
				atomic_fetch_add_explicit(&s->totals.errors, 1,
							  memory_order_relaxed);
				j->oom = 0;
			}
			continue;
		}
		if (type != DT_REG) {
			/* Symlinks, devices, FIFOs, sockets: never opened. */
			atomic_fetch_add_explicit(&s->totals.skipped, 1, memory_order_relaxed);
			continue;
		}
		/* files: every regular file met (as the Go twin counts them). */
		atomic_fetch_add_explicit(&s->totals.files, 1, memory_order_relaxed);
		if (s->p.glob && fnmatch(s->p.glob, name, 0) != 0)
			continue;
		path_join(&w->path, s->prefix, rel, name);
		if (w->path.oom) {
			w->path.oom = 0;
			atomic_fetch_add_explicit(&s->totals.errors, 1, memory_order_relaxed);
			continue;
		}
		if (!s->p.m) {
			if (!emit_name(s, &w->path)) {
				go_on = false;
				break;
			}
			continue;
		}
		if (!scan_file(w, fd, name, &w->path)) {
			go_on = false;
			break;
		}
	}
	closedir(d); /* closes fd */
	stat_add(&stats.fds_held, -1);
	return go_on;
}

/* ---- workers ---- */

static int worker(void *arg)
{
	struct worker *w = arg;
	struct scan *s = w->s;
	stat_add(&stats.workers_alive, 1);
	int err = 0;
	if (s->p.m && !(w->st = match_state_new(s->p.m)))
		err = ENOMEM;
	while (!err) {
		char *dir = pop(s);
		if (!dir)
			break;
		bool go_on = scan_dir(w, dir);
		free(dir);
		dir_finished(s);
		if (!go_on)
			break;
	}
	match_state_free(w->st);
	free(w->buf);
	jbuf_free(&w->path);
	free(w);
	/* The last worker out closes the results: the writer then knows that
	 * nothing more will come.  acq_rel: every worker's sends happen before
	 * the close (and so before the writer sees the channel closed). */
	if (atomic_fetch_sub_explicit(&s->running, 1, memory_order_acq_rel) == 1)
		chan_close(s->results);
	stat_add(&stats.workers_alive, -1);
	return err;
}

struct scan *scan_start(ctx_t *parent, const struct scan_params *p)
{
	struct scan *s = calloc(1, sizeof *s);
	if (!s) {
		close_fd(p->dir_fd);
		return NULL;
	}
	s->p = *p;
	int err = ENOMEM;
	pthread_mutex_init(&s->mu, NULL);
	if (!(s->prefix = strdup(p->prefix)))
		goto fail;
	s->p.prefix = s->prefix;
	if (!(s->results = chan_new(sizeof(struct scan_item), RESULTS_CAP)))
		goto fail;
	if (!(s->wake = chan_new(0, (size_t)p->workers)))
		goto fail;
	if (!(s->scan_ctx = ctx_with_cancel(parent))) {
		err = errno;
		goto fail;
	}
	stat_add(&stats.contexts_alive, 1);
	if (!(s->group = gogroup_with_context(s->scan_ctx, &s->group_ctx))) {
		err = errno;
		goto fail;
	}
	stat_add(&stats.contexts_alive, 1);
	if (!push(s, "", 0))
		goto fail;
	atomic_store_explicit(&s->running, p->workers, memory_order_relaxed);
	for (int i = 0; i < p->workers; i++) {
		struct worker *w = calloc(1, sizeof *w);
		if (w)
			w->s = s;
		err = w ? gogroup_go(s->group, worker, w) : ENOMEM;
		if (err) {
			free(w);
			/* Not started: count it out as if it had run; if it was
			 * the last, close the results here. */
			int left = p->workers - i;
			if (atomic_fetch_sub_explicit(&s->running, left, memory_order_acq_rel) ==
			    left)
				chan_close(s->results);
			if (i == 0)
				goto fail_started;
			break;
		}
	}
	return s;
fail_started:
	scan_free(s);
	errno = err;
	return NULL;
fail:
	if (s->group) {
		gogroup_free(s->group);
		ctx_release(s->group_ctx);
		stat_add(&stats.contexts_alive, -1);
	}
	if (s->scan_ctx) {
		ctx_cancel_release(s->scan_ctx);
		stat_add(&stats.contexts_alive, -1);
	}
	for (size_t i = 0; i < s->n; i++)
		free(s->stack[i]);
	free(s->stack);
	chan_unref(s->wake);
	chan_unref(s->results);
	free(s->prefix);
	pthread_mutex_destroy(&s->mu);
	close_fd(p->dir_fd);
	free(s);
	errno = err;
	return NULL;
}

chan_t *scan_results(struct scan *s)
{
	return s->results;
}

bool scan_complete(struct scan *s)
{
	pthread_mutex_lock(&s->mu);
	bool c = s->complete;
	pthread_mutex_unlock(&s->mu);
	return c;
}

struct scan_totals *scan_totals(struct scan *s)
{
	return &s->totals;
}

int64_t scan_first_seen(struct scan *s)
{
	return (int64_t)atomic_load_explicit(&s->first_seen, memory_order_relaxed);
}

int64_t scan_stop(struct scan *s, int64_t *joined_real)
{
	if (!s->stopped) {
		ctx_cancel(s->scan_ctx);
		(void)gogroup_wait(s->group);
		s->joined_mono = chan_now();
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		s->joined_real = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
		s->stopped = true;
	}
	if (joined_real)
		*joined_real = s->joined_real;
	return s->joined_mono;
}

void scan_free(struct scan *s)
{
	if (!s)
		return;
	scan_stop(s, NULL);
	gogroup_free(s->group);
	ctx_release(s->group_ctx);
	ctx_cancel_release(s->scan_ctx);
	stat_add(&stats.contexts_alive, -2);
	struct scan_item it;
	bool ok;
	while (chan_try_recv(s->results, &it, &ok) == 0 && ok)
		free(it.line);
	chan_unref(s->results);
	chan_unref(s->wake);
	for (size_t i = 0; i < s->n; i++)
		free(s->stack[i]);
	free(s->stack);
	free(s->prefix);
	pthread_mutex_destroy(&s->mu);
	close_fd(s->p.dir_fd);
	free(s);
}

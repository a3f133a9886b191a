/* search/scan.c - see scan.h. */
#include "search/scan.h"
#include "search/scan_impl.h"

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

#include "search/budget.h"
#include "search/config.h"
#include "search/dirq.h"
#include "search/ignore.h"
#include "search/json.h"
#include "search/match.h"
#include "search/stats.h"

/* Whether the scan's context is done; the first worker to see it records
 * the time. */
bool scan__stopping(struct scan *s)
{
	if (ctx_err(s->group_ctx) == 0)
		return false;
	long long zero = 0;
	atomic_compare_exchange_strong_explicit(&s->first_seen, &zero, (long long)chan_now(),
						memory_order_relaxed, memory_order_relaxed);
	return true;
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

/* Send @it on the results channel.  A worker blocked there (the client
 * reads slower than the scan finds) is not runnable: it gives its
 * scan-thread token back while it waits and takes one again before it goes
 * on (budget.h), so a back-pressured or stalled scan does not keep other
 * scans from running.  Returns true if the caller may go on; *@sent says
 * whether the channel took @it (else the caller still owns it). */
static bool send_item(struct worker *w, struct scan_item *it, bool *sent)
{
	struct scan *s = w->s;
	*sent = chan_try_send(s->results, it) == 0;
	if (*sent)
		return true;
	if (w->token) {
		budget_give(1);
		w->token = false;
	}
	*sent = ctx_send(s->group_ctx, s->results, it) == 0;
	if (*sent && budget_take(s->group_ctx, 1))
		w->token = true;
	if (!w->token)
		(void)scan__stopping(s);
	return w->token;
}

bool scan__flush(struct worker *w)
{
	if (w->batch.len == 0) /* a batch of context lines only has batch_n 0 */
		return !w->batch.oom;
	struct scan_item it;
	it.n = w->batch_n;
	w->batch_n = 0;
	w->batch_t0 = 0;
	it.line = jbuf_take(&w->batch, &it.len);
	if (!it.line)
		return false; /* out of memory: stop (as a failed send) */
	bool sent, go_on = send_item(w, &it, &sent);
	if (!sent)
		free(it.line);
	return go_on;
}

bool scan__flush_due(struct worker *w)
{
	if (w->batch_t0 && chan_now() - w->batch_t0 >= FLUSH_NS)
		return scan__flush(w);
	return !w->batch.oom;
}

/* Before an idle worker waits for a directory: send what it holds. */
static bool flush_before_wait(void *arg)
{
	struct worker *w = arg;
	if (w->batch.len == 0)
		return false;
	(void)scan__flush(w); /* a failure: the context is done, dirq_pop sees it */
	return true;
}

bool scan__added_context(struct worker *w)
{
	if (!w->batch_t0)
		w->batch_t0 = chan_now();
	if (w->batch.oom || w->batch.len >= BATCH_BYTES)
		return scan__flush(w);
	return true;
}

bool scan__added(struct worker *w)
{
	w->batch_n++;
	if (!w->batch_t0)
		w->batch_t0 = chan_now();
	if (w->batch.oom || w->batch.len >= BATCH_BYTES || w->batch_n >= BATCH_LINES)
		return scan__flush(w);
	return true;
}

bool scan__file_error(struct worker *w, const struct jbuf *path, const char *msg, long long lines,
		      long long first_line)
{
	struct scan *s = w->s;
	atomic_fetch_add_explicit(&s->totals.errors, 1, memory_order_relaxed);
	if (!scan__flush(w)) /* the results before it go first */
		return false;
	struct jbuf j = {0};
	jbuf_puts(&j, "{\"type\":\"file_error\",");
	jbuf_field(&j, "path", path->p, path->len);
	jbuf_puts(&j, ",\"error\":");
	jbuf_str(&j, msg, strlen(msg));
	if (lines > 0)
		jbuf_printf(&j, ",\"lines_unchecked\":%lld,\"first_line\":%lld", lines, first_line);
	jbuf_puts(&j, "}\n");
	struct scan_item it = {.n = 0}; /* not a result: max= and matches ignore it */
	if (!(it.line = jbuf_take(&j, &it.len)))
		return false;
	bool sent, go_on = send_item(w, &it, &sent);
	if (!sent)
		free(it.line);
	return go_on;
}

/* A directory that cannot be read (errno says why): reported, never fatal. */
static bool dir_error(struct worker *w, const char *rel)
{
	const char *msg = strerror(errno);
	path_join(&w->path, w->s->prefix, rel, NULL);
	if (w->path.oom) {
		w->path.oom = 0;
		atomic_fetch_add_explicit(&w->s->totals.errors, 1, memory_order_relaxed);
		return true;
	}
	return scan__file_error(w, &w->path, msg, 0, 0);
}

static bool emit_name(struct worker *w, const struct jbuf *path)
{
	jbuf_puts(&w->batch, "{\"type\":\"name\",");
	jbuf_field(&w->batch, "path", path->p, path->len);
	jbuf_puts(&w->batch, "}\n");
	return scan__added(w);
}

int scan__open_fd(int dirfd, const char *name, int flags)
{
	int fd = openat(dirfd, name, flags | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd >= 0)
		stat_add(&stats.fds_held, 1);
	return fd;
}

void scan__close_fd(int fd)
{
	close(fd);
	stat_add(&stats.fds_held, -1);
}

/* ---- names ---- */

/* Classify the glob (see struct scan).  fnmatch(3) with flags 0: no
 * special leading '.', no '/' in a base name, so "*" matches every name and
 * a glob without * ? [ \\ matches only itself. */
static void glob_classify(struct scan *s)
{
	const char *g = s->p.glob;
	if (!g) {
		s->glob_kind = GLOB_NONE;
		return;
	}
	const char *rest = g[0] == '*' ? g + 1 : g;
	if (strpbrk(rest, "*?[\\")) {
		s->glob_kind = GLOB_FNMATCH;
		return;
	}
	s->glob_lit = rest;
	s->glob_len = strlen(rest);
	s->glob_kind = rest == g ? GLOB_EXACT : s->glob_len ? GLOB_SUFFIX : GLOB_ANY;
}

static bool name_matches(const struct scan *s, const char *name)
{
	switch (s->glob_kind) {
	case GLOB_NONE:
	case GLOB_ANY:
		return true;
	case GLOB_EXACT:
		return strcmp(name, s->glob_lit) == 0;
	case GLOB_SUFFIX: {
		size_t n = strlen(name);
		return n >= s->glob_len &&
		       memcmp(name + n - s->glob_len, s->glob_lit, s->glob_len) == 0;
	}
	default:
		return fnmatch(s->p.glob, name, 0) == 0;
	}
}

/* ---- directories ---- */

/* A @rel longer than this is opened in steps of at most this many bytes
 * (each a run of whole names, from the directory the step before opened):
 * no path is too long for the walk, however deep (PATH_MAX is 4096). */
#define REL_STEP 2048

static int open_dir(struct scan *s, const char *rel)
{
	struct open_how how = {
		.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	const char *p = *rel ? rel : ".";
	int at = s->p.dir_fd, fd;
	char step[REL_STEP + 1];
	for (;;) {
		size_t n = strlen(p);
		if (n <= REL_STEP) {
			fd = (int)syscall(SYS_openat2, at, p, &how, sizeof how);
			break;
		}
		/* The longest run of whole names within REL_STEP bytes, opened
		 * O_PATH; beneath @at, so beneath the root. */
		const char *cut = memrchr(p, '/', REL_STEP);
		if (!cut || cut == p) {
			errno = ENAMETOOLONG; /* a name longer than REL_STEP: none is (NAME_MAX) */
			fd = -1;
			break;
		}
		memcpy(step, p, (size_t)(cut - p));
		step[cut - p] = 0;
		struct open_how mid = how;
		mid.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
		int next = (int)syscall(SYS_openat2, at, step, &mid, sizeof mid);
		int e = errno;
		if (at != s->p.dir_fd)
			close(at);
		errno = e;
		if (next < 0)
			return -1;
		at = next;
		p = cut + 1;
	}
	int e = errno;
	if (at != s->p.dir_fd)
		close(at);
	errno = e;
	if (fd >= 0)
		stat_add(&stats.fds_held, 1);
	return fd;
}

/* Whether an exclude= glob leaves out the entry @name (@path from the
 * served root: needed only when a glob holds a '/'). */
static bool excluded(const struct scan *s, const char *name, const char *path, bool is_dir)
{
	for (int i = 0; i < s->p.n_exclude; i++) {
		const struct scan_exclude *x = &s->p.exclude[i];
		if (x->dir_only && !is_dir)
			continue;
		if (x->path ? ign_glob(x->glob, path) : fnmatch(x->glob, name, 0) == 0)
			return true;
	}
	return false;
}

/* Read the ignore rules of directory @fd (@rel from the scan's root) under
 * @up, reporting an ignore file that could not be read.  Returns the node
 * to match its entries with (a reference), or NULL. */
static struct ign_node *dir_rules(struct worker *w, int fd, const char *rel, struct ign_node *up,
				  bool *go_on)
{
	struct scan *s = w->s;
	size_t pl = strlen(s->prefix), rl = strlen(rel);
	struct ign_errors errs = {0};
	struct ign_node *n = ign_dir(up, fd, NULL, pl + (pl && rl) + rl, &errs);
	if (!n && errno == ENOMEM) { /* this directory's own rules are lost */
		atomic_fetch_add_explicit(&s->totals.errors, 1, memory_order_relaxed);
		n = up ? ign_ref(up) : NULL;
	}
	for (int i = 0; i < errs.n && *go_on; i++) {
		path_join(&w->path, s->prefix, rel, errs.e[i].name);
		*go_on = scan__file_error(w, &w->path, strerror(errs.e[i].err), 0, 0);
	}
	return n;
}

/* Read directory @rel (relative to the scan's root), under the ignore rules
 * @up of its parent (NULL: none).  Returns false when the scan must stop. */
static bool scan_dir(struct worker *w, const char *rel, struct ign_node *up)
{
	struct scan *s = w->s;
	if (scan__stopping(s))
		return false;
	int fd = open_dir(s, rel);
	if (fd < 0) {
		/* EACCES: unreadable; ENOENT: vanished; ELOOP/EXDEV: replaced by
		 * a symlink since it was listed.  Reported, never fatal. */
		return dir_error(w, rel);
	}
	DIR *d = fdopendir(fd);
	if (!d) {
		int e = errno;
		scan__close_fd(fd);
		errno = e;
		return dir_error(w, rel);
	}
	bool go_on = true;
	struct ign_node *rules = s->p.ignore ? dir_rules(w, fd, rel, up, &go_on) : NULL;
	/* The entries' paths from the served root are needed to match a rule
	 * or a path glob; else only a file's, once it is searched. */
	bool want_path = rules != NULL || s->path_excludes;
	size_t rlen = strlen(rel);
	/* Levels below the scan's root: rel's files are at depth + 1, the
	 * files of its subdirectories at depth + 2. */
	int depth = 0;
	for (const char *c = rel; *c; c++)
		depth += *c == '/';
	depth += rlen > 0;
	bool descend = s->p.max_depth == 0 || depth + 2 <= s->p.max_depth;
	while (go_on) {
		errno = 0;
		struct dirent *de = readdir(d);
		if (!de) {
			if (errno && !dir_error(w, rel))
				go_on = false;
			break;
		}
		const char *name = de->d_name;
		if (name[0] == '.' && (!name[1] || (name[1] == '.' && !name[2])))
			continue;
		/* A hidden name is left out at once unless a rule could
		 * re-include it (rg: a '!' rule beats hiddenness). */
		bool hidden = name[0] == '.' && !s->p.hidden;
		if (hidden && !rules)
			continue; /* not met: neither counted nor searched */
		if (scan__stopping(s)) {
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
		bool is_dir = type == DT_DIR;
		if (is_dir && !descend)
			continue;
		if (s->p.ignore && ign_is_vcs(name))
			continue;
		if (want_path) {
			path_join(&w->path, s->prefix, rel, name);
			if (w->path.oom) {
				w->path.oom = 0;
				atomic_fetch_add_explicit(&s->totals.errors, 1,
							  memory_order_relaxed);
				continue;
			}
		}
		if (s->p.n_exclude && excluded(s, name, w->path.p, is_dir))
			continue;
		if (rules) {
			size_t nl = strlen(name);
			enum ign_verdict v =
				ign_match(rules, w->path.p, w->path.len, w->path.len - nl, is_dir);
			if (v == IGN_IGNORE || (hidden && v != IGN_WHITELIST))
				continue;
		}
		if (is_dir) {
			/* rel + "/" + name, without a leading "/" at the top. */
			struct jbuf *j = &w->path;
			j->len = 0;
			if (rlen) {
				jbuf_put(j, rel, rlen);
				jbuf_put(j, "/", 1);
			}
			jbuf_puts(j, name);
			if (j->oom ||
			    !dirq_push(&s->dirs, j->p, j->len, rules ? ign_ref(rules) : NULL)) {
				if (!j->oom)
					ign_release(
						rules); /* the reference the push did not take */
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
		if (!name_matches(s, name))
			continue;
		if (!want_path) {
			path_join(&w->path, s->prefix, rel, name);
			if (w->path.oom) {
				w->path.oom = 0;
				atomic_fetch_add_explicit(&s->totals.errors, 1,
							  memory_order_relaxed);
				continue;
			}
		}
		if (!s->p.m) {
			if (!emit_name(w, &w->path)) {
				go_on = false;
				break;
			}
			continue;
		}
		if (!scan__file(w, fd, name, &w->path)) {
			go_on = false;
			break;
		}
	}
	ign_release(rules);
	closedir(d); /* closes fd */
	stat_add(&stats.fds_held, -1);
	/* What this directory found goes out when it has waited long enough
	 * (scan_impl.h: FLUSH_NS), or with more. */
	return go_on && scan__flush_due(w);
}

/* The rules in force at the scan's root from the directories above it in
 * the served tree (root=sub: the served root's .gitignore applies to sub),
 * or NULL.  Nothing above the served root is read. */
static struct ign_node *rules_above(const char *prefix)
{
	struct ign_node *n = NULL;
	size_t len = strlen(prefix);
	char *p = strdup(prefix);
	if (!p)
		return NULL;
	struct open_how how = {
		.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	/* The served root, then each directory down to the scan root's parent
	 * (p[:i] at each '/'); the scan root's own rules are read by scan_dir. */
	for (size_t i = 0; i < len; i++) {
		if (i && p[i] != '/')
			continue;
		p[i] = 0;
		int fd = (int)syscall(SYS_openat2, cfg.root_fd, i ? p : ".", &how, sizeof how);
		p[i] = i ? '/' : prefix[0];
		if (fd < 0)
			break; /* vanished meanwhile: the scan root fails to open too */
		struct ign_node *next = ign_dir(n, fd, NULL, i, NULL);
		close(fd);
		if (next || !n) { /* else ENOMEM: keep the rules so far */
			ign_release(n);
			n = next;
		}
	}
	free(p);
	return n;
}

static void drop_rules(void *tag)
{
	ign_release(tag);
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
		void *rules = NULL;
		char *dir = dirq_pop(&s->dirs, s->group_ctx, &rules, flush_before_wait, w);
		if (!dir) {
			/* The walk is over: the last results go before the
			 * close below.  Or the context is done (the time is
			 * recorded): nothing more is sent. */
			if (!scan__stopping(s))
				(void)scan__flush(w);
			break;
		}
		bool go_on = scan_dir(w, dir, rules);
		ign_release(rules);
		free(dir);
		dirq_finished(&s->dirs, go_on);
		if (!go_on)
			break;
	}
	bool token = w->token;
	match_state_free(w->st);
	free(w->buf);
	jbuf_free(&w->path);
	jbuf_free(&w->batch); /* unsent only when the scan stopped */
	free(w);
	/* The last worker out closes the results: the writer then knows that
	 * nothing more will come.  acq_rel: every worker's sends happen before
	 * the close (and so before the writer sees the channel closed). */
	if (atomic_fetch_sub_explicit(&s->running, 1, memory_order_acq_rel) == 1)
		chan_close(s->results);
	stat_add(&stats.workers_alive, -1);
	/* After the count: workers_alive never exceeds the tokens held (the
	 * tests read both). */
	if (token)
		budget_give(1);
	return err;
}

struct scan *scan_start(ctx_t *parent, const struct scan_params *p)
{
	struct scan *s = calloc(1, sizeof *s);
	if (!s) {
		budget_give(p->workers);
		scan__close_fd(p->dir_fd);
		return NULL;
	}
	s->p = *p;
	glob_classify(s);
	int err = ENOMEM;
	if (dirq_init(&s->dirs, p->workers) != 0) {
		budget_give(p->workers);
		free(s);
		scan__close_fd(p->dir_fd);
		errno = ENOMEM;
		return NULL;
	}
	if (!(s->prefix = strdup(p->prefix)))
		goto fail;
	s->p.prefix = s->prefix;
	if (!(s->results = chan_new(sizeof(struct scan_item), RESULTS_CAP)))
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
	for (int i = 0; i < p->n_exclude; i++)
		s->path_excludes |= p->exclude[i].path;
	struct ign_node *above = p->ignore && *p->prefix ? rules_above(p->prefix) : NULL;
	if (!dirq_push(&s->dirs, "", 0, above)) {
		ign_release(above);
		goto fail;
	}
	atomic_store_explicit(&s->running, p->workers, memory_order_relaxed);
	for (int i = 0; i < p->workers; i++) {
		struct worker *w = calloc(1, sizeof *w);
		if (w) {
			w->s = s;
			w->token = true; /* one of the caller's tokens, given back at its end */
		}
		err = w ? gogroup_go(s->group, worker, w) : ENOMEM;
		if (err) {
			free(w);
			/* Not started: count it out as if it had run; if it was
			 * the last, close the results here. */
			int left = p->workers - i;
			budget_give(left);
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
	budget_give(p->workers); /* no worker started */
	if (s->group) {
		gogroup_free(s->group);
		ctx_release(s->group_ctx);
		stat_add(&stats.contexts_alive, -1);
	}
	if (s->scan_ctx) {
		ctx_cancel_release(s->scan_ctx);
		stat_add(&stats.contexts_alive, -1);
	}
	dirq_destroy(&s->dirs, drop_rules);
	chan_unref(s->results);
	free(s->prefix);
	scan__close_fd(p->dir_fd);
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
	return dirq_complete(&s->dirs);
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
	dirq_destroy(&s->dirs, drop_rules);
	free(s->prefix);
	scan__close_fd(s->p.dir_fd);
	free(s);
}

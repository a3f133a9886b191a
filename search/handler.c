/* search/handler.c - see handler.h. */
#include "search/handler.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "search/config.h"
#include "search/dialect.h"
#include "search/match.h"
#include "search/parse.h"
#include "search/stats.h"

void handler_error_json(struct jbuf *out, const char *msg, const char *param, long long offset)
{
	jbuf_puts(out, "{\"error\":");
	jbuf_str(out, msg, strlen(msg));
	jbuf_puts(out, ",\"param\":");
	jbuf_str(out, param, strlen(param));
	if (offset >= 0)
		jbuf_printf(out, ",\"offset\":%lld", offset);
	jbuf_puts(out, "}\n");
}

static int bad(struct jbuf *err, const char *msg, const char *param, long long offset)
{
	handler_error_json(err, msg, param, offset);
	return 400;
}

void search_req_clear(struct search_req *r)
{
	matcher_free(r->m);
	free(r->glob);
	for (int i = 0; i < r->n_exclude; i++)
		free(r->exclude[i].glob);
	free(r->exclude);
	r->n_exclude = 0;
	free(r->prefix);
	if (r->dir_fd >= 0) {
		close(r->dir_fd);
		stat_add(&stats.fds_held, -1);
	}
	r->m = NULL;
	r->glob = r->prefix = NULL;
	r->exclude = NULL;
	r->dir_fd = -1;
}

/* Open the directory @root names inside the served tree: relative, no "..",
 * resolved beneath the served root (a symlink may be crossed only if it
 * stays inside).  Sets r->dir_fd and r->prefix (the real path, relative). */
static int open_root(const char *root, size_t len, struct search_req *r, struct jbuf *err)
{
	if (memchr(root, 0, len))
		return bad(err, "root contains a NUL byte", "root", -1);
	if (root[0] == '/')
		return bad(err, "root must be relative to the served tree", "root", -1);
	for (const char *c = root; *c;) {
		const char *e = strchr(c, '/');
		size_t n = e ? (size_t)(e - c) : strlen(c);
		if (n == 2 && c[0] == '.' && c[1] == '.')
			return bad(err, "root must not contain '..'", "root", -1);
		c += n + (e != NULL);
	}
	struct open_how how = {
		.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};
	int fd = (int)syscall(SYS_openat2, cfg.root_fd, *root ? root : ".", &how, sizeof how);
	if (fd < 0) {
		switch (errno) {
		case EXDEV:
		case ELOOP:
			return bad(err, "root leaves the served tree (symlink)", "root", -1);
		case ENOTDIR:
			return bad(err, "root is not a directory", "root", -1);
		case EACCES:
			return bad(err, "root: permission denied", "root", -1);
		default:
			return bad(err, "root does not exist in the served tree", "root", -1);
		}
	}
	stat_add(&stats.fds_held, 1);
	r->dir_fd = fd;
	/* The reported prefix is the real path relative to the real root. */
	char link[64], real[PATH_MAX];
	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, real, sizeof real - 1);
	size_t rl = strlen(cfg.root_real);
	if (n < 0 || (size_t)n < rl || memcmp(real, cfg.root_real, rl) != 0)
		return 500;
	real[n] = 0;
	const char *rel = real + rl;
	while (*rel == '/')
		rel++;
	if (!(r->prefix = strdup(rel)))
		return 500;
	return 0;
}

/* A boolean parameter: absent/""/0/false -> 0, 1/true -> 1, else -1. */
static int flag_param(param_fn get, void *cls, const char *key)
{
	size_t len;
	const char *v = get(cls, key, &len);
	if (!v || !len || (len == 1 && v[0] == '0') || (len == 5 && !memcmp(v, "false", 5)))
		return 0;
	if ((len == 1 && v[0] == '1') || (len == 4 && !memcmp(v, "true", 4)))
		return 1;
	return -1;
}

/* fixed= (a plain string, rg -F) and case= (sensitive, insensitive: rg -i,
 * smart: insensitive unless q holds an upper-case letter, rg -S). */
static int match_opts(param_fn get, void *cls, const char *q, size_t qlen, unsigned *opts,
		      struct jbuf *err)
{
	int fixed = flag_param(get, cls, "fixed");
	if (fixed < 0)
		return bad(err, "fixed must be 1, 0, true or false", "fixed", -1);
	*opts = fixed ? MATCH_FIXED : 0;
	size_t len;
	const char *c = get(cls, "case", &len);
	if (!c || !len || (len == 9 && !memcmp(c, "sensitive", 9)))
		return 0;
	if (len == 11 && !memcmp(c, "insensitive", 11)) {
		*opts |= MATCH_CASELESS;
		return 0;
	}
	if (len == 5 && !memcmp(c, "smart", 5)) {
		bool upper = false;
		for (size_t i = 0; i < qlen && !upper; i++)
			upper = q[i] >= 'A' && q[i] <= 'Z';
		if (!upper)
			*opts |= MATCH_CASELESS;
		return 0;
	}
	return bad(err, "case must be sensitive, insensitive or smart", "case", -1);
}

/* A flag given or not: @dflt when absent or empty. */
static int flag_or(param_fn get, void *cls, const char *key, int dflt)
{
	size_t len;
	const char *v = get(cls, key, &len);
	return v && len ? flag_param(get, cls, key) : dflt;
}

#define MAX_EXCLUDES 64

/* One exclude= glob: a trailing '/' keeps it to directories; then without
 * '/', fnmatch(3) on base names (fd -E, rg -g '!GLOB'); with one,
 * gitignore's glob on the path from the served root, a leading '/'
 * dropped (rg -g '!dir/' + '*'). */
static int add_exclude(struct search_req *r, const char *x, size_t len, struct jbuf *err)
{
	if (memchr(x, 0, len))
		return bad(err, "exclude contains a NUL byte", "exclude", -1);
	struct scan_exclude e = {0};
	if (len && x[len - 1] == '/') {
		e.dir_only = true;
		len--;
	}
	e.path = memchr(x, '/', len) != NULL;
	if (len && x[0] == '/') {
		x++;
		len--;
	}
	if (!len)
		return bad(err, "exclude is empty once its '/' are taken off", "exclude", -1);
	if (!(e.glob = strndup(x, len)))
		return 500;
	if (parse_glob_check(e.glob) != 0) {
		free(e.glob);
		return bad(err, "invalid glob: syntax error in pattern", "exclude", -1);
	}
	r->exclude[r->n_exclude++] = e;
	return 0;
}

/* exclude= (repeatable), hidden=, ignore=, all= (rg -uu: both), and the
 * context lines: context= (rg -C), before= (-B), after= (-A); a before= or
 * after= overrides context= for its side, as rg's -B/-A do -C. */
static int walk_opts(param_fn get, param_nth_fn nth, void *cls, struct search_req *r,
		     struct jbuf *err)
{
	int all = flag_or(get, cls, "all", 0), hidden = flag_or(get, cls, "hidden", 0),
	    ignore = flag_or(get, cls, "ignore", 1);
	if (all < 0)
		return bad(err, "all must be 1, 0, true or false", "all", -1);
	if (hidden < 0)
		return bad(err, "hidden must be 1, 0, true or false", "hidden", -1);
	if (ignore < 0)
		return bad(err, "ignore must be 1, 0, true or false", "ignore", -1);
	r->hidden = hidden || all;
	r->ignore = ignore && !all;
	static const char *const ctx_keys[] = {"context", "before", "after"};
	int64_t v[3] = {-1, -1, -1};
	for (int i = 0; i < 3; i++) {
		size_t len;
		const char *s = get(cls, ctx_keys[i], &len);
		if (s && len && (memchr(s, 0, len) || parse_int(s, 0, 100, &v[i]) != 0))
			return bad(err, "context lines: an integer in 0..100", ctx_keys[i], -1);
	}
	r->before = (int)(v[1] >= 0 ? v[1] : v[0] >= 0 ? v[0] : 0);
	r->after = (int)(v[2] >= 0 ? v[2] : v[0] >= 0 ? v[0] : 0);
	size_t len;
	for (int i = 0; nth(cls, "exclude", i, &len); i++) {
		if (i == MAX_EXCLUDES)
			return bad(err, "at most 64 exclude= globs", "exclude", -1);
		if (!r->exclude && !(r->exclude = calloc(MAX_EXCLUDES, sizeof *r->exclude)))
			return 500;
		const char *x = nth(cls, "exclude", i, &len);
		if (!len)
			continue; /* exclude= (empty): none, as an absent one */
		int st = add_exclude(r, x, len, err);
		if (st)
			return st;
	}
	return 0;
}

int handler_parse(param_fn get, param_nth_fn nth, void *cls, struct search_req *r, struct jbuf *err)
{
	*r = (struct search_req){.dir_fd = -1};
	size_t qlen = 0, nlen = 0, len;
	const char *q = get(cls, "q", &qlen);
	const char *name = get(cls, "name", &nlen);
	if (q && !qlen)
		q = NULL; /* an empty parameter is an absent one */
	if (name && !nlen)
		name = NULL;
	int st = 0;
	if (!q && !name) {
		st = bad(err, "missing pattern: give q (content) and/or name (glob)", "q", -1);
		goto fail;
	}
	if (q) {
		char msg[300];
		size_t off = 0;
		const char *why;
		unsigned opts = 0;
		if ((st = match_opts(get, cls, q, qlen, &opts, err)) != 0)
			goto fail;
		if (!(opts & MATCH_FIXED) && dialect_check(q, qlen, &off, &why) != 0) {
			char full[340];
			snprintf(full, sizeof full, "unsupported syntax: %s", why);
			st = bad(err, full, "q", (long long)off);
			goto fail;
		}
		if (!(r->m = matcher_new_opts(q, qlen, opts, msg, sizeof msg, &off))) {
			char full[340];
			snprintf(full, sizeof full, "invalid pattern: %s", msg);
			st = bad(err, full, "q", (long long)off);
			goto fail;
		}
	}
	if (name) {
		if (memchr(name, 0, nlen)) {
			st = bad(err, "name contains a NUL byte", "name", -1);
			goto fail;
		}
		const char *slash = strchr(name, '/');
		if (slash) {
			st = bad(err, "name is a glob on the base name: no '/'", "name",
				 slash - name);
			goto fail;
		}
		if (parse_glob_check(name) != 0) {
			st = bad(err, "invalid glob: syntax error in pattern", "name", -1);
			goto fail;
		}
		if (!(r->glob = strdup(name))) {
			st = 500;
			goto fail;
		}
	}
	if ((st = walk_opts(get, nth, cls, r, err)) != 0)
		goto fail;
	const char *root = get(cls, "root", &len);
	if (root && (len == 0 || strcmp(root, ".") == 0))
		root = NULL;
	if ((st = open_root(root ? root : "", root ? len : 0, r, err)) != 0)
		goto fail;
	r->timeout_ns = cfg.max_timeout_ns;
	const char *t = get(cls, "timeout", &len);
	if (t && len) {
		int64_t ns;
		int e = memchr(t, 0, len) ? EINVAL : parse_duration(t, &ns);
		if (e) {
			st = bad(
				err,
				e == ERANGE
					? "invalid duration: out of range"
					: "invalid duration: want Go syntax such as 250ms, 1.5s, 2m",
				"timeout", -1);
			goto fail;
		}
		if (ns <= 0) {
			st = bad(err, "timeout must be > 0", "timeout", -1);
			goto fail;
		}
		if (ns < r->timeout_ns)
			r->timeout_ns = ns; /* longer ones are cut to --max-timeout */
	}
	const char *d = get(cls, "depth", &len);
	if (d && len) {
		int64_t v;
		if (memchr(d, 0, len) || parse_int(d, 1, 1000000, &v) != 0) {
			st = bad(err, "depth must be an integer in 1..1000000", "depth", -1);
			goto fail;
		}
		r->max_depth = (int)v;
	}
	r->max = cfg.max_results;
	const char *m = get(cls, "max", &len);
	if (m && len) {
		int64_t v;
		if (memchr(m, 0, len) || parse_int(m, 1, cfg.max_results, &v) != 0) {
			char msg[96];
			snprintf(msg, sizeof msg, "max must be an integer in 1..%ld",
				 cfg.max_results);
			st = bad(err, msg, "max", -1);
			goto fail;
		}
		r->max = v;
	}
	return 0;
fail:
	search_req_clear(r);
	if (st == 500 && err->len == 0)
		jbuf_puts(err, "{\"error\":\"internal error\"}\n");
	return st;
}

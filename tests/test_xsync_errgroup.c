/*
 * tests/test_xsync_errgroup.c - the examples of golang.org/x/sync/errgroup
 * (errgroup_test.go: ExampleGroup_justErrors, ExampleGroup_parallel;
 * errgroup_example_md5all_test.go: ExampleGroup_pipeline) ported to
 * gogroup_ (include/gochan/group.h), each checked the way its Output
 * comment or its prose says, plus the error paths the examples describe:
 * Wait returns the first error; WithContext's context is cancelled by the
 * first error, which stops the other stages.
 *
 * errgroup_test.go's tests (TestZeroGroup, TestWithContext, TestTryGo,
 * TestGoLimit, TestCancelCause) are ported in tests/test_group_errgroup.c;
 * BenchmarkGo is a benchmark, not a test.
 *
 * Mapping: an `error` is an int code (0 = nil; DOOM etc. here); a Go closure
 * is a task function and an argument struct; ctx.Done() is ctx_done(ctx)
 * in a select.  The tasks run on the library's own threads (gogroup_go);
 * the example's plain goroutine (`go func() { g.Wait(); close(c) }()`) is a
 * test goroutine (tu_spawn: a thread, or a fiber in fiber mode).
 * Replaced: http.Get (justErrors) by a fetch function that fails for the
 * URLs the test marks bad; crypto/md5 (pipeline) by 64-bit FNV-1a (libc has
 * no MD5; what is tested is the pipeline, not the digest); the file tree
 * walked is one the test makes (mkdtemp), with known contents; a read error
 * (pipeline's error path) is injected for one file name, since the tests
 * run as root and a mode-000 file would still be readable.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gochan/chan.h>
#include <gochan/context.h>
#include <gochan/group.h>
#include <gochan/select.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test_xb_util.h"
#include "tests/leakcheck.h"

TU_LEAK_CHECKED_SUITE(xsync_errgroup);

enum {
	DOOM = 1001,      /* errors.New("group_test: doomed") */
	FETCH_FAIL = 1002 /* the error of a failed http.Get */
};

/* ---- ExampleGroup_justErrors: a Group in place of a WaitGroup ---- */
struct fetch {
	const char *url;
	bool bad;
	atomic_bool fetched;
};
static int fetch_url(void *p)
{
	struct fetch *f = p;
	atomic_store_explicit(&f->fetched, true, memory_order_relaxed);
	return f->bad ? FETCH_FAIL : 0;
}
static int just_errors(struct fetch *urls, int n)
{
	gogroup_t *g = gogroup_new(); /* new(errgroup.Group) */
	cr_assert(g);
	for (int i = 0; i < n; i++)
		cr_assert_eq(gogroup_go(g, fetch_url, &urls[i]), 0);
	int err = gogroup_wait(g);  /* wait for all fetches to complete */
	for (int i = 0; i < n; i++) /* Wait orders every task before it */
		cr_assert(atomic_load_explicit(&urls[i].fetched, memory_order_relaxed));
	cr_assert_eq(gogroup_free(g), 0);
	return err;
}
Test(xsync_errgroup, example_just_errors, .timeout = 30)
{
	struct fetch ok[3] = {{"http://www.golang.org/", false, false},
			      {"http://www.google.com/", false, false},
			      {"http://www.example.com/", false, false}};
	cr_assert_eq(just_errors(ok, 3), 0); /* "Successfully fetched all URLs." */
	struct fetch one_bad[3] = {{"http://www.golang.org/", false, false},
				   {"http://www.google.com/", false, false},
				   {"http://www.somestupidname.com/", true, false}};
	cr_assert_eq(just_errors(one_bad, 3), FETCH_FAIL);
}

/* ---- ExampleGroup_parallel: Google Search 2.0 with a context ---- */
struct search {
	const char *kind, *query;
	ctx_t *ctx;
	bool fail;
	char *result; /* results[i] */
};
static int do_search(void *p)
{
	struct search *s = p;
	if (s->fail)
		return DOOM;
	char buf[128];
	snprintf(buf, sizeof buf, "%s result for \"%s\"", s->kind, s->query);
	s->result = strdup(buf);
	return s->result ? 0 : ENOMEM;
}
/* Google(ctx, query): fills out[0..2] or returns the first error. */
static int google(const char *query, int fail_at, char **out)
{
	static const char *const kinds[3] = {"web", "image", "video"};
	ctx_t *ctx;
	gogroup_t *g = gogroup_with_context(ctx_background(), &ctx);
	cr_assert(g);
	struct search s[3];
	for (int i = 0; i < 3; i++) {
		s[i] = (struct search){kinds[i], query, ctx, i == fail_at, NULL};
		cr_assert_eq(gogroup_go(g, do_search, &s[i]), 0);
	}
	int err = gogroup_wait(g);
	cr_assert_neq(ctx_err(ctx), 0, "Wait cancels the group's context");
	cr_assert_eq(gogroup_free(g), 0);
	ctx_release(ctx);
	for (int i = 0; i < 3; i++) {
		if (err)
			free(s[i].result);
		else
			out[i] = s[i].result;
	}
	return err;
}
Test(xsync_errgroup, example_parallel, .timeout = 30)
{
	char *results[3] = {NULL};
	cr_assert_eq(google("golang", -1, results), 0);
	/* Output: */
	cr_assert_str_eq(results[0], "web result for \"golang\"");
	cr_assert_str_eq(results[1], "image result for \"golang\"");
	cr_assert_str_eq(results[2], "video result for \"golang\"");
	for (int i = 0; i < 3; i++)
		free(results[i]);
	cr_assert_eq(google("golang", 1, results), DOOM); /* `return nil, err` */
}

/* ---- ExampleGroup_pipeline: MD5All with bounded parallelism ---- */
#define NUM_DIGESTERS 20
#define NFILES 60

struct result {
	char *path;
	uint64_t sum;
};
struct md5all {
	ctx_t *ctx;
	const char *root, *fail_name; /* a read of fail_name fails (injected) */
	chan_t *paths;                /* chan string: char * owned by the receiver */
	chan_t *c;                    /* chan result */
	gogroup_t *g;
};

static uint64_t fnv1a(const unsigned char *p, size_t n)
{
	uint64_t h = 1469598103934665603u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211u;
	return h;
}

/* os.ReadFile + the digest; EIO for the injected failure. */
static int read_and_sum(const char *path, const char *fail_name, uint64_t *sum)
{
	const char *base = strrchr(path, '/');
	if (fail_name && base && strcmp(base + 1, fail_name) == 0)
		return EIO;
	FILE *f = fopen(path, "rb");
	if (!f)
		return errno;
	unsigned char buf[4096];
	size_t n = fread(buf, 1, sizeof buf, f);
	int err = ferror(f) ? EIO : 0;
	fclose(f);
	*sum = fnv1a(buf, n);
	return err;
}

/* filepath.Walk: every regular file under @dir, depth first. */
static int walk(struct md5all *m, const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return errno;
	struct dirent *e;
	int err = 0;
	while (!err && (e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		char *path = malloc(strlen(dir) + strlen(e->d_name) + 2);
		if (!path) {
			err = ENOMEM;
			break;
		}
		sprintf(path, "%s/%s", dir, e->d_name);
		struct stat st;
		if (lstat(path, &st) != 0) {
			err = errno;
			free(path);
			break;
		}
		if (S_ISDIR(st.st_mode)) {
			err = walk(m, path);
			free(path);
			continue;
		}
		if (!S_ISREG(st.st_mode)) {
			free(path);
			continue;
		}
		/* select { case paths <- path: case <-ctx.Done(): return ctx.Err() } */
		switch (CHAN_SELECT(CHAN_FOREVER, CHAN_SEND(m->paths, &path, NULL),
				    CHAN_RECV(ctx_done(m->ctx), NULL, NULL))) {
		case 0:
			break; /* the receiver owns path now */
		case 1:
			free(path);
			err = ctx_err(m->ctx);
			break;
		default:
			free(path);
			err = EINVAL;
		}
	}
	closedir(d);
	return err;
}

static int walker(void *p)
{
	struct md5all *m = p;
	int err = walk(m, m->root);
	chan_close(m->paths); /* defer close(paths) */
	return err;
}

static int digester(void *p)
{
	struct md5all *m = p;
	char *path;
	CHAN_RANGE(m->paths, &path) {
		struct result r = {path, 0};
		int err = read_and_sum(path, m->fail_name, &r.sum);
		if (err) {
			free(path);
			return err;
		}
		switch (CHAN_SELECT(CHAN_FOREVER, CHAN_SEND(m->c, &r, NULL),
				    CHAN_RECV(ctx_done(m->ctx), NULL, NULL))) {
		case 0:
			break;
		default:
			free(path);
			return ctx_err(m->ctx);
		}
	}
	return 0;
}

/* go func() { g.Wait(); close(c) }() */
static void *closer(void *p)
{
	struct md5all *m = p;
	(void)gogroup_wait(m->g);
	XB_CHECK(chan_close(m->c) == 0);
	return NULL;
}

/* MD5All(ctx, root): fills @sums (path -> sum, up to @max) and returns
 * how many, or the first error as a negative number. */
static int md5all(const char *root, const char *fail_name, struct result *sums, int max)
{
	struct md5all m = {.root = root, .fail_name = fail_name};
	m.g = gogroup_with_context(ctx_background(), &m.ctx);
	cr_assert(m.g);
	m.paths = chan_new(sizeof(char *), 0);
	m.c = chan_new(sizeof(struct result), 0);
	cr_assert(m.paths && m.c);
	cr_assert_eq(gogroup_go(m.g, walker, &m), 0);
	for (int i = 0; i < NUM_DIGESTERS; i++)
		cr_assert_eq(gogroup_go(m.g, digester, &m), 0);
	tu_go_t t = tu_spawn(closer, &m);
	int n = 0;
	struct result r;
	CHAN_RANGE(m.c, &r) {
		if (n < max)
			sums[n++] = r;
		else
			free(r.path);
	}
	/* Since g accumulates the errors, they were not sent on the channel. */
	int err = gogroup_wait(m.g);
	tu_join(t);
	XB_ASSERT_OK();
	/* Whatever happened, every stage has returned and closed its channel. */
	cr_assert(chan_is_closed(m.paths));
	cr_assert_eq(gogroup_free(m.g), 0);
	ctx_release(m.ctx);
	cr_assert_eq(chan_unref(m.paths), 0);
	cr_assert_eq(chan_unref(m.c), 0);
	if (err) {
		for (int i = 0; i < n; i++)
			free(sums[i].path);
		return -err;
	}
	return n;
}

static char tree[64];
static uint64_t want_sum[NFILES];

/* A tree of NFILES files in three directories, and their digests. */
static void make_tree(void)
{
	strcpy(tree, "/tmp/xsync-md5all-XXXXXX");
	cr_assert(mkdtemp(tree));
	char path[128];
	for (int d = 0; d < 3; d++) {
		snprintf(path, sizeof path, "%s/d%d", tree, d);
		cr_assert_eq(mkdir(path, 0700), 0);
	}
	for (int i = 0; i < NFILES; i++) {
		char body[64];
		int len = snprintf(body, sizeof body, "file %d of the md5all example\n", i);
		snprintf(path, sizeof path, "%s/d%d/f%02d", tree, i % 3, i);
		FILE *f = fopen(path, "wb");
		cr_assert(f);
		cr_assert_eq(fwrite(body, 1, (size_t)len, f), (size_t)len);
		cr_assert_eq(fclose(f), 0);
		want_sum[i] = fnv1a((const unsigned char *)body, (size_t)len);
	}
	snprintf(path, sizeof path, "%s/d0/link", tree); /* not regular: skipped */
	cr_assert_eq(symlink("f00", path), 0);
}

static void remove_tree(void)
{
	char path[128];
	for (int i = 0; i < NFILES; i++) {
		snprintf(path, sizeof path, "%s/d%d/f%02d", tree, i % 3, i);
		unlink(path);
	}
	snprintf(path, sizeof path, "%s/d0/link", tree);
	unlink(path);
	for (int d = 0; d < 3; d++) {
		snprintf(path, sizeof path, "%s/d%d", tree, d);
		rmdir(path);
	}
	rmdir(tree);
}

Test(xsync_errgroup, example_pipeline, .timeout = 60, .init = make_tree, .fini = remove_tree)
{
	struct result sums[NFILES + 8];
	int n = md5all(tree, NULL, sums, NFILES + 8);
	cr_assert_eq(n, NFILES);
	bool seen[NFILES] = {false};
	for (int i = 0; i < n; i++) {
		int k = -1;
		cr_assert_eq(sscanf(strrchr(sums[i].path, '/'), "/f%d", &k), 1, "%s", sums[i].path);
		cr_assert(k >= 0 && k < NFILES && !seen[k], "%s", sums[i].path);
		seen[k] = true;
		cr_assert_eq(sums[i].sum, want_sum[k], "%s", sums[i].path);
		free(sums[i].path);
	}
}

/* The pipeline's error path: a read fails; the digester's error cancels
 * the context, which stops the walker and the other digesters (each in its
 * select on ctx.Done()), and MD5All returns the error, with no result. */
Test(xsync_errgroup, example_pipeline_error, .timeout = 60, .init = make_tree, .fini = remove_tree)
{
	struct result sums[NFILES + 8];
	for (int round = 0; round < 10; round++)
		cr_assert_eq(md5all(tree, "f17", sums, NFILES + 8), -EIO);
}

/* ---- WithContext: the first error cancels the others ---- */
struct other {
	ctx_t *ctx;
	chan_t *started;
};
static int wait_for_cancel(void *p)
{
	struct other *o = p;
	XB_CHECK(chan_send(o->started, NULL) == 0);
	bool ok = true;
	XB_CHECK(chan_recv(ctx_done(o->ctx), NULL, &ok) == 0 && !ok);
	return ctx_err(o->ctx); /* the others return ctx.Err() */
}
static int doom(void *p)
{
	(void)p;
	return DOOM;
}
Test(xsync_errgroup, first_error_cancels_the_others, .timeout = 30)
{
	struct other o = {NULL, chan_new(0, 8)};
	gogroup_t *g = gogroup_with_context(ctx_background(), &o.ctx);
	cr_assert(g);
	for (int i = 0; i < 8; i++)
		cr_assert_eq(gogroup_go(g, wait_for_cancel, &o), 0);
	for (int i = 0; i < 8; i++)
		cr_assert_eq(chan_recv(o.started, NULL, NULL), 0);
	cr_assert_eq(gogroup_go(g, doom, NULL), 0);
	cr_assert_eq(gogroup_wait(g), DOOM, "Wait returns the first error, not ctx.Err()");
	cr_assert_eq(ctx_err(o.ctx), CTX_CANCELED);
	cr_assert_eq(ctx_cause(o.ctx, NULL), DOOM);
	cr_assert_eq(gogroup_free(g), 0);
	ctx_release(o.ctx);
	cr_assert_eq(chan_unref(o.started), 0);
	XB_ASSERT_OK();
}

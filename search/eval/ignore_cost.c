/*
 * search/eval/ignore_cost.c - what asking "is this entry ignored?" costs a
 * walk: libgit2's git_ignore_path_is_ignored (one call per entry, the only
 * public way) against the service's ignore.c (rules read once per
 * directory), on the same single-threaded readdir walk.  An evaluation, not
 * part of the service (this subdirectory is not built by build.zig).
 *
 *   apt-get install libgit2-dev          (not in scripts/setup.sh: nothing built needs it)
 *   cc -O2 -std=c11 -D_GNU_SOURCE -I. -o /tmp/ignore_cost \
 *      search/eval/ignore_cost.c search/ignore.c -lgit2
 *   git init -q --bare /tmp/t.git && git --git-dir=/tmp/t.git config core.bare false &&
 *   git --git-dir=/tmp/t.git config core.worktree TREE        (TREE itself is not written to)
 *   /tmp/ignore_cost TREE /tmp/t.git [ROUNDS]
 *
 * Prints, per mode, the entries met and the best of ROUNDS (default 5)
 * wall-clock seconds: the walk alone, the walk asking libgit2 about every
 * entry, the walk with ignore.c.
 */
#include <dirent.h>
#include <fcntl.h>
#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "search/ignore.h"
#include "search/stats.h"

struct search_stats stats; /* ignore.c counts its descriptors here */

enum mode {
	WALK,
	LIBGIT2,
	OURS
};
static git_repository *repo;
static long entries, ignored;

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void walk(int dfd, char *path, size_t len, enum mode m, struct ign_node *up)
{
	DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return;
	}
	struct ign_node *rules = m == OURS ? ign_dir(up, dfd, path, len, NULL) : NULL;
	struct dirent *de;
	while ((de = readdir(d))) {
		const char *n = de->d_name;
		if (n[0] == '.' && (!n[1] || (n[1] == '.' && !n[2])))
			continue;
		size_t nl = strlen(n), pl = len ? len + 1 + nl : nl;
		if (pl + 2 >= 4096)
			continue;
		if (len)
			path[len] = '/';
		memcpy(path + (len ? len + 1 : 0), n, nl + 1);
		bool dir = de->d_type == DT_DIR;
		entries++;
		int ig = 0;
		if (m == LIBGIT2) {
			if (dir) { /* libgit2 takes a trailing '/' for a directory */
				path[pl] = '/';
				path[pl + 1] = 0;
			}
			if (git_ignore_path_is_ignored(&ig, repo, path) < 0)
				ig = 0;
			path[pl] = 0;
		} else if (m == OURS) {
			ig = ign_match(rules, path, pl, pl - nl, dir) == IGN_IGNORE;
		}
		ignored += ig;
		if (dir && !ig) {
			int fd = openat(dfd, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (fd >= 0)
				walk(fd, path, pl, m, rules);
		}
		path[len] = 0;
	}
	ign_release(rules);
	closedir(d);
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s TREE GITDIR [ROUNDS]\n", argv[0]);
		return 2;
	}
	int rounds = argc > 3 ? atoi(argv[3]) : 5;
	git_libgit2_init();
	/* No global, XDG or system configuration: what a server would run. */
	git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_GLOBAL, "");
	git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_XDG, "");
	git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_SYSTEM, "");
	if (git_repository_open(&repo, argv[2]) < 0 || !git_repository_workdir(repo)) {
		fprintf(stderr, "cannot open %s with a work tree: %s\n", argv[2],
			git_error_last() ? git_error_last()->message : "?");
		return 1;
	}
	static const char *names[] = {"walk alone", "libgit2 per entry", "ignore.c per directory"};
	for (int m = WALK; m <= OURS; m++) {
		double best = 1e9;
		for (int r = 0; r < rounds; r++) {
			char path[4096] = "";
			entries = ignored = 0;
			int fd = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			double t = now();
			walk(fd, path, 0, (enum mode)m, NULL);
			t = now() - t;
			if (t < best)
				best = t;
		}
		printf("%-24s entries %ld ignored %ld best of %d: %.3f s\n", names[m], entries,
		       ignored, rounds, best);
	}
	git_repository_free(repo);
	git_libgit2_shutdown();
	return 0;
}

/*
 * fuzz/diff_model.c - the C twin of fuzz/go/replay.go: runs fuzz_model's
 * channel programs on gochan in diff mode (deterministic selects) and prints
 * "== NAME" and then one canonical line per step for each input, exactly as
 * replay.go does on Go's runtime.  fuzz/diff.sh compares the two outputs.
 *
 *     diff_model FILE|DIR...
 *
 * A divergence from the reference model still aborts (with the trace on
 * stderr), so diff.sh reports it as a failure too.
 *
 * With GOCHAN_TEST_GO=fiber in the environment (as tests/testutil.h reads
 * it; `zig build test-fibers` runs diff.sh so) each program runs on a fiber
 * of the M:N runtime (gochan/fiber.h) while main waits for it on its
 * thread: the same operations, with the timed ones parking a fiber, must
 * give Go's answers all the same.
 */
#include <dirent.h>
#include <errno.h>
#include <gochan/fiber.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_model.h"

/* One program's bytes, for the fiber that runs it. */
struct program {
	const uint8_t *data;
	size_t size;
};

static void run_program(void *arg)
{
	const struct program *p = arg;
	fuzz_model_run(p->data, p->size, true, stdout);
}

/* Whether GOCHAN_TEST_GO asks for fibers ("fiber"; unset, empty or "thread":
 * this thread; anything else is refused, as tests/testutil.h does). */
static bool fiber_mode(void)
{
	const char *v = getenv("GOCHAN_TEST_GO");
	if (!v || !*v || strcmp(v, "thread") == 0)
		return false;
	if (strcmp(v, "fiber") == 0)
		return true;
	fprintf(stderr, "diff_model: GOCHAN_TEST_GO=%s: want thread or fiber\n", v);
	exit(2);
}

/* Run the program on this thread, or on a fiber that this thread waits for
 * (the wait orders everything the fiber printed before our fflush). */
static void run(const uint8_t *data, size_t size)
{
	struct program p = {data, size};
	if (!fiber_mode()) {
		run_program(&p);
		return;
	}
	gofiber_group_t *g = gofiber_group_new();
	int e = g ? gofiber_go(g, run_program, &p) : ENOMEM;
	if (e == 0)
		e = gofiber_group_wait(g);
	if (e == 0)
		e = gofiber_group_free(g);
	if (e != 0) {
		fprintf(stderr, "diff_model: running on a fiber: %s\n", strerror(e));
		exit(2);
	}
}

static void run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		perror(path);
		exit(2);
	}
	static uint8_t buf[1 << 20];
	size_t n = fread(buf, 1, sizeof buf, f);
	fclose(f);
	const char *base = strrchr(path, '/');
	printf("== %s\n", base ? base + 1 : path);
	run(buf, n);
	fflush(stdout);
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "skip %s\n", argv[i]);
			continue;
		}
		if (!S_ISDIR(st.st_mode)) {
			run_file(argv[i]);
			continue;
		}
		DIR *d = opendir(argv[i]);
		if (!d)
			continue;
		char **names = NULL;
		size_t n = 0;
		struct dirent *e;
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			names = realloc(names, (n + 1) * sizeof *names);
			size_t len = strlen(argv[i]) + strlen(e->d_name) + 2;
			names[n] = malloc(len);
			if (!names || !names[n])
				abort();
			snprintf(names[n++], len, "%s/%s", argv[i], e->d_name);
		}
		closedir(d);
		qsort(names, n, sizeof *names, cmp);
		for (size_t j = 0; j < n; j++) {
			if (stat(names[j], &st) == 0 && S_ISREG(st.st_mode))
				run_file(names[j]);
			free(names[j]);
		}
		free(names);
	}
	return 0;
}

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
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_model.h"

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
	fuzz_model_run(buf, n, true, stdout);
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

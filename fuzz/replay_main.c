/*
 * fuzz/replay_main.c - run a libFuzzer harness over saved inputs, without
 * libFuzzer.  Link it with one fuzz/fuzz_<name>.c and the library:
 *
 *     replay [-v] PATH...
 *
 * Every PATH is a file or a directory (its regular files are taken in name
 * order; dot files are skipped; a missing PATH is reported and skipped, so an
 * empty regressions/ directory is fine).  Each input runs in a forked child
 * (so one crash does not hide the rest, and the sanitizers' exit-time checks
 * such as LeakSanitizer run per input) under a 20 s alarm.  An input passes
 * when its child exits with status 0.  The last line is
 *
 *     N passed, M failed
 *
 * and the exit status is 0 only when M is 0.  REPLAY_NOFORK=1 runs every input
 * in this process instead (for a debugger; the first crash ends the run).
 * LLVMFuzzerInitialize is called once if the harness defines it.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static int verbose;
static int nofork;
static unsigned passed, failed;

static int read_file(const char *path, uint8_t **data, size_t *size)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return errno;
	size_t cap = 4096, len = 0;
	uint8_t *buf = malloc(cap);
	if (!buf) {
		fclose(f);
		return ENOMEM;
	}
	for (;;) {
		if (len == cap) {
			uint8_t *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				fclose(f);
				return ENOMEM;
			}
			buf = nb;
			cap *= 2;
		}
		size_t n = fread(buf + len, 1, cap - len, f);
		if (n == 0)
			break;
		len += n;
	}
	int err = ferror(f) ? EIO : 0;
	fclose(f);
	if (err) {
		free(buf);
		return err;
	}
	*data = buf;
	*size = len;
	return 0;
}

static void run_one(const char *path)
{
	uint8_t *data = NULL;
	size_t size = 0;
	int err = read_file(path, &data, &size);
	if (err) {
		fprintf(stderr, "FAIL %s: cannot read: %s\n", path, strerror(err));
		failed++;
		return;
	}
	if (verbose)
		fprintf(stderr, "RUN  %s (%zu bytes)\n", path, size);
	if (nofork) {
		LLVMFuzzerTestOneInput(data, size);
		free(data);
		passed++;
		return;
	}
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0) {
		fprintf(stderr, "FAIL %s: fork: %s\n", path, strerror(errno));
		free(data);
		failed++;
		return;
	}
	if (pid == 0) {
		alarm(20); /* a hang (lost wake-up) is a failure, not a stuck run */
		LLVMFuzzerTestOneInput(data, size);
		free(data);
		exit(0); /* exit, not _exit: sanitizers' leak checks run at exit */
	}
	free(data);
	int st;
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR) {
			fprintf(stderr, "FAIL %s: waitpid: %s\n", path, strerror(errno));
			failed++;
			return;
		}
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		passed++;
	} else {
		if (WIFSIGNALED(st))
			fprintf(stderr, "FAIL %s: killed by signal %d (%s)\n", path, WTERMSIG(st),
				WTERMSIG(st) == SIGALRM ? "timeout: hang"
							: strsignal(WTERMSIG(st)));
		else
			fprintf(stderr, "FAIL %s: exit status %d\n", path, WEXITSTATUS(st));
		failed++;
	}
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void run_dir(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d) {
		fprintf(stderr, "FAIL %s: opendir: %s\n", dir, strerror(errno));
		failed++;
		return;
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			char **nn = realloc(names, cap * sizeof *names);
			if (!nn)
				abort();
			names = nn;
		}
		size_t len = strlen(dir) + strlen(e->d_name) + 2;
		names[n] = malloc(len);
		if (!names[n])
			abort();
		snprintf(names[n], len, "%s/%s", dir, e->d_name);
		n++;
	}
	closedir(d);
	qsort(names, n, sizeof *names, cmp_names);
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode))
			run_one(names[i]);
		free(names[i]);
	}
	free(names);
}

int main(int argc, char **argv)
{
	const char *nf = getenv("REPLAY_NOFORK");
	nofork = nf && *nf && strcmp(nf, "0") != 0;
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-v") == 0) {
			verbose = 1;
			continue;
		}
		struct stat st;
		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "skip %s: %s\n", argv[i], strerror(errno));
			continue;
		}
		if (S_ISDIR(st.st_mode))
			run_dir(argv[i]);
		else
			run_one(argv[i]);
	}
	printf("%u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}

/*
 * examples/fiber_fanout.c - a fan-out of 100,000 goroutines as fibers
 * (gochan/fiber.h), all parked on one channel at once, then released and
 * joined:
 *
 *   release := make(chan struct{})
 *   results := make(chan int, 1024)
 *   var wg sync.WaitGroup
 *   for i := 1; i <= n; i++ {
 *       wg.Add(1)
 *       go func(i int) { defer wg.Done(); <-release; results <- i }(i)
 *   }
 *   // ... every goroutine is blocked in <-release: measure ...
 *   close(release)
 *   for i := 0; i < n; i++ { sum += <-results }
 *   wg.Wait()
 *
 * 100,000 threads would need 100,000 kernel stacks and (with glibc's guard
 * pages) about 200,000 mappings, three times Linux's default
 * vm.max_map_count (65,530); 100,000 fibers fit (fiber stacks: gochan/fiber.h).
 *
 * The main thread starts the fibers (gofiber_go works from a thread or a
 * fiber).  It knows every fiber is parked when godiag_blocked() counts n
 * blocked operations (it yields its CPU until then: a condition, not a
 * sleep; the main thread blocks in nothing meanwhile, so the count is the
 * fibers'); it then reads its memory: RSS
 * (/proc/self/statm) and mappings (lines of /proc/self/maps), printed on
 * stderr as figures (they depend on the kernel and the guard policy).
 * stdout (checked by the test command: examples/expected/fiber_fanout.txt)
 * says how many were parked, whether the mappings stayed below
 * vm.max_map_count, and the sum of what the fibers sent after the release.
 * argv[1]: the number of fibers (default 100000).
 */
#include <gochan.h>
#include <gochan/fiber.h>

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct fanout {
	long n;
	chan_t *release; /* closed by main: every fiber's receive returns */
	chan_t *results; /* each fiber sends its number after the release */
	gofiber_group_t *g;
	long parked;    /* godiag_blocked() when all were parked */
	long maps;      /* lines of /proc/self/maps then */
	long max_maps;  /* vm.max_map_count (-1: unknown) */
	double rss_mib; /* resident set then */
	long long sum;
	int err;
};

struct task {
	struct fanout *f;
	long i;
};

static void worker(void *arg)
{
	struct task *t = (struct task *)arg;
	long i = t->i;
	bool ok;

	/* <-release: parks this fiber until main closes the channel. */
	if (chan_recv(t->f->release, NULL, &ok) == 0 && !ok)
		(void)chan_send(t->f->results, &i);
	free(t);
}

static long count_lines(const char *path)
{
	FILE *fp = fopen(path, "r");
	long n = 0;
	int c;

	if (!fp)
		return -1;
	while ((c = getc(fp)) != EOF)
		n += c == '\n';
	fclose(fp);
	return n;
}

static long read_long(const char *path, int field)
{
	FILE *fp = fopen(path, "r");
	long v = -1;

	if (!fp)
		return -1;
	for (int k = 0; k <= field; k++)
		if (fscanf(fp, "%ld", &v) != 1) {
			v = -1;
			break;
		}
	fclose(fp);
	return v;
}

/* Go's main(), on the main thread. */
static void fanout_main(struct fanout *f)
{
	long started = 0;

	for (long i = 1; i <= f->n; i++) {
		struct task *t = (struct task *)malloc(sizeof *t);

		if (!t) {
			f->err = ENOMEM;
			break;
		}
		t->f = f;
		t->i = i;
		f->err = gofiber_go(f->g, worker, t);
		if (f->err) {
			free(t);
			break;
		}
		started++;
	}
	/* Every started fiber runs to its receive and parks there: wait until
	 * the count of blocked operations says all are. */
	while (f->err == 0 && (long)godiag_blocked() < started)
		sched_yield();
	f->parked = (long)godiag_blocked();
	f->maps = count_lines("/proc/self/maps");
	f->max_maps = read_long("/proc/sys/vm/max_map_count", 0);
	f->rss_mib = (double)read_long("/proc/self/statm", 1) * (double)sysconf(_SC_PAGESIZE) /
		     (1024.0 * 1024.0);

	chan_close(f->release); /* wakes every receiver */
	for (long k = 0; k < started; k++) {
		long i;
		bool ok;

		if (chan_recv(f->results, &i, &ok) != 0 || !ok)
			break;
		f->sum += i;
	}
}

int main(int argc, char **argv)
{
	struct fanout f;
	int err;

	memset(&f, 0, sizeof f);
	f.n = argc > 1 ? atol(argv[1]) : 100000;
	f.release = chan_new(0, 0);
	f.results = chan_new(sizeof(long), 1024);
	f.g = gofiber_group_new();
	if (!f.release || !f.results || !f.g) {
		fputs("fiber_fanout: out of memory\n", stderr);
		return 1;
	}
	fanout_main(&f);
	err = gofiber_group_wait(f.g); /* wg.Wait(): every worker returned */
	if (err == 0)
		err = f.err;
	if (err) {
		fprintf(stderr, "fiber_fanout: %s\n", strerror(err));
		return 1;
	}
	fprintf(stderr,
		"fiber_fanout: %ld fibers parked: RSS %.1f MiB (%.2f KiB per fiber), %ld mappings (vm.max_map_count %ld)\n",
		f.parked, f.rss_mib, f.rss_mib * 1024.0 / (double)(f.n ? f.n : 1), f.maps,
		f.max_maps);
	printf("fibers parked on one channel: %ld\n", f.parked);
	printf("mappings below vm.max_map_count: %s\n",
	       f.max_maps < 0 || (f.maps >= 0 && f.maps < f.max_maps) ? "yes" : "no");
	printf("sum after the release: %lld\n", f.sum);
	gofiber_group_free(f.g);
	chan_unref(f.release);
	chan_unref(f.results);
	return 0;
}

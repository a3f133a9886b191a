/*
 * tests/bugs/shim.c - what the catalogue's bugs run on: `go` (a gochan
 * thread group today, the fiber runtime on request), the settle oracle for
 * deadlocks and leaks, gates and a barrier for the forced schedules.
 */
#include "bugs.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct bug_task {
	struct bug_env *env;
	void (*fn)(void *);
	void *arg;
};

static void bug_task_main(void *p)
{
	struct bug_task t = *(struct bug_task *)p;
	free(p);
	t.fn(t.arg);
	/* Release: everything the goroutine did happens before a settle that
	 * reads the lower count (its acquire loads). */
	atomic_fetch_sub_explicit(&t.env->alive, 1, memory_order_release);
}

int bug_go(struct bug_env *e, void (*fn)(void *), void *arg)
{
	struct bug_task *t = malloc(sizeof(*t));
	if (!t)
		return ENOMEM;
	*t = (struct bug_task){.env = e, .fn = fn, .arg = arg};
	/* Counted before the start: a goroutine that has not run yet is alive
	 * and not blocked, so bug_settle cannot mistake it for a stuck one.
	 * Relaxed: the start itself orders it before the goroutine's end. */
	atomic_fetch_add_explicit(&e->alive, 1, memory_order_relaxed);
	int err = e->runtime != BUG_THREADS ? gofiber_go(e->fibers, bug_task_main, t)
					    : gowg_go(e->wg, bug_task_main, t);
	if (err) {
		atomic_fetch_sub_explicit(&e->alive, 1, memory_order_relaxed);
		free(t);
	}
	return err;
}

/* One park as godiag lists it: a thread or fiber, and when it parked. */
struct park {
	long long tid;
	uintptr_t fiber;
	long long since;
};

static int park_cmp(const void *a, const void *b)
{
	const struct park *x = a, *y = b;
	if (x->tid != y->tid)
		return x->tid < y->tid ? -1 : 1;
	if (x->fiber != y->fiber)
		return x->fiber < y->fiber ? -1 : 1;
	if (x->since != y->since)
		return x->since < y->since ? -1 : 1;
	return 0;
}

/* The parks of a godiag_dump_json() snapshot, sorted, into @out (up to
 * @max); their count, or -1 (no memory, or more than @max). */
static long snapshot_parks(struct park *out, long max)
{
	char *json = godiag_dump_json();
	if (!json)
		return -1;
	long n = 0;
	/* Each record starts {"tid":N,"name":"..." and has ,"since_ns":N; a
	 * fiber's has "fiber":"0x..." between the name and "op". */
	for (const char *p = json; (p = strstr(p, "{\"tid\":")) != NULL;) {
		if (n == max) {
			n = -1;
			break;
		}
		struct park k = {0};
		k.tid = strtoll(p + 7, NULL, 10);
		const char *op = strstr(p, ",\"op\":");
		const char *since = strstr(p, ",\"since_ns\":");
		if (!op || !since) {
			n = -1;
			break;
		}
		const char *fib = strstr(p, ",\"fiber\":\"");
		if (fib && fib < op)
			k.fiber = (uintptr_t)strtoull(fib + 10, NULL, 16);
		k.since = strtoll(since + 12, NULL, 10);
		out[n++] = k;
		p = since;
	}
	free(json);
	if (n > 0)
		qsort(out, (size_t)n, sizeof(*out), park_cmp);
	return n;
}

#define SETTLE_MAX_PARKS 64

/* Whether any thread of this process other than the caller is running or
 * runnable (state R in /proc/self/task/TID/stat): true also when the list
 * cannot be read (the caller then simply polls again). */
static bool other_thread_runnable(void)
{
	pid_t me = gettid();
	DIR *d = opendir("/proc/self/task");
	if (!d)
		return true;
	bool runnable = false;
	struct dirent *de;
	while (!runnable && (de = readdir(d)) != NULL) {
		int tid = atoi(de->d_name);
		if (tid <= 0 || tid == me)
			continue;
		char path[64], buf[512];
		snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
		FILE *f = fopen(path, "r");
		if (!f)
			continue; /* exited meanwhile */
		size_t n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[n] = '\0';
		/* "TID (COMM) S ...": COMM may hold spaces and parentheses, so the
		 * state is the first field after the last ')'. */
		const char *rp = strrchr(buf, ')');
		runnable = !rp || rp[1] != ' ' || rp[2] == 'R';
	}
	closedir(d);
	return runnable;
}

int bug_settle(struct bug_env *e)
{
	struct park first[SETTLE_MAX_PARKS], second[SETTLE_MAX_PARKS];
	long backoff_ns = 1000;
	int64_t give_up = chan_deadline_in(120 * GOTIME_MILLISECOND * 1000);

	if (e->runtime == BUG_BUBBLE) {
		if (gobubble_wait() != 0)
			return -1;
		/* Acquire: pairs with bug_task_main's release decrement. */
		return (int)atomic_load_explicit(&e->alive, memory_order_acquire);
	}
	for (;;) {
		/* Acquire: pairs with bug_task_main's release decrement. */
		long a1 = atomic_load_explicit(&e->alive, memory_order_acquire);
		if (a1 == 0)
			return 0;
		long n1 = snapshot_parks(first, SETTLE_MAX_PARKS);
		if (n1 < 0)
			return -1;
		if (n1 == a1 && !other_thread_runnable()) {
			long n2 = snapshot_parks(second, SETTLE_MAX_PARKS);
			long a2 = atomic_load_explicit(&e->alive, memory_order_acquire);
			if (n2 < 0)
				return -1;
			if (n2 == n1 && a2 == a1 &&
			    memcmp(first, second, (size_t)n1 * sizeof(first[0])) == 0)
				return (int)n1;
		}
		if (chan_now() > give_up) {
			fprintf(stderr,
				"bug_settle: %ld goroutines alive, %ld parked, after 120 s\n", a1,
				n1);
			godiag_dump(stderr);
			return -1;
		}
		/* Polling, not a sleep standing in for synchronisation: the
		 * verdict comes from the snapshots; this only spaces them. */
		struct timespec ts = {0, backoff_ns};
		nanosleep(&ts, NULL);
		if (backoff_ns < 1000000)
			backoff_ns *= 2;
	}
}

void bug_join(struct bug_env *e)
{
	if (e->runtime != BUG_THREADS)
		gofiber_group_wait(e->fibers);
	else
		gowg_wait(e->wg);
}

chan_t *bug_gate_new(void)
{
	return chan_new(0, 0);
}

void bug_gate_wait(chan_t *g)
{
	bool ok;
	chan_recv(g, NULL, &ok);
}

void bug_gate_open(chan_t *g)
{
	chan_close(g); /* EALREADY when open already: fine */
}

int bug_barrier_init(struct bug_barrier *b)
{
	b->arrived[0] = bug_gate_new();
	b->arrived[1] = bug_gate_new();
	if (!b->arrived[0] || !b->arrived[1]) {
		bug_barrier_free(b);
		return ENOMEM;
	}
	return 0;
}

void bug_barrier_meet(struct bug_barrier *b, int me)
{
	bug_gate_open(b->arrived[me]);
	bug_gate_wait(b->arrived[1 - me]);
}

void bug_barrier_free(struct bug_barrier *b)
{
	for (int i = 0; i < 2; i++) {
		if (b->arrived[i])
			chan_unref(b->arrived[i]);
		b->arrived[i] = NULL;
	}
}

gobubble_opts bugs_bubble_opts;
gobubble_report bugs_bubble_report;

struct bubble_run {
	const struct bug_entry *b;
	struct bug_env *e;
	int r;
};

static void bubble_main(void *p)
{
	struct bubble_run *br = p;
	br->r = br->b->run(br->e);
	bug_join(br->e);
}

int bugs_run_one(const struct bug_entry *b, int mode, enum bug_runtime rt)
{
	struct bug_env e = {.mode = mode, .runtime = rt};
	atomic_init(&e.alive, 0);
	if (rt != BUG_THREADS)
		e.fibers = gofiber_group_new();
	else
		e.wg = gowg_new();
	if (!e.wg && !e.fibers)
		return BUG_ERROR;
	int r;
	if (rt == BUG_BUBBLE) {
		struct bubble_run br = {b, &e, BUG_ERROR};
		if (gobubble_run(&bugs_bubble_opts, bubble_main, &br, &bugs_bubble_report) != 0 ||
		    bugs_bubble_report.verdict != GOBUBBLE_OK) {
			fprintf(stderr,
				"%s: the bubble's run did not end cleanly (seed %" PRIu64 ")\n",
				b->name, bugs_bubble_report.seed);
			return BUG_ERROR;
		}
		r = br.r;
	} else {
		r = b->run(&e);
	}
	/* The bug joined its goroutines (their state lives in its frame); a
	 * second join is free and keeps a forgetful bug from leaking one. */
	bug_join(&e);
	if (rt != BUG_THREADS)
		gofiber_group_free(e.fibers);
	else
		gowg_free(e.wg);
	if (r != BUG_ERROR && godiag_blocked() != 0) {
		fprintf(stderr, "%s: something is still blocked after the run\n", b->name);
		godiag_dump(stderr);
		return BUG_ERROR;
	}
	return r;
}

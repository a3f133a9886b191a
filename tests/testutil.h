/*
 * tests/testutil.h - tiny helpers shared by the test suites and stress
 * programs (header-only, no Criterion dependency).
 *
 *   tu_go_t, tu_spawn, tu_spawn_stack,    start a test goroutine and join it:
 *   tu_join                               a thread, or a fiber in the fiber
 *                                         run mode (below); a failure to
 *                                         start one aborts the process (the
 *                                         test then fails loudly).
 *   tu_spawn_thread                       always a thread (see "Kept on
 *                                         threads" below).
 *   tu_blocker_t, tu_about_to_block,      let a goroutine announce that its
 *   tu_wait_blocked, tu_blocked_now       next call may block, and let another
 *                                         wait until it really is parked (a
 *                                         thread asleep on a futex, a fiber
 *                                         parked in gochan).  This replaces Go
 *                                         tests' "time.Sleep to let it block"
 *                                         with a condition that is actually
 *                                         checked.
 *   tu_yield, tu_fiber_yield              Go's runtime.Gosched() for spinning
 *                                         goroutines (fibers are not preempted).
 *   tu_barrier_t, tu_barrier_init/wait/  pthread's barrier, one that fibers
 *   destroy                               can wait at (fiber mode).
 *   tu_timers_flush                       wait until the timer thread has
 *                                         handled every timer due before a
 *                                         given time (see below).
 *   tu_timer_hold / tu_timer_release      hold the timer thread (no timer and
 *                                         no context deadline fires) for as
 *                                         long as a test needs.
 *   tu_timers_worker, tu_timers_arg_t     a goroutine arming batches of timers
 *                                         and checking each one's value.
 *   tu_no_leaks                           the stress programs' leak check
 *                                         before their closing line.
 *
 * The run mode (issue 18, "Tests").  GOCHAN_TEST_GO=fiber in the
 * environment (read once per program, at the first tu_spawn) makes every
 * goroutine a test starts with tu_spawn/tu_spawn_stack a fiber of the M:N
 * runtime (gochan/fiber.h) instead of a thread; unset, empty or "thread":
 * threads, as always.  Any other value aborts (a typo must not silently
 * test threads).  `zig build test-fibers` runs the Criterion runner and the
 * stress programs so (and the ThreadSanitizer, ASan and qemu-aarch64 runs
 * it names); tests/README.md lists what it covers.  The test body itself
 * stays on its thread (Criterion's assertions longjmp out of the body,
 * which must not cross a fiber's stack), so a test exercises thread-to-fiber
 * paths between its body and its goroutines, and fiber-to-fiber paths
 * between goroutines.  A goroutine's function is the same `void *fn(void *)`
 * in both modes, and tu_join returns what it returned.
 *
 * Kept on threads.  A goroutine that must be a thread even in fiber mode
 * (it blocks in a pthread mutex or condition variable, a raw blocking
 * system call, fork or signals, or it checks which thread it runs on) is
 * started with tu_spawn_thread, with a one-line reason at the call site;
 * tests/README.md lists them.  A fiber that blocked in a raw system call
 * would hold its worker thread and, with it, every fiber queued there.
 *
 * How tu_wait_blocked knows.  A thread: after the announcing thread stored
 * its kernel thread id (release), the only thing it does is the channel
 * call, and the channel library parks a blocked operation on a futex
 * (gochan/chan.h, "Blocking").  /proc/self/task/<tid>/stat then shows state
 * 'S' and, where /proc/self/task/<tid>/syscall is readable, the futex system
 * call.  While a test waits like this it does not touch the channel itself,
 * so the channel lock is uncontended and a futex sleep there can only be
 * the park.  A fiber: it announces its fiber record instead, and it is
 * parked once the record of blocked operations (wait/record.h, what
 * godiag_dump lists) shows it blocked: the wait layer marks it so after the
 * operation's waiter is queued on its channels, before the fiber switches
 * away (a counterpart that comes then readies it all the same: the park
 * commits after the switch).
 */
#ifndef GOCHAN_TESTS_TESTUTIL_H
#define GOCHAN_TESTS_TESTUTIL_H

#include <dirent.h>
#include <errno.h>
#include <gochan/chan.h>
#include <gochan/diag.h>
#include <gochan/fiber.h>
#include <gochan/time.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "fiber/fiber_impl.h" /* gofiber__cur: the announcing fiber */
#include "wait/record.h"      /* the walk that finds a parked fiber */

/*
 * Whether this program runs its test goroutines as fibers (GOCHAN_TEST_GO,
 * see the top of this file).  Read once per translation unit; a second read
 * by a racing first call gives the same answer (relaxed: the value is
 * derived from the environment, not published by anyone).
 */
static inline bool tu_fiber_mode(void)
{
	static atomic_int mode; /* 0 unknown, 1 threads, 2 fibers */
	int m = atomic_load_explicit(&mode, memory_order_relaxed);
	if (m == 0) {
		const char *v = getenv("GOCHAN_TEST_GO");
		if (!v || !*v || strcmp(v, "thread") == 0) {
			m = 1;
		} else if (strcmp(v, "fiber") == 0) {
			m = 2;
		} else {
			fprintf(stderr, "testutil: GOCHAN_TEST_GO=%s: want thread or fiber\n", v);
			abort();
		}
		atomic_store_explicit(&mode, m, memory_order_relaxed);
	}
	return m == 2;
}

/* A fiber goroutine: its function, argument and result, and the group that
 * tu_join waits on (whose wait orders everything the fiber did before the
 * join's reads of ret). */
struct tu__fiber {
	void *(*fn)(void *);
	void *arg;
	void *ret;
	gofiber_group_t *g;
};

/* A test goroutine: a thread (f NULL) or a fiber. */
typedef struct {
	pthread_t th;
	struct tu__fiber *f;
} tu_go_t;

/* Start fn(arg) on a new thread with a @stack-byte stack (0: the default).
 * A size below the platform's minimum is raised to it: glibc's
 * PTHREAD_STACK_MIN is 16 KiB on x86-64 but 128 KiB on aarch64, where a
 * smaller size makes pthread_attr_setstacksize fail with EINVAL. */
static inline tu_go_t tu_spawn_thread_stack(void *(*fn)(void *), void *arg, size_t stack)
{
	pthread_attr_t attr;
	tu_go_t g = {.f = NULL};
	int err = pthread_attr_init(&attr);
	long min = sysconf(_SC_THREAD_STACK_MIN);
	if (stack && min > 0 && stack < (size_t)min)
		stack = (size_t)min;
	if (!err && stack)
		err = pthread_attr_setstacksize(&attr, stack);
	if (!err)
		err = pthread_create(&g.th, &attr, fn, arg);
	pthread_attr_destroy(&attr);
	if (err) {
		fprintf(stderr, "testutil: pthread_create: %s\n", strerror(err));
		abort();
	}
	return g;
}

/* Always a thread, in both modes: for the goroutines listed in
 * tests/README.md ("Kept on threads"), each with its reason. */
static inline tu_go_t tu_spawn_thread(void *(*fn)(void *), void *arg)
{
	return tu_spawn_thread_stack(fn, arg, 0);
}

static inline void tu__fiber_main(void *p)
{
	struct tu__fiber *f = p;
	f->ret = f->fn(f->arg);
}

/* Start fn(arg) as a test goroutine: a thread with a @stack-byte stack (0:
 * the default), or in fiber mode a fiber (on its own GOFIBER_STACK_SIZE
 * stack; a larger @stack gets a thread). */
static inline tu_go_t tu_spawn_stack(void *(*fn)(void *), void *arg, size_t stack)
{
	if (!tu_fiber_mode() || stack > GOFIBER_STACK_SIZE)
		return tu_spawn_thread_stack(fn, arg, stack);
	tu_go_t g = {.f = calloc(1, sizeof(struct tu__fiber))};
	int err = ENOMEM;
	if (g.f) {
		g.f->fn = fn;
		g.f->arg = arg;
		g.f->g = gofiber_group_new();
		err = g.f->g ? gofiber_go(g.f->g, tu__fiber_main, g.f) : ENOMEM;
	}
	if (err) {
		fprintf(stderr, "testutil: gofiber_go: %s\n", strerror(err));
		abort();
	}
	return g;
}

static inline tu_go_t tu_spawn(void *(*fn)(void *), void *arg)
{
	return tu_spawn_stack(fn, arg, 0);
}

/* Join @g (thread or fiber) and return what its function returned. */
static inline void *tu_join(tu_go_t g)
{
	void *ret = NULL;
	int err;
	if (g.f) {
		err = gofiber_group_wait(g.f->g);
		if (!err)
			err = gofiber_group_free(g.f->g);
		ret = g.f->ret;
		free(g.f);
	} else {
		err = pthread_join(g.th, &ret);
	}
	if (err) {
		fprintf(stderr, "testutil: join: %s\n", strerror(err));
		abort();
	}
	return ret;
}

/*
 * tu_yield - let others run: Go's runtime.Gosched().  On a thread it is
 * sched_yield(); on a fiber it lets the other fibers of its worker run
 * (gofiber_yield).  A test goroutine that spins waiting for another (a loop
 * until a flag, a try_recv loop) must yield with this, not sched_yield():
 * fibers are not preempted (gochan/fiber.h), so with every worker spinning
 * the goroutine it waits for would never run.
 */
static inline void tu_yield(void)
{
	(void)gofiber_yield();
}

/* tu_fiber_yield - tu_yield on a fiber, nothing on a thread: for a polling
 * loop that makes progress on its own on threads (each call returns without
 * parking) but must let the other fibers run in fiber mode. */
static inline void tu_fiber_yield(void)
{
	if (gofiber_id())
		(void)gofiber_yield();
}

/*
 * tu_barrier_t - pthread_barrier_t for test goroutines: the same barrier on
 * threads; in fiber mode (chosen at init) a barrier that yields while it
 * waits (tu_yield), since a fiber blocked in pthread_barrier_wait would hold
 * its worker thread, and with more fibers at the barrier than workers none
 * of the rest could arrive.  Parties may be threads and fibers mixed.
 *
 * The yielding barrier: each arrival's acq_rel increment of @arrived joins
 * one release sequence, so the last arrival (the one that counts n)
 * acquires every party's earlier writes; it resets @arrived and then
 * publishes the next generation with a release store of @gen, which the
 * waiters' acquire loads pair with (they then see those writes, and the
 * reset, before they can arrive again).
 */
typedef struct {
	pthread_barrier_t pb;
	unsigned n;
	bool yielding;
	atomic_uint arrived, gen;
} tu_barrier_t;

static inline void tu_barrier_init(tu_barrier_t *b, unsigned n)
{
	b->n = n;
	b->yielding = tu_fiber_mode();
	atomic_init(&b->arrived, 0);
	atomic_init(&b->gen, 0);
	if (!b->yielding && pthread_barrier_init(&b->pb, NULL, n) != 0) {
		fprintf(stderr, "testutil: pthread_barrier_init failed\n");
		abort();
	}
}

static inline void tu_barrier_wait(tu_barrier_t *b)
{
	if (!b->yielding) {
		pthread_barrier_wait(&b->pb);
		return;
	}
	unsigned g = atomic_load_explicit(&b->gen, memory_order_acquire);
	if (atomic_fetch_add_explicit(&b->arrived, 1, memory_order_acq_rel) + 1 == b->n) {
		atomic_store_explicit(&b->arrived, 0, memory_order_relaxed);
		atomic_store_explicit(&b->gen, g + 1, memory_order_release);
		return;
	}
	while (atomic_load_explicit(&b->gen, memory_order_acquire) == g)
		tu_yield();
}

static inline void tu_barrier_destroy(tu_barrier_t *b)
{
	if (!b->yielding)
		pthread_barrier_destroy(&b->pb);
}

static inline int64_t tu_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Announcement slot: all zero until the goroutine is about to block; then
 * its kernel thread id (a thread) or its fiber (a fiber). */
typedef struct {
	atomic_int tid;
	_Atomic(const void *) fiber;
} tu_blocker_t;

#define TU_BLOCKER_INIT \
	{               \
		0, NULL \
	}

/* Called by a goroutine right before the call that should block.  Release:
 * the waiter's acquire load then sees everything it did before.  A fiber
 * announces itself (gofiber__cur, read here, in a call of its own: a fiber
 * may have migrated since its caller last switched). */
static inline void tu_about_to_block(tu_blocker_t *b)
{
	const void *f = gofiber_id() ? (const void *)gofiber__cur : NULL;
	if (f)
		atomic_store_explicit(&b->fiber, f, memory_order_release);
	else
		atomic_store_explicit(&b->tid, (int)syscall(SYS_gettid), memory_order_release);
}

/* The futex system call's number as /proc/<tid>/syscall shows it.  Under
 * qemu-user (zig build test-arm64) that file shows the HOST's numbers, so
 * scripts/qemu-run.sh passes the host's in GOCHAN_TEST_HOST_FUTEX_NR. */
static inline long tu_futex_nr(void)
{
	const char *host = getenv("GOCHAN_TEST_HOST_FUTEX_NR");
	return host ? atol(host) : (long)SYS_futex;
}

/* Whether kernel thread @tid is asleep in a futex wait right now. */
static inline bool tu_thread_parked(int tid)
{
	char path[64], buf[512];
	snprintf(path, sizeof path, "/proc/self/task/%d/stat", tid);
	FILE *f = fopen(path, "r");
	if (!f)
		return false; /* exited (or not yet visible): not parked */
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* "tid (comm) S ...": comm may hold spaces and parentheses. */
	char *rp = strrchr(buf, ')');
	if (!rp || rp[1] != ' ' || rp[2] != 'S')
		return false;
	snprintf(path, sizeof path, "/proc/self/task/%d/syscall", tid);
	f = fopen(path, "r");
	if (!f)
		return true; /* no syscall file here: the sleep state must do */
	long nr = -1;
	int got = fscanf(f, "%ld", &nr);
	fclose(f);
	if (got != 1)
		return true; /* "running" or unreadable: rely on the state */
	return nr == tu_futex_nr();
}

/* The walk's visitor for tu_fiber_parked: is the sought fiber's record
 * among the blocked ones? */
struct tu__find_fiber {
	const void *fiber;
	bool found;
};

static inline bool tu__find_fiber_visit(const struct gowait__rec_view *v, bool deref, void *arg)
{
	struct tu__find_fiber *ff = arg;
	(void)deref;
	if (v->fiber == ff->fiber)
		ff->found = true;
	return true;
}

/* Whether fiber @f is parked in a gochan operation right now.  The walk
 * holds the registry's lock while it reads the records, so an ended fiber
 * (its record unlinked) is simply not found, never read after its end. */
static inline bool tu_fiber_parked(const void *f)
{
	struct tu__find_fiber ff = {f, false};
	struct gowait__walk w = {.blocked = tu__find_fiber_visit, .arg = &ff};
	return gowait__record_walk(&w) == 0 && ff.found;
}

/* Whether the goroutine that announced on @b is parked right now (false
 * before it announced). */
static inline bool tu_blocked_now(tu_blocker_t *b)
{
	const void *f = atomic_load_explicit(&b->fiber, memory_order_acquire);
	if (f)
		return tu_fiber_parked(f);
	int tid = atomic_load_explicit(&b->tid, memory_order_acquire);
	return tid && tu_thread_parked(tid);
}

/*
 * Wait until the goroutine that announced on @b is parked (see the top of
 * this file).  Returns true once it is, false after @timeout_ns (the caller
 * then fails its test).  Polls every ~20 us: this is waiting for a
 * condition, not sleeping in place of synchronisation.  To tolerate a brief
 * futex sleep of a thread that is not the park (e.g. an internal lock of a
 * sanitizer runtime), the state must be seen on three polls in a row (a
 * fiber's record is marked blocked only by its park, but the same rule
 * costs it nothing).
 */
static inline bool tu_wait_blocked(tu_blocker_t *b, int64_t timeout_ns)
{
	int64_t end = tu_now_ns() + timeout_ns;
	int seen = 0;
	for (;;) {
		if (tu_blocked_now(b)) {
			if (++seen >= 3)
				return true;
		} else {
			seen = 0;
		}
		if (tu_now_ns() > end)
			return false;
		struct timespec ts = {0, 20000};
		nanosleep(&ts, NULL);
	}
}

/* Default patience for tu_wait_blocked: generous, the machine is shared. */
#define TU_BLOCK_TIMEOUT_NS ((int64_t)5000000000)

static inline void tu_probe_fn(void *arg)
{
	chan_t *c = arg;
	chan_close(c);
	chan_unref(c); /* the reference tu_timers_flush gave this function */
}

/*
 * Block until the timer thread has handled every timer due before
 * chan_now() + @d: arm a probe function timer strictly later than those and
 * wait (at most @patience beyond @d) for it to close a channel.  The single
 * timer thread pops timers in deadline order and carries out each popped
 * batch in order, so once the probe has run, every earlier timer has been
 * delivered (its value is in its channel) or run.  This is how the tests
 * "let a timer expire without receiving it" without sleeping.  Returns
 * false if the probe could not be armed or did not run in time.
 */
static inline bool tu_timers_flush(int64_t d, int64_t patience)
{
	chan_t *c = chan_new(0, 0);
	if (!c)
		return false;
	bool ok = true;
	gotime_timer_t *p = gotime_after_func_at(chan_now() + d + 1, tu_probe_fn, chan_ref(c));
	int rc = EINVAL;
	if (p)
		rc = chan_recv_until(c, NULL, &ok, chan_now() + patience + d);
	else
		chan_unref(c); /* the probe's reference: it will not run */
	gotime_timer_free(p);
	return chan_unref(c) == 0 && rc == 0 && !ok;
}

/* One thread of a "many timers" run: see tu_timers_worker. */
typedef struct {
	unsigned seed;       /* rand_r state, one per thread */
	int rounds, batch;   /* rounds of @batch timers each */
	int64_t dmin, dspan; /* durations dmin + [0, dspan) ns; <= 0: due now */
	int64_t patience;    /* the longest wait for one value */
	long bad;            /* out: failures counted */
} tu_timers_arg_t;

/*
 * A thread function (arg: a tu_timers_arg_t): @rounds times, arm @batch
 * timers at random durations, then receive each one's value: it must come
 * within @patience, not before the timer was due, exactly once (nothing
 * more is ready after it), and the timer must no longer be pending.
 * Counts what went wrong in bad.
 */
static inline void *tu_timers_worker(void *p)
{
	tu_timers_arg_t *a = p;
	for (int round = 0; round < a->rounds; round++) {
		gotime_timer_t *ts[a->batch];
		int64_t lo[a->batch];
		for (int i = 0; i < a->batch; i++) {
			int64_t d = a->dmin + rand_r(&a->seed) % a->dspan;
			lo[i] = chan_now() + (d > 0 ? d : 0);
			ts[i] = gotime_timer_new(d);
			if (!ts[i]) {
				a->bad++;
				return NULL;
			}
		}
		for (int i = 0; i < a->batch; i++) {
			chan_t *c = gotime_timer_chan(ts[i]);
			int64_t v = 0;
			bool ok = false;
			if (chan_recv_until(c, &v, &ok, chan_now() + a->patience) || !ok ||
			    v < lo[i])
				a->bad++;
			if (chan_try_recv(c, &v, &ok) != EAGAIN)
				a->bad++;             /* sent twice */
			if (gotime_timer_stop(ts[i])) /* received: not pending */
				a->bad++;
			gotime_timer_free(ts[i]);
		}
	}
	return NULL;
}

/* Threads of this process as the kernel lists them (/proc/self/task), or
 * -1 if it cannot be read. */
static inline int tu_os_threads(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;
	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* Wait until the OS thread count is back to @n, or @patience ns pass.  It
 * polls (with sched_yield) on purpose: a detached thread that has already
 * signalled its exit to the library still needs a moment to leave the
 * kernel's list, and nothing wakes anyone when it does. */
static inline bool tu_os_threads_back_to(int n, int64_t patience)
{
	int64_t end = chan_now() + patience;
	while (tu_os_threads() != n) {
		if (chan_now() > end)
			return false;
		tu_yield();
	}
	return true;
}

/*
 * The leak check every stress program runs before its closing line
 * (godiag_verify_none, gochan/diag.h): true once no library thread is alive
 * and no thread is blocked in a gochan operation; false after 10 s, with the
 * counts and the dump on stderr.
 */
static inline bool tu_no_leaks(void)
{
	bool ok = godiag_verify_none(chan_now() + (int64_t)10000000000) == 0;
	printf("%s leak check (godiag_verify_none)\n", ok ? "ok  " : "FAIL");
	return ok;
}

/*
 * tu_timer_hold - hold the timer thread, which fires every timer and every
 * context deadline: a function timer (those run on the timer thread) that
 * waits until tu_timer_release(), or @patience at most.  Until then nothing
 * due fires, however long the test takes: "the cancel comes before the 2 ms
 * deadline" holds on a stalled machine too.  Returns false (nothing held)
 * if the timer could not be made or did not start within @patience.
 * tu_timer_release lets the thread go on and waits until the holding
 * function has returned; false if it did not within @patience.
 */
struct tu_timer_hold {
	chan_t *entered, *release;
	gotime_timer_t *t;
	int64_t patience;
};

static inline void tu__timer_hold_fn(void *arg)
{
	struct tu_timer_hold *h = arg;
	chan_close(h->entered);
	chan_recv_until(h->release, NULL, NULL, chan_now() + h->patience);
}

static inline bool tu_timer_hold(struct tu_timer_hold *h, int64_t patience)
{
	h->patience = patience;
	h->entered = chan_new(0, 0);
	h->release = chan_new(0, 0);
	h->t = h->entered && h->release ? gotime_after_func_at(chan_now(), tu__timer_hold_fn, h)
					: NULL;
	if (h->t && chan_recv_until(h->entered, NULL, NULL, chan_now() + patience) == 0)
		return true;
	if (h->release)
		chan_close(h->release);
	return false;
}

static inline bool tu_timer_release(struct tu_timer_hold *h)
{
	bool ok = chan_close(h->release) == 0 && tu_timers_flush(0, h->patience);
	gotime_timer_free(h->t);
	chan_unref(h->entered);
	chan_unref(h->release);
	return ok;
}

#endif

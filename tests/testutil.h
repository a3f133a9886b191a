/*
 * tests/testutil.h - tiny helpers shared by the test suites and stress
 * programs (header-only, no Criterion dependency).
 *
 *   tu_spawn / tu_spawn_stack / tu_join   start and join a thread; a failure
 *                                         to start one aborts the process
 *                                         (the test then fails loudly).
 *   tu_blocker_t, tu_about_to_block,      let a thread announce that its next
 *   tu_wait_blocked                       call may block, and let another
 *                                         thread wait until it really is
 *                                         asleep in the kernel (parked on a
 *                                         futex).  This replaces Go tests'
 *                                         "time.Sleep to let it block" with a
 *                                         condition that is actually checked.
 *   tu_timers_flush                       wait until the timer thread has
 *                                         handled every timer due before a
 *                                         given time (see below).
 *   tu_timer_hold / tu_timer_release      hold the timer thread (no timer and
 *                                         no context deadline fires) for as
 *                                         long as a test needs.
 *   tu_timers_worker, tu_timers_arg_t     a thread arming batches of timers
 *                                         and checking each one's value.
 *   tu_no_leaks                           the stress programs' leak check
 *                                         before their closing line.
 *
 * How tu_wait_blocked knows: after the announcing thread stored its kernel
 * thread id (release), the only thing it does is the channel call, and the
 * channel library parks a blocked operation on a futex (gochan/chan.h,
 * "Blocking").  /proc/self/task/<tid>/stat then shows state 'S' and, where
 * /proc/self/task/<tid>/syscall is readable, the futex system call.  While a
 * test waits like this it does not touch the channel itself, so the channel
 * lock is uncontended and a futex sleep there can only be the park.
 */
#ifndef GOCHAN_TESTS_TESTUTIL_H
#define GOCHAN_TESTS_TESTUTIL_H

#include <dirent.h>
#include <errno.h>
#include <gochan/chan.h>
#include <gochan/diag.h>
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

/* Start fn(arg) on a new thread with a @stack-byte stack (0: the default).
 * A size below the platform's minimum is raised to it: glibc's
 * PTHREAD_STACK_MIN is 16 KiB on x86-64 but 128 KiB on aarch64, where a
 * smaller size makes pthread_attr_setstacksize fail with EINVAL. */
static inline pthread_t tu_spawn_stack(void *(*fn)(void *), void *arg, size_t stack)
{
	pthread_attr_t attr;
	pthread_t th;
	int err = pthread_attr_init(&attr);
	long min = sysconf(_SC_THREAD_STACK_MIN);
	if (stack && min > 0 && stack < (size_t)min)
		stack = (size_t)min;
	if (!err && stack)
		err = pthread_attr_setstacksize(&attr, stack);
	if (!err)
		err = pthread_create(&th, &attr, fn, arg);
	pthread_attr_destroy(&attr);
	if (err) {
		fprintf(stderr, "testutil: pthread_create: %s\n", strerror(err));
		abort();
	}
	return th;
}

static inline pthread_t tu_spawn(void *(*fn)(void *), void *arg)
{
	return tu_spawn_stack(fn, arg, 0);
}

/* Join @th and return what its function returned. */
static inline void *tu_join(pthread_t th)
{
	void *ret = NULL;
	int err = pthread_join(th, &ret);
	if (err) {
		fprintf(stderr, "testutil: pthread_join: %s\n", strerror(err));
		abort();
	}
	return ret;
}

static inline int64_t tu_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Announcement slot: 0 until the thread is about to block. */
typedef struct {
	atomic_int tid;
} tu_blocker_t;

#define TU_BLOCKER_INIT \
	{               \
		0       \
	}

/* Called by a thread right before the call that should block. Release: the
 * waiter's acquire load then sees everything this thread did before. */
static inline void tu_about_to_block(tu_blocker_t *b)
{
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

/*
 * Wait until the thread that announced on @b is parked (see the top of this
 * file).  Returns true once it is, false after @timeout_ns (the caller then
 * fails its test).  Polls every ~20 us: this is waiting for a condition, not
 * sleeping in place of synchronisation.  To tolerate a brief futex sleep that
 * is not the park (e.g. an internal lock of a sanitizer runtime), the state
 * must be seen on three polls in a row.
 */
static inline bool tu_wait_blocked(tu_blocker_t *b, int64_t timeout_ns)
{
	int64_t end = tu_now_ns() + timeout_ns;
	int seen = 0;
	for (;;) {
		int tid = atomic_load_explicit(&b->tid, memory_order_acquire);
		if (tid && tu_thread_parked(tid)) {
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
		sched_yield();
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

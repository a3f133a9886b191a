/*
 * tests/test_fiber_sched.c - the M:N scheduler (fiber/sched.c, issue 18
 * milestone 2): fibers spread over workers, stealing, runnext, every worker
 * gone after the fibers, blocking system calls (gofiber_syscall_enter/exit)
 * and gofiber_run_blocking.
 *
 * Every test fixes the number of workers with GOFIBER_WORKERS before its
 * first gofiber_go (Criterion runs each test in a process of its own; the
 * runtime reads it once), and skips if the runtime had started before.
 * Synchronisation is on events only: a test that waits for a fiber to run
 * on another worker spins on a flag, so a scheduler that failed to spread,
 * steal or hand off would hang it (Criterion's timeout), never pass it.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <gochan/chan.h>
#include <gochan/diag.h>
#include <gochan/fiber.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fiber/sched.h"
#include "tests/leakcheck.h"

TU_LEAK_CHECKED_SUITE(fiber_sched);

static void workers(const char *n)
{
	setenv("GOFIBER_WORKERS", n, 1);
}

static void expect_workers(uint32_t n)
{
	struct gofiber__sched_stats st;

	gofiber__sched_stats(&st);
	if (st.workers != n)
		cr_skip_test("the runtime started before this test (--no-fork?)");
}

static long tid(void)
{
	return syscall(SYS_gettid);
}

static void spin_until(atomic_int *v, int want)
{
	while (atomic_load(v) < want)
		__asm__ volatile("" ::: "memory");
}

/* ---- stealing: a fiber that computes without yielding holds its worker;
 * the fibers it started must be stolen by another worker to run. ---- */

#define REPORTERS 8
static struct {
	atomic_int done;
	_Atomic long tid[REPORTERS];
	long launcher_tid;
	atomic_int bad;
} st8;

static void reporter(void *p)
{
	long i = (long)p;

	atomic_store(&st8.tid[i], tid());
	atomic_fetch_add(&st8.done, 1);
}

static void hog(void *p)
{
	(void)p;
	st8.launcher_tid = tid();
	for (long i = 0; i < REPORTERS; i++)
		if (gofiber_go(NULL, reporter, (void *)i) != 0)
			atomic_fetch_add(&st8.bad, 1);
	/* Never yields: its own worker cannot run the reporters. */
	spin_until(&st8.done, REPORTERS);
}

Test(fiber_sched, fibers_of_a_busy_worker_are_stolen)
{
	gofiber_group_t *g = gofiber_group_new();
	struct gofiber__sched_stats s;

	workers("2");
	cr_assert(g);
	cr_assert_eq(gofiber_go(g, hog, NULL), 0);
	cr_assert_eq(gofiber_group_wait(g), 0);
	expect_workers(2);
	cr_expect_eq(atomic_load(&st8.bad), 0);
	for (int i = 0; i < REPORTERS; i++)
		cr_expect_neq(atomic_load(&st8.tid[i]), st8.launcher_tid,
			      "reporter %d ran on the busy worker's thread", i);
	gofiber__sched_stats(&s);
	cr_expect_gt(s.steals, 0);
	cr_assert_eq(gofiber_group_free(g), 0);
}

/* ---- a parked fiber readied by a fiber that then never switches: readying
 * into an empty runnext wakes nobody (fiber/sched.c, "Spinning"), so it
 * runs on the other worker only through a spinner's or the idle threads'
 * watch's steal of a stuck slot; without either this test hangs. ---- */

static struct {
	chan_t *c;
	atomic_int ran;
	_Atomic long hog_tid, rx_tid;
	atomic_int bad;
} bh;

static void parked_receiver(void *p)
{
	long v;
	bool ok;

	(void)p;
	if (chan_recv(bh.c, &v, &ok) != 0 || !ok || v != 7)
		atomic_fetch_add(&bh.bad, 1);
	atomic_store(&bh.rx_tid, tid());
	atomic_store(&bh.ran, 1);
}

static void readying_hog(void *p)
{
	long v = 7;

	(void)p;
	atomic_store(&bh.hog_tid, tid());
	/* The receiver is parked: this completes it and readies it into our
	 * slot's runnext; we do not switch until it has run elsewhere. */
	if (chan_send(bh.c, &v) != 0)
		atomic_fetch_add(&bh.bad, 1);
	spin_until(&bh.ran, 1);
}

Test(fiber_sched, a_fiber_readied_behind_a_busy_readier_is_stolen)
{
	gofiber_group_t *g = gofiber_group_new();

	workers("2");
	bh.c = chan_new(sizeof(long), 0);
	cr_assert(g && bh.c);
	cr_assert_eq(gofiber_go(g, parked_receiver, NULL), 0);
	while (godiag_blocked() != 1) /* the receiver parked */
		sched_yield();
	cr_assert_eq(gofiber_go(g, readying_hog, NULL), 0);
	cr_assert_eq(gofiber_group_wait(g), 0);
	expect_workers(2);
	cr_expect_eq(atomic_load(&bh.bad), 0);
	cr_expect_neq(atomic_load(&bh.rx_tid), atomic_load(&bh.hog_tid),
		      "the readied fiber ran on the busy readier's thread");
	chan_unref(bh.c);
	cr_assert_eq(gofiber_group_free(g), 0);
}

/* ---- spreading: fibers started from a thread compute on more than one
 * worker thread at once (each waits until a fiber on another thread has
 * arrived). ---- */

#define SPREAD 8
static struct {
	atomic_int arrived;
	_Atomic long tid[SPREAD];
	atomic_int distinct; /* 1 once two different threads arrived */
} sp;

static void spreader(void *p)
{
	long i = (long)p, me = tid();

	atomic_store(&sp.tid[i], me);
	atomic_fetch_add(&sp.arrived, 1);
	for (;;) {
		for (int k = 0; k < SPREAD; k++) {
			long t = atomic_load(&sp.tid[k]);

			if (t && t != me)
				atomic_store(&sp.distinct, 1);
		}
		if (atomic_load(&sp.distinct))
			return;
	}
}

Test(fiber_sched, fibers_spread_over_workers)
{
	gofiber_group_t *g = gofiber_group_new();
	int ndistinct = 0;

	workers("2");
	cr_assert(g);
	for (long i = 0; i < SPREAD; i++)
		cr_assert_eq(gofiber_go(g, spreader, (void *)i), 0);
	cr_assert_eq(gofiber_group_wait(g), 0);
	expect_workers(2);
	for (int i = 0; i < SPREAD; i++) {
		bool seen = false;

		for (int k = 0; k < i; k++)
			seen |= atomic_load(&sp.tid[k]) == atomic_load(&sp.tid[i]);
		ndistinct += !seen;
	}
	cr_expect_geq(ndistinct, 2, "all %d fibers ran on one thread", SPREAD);
	cr_assert_eq(gofiber_group_free(g), 0);
}

/* ---- a queue of fibers that only yield is shared with the other worker:
 * a spinner takes fibers only when waiting for their worker would cost more
 * than a grace (fiber/sched.c's steal_due: the worker stuck in one fiber, or
 * a backlog longer than it gets through in the grace); 200 yielders are
 * such a backlog, whatever the launcher's loop did.  Each yields until one
 * of them has run on another thread. ---- */

#define BACKLOG 200
static struct {
	_Atomic long tid[BACKLOG];
	atomic_int distinct;
	atomic_int bad;
} bl;

static void yielder(void *p)
{
	long i = (long)p, me = tid();

	atomic_store(&bl.tid[i], me);
	while (!atomic_load(&bl.distinct)) {
		for (int k = 0; k < BACKLOG; k++) {
			long t = atomic_load(&bl.tid[k]);

			if (t && t != me)
				atomic_store(&bl.distinct, 1);
		}
		gofiber_yield();
		me = tid(); /* a yield may resume it elsewhere */
		atomic_store(&bl.tid[i], me);
	}
}

static void backlog_launcher(void *g)
{
	for (long i = 0; i < BACKLOG; i++)
		if (gofiber_go(g, yielder, (void *)i) != 0)
			atomic_fetch_add(&bl.bad, 1);
}

Test(fiber_sched, a_backlog_of_yielding_fibers_is_shared)
{
	gofiber_group_t *g = gofiber_group_new(), *l = gofiber_group_new();

	workers("2");
	cr_assert(g && l);
	cr_assert_eq(gofiber_go(l, backlog_launcher, g), 0);
	cr_assert_eq(gofiber_group_wait(l), 0);
	cr_assert_eq(gofiber_group_wait(g), 0);
	expect_workers(2);
	cr_expect_eq(atomic_load(&bl.bad), 0);
	cr_expect_eq(atomic_load(&bl.distinct), 1);
	cr_assert_eq(gofiber_group_free(g), 0);
	cr_assert_eq(gofiber_group_free(l), 0);
}

/* ---- runnext: on one worker, the fiber a channel operation readied runs
 * before the fibers already queued (FIFO would run them first). ---- */

static struct {
	chan_t *c;
	char log[8];
	atomic_int n;
} rn;

static void logger(void *p)
{
	rn.log[atomic_fetch_add(&rn.n, 1)] = *(const char *)p;
}

static void receiver(void *p)
{
	long v;
	bool ok;

	(void)p;
	if (chan_recv(rn.c, &v, &ok) == 0 && ok)
		logger("G");
}

static void driver(void *p)
{
	long v = 1;

	(void)p;
	(void)gofiber_go(NULL, receiver, NULL);
	gofiber_yield();                     /* the receiver runs (runnext) and parks */
	(void)gofiber_go(NULL, logger, "X"); /* X: runnext, for now */
	(void)chan_send(rn.c, &v);           /* G readied: runnext, X to the tail */
	gofiber_yield();                     /* behind X */
	logger("D");
}

Test(fiber_sched, the_readied_fiber_runs_next)
{
	gofiber_group_t *g = gofiber_group_new();

	workers("1");
	rn.c = chan_new(sizeof(long), 0);
	cr_assert(g && rn.c);
	cr_assert_eq(gofiber_go(g, driver, NULL), 0);
	cr_assert_eq(gofiber_group_wait(g), 0);
	expect_workers(1);
	/* The group counts only the driver: wait for the other two. */
	while (atomic_load(&rn.n) < 3)
		sched_yield();
	cr_expect_eq(strncmp(rn.log, "GXD", 3), 0, "order %.3s", rn.log);
	chan_unref(rn.c);
	cr_assert_eq(gofiber_group_free(g), 0);
}

/* ---- wake-ups: readies cost a futex wake only when a slot is idle and no
 * thread spins (Go's rule).  With one worker, whose slot is busy with the
 * readier, readying fibers wakes nobody; with two, a burst of readies from a
 * thread wakes at most one thread per ready (in practice about one per
 * idle slot, logged). ---- */

#define BURST 32
static struct {
	chan_t *gate;
	atomic_int started, bad;
	uint64_t wakes_before, wakes_after;
} wk;

static void gate_receiver(void *p)
{
	long v;
	bool ok;

	(void)p;
	atomic_fetch_add(&wk.started, 1);
	if (chan_recv(wk.gate, &v, &ok) != 0 || ok)
		atomic_fetch_add(&wk.bad, 1);
}

static void burst_readier(void *p)
{
	gofiber_group_t *g = p;
	struct gofiber__sched_stats s;

	for (int i = 0; i < BURST; i++)
		if (gofiber_go(g, gate_receiver, NULL) != 0)
			atomic_fetch_add(&wk.bad, 1);
	/* One worker, FIFO behind them: when we run again all have parked. */
	gofiber_yield();
	if (atomic_load(&wk.started) != BURST)
		atomic_fetch_add(&wk.bad, 1);
	gofiber__sched_stats(&s);
	wk.wakes_before = s.wakes;
	chan_close(wk.gate); /* readies BURST fibers onto this busy slot */
	gofiber__sched_stats(&s);
	wk.wakes_after = s.wakes;
}

Test(fiber_sched, readies_on_a_busy_single_worker_wake_nobody)
{
	gofiber_group_t *g = gofiber_group_new(), *r = gofiber_group_new();

	workers("1");
	wk.gate = chan_new(sizeof(long), 0);
	cr_assert(g && r && wk.gate);
	cr_assert_eq(gofiber_go(r, burst_readier, g), 0);
	cr_assert_eq(gofiber_group_wait(r), 0);
	cr_assert_eq(gofiber_group_wait(g), 0);
	expect_workers(1);
	cr_expect_eq(atomic_load(&wk.bad), 0);
	cr_expect_eq(wk.wakes_after, wk.wakes_before, "%llu futex wakes for %d readies",
		     (unsigned long long)(wk.wakes_after - wk.wakes_before), BURST);
	chan_unref(wk.gate);
	cr_assert_eq(gofiber_group_free(g), 0);
	cr_assert_eq(gofiber_group_free(r), 0);
}

Test(fiber_sched, a_burst_of_readies_wakes_at_most_one_thread_each)
{
	gofiber_group_t *g = gofiber_group_new();
	struct gofiber__sched_stats s;

	workers("2");
	wk.gate = chan_new(sizeof(long), 0);
	cr_assert(g && wk.gate);
	for (int i = 0; i < BURST; i++)
		cr_assert_eq(gofiber_go(g, gate_receiver, NULL), 0);
	while (godiag_blocked() < BURST) /* all parked (an event, not a time) */
		sched_yield();
	gofiber__sched_stats(&s);
	wk.wakes_before = s.wakes;
	cr_assert_eq(chan_close(wk.gate), 0);
	cr_assert_eq(gofiber_group_wait(g), 0);
	gofiber__sched_stats(&s);
	expect_workers(2);
	cr_expect_eq(atomic_load(&wk.bad), 0);
	cr_expect_leq(s.wakes - wk.wakes_before, BURST);
	cr_log_info("fiber_sched: %d fibers readied by a thread's close: %llu futex wakes "
		    "(%u workers)\n",
		    BURST, (unsigned long long)(s.wakes - wk.wakes_before), s.workers);
	chan_unref(wk.gate);
	cr_assert_eq(gofiber_group_free(g), 0);
}

/* ---- all workers gone after the fibers (the leak check of this suite also
 * checks it after every test) ---- */

Test(fiber_sched, every_worker_exits_after_the_fibers)
{
	gofiber_group_t *g = gofiber_group_new();
	struct gofiber__sched_stats s;

	workers("2");
	cr_assert(g);
	for (long i = 0; i < SPREAD; i++)
		cr_assert_eq(gofiber_go(g, spreader, (void *)i), 0);
	cr_assert_eq(gofiber_group_wait(g), 0);
	expect_workers(2);
	gofiber__sched_stats(&s);
	cr_expect_geq(s.threads_started, 2);
	/* Waits for the event (the count reaching 0), not for a time. */
	cr_assert_eq(godiag_verify_none(CHAN_FOREVER), 0);
	cr_expect_eq(godiag_threads(), 0);
	cr_assert_eq(gofiber_group_free(g), 0);
}

/* ---- a blocking system call between gofiber_syscall_enter and _exit: the
 * one worker slot goes to another thread, so the fibers started meanwhile
 * run while this thread blocks in read(); the test writes to the pipe only
 * after they all made progress. ---- */

#define PROGRESS 16
static struct {
	int fds[2];
	chan_t *progress;
	atomic_int after_read, bad;
	long reader_tid;
	char got;
} sc;

static void progressor(void *p)
{
	long v = (long)p;

	if (tid() == sc.reader_tid) /* that thread is in read() */
		atomic_fetch_add(&sc.bad, 1);
	if (chan_send(sc.progress, &v) != 0)
		atomic_fetch_add(&sc.bad, 1);
}

__attribute__((noinline)) static int get_errno(void)
{
	__asm__ volatile("" ::: "memory");
	return errno;
}

__attribute__((noinline)) static void set_errno(int v)
{
	__asm__ volatile("" ::: "memory");
	errno = v;
}

static void syscall_reader(void *p)
{
	gofiber_group_t *g = p;

	sc.reader_tid = tid();
	if (gofiber_syscall_enter() != 0)
		atomic_fetch_add(&sc.bad, 1);
	/* No slot on this thread now: these go to the global queue, and
	 * another thread holding the slot runs them while we block. */
	for (long i = 0; i < PROGRESS; i++)
		if (gofiber_go(g, progressor, (void *)i) != 0)
			atomic_fetch_add(&sc.bad, 1);
	if (read(sc.fds[0], &sc.got, 1) != 1)
		atomic_fetch_add(&sc.bad, 1);
	set_errno(4321);
	atomic_store(&sc.after_read, 1);
	if (gofiber_syscall_exit() != 0 || get_errno() != 4321)
		atomic_fetch_add(&sc.bad, 1);
}

Test(fiber_sched, syscall_enter_lets_other_fibers_run)
{
	gofiber_group_t *g = gofiber_group_new(), *all = gofiber_group_new();
	long v;
	bool ok;

	workers("1");
	sc.progress = chan_new(sizeof(long), PROGRESS);
	cr_assert(g && all && sc.progress && pipe(sc.fds) == 0);
	cr_assert_eq(gofiber_go(all, syscall_reader, g), 0);
	/* Every progressor ran (they ran while the reader blocked: nothing
	 * was written yet). */
	for (int i = 0; i < PROGRESS; i++)
		cr_assert_eq(chan_recv(sc.progress, &v, &ok), 0);
	expect_workers(1);
	cr_expect_eq(atomic_load(&sc.after_read), 0);
	cr_assert_eq(write(sc.fds[1], "x", 1), 1);
	cr_assert_eq(gofiber_group_wait(all), 0);
	cr_assert_eq(gofiber_group_wait(g), 0);
	cr_expect_eq(sc.got, 'x');
	cr_expect_eq(atomic_load(&sc.bad), 0);
	/* On a thread both calls do nothing. */
	cr_expect_eq(gofiber_syscall_enter(), 0);
	cr_expect_eq(gofiber_syscall_exit(), 0);
	close(sc.fds[0]);
	close(sc.fds[1]);
	chan_unref(sc.progress);
	cr_assert_eq(gofiber_group_free(g), 0);
	cr_assert_eq(gofiber_group_free(all), 0);
}

/* The exit of a system call section that finds the one slot taken: the
 * fiber is queued and runs once the slot's fiber (which waits for the read
 * to return) ends. */
static struct {
	int fds[2];
	atomic_int read_done, holder_running, bad;
} sx;

static void slot_holder(void *p)
{
	(void)p;
	atomic_store(&sx.holder_running, 1);
	spin_until(&sx.read_done, 1); /* holds the one slot meanwhile */
}

static void reader_requeued(void *p)
{
	char c;

	(void)p;
	(void)gofiber_syscall_enter();
	if (gofiber_go(NULL, slot_holder, NULL) != 0)
		atomic_fetch_add(&sx.bad, 1);
	if (read(sx.fds[0], &c, 1) != 1)
		atomic_fetch_add(&sx.bad, 1);
	atomic_store(&sx.read_done, 1);
	(void)gofiber_syscall_exit(); /* the slot may still be the holder's */
}

Test(fiber_sched, syscall_exit_without_a_free_slot_queues_the_fiber)
{
	gofiber_group_t *g = gofiber_group_new();

	workers("1");
	cr_assert(g && pipe(sx.fds) == 0);
	cr_assert_eq(gofiber_go(g, reader_requeued, NULL), 0);
	spin_until(&sx.holder_running, 1);
	cr_assert_eq(write(sx.fds[1], "x", 1), 1);
	cr_assert_eq(gofiber_group_wait(g), 0);
	expect_workers(1);
	cr_expect_eq(atomic_load(&sx.bad), 0);
	close(sx.fds[0]);
	close(sx.fds[1]);
	cr_assert_eq(gofiber_group_free(g), 0);
}

/* ---- gofiber_run_blocking: the blocking function runs on a pool thread
 * while the fiber is parked and the one worker runs the others ---- */

static struct {
	int fds[2];
	chan_t *progress;
	long fiber_tid, fn_tid;
	atomic_int bad;
	char got;
} rb;

static void blocking_read(void *p)
{
	(void)p;
	rb.fn_tid = tid();
	if (read(rb.fds[0], &rb.got, 1) != 1)
		atomic_fetch_add(&rb.bad, 1);
}

static void rb_progressor(void *p)
{
	long v = (long)p;

	if (chan_send(rb.progress, &v) != 0)
		atomic_fetch_add(&rb.bad, 1);
}

static void rb_fiber(void *p)
{
	(void)p;
	rb.fiber_tid = tid();
	for (long i = 0; i < PROGRESS; i++)
		if (gofiber_go(NULL, rb_progressor, (void *)i) != 0)
			atomic_fetch_add(&rb.bad, 1);
	if (gofiber_run_blocking(blocking_read, NULL) != 0)
		atomic_fetch_add(&rb.bad, 1);
	if (rb.got != 'y') /* fn's writes are visible */
		atomic_fetch_add(&rb.bad, 1);
}

static void direct(void *p)
{
	*(long *)p = tid();
}

Test(fiber_sched, run_blocking_parks_the_fiber_not_the_worker)
{
	gofiber_group_t *g = gofiber_group_new();
	long v, where = 0;
	bool ok;

	workers("1");
	rb.progress = chan_new(sizeof(long), PROGRESS);
	cr_assert(g && rb.progress && pipe(rb.fds) == 0);
	cr_assert_eq(gofiber_go(g, rb_fiber, NULL), 0);
	for (int i = 0; i < PROGRESS; i++)
		cr_assert_eq(chan_recv(rb.progress, &v, &ok), 0);
	expect_workers(1);
	cr_assert_eq(write(rb.fds[1], "y", 1), 1);
	cr_assert_eq(gofiber_group_wait(g), 0);
	cr_expect_eq(atomic_load(&rb.bad), 0);
	cr_expect_neq(rb.fn_tid, rb.fiber_tid);
	/* On a thread: a direct call; NULL: EINVAL. */
	cr_expect_eq(gofiber_run_blocking(direct, &where), 0);
	cr_expect_eq(where, tid());
	cr_expect_eq(gofiber_run_blocking(NULL, NULL), EINVAL);
	close(rb.fds[0]);
	close(rb.fds[1]);
	chan_unref(rb.progress);
	cr_assert_eq(gofiber_group_free(g), 0);
}

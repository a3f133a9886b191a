/*
 * tests/test_poll_thread.c - the one poller thread: started by the first
 * registration, exits once nothing is registered (also when the last one is
 * freed long before anything happens), restarts, does not churn, leaves no
 * OS thread behind, counts as a godiag poller thread; gopoll_shutdown()
 * (0 / EBUSY); and 10,000 hangup contexts served by that one thread.
 *
 * Criterion runs every test in a fresh process, so each starts with no
 * poller thread.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "context/ctx_internal.h"
#include "service/threads.h"
#include "tests/leakcheck.h"
#include "tests/test_poll_util.h"
#include "tests/testutil.h"

TU_LEAK_CHECKED_SUITE(poll_thread);

static void pair(int sv[2])
{
	cr_assert(tp_pair(sv), "socketpair: %s", strerror(errno));
}

Test(poll_thread, started_lazily_exits_when_idle, .timeout = 30)
{
	int base = tu_os_threads();
	uint64_t started = gopoll__threads_started();
	cr_assert_eq(gopoll__threads_live(), 0, "a poller thread before any registration");
	cr_assert_eq(gosvc__threads_alive(GODIAG_THREAD_POLLER), 0);

	int sv[2];
	pair(sv);
	ctx_t *c = gopoll_hangup_ctx(ctx_background(), sv[0]);
	cr_assert_not_null(c);
	cr_assert_eq(gopoll__threads_live(), 1);
	cr_assert_eq(gopoll__threads_started(), started + 1);
	cr_assert_eq(gosvc__threads_alive(GODIAG_THREAD_POLLER), 1);
	close(sv[1]);
	cr_assert(tp_wait_done(c, TP_PATIENCE));
	ctx_cancel_release(c);
	cr_assert_eq(gopoll__wait_thread_exit(chan_now() + TP_PATIENCE), 0,
		     "the idle poller did not exit");
	cr_assert_eq(gopoll__threads_live(), 0);
	cr_assert(tu_os_threads_back_to(base, TP_PATIENCE), "an OS thread was left behind");
	cr_assert_eq(gosvc__threads_wait(chan_now() + TP_PATIENCE), 0);

	/* A later registration starts it again. */
	gopoll_t *w = gopoll_watch(sv[0], GOPOLL_WRITE);
	cr_assert_not_null(w);
	cr_assert_eq(gopoll__threads_started(), started + 2);
	cr_assert(tp_wait_closed(gopoll_chan(w), TP_PATIENCE));
	gopoll_free(w);
	cr_assert_eq(gopoll__wait_thread_exit(chan_now() + TP_PATIENCE), 0);
	cr_assert(tu_os_threads_back_to(base, TP_PATIENCE));
	close(sv[0]);
}

/* The last registration freed while the thread sleeps without a timeout:
 * it is woken to start its linger and exits. */
Test(poll_thread, exits_after_last_unregistered, .timeout = 30)
{
	int sv[2];
	pair(sv);
	for (int i = 0; i < 5; i++) {
		ctx_t *c = gopoll_hangup_ctx(ctx_background(), sv[0]);
		gopoll_t *w = gopoll_watch(sv[0], GOPOLL_READ);
		cr_assert(c && w);
		cr_assert(tp_quiet(TP_PATIENCE)); /* it is now asleep in epoll_wait */
		cr_assert_eq(gopoll__threads_live(), 1);
		gopoll_free(w);
		ctx_cancel_release(c);
		cr_assert_eq(gopoll__registered(), 0);
		cr_assert_eq(gopoll__wait_thread_exit(chan_now() + TP_PATIENCE), 0);
	}
	close(sv[0]);
	close(sv[1]);
}

/* A loop of short-lived registrations does not start a thread each: the idle
 * thread lingers GOPOLL_IDLE_LINGER_NS for the next one. */
Test(poll_thread, no_thread_churn, .timeout = 30)
{
	int sv[2];
	pair(sv);
	uint64_t started = gopoll__threads_started();
	int64_t t0 = chan_now();
	for (int i = 0; i < 3000; i++) {
		ctx_t *c = gopoll_hangup_ctx(ctx_background(), sv[0]);
		cr_assert_not_null(c);
		ctx_cancel_release(c);
	}
	int64_t elapsed = chan_now() - t0;
	uint64_t n = gopoll__threads_started() - started;
	cr_assert_leq(n, 1 + (uint64_t)(elapsed / GOPOLL_IDLE_LINGER_NS), "%llu starts in %lld ns",
		      (unsigned long long)n, (long long)elapsed);
	close(sv[0]);
	close(sv[1]);
}

Test(poll_thread, shutdown, .timeout = 30)
{
	int base = tu_os_threads();
	cr_assert_eq(gopoll_shutdown(), 0, "shutdown with nothing started");
	int sv[2];
	pair(sv);
	gopoll_t *w = gopoll_watch(sv[0], GOPOLL_READ);
	cr_assert_eq(gopoll_shutdown(), EBUSY);
	cr_assert_eq(gopoll__threads_live(), 1, "EBUSY must change nothing");
	cr_assert_eq(write(sv[1], "x", 1), 1);
	cr_assert(tp_wait_closed(gopoll_chan(w), TP_PATIENCE), "the watch broke after EBUSY");
	/* Fired: no longer registered, so nothing keeps the thread. */
	cr_assert_eq(gopoll_shutdown(), 0);
	cr_assert_eq(gopoll__threads_live(), 0, "shutdown returned before the thread ended");
	cr_assert(tu_os_threads_back_to(base, TP_PATIENCE));
	cr_assert_eq(gopoll_shutdown(), 0, "second shutdown");
	gopoll_free(w);

	/* Works again afterwards. */
	ctx_t *c = gopoll_hangup_ctx(ctx_background(), sv[0]);
	cr_assert_eq(gopoll_shutdown(), EBUSY);
	close(sv[1]);
	cr_assert(tp_wait_done(c, TP_PATIENCE));
	cr_assert_eq(ctx_cause(c, NULL), GOPOLL_HANGUP);
	ctx_cancel_release(c);
	cr_assert_eq(gopoll_shutdown(), 0);
	cr_assert_eq(gopoll__threads_live(), 0);
	/* godiag's count drops as the thread's very last step. */
	cr_assert_eq(gosvc__threads_wait(chan_now() + TP_PATIENCE), 0);
	cr_assert_eq(gosvc__threads_alive(GODIAG_THREAD_POLLER), 0);
	close(sv[0]);
}

/*
 * 10,000 hangup contexts at once, on 5,000 socketpairs (a context on each
 * end): one poller thread serves them all.  Each end's peer shuts down its
 * sending side, which is a hangup for the other end, so every context fires
 * while both ends stay open (10,000 descriptors, not 20,000).
 */
#define MANY 10000

Test(poll_thread, ten_thousand_hangups_one_thread, .timeout = 120)
{
	if (!tp_raise_nofile(MANY + 64)) {
		cr_skip_test("RLIMIT_NOFILE hard limit below %d descriptors", MANY + 64);
		return;
	}
	int *fd = malloc(MANY * sizeof *fd);
	ctx_t **c = malloc(MANY * sizeof *c);
	cr_assert(fd && c);
	ctx_t *parent = ctx_with_cancel(ctx_background());
	uint64_t started = gopoll__threads_started();
	for (int i = 0; i < MANY; i += 2) {
		cr_assert(tp_pair(&fd[i]), "socketpair %d: %s", i, strerror(errno));
		for (int k = 0; k < 2; k++) {
			c[i + k] = gopoll_hangup_ctx(parent, fd[i + k]);
			cr_assert_not_null(c[i + k], "context %d: %s", i + k, strerror(errno));
		}
	}
	cr_assert_eq(gopoll__registered(), MANY);
	cr_assert_eq(gopoll__entries(), MANY);
	cr_assert_eq(gopoll__threads_live(), 1);
	cr_assert_eq(gopoll__threads_started(), started + 1, "more than one poller thread");
	cr_assert(tp_quiet(TP_PATIENCE));
	for (int i = 0; i < MANY; i++)
		cr_assert_not(tp_done_now(c[i]), "context %d cancelled early", i);
	cr_assert_eq(ctx__nchildren(parent), MANY);

	for (int i = 0; i < MANY; i++)
		cr_assert_eq(shutdown(fd[i], SHUT_WR), 0);
	for (int i = 0; i < MANY; i++) {
		cr_assert(tp_wait_done(c[i], TP_PATIENCE), "context %d not cancelled", i);
		cr_assert_eq(ctx_cause(c[i], NULL), GOPOLL_HANGUP);
	}
	cr_assert_eq(gopoll__registered(), 0);
	cr_assert_eq(gopoll__threads_started(), started + 1, "the thread was restarted");
	/* A cancel closes Done before it unlinks the context from its parent
	 * (as Go's cancelCtx.cancel closes done, then removeChild): seeing the
	 * last Done closed does not mean the poller thread has finished that
	 * cancel.  The barrier waits for a whole poller round after now, so
	 * every fire (cancel, unlink) before it is over.  (Failed once under
	 * qemu-aarch64 without it.) */
	cr_assert(tp_quiet(TP_PATIENCE));
	cr_assert_eq(ctx__nchildren(parent), 0, "fired children still linked to the parent");
	for (int i = 0; i < MANY; i++) {
		ctx_cancel_release(c[i]);
		close(fd[i]);
	}
	ctx_cancel_release(parent);
	cr_assert_eq(gopoll__wait_thread_exit(chan_now() + TP_PATIENCE), 0);
	free(fd);
	free(c);
}

/* The same 10,000, ended by their owner instead (a parent's cancel). */
Test(poll_thread, ten_thousand_cancelled_by_parent, .timeout = 120)
{
	if (!tp_raise_nofile(MANY + 64)) {
		cr_skip_test("RLIMIT_NOFILE hard limit below %d descriptors", MANY + 64);
		return;
	}
	int *fd = malloc(MANY * sizeof *fd);
	ctx_t **c = malloc(MANY * sizeof *c);
	cr_assert(fd && c);
	ctx_t *parent = ctx_with_cancel(ctx_background());
	for (int i = 0; i < MANY; i += 2) {
		cr_assert(tp_pair(&fd[i]));
		for (int k = 0; k < 2; k++)
			cr_assert_not_null(c[i + k] = gopoll_hangup_ctx(parent, fd[i + k]));
	}
	cr_assert_eq(gopoll__registered(), MANY);
	ctx_cancel(parent);
	cr_assert_eq(gopoll__registered(), 0, "the parent's cancel returned before unregistering");
	cr_assert_eq(gopoll__entries(), 0);
	for (int i = 0; i < MANY; i++) {
		cr_assert(tp_done_now(c[i]));
		cr_assert_eq(ctx_cause(c[i], NULL), CTX_CANCELED);
		ctx_release(c[i]);
		close(fd[i]);
	}
	ctx_release(parent);
	free(fd);
	free(c);
}

/* Shutdown means gone (issue 15): when gopoll_shutdown() returns 0, the
 * poller it stopped has left the count godiag_threads() and
 * godiag_verify_none() read (it used to be still counted in about half of
 * the tries).  Each round starts a fresh poller (the started count says so)
 * and stops it while it lingers, idle. */
Test(poll_thread, shutdown_returns_after_uncounting, .timeout = 120)
{
	int sv[2];
	pair(sv);
	for (int i = 0; i < 10000; i++) {
		uint64_t started = gopoll__threads_started();
		gopoll_t *w = gopoll_watch(sv[0], GOPOLL_WRITE);
		cr_assert_not_null(w);
		cr_assert_eq(gopoll__threads_started(), started + 1, "round %d: no new poller", i);
		cr_assert_eq(gopoll_free(w), 0);
		cr_assert_eq(gopoll_shutdown(), 0, "round %d", i);
		cr_assert_eq(godiag_threads(), 0,
			     "round %d: gopoll_shutdown returned 0 with %u library threads counted",
			     i, godiag_threads());
	}
	close(sv[0]);
	close(sv[1]);
}

/*
 * tests/test_diag.c - gochan/diag.h: the dump of threads blocked in gochan
 * operations (text and JSON), the counts, the leak check and the signal dump.
 *
 * A blocked thread is waited for with tu_wait_blocked (asleep on a futex,
 * testutil.h), never with a sleep.  The only timed pieces are deadlines the
 * tests choose to pass (the leak check's failure path) and select {}, which
 * nothing can wake: it is given a deadline, and retried with a longer one if
 * the test did not manage to see it blocked before it expired.
 */
#include <criterion/criterion.h>
#include <gochan/chan.h>
#include <gochan/context.h>
#include <gochan/diag.h>
#include <gochan/select.h>
#include <gochan/time.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "diag/diag_internal.h"
#include "tests/leakcheck.h"
#include "tests/test_diag_util.h"
#include "testutil.h"

TU_LEAK_CHECKED_SUITE(diag);

#define ROUNDS 20

struct blocker {
	chan_t *a, *b; /* the channels it blocks on */
	chan_case_t cases[3];
	int64_t v;
	int rc;
	const char *name; /* thread name to set, or NULL */
	tu_blocker_t blk;
};

static void set_name(struct blocker *x)
{
	if (x->name)
		pthread_setname_np(pthread_self(), x->name);
}

static void *recv_fn(void *p)
{
	struct blocker *x = p;
	bool ok;

	set_name(x);
	tu_about_to_block(&x->blk);
	x->rc = chan_recv(x->a, &x->v, &ok);
	return NULL;
}

static void *send_fn(void *p)
{
	struct blocker *x = p;

	set_name(x);
	tu_about_to_block(&x->blk);
	x->rc = chan_send(x->a, &x->v);
	return NULL;
}

/* select over: case 0 receive from a, case 1 nil, case 2 send to b. */
static void *select_fn(void *p)
{
	struct blocker *x = p;

	set_name(x);
	x->cases[0] = (chan_case_t){.chan = x->a, .op = CHAN_OP_RECV, .elem = &x->v};
	x->cases[1] = (chan_case_t){.chan = NULL, .op = CHAN_OP_RECV};
	x->cases[2] = (chan_case_t){.chan = x->b, .op = CHAN_OP_SEND, .elem = &x->v};
	tu_about_to_block(&x->blk);
	x->rc = chan_select(x->cases, 3, CHAN_FOREVER);
	return NULL;
}

/* A select with one live case of two (run as the plain receive inside). */
static void *select_one_fn(void *p)
{
	struct blocker *x = p;

	set_name(x);
	x->cases[0] = (chan_case_t){.chan = NULL, .op = CHAN_OP_SEND, .elem = &x->v};
	x->cases[1] = (chan_case_t){.chan = x->a, .op = CHAN_OP_RECV, .elem = &x->v};
	tu_about_to_block(&x->blk);
	x->rc = chan_select(x->cases, 2, CHAN_FOREVER);
	return NULL;
}

static char *fmt(const char *f, const void *p)
{
	static char buf[4][128];
	static int k;
	char *b = buf[k++ & 3];

	snprintf(b, sizeof(buf[0]), f, p);
	return b;
}

static void wait_blocked(struct blocker *x)
{
	cr_assert(tu_wait_blocked(&x->blk, TU_BLOCK_TIMEOUT_NS), "thread never blocked");
}

Test(diag, blocked_receive_shows_in_text_and_json, .timeout = 60)
{
	for (int r = 0; r < ROUNDS; r++) {
		struct blocker x = {.a = chan_new(sizeof(int64_t), 0), .name = "diag-recv"};
		/* A thread in fiber mode too: the dump shows its thread name. */
		tu_go_t th = tu_spawn_thread(recv_fn, &x);

		wait_blocked(&x);
		cr_assert_eq(godiag_blocked(), 1);
		char *t = td_dump_text();
		cr_assert(t);
		cr_assert(strstr(t, "1 thread blocked"), "%s", t);
		cr_assert(strstr(t, "\"diag-recv\" [receive, "), "%s", t);
		cr_assert(strstr(t, fmt("chan %p: elem 8 B, len 0, cap 0, open", x.a)), "%s", t);
		cr_assert(strstr(t, "called from "), "%s", t);
		free(t);

		char *j = godiag_dump_json();
		cr_assert(j);
		cr_assert(tj_valid(j), "%s", j);
		cr_assert(strstr(j, "\"name\":\"diag-recv\",\"op\":\"receive\",\"ncases\":1,"),
			  "%s", j);
		cr_assert(
			strstr(j,
			       fmt("{\"case\":0,\"dir\":\"receive\",\"addr\":\"%p\",\"elem_size\":8,"
				   "\"len\":0,\"cap\":0,\"closed\":false}",
				   x.a)),
			"%s", j);
		cr_assert(strstr(j, "\"count\":1,"), "%s", j);
		cr_assert_null(strstr(j, "\"backtrace\""), "backtrace mode is off: %s", j);
		free(j);

		int64_t v = 42;
		cr_assert_eq(chan_send(x.a, &v), 0);
		tu_join(th);
		cr_assert_eq(x.rc, 0);
		cr_assert_eq(x.v, 42);
		cr_assert_eq(godiag_blocked(), 0);
		j = godiag_dump_json();
		cr_assert(tj_valid(j), "%s", j);
		cr_assert(strstr(j, "{\"blocked\":[],\"count\":0,"), "%s", j);
		free(j);
		cr_assert_eq(chan_unref(x.a), 0);
	}
}

Test(diag, blocked_send_on_full_buffer_shows_len_and_cap, .timeout = 60)
{
	for (int r = 0; r < ROUNDS; r++) {
		struct blocker x = {.a = chan_new(sizeof(int64_t), 2), .v = 7};
		int64_t v = 1;

		cr_assert_eq(chan_send(x.a, &v), 0);
		cr_assert_eq(chan_send(x.a, &v), 0);
		tu_go_t th = tu_spawn(send_fn, &x);

		wait_blocked(&x);
		char *t = td_dump_text();
		cr_assert(strstr(t, " [send, "), "%s", t);
		cr_assert(strstr(t, fmt("chan %p: elem 8 B, len 2, cap 2, open", x.a)), "%s", t);
		free(t);
		char *j = godiag_dump_json();
		cr_assert(tj_valid(j), "%s", j);
		cr_assert(strstr(j, "\"op\":\"send\",\"ncases\":1,"), "%s", j);
		cr_assert(
			strstr(j, fmt("\"dir\":\"send\",\"addr\":\"%p\",\"elem_size\":8,\"len\":2,"
				      "\"cap\":2,\"closed\":false",
				      x.a)),
			"%s", j);
		free(j);
		cr_assert_eq(chan_recv(x.a, &v, NULL), 0);
		tu_join(th);
		cr_assert_eq(x.rc, 0);
		cr_assert_eq(godiag_blocked(), 0);
		cr_assert_eq(chan_unref(x.a), 0);
	}
}

Test(diag, blocked_select_lists_every_live_case, .timeout = 60)
{
	for (int r = 0; r < ROUNDS; r++) {
		struct blocker x = {.a = chan_new(4, 0), .b = chan_new(sizeof(int64_t), 1)};
		int64_t v = 3;

		cr_assert_eq(chan_send(x.b, &v), 0); /* b full: case 2 cannot send */
		tu_go_t th = tu_spawn(select_fn, &x);

		wait_blocked(&x);
		char *t = td_dump_text();
		cr_assert(strstr(t, " [select of 3 cases, "), "%s", t);
		cr_assert(
			strstr(t, fmt("case 0 receive chan %p: elem 4 B, len 0, cap 0, open", x.a)),
			"%s", t);
		cr_assert(strstr(t, fmt("case 2 send chan %p: elem 8 B, len 1, cap 1, open", x.b)),
			  "%s", t);
		cr_assert_null(strstr(t, "case 1 "), "nil case listed: %s", t);
		free(t);
		char *j = godiag_dump_json();
		cr_assert(tj_valid(j), "%s", j);
		cr_assert(strstr(j, "\"op\":\"select\",\"ncases\":3,"), "%s", j);
		cr_assert(strstr(j, fmt("{\"case\":0,\"dir\":\"receive\",\"addr\":\"%p\"", x.a)),
			  "%s", j);
		cr_assert(strstr(j, fmt("{\"case\":2,\"dir\":\"send\",\"addr\":\"%p\"", x.b)), "%s",
			  j);
		free(j);
		cr_assert_eq(chan_recv(x.b, &v, NULL), 0); /* room: case 2 fires */
		tu_join(th);
		cr_assert_eq(x.rc, 2);
		cr_assert_eq(godiag_blocked(), 0);
		cr_assert_eq(chan_unref(x.a), 0);
		cr_assert_eq(chan_unref(x.b), 0);
	}
}

Test(diag, one_case_select_shows_as_select, .timeout = 60)
{
	for (int r = 0; r < ROUNDS; r++) {
		struct blocker x = {.a = chan_new(sizeof(int64_t), 0)};
		tu_go_t th = tu_spawn(select_one_fn, &x);

		wait_blocked(&x);
		char *t = td_dump_text();
		cr_assert(strstr(t, " [select of 2 cases, "), "%s", t);
		cr_assert(strstr(t, fmt("case 1 receive chan %p: elem 8 B", x.a)), "%s", t);
		free(t);
		cr_assert_eq(chan_close(x.a), 0);
		tu_join(th);
		cr_assert_eq(x.rc, 1);
		cr_assert_eq(chan_unref(x.a), 0);
	}
}

struct never {
	int64_t d;
	int rc;
	tu_blocker_t blk;
};

static void *never_fn(void *p)
{
	struct never *n = p;

	tu_about_to_block(&n->blk);
	n->rc = chan_select(NULL, 0, chan_now() + n->d);
	return NULL;
}

Test(diag, select_with_no_case_shows_as_select_none, .timeout = 120)
{
	/* Nothing wakes select {}: it gets a deadline, doubled until the test
	 * manages to see it blocked before it expires (a loaded machine). */
	bool seen = false;

	for (int64_t d = 200000000; !seen && d <= 6400000000; d *= 2) {
		struct never n = {.d = d};
		tu_go_t th = tu_spawn(never_fn, &n);

		if (tu_wait_blocked(&n.blk, d)) {
			char *t = td_dump_text();
			char *j = godiag_dump_json();

			/* It may have timed out just now: then the dump is empty. */
			if (strstr(t, " [select_none of 0 cases, ")) {
				seen = true;
				cr_assert(tj_valid(j), "%s", j);
				cr_assert(strstr(j, "\"op\":\"select_none\",\"ncases\":0,"), "%s",
					  j);
				cr_assert(strstr(j, "\"channels\":[]"), "%s", j);
			} else {
				cr_assert(strstr(t, "0 threads blocked"), "%s", t);
			}
			free(t);
			free(j);
		}
		tu_join(th);
		cr_assert_eq(n.rc, CHAN_TIMEOUT);
	}
	cr_assert(seen);
	cr_assert_eq(godiag_blocked(), 0);
}

Test(diag, json_escapes_thread_names, .timeout = 30)
{
	struct blocker x = {.a = chan_new(0, 0), .name = "q\"b\\s\tx"};
	/* A thread in fiber mode too: the dump shows its thread name. */
	tu_go_t th = tu_spawn_thread(recv_fn, &x);

	wait_blocked(&x);
	char *j = godiag_dump_json();
	cr_assert(tj_valid(j), "%s", j);
	cr_assert(strstr(j, "\"name\":\"q\\\"b\\\\s\\u0009x\""), "%s", j);
	free(j);
	cr_assert_eq(chan_close(x.a), 0);
	tu_join(th);
	cr_assert_eq(chan_unref(x.a), 0);
}

Test(diag, caller_is_the_public_call_site, .timeout = 30)
{
	struct blocker x = {.a = chan_new(sizeof(int64_t), 0)};
	tu_go_t th = tu_spawn(recv_fn, &x);
	void *lo = (void *)(uintptr_t)recv_fn, *ra = NULL;

	wait_blocked(&x);
	char *j = godiag_dump_json();
	const char *c = strstr(j, "\"caller\":\"");
	cr_assert(c, "%s", j);
	cr_assert_eq(sscanf(c + 10, "%p", &ra), 1, "%s", j);
	/* The return address of chan_recv lies inside recv_fn's body. */
	cr_assert((char *)ra > (char *)lo && (char *)ra < (char *)lo + 4096, "ra %p fn %p", ra, lo);
	free(j);
	int64_t v = 1;
	cr_assert_eq(chan_send(x.a, &v), 0);
	tu_join(th);
	cr_assert_eq(chan_unref(x.a), 0);
}

struct ctx_blocker {
	ctx_t *ctx;
	chan_t *ch;
	int rc;
	tu_blocker_t blk;
};

static void *ctx_recv_fn(void *p)
{
	struct ctx_blocker *x = p;
	int64_t v;

	tu_about_to_block(&x->blk);
	x->rc = ctx_recv(x->ctx, x->ch, &v, NULL);
	return NULL;
}

Test(diag, ctx_recv_shows_its_done_case_and_its_caller, .timeout = 30)
{
	struct ctx_blocker x = {.ctx = ctx_with_cancel(ctx_background()),
				.ch = chan_new(sizeof(int64_t), 0)};
	tu_go_t th = tu_spawn(ctx_recv_fn, &x);
	void *lo = (void *)(uintptr_t)ctx_recv_fn, *ra = NULL;

	cr_assert(tu_wait_blocked(&x.blk, TU_BLOCK_TIMEOUT_NS));
	char *j = godiag_dump_json();
	cr_assert(tj_valid(j), "%s", j);
	cr_assert(strstr(j, "\"op\":\"select\",\"ncases\":2,"), "%s", j);
	cr_assert(strstr(j, fmt("{\"case\":0,\"dir\":\"receive\",\"addr\":\"%p\"", x.ch)), "%s", j);
	cr_assert(strstr(j, "{\"case\":1,\"dir\":\"receive\","), "the Done case: %s", j);
	const char *c = strstr(j, "\"caller\":\"");
	cr_assert(c && sscanf(c + 10, "%p", &ra) == 1, "%s", j);
	cr_assert((char *)ra > (char *)lo && (char *)ra < (char *)lo + 4096, "ra %p fn %p", ra, lo);
	free(j);
	/* Cancel first, release after the join: a thread blocked on Done must
	 * have the context kept alive (gochan/context.h). */
	cr_assert_eq(ctx_cancel(x.ctx), 0);
	tu_join(th);
	ctx_cancel_release(x.ctx);
	cr_assert_eq(x.rc, CTX_CANCELED);
	cr_assert_eq(chan_unref(x.ch), 0);
}

Test(diag, backtrace_mode_records_the_stack, .timeout = 30)
{
	godiag_set_backtrace(true);
	struct blocker x = {.a = chan_new(sizeof(int64_t), 0)};
	tu_go_t th = tu_spawn(recv_fn, &x);

	wait_blocked(&x);
	char *t = td_dump_text();
	cr_assert(strstr(t, "    backtrace:\n        "), "%s", t);
	free(t);
	char *j = godiag_dump_json();
	cr_assert(tj_valid(j), "%s", j);
	cr_assert(strstr(j, "\"backtrace\":[\""), "%s", j);
	free(j);
	godiag_set_backtrace(false);
	int64_t v = 1;
	cr_assert_eq(chan_send(x.a, &v), 0);
	tu_join(th);
	cr_assert_eq(chan_unref(x.a), 0);
}

Test(diag, verify_none_fails_with_the_dump_while_a_thread_is_blocked, .timeout = 60)
{
	struct blocker x = {.a = chan_new(sizeof(int64_t), 0), .name = "diag-leak"};
	/* A thread in fiber mode: its name; no library thread (a worker is one). */
	tu_go_t th = tu_spawn_thread(recv_fn, &x);
	struct td_capture cap;

	wait_blocked(&x);
	cr_assert(td_stderr_begin(&cap));
	int err = godiag_verify_none(chan_now() + 50000000);
	char *out = td_stderr_end(&cap);

	cr_assert_eq(err, ETIMEDOUT);
	cr_assert(strstr(out,
			 "godiag_verify_none: 1 thread blocked in gochan operations, 0 library "
			 "threads alive"),
		  "%s", out);
	cr_assert(strstr(out, "\"diag-leak\" [receive, "), "%s", out);
	cr_assert(strstr(out, fmt("chan %p: elem 8 B, len 0, cap 0, open", x.a)), "%s", out);
	free(out);

	int64_t v = 5;
	cr_assert_eq(chan_send(x.a, &v), 0);
	tu_join(th);
	cr_assert_eq(godiag_verify_none(chan_now() + TU_LEAK_PATIENCE_NS), 0);
	cr_assert_eq(chan_unref(x.a), 0);
}

Test(diag, verify_none_waits_for_the_timer_thread, .timeout = 60)
{
	gotime_timer_t *t = gotime_timer_new(3600 * GOTIME_SECOND);
	struct td_capture cap;

	cr_assert(t);
	cr_assert_eq(godiag_threads(), 1);
	cr_assert(td_stderr_begin(&cap));
	int err = godiag_verify_none(chan_now() + 20000000);
	char *out = td_stderr_end(&cap);

	cr_assert_eq(err, ETIMEDOUT);
	cr_assert(strstr(out, "0 threads blocked in gochan operations, 1 library thread alive"),
		  "%s", out);
	cr_assert(strstr(out, "gochan library threads: 1 (timer 1, afterfunc 0,"), "%s", out);
	free(out);
	gotime_timer_free(t); /* the thread exits once idle: the check passes */
	cr_assert_eq(godiag_verify_none(chan_now() + TU_LEAK_PATIENCE_NS), 0);
	cr_assert_eq(godiag_threads(), 0);
}

static void afterfunc(void *arg)
{
	chan_close(arg);
}

Test(diag, verify_none_waits_for_afterfunc_threads, .timeout = 60)
{
	for (int r = 0; r < ROUNDS; r++) {
		chan_t *c = chan_new(0, 0);
		gotime_timer_t *t = gotime_after_func(0, afterfunc, c);
		bool ok = true;

		cr_assert(t);
		cr_assert_eq(chan_recv(c, NULL, &ok), 0);
		cr_assert(!ok);
		/* Its thread may still be on its way out: the check waits. */
		cr_assert_eq(godiag_verify_none(chan_now() + TU_LEAK_PATIENCE_NS), 0);
		gotime_timer_free(t);
		cr_assert_eq(chan_unref(c), 0);
	}
}

Test(diag, signal_dump, .timeout = 60)
{
	cr_assert_eq(godiag_signal(SIGKILL), EINVAL);
	cr_assert_eq(godiag_signal(-1), EINVAL);
	cr_assert_eq(godiag_signal(NSIG), EINVAL);
	cr_assert_eq(godiag_signal(SIGUSR1), 0);
	cr_assert_eq(godiag_threads(), 1);

	struct blocker x = {.a = chan_new(sizeof(int64_t), 0), .name = "diag-sig"};
	/* A thread in fiber mode: its name; the only library thread is diag's. */
	tu_go_t th = tu_spawn_thread(recv_fn, &x);
	struct td_capture cap;

	wait_blocked(&x);
	for (int r = 0; r < 3; r++) {
		unsigned long n0 = godiag__signal_dumps();

		cr_assert(td_stderr_begin(&cap));
		cr_assert_eq(pthread_kill(pthread_self(), SIGUSR1), 0);
		int err = godiag__signal_wait_dumps(n0 + 1, chan_now() + 10 * GOTIME_SECOND);
		char *out = td_stderr_end(&cap);

		cr_assert_eq(err, 0);
		cr_assert(strstr(out, "gochan: dump on signal\n"), "%s", out);
		cr_assert(strstr(out, "\"diag-sig\" [receive, "), "%s", out);
		free(out);
	}
	/* Moving it to another signal keeps one thread. */
	cr_assert_eq(godiag_signal(SIGUSR2), 0);
	cr_assert_eq(godiag_threads(), 1);
	unsigned long n0 = godiag__signal_dumps();
	cr_assert(td_stderr_begin(&cap));
	cr_assert_eq(pthread_kill(pthread_self(), SIGUSR2), 0);
	int err = godiag__signal_wait_dumps(n0 + 1, chan_now() + 10 * GOTIME_SECOND);
	free(td_stderr_end(&cap));
	cr_assert_eq(err, 0);

	cr_assert_eq(godiag_signal(0), 0);
	cr_assert_eq(godiag_threads(), 0);
	cr_assert_eq(godiag_signal(0), 0); /* idempotent */
	int64_t v = 1;
	cr_assert_eq(chan_send(x.a, &v), 0);
	tu_join(th);
	cr_assert_eq(chan_unref(x.a), 0);
}

Test(diag, fork_child_lists_only_its_own_threads, .timeout = 30)
{
	struct blocker x = {.a = chan_new(sizeof(int64_t), 0)};
	/* A thread in fiber mode: a fork keeps a parked fiber, not a thread. */
	tu_go_t th = tu_spawn_thread(recv_fn, &x);

	wait_blocked(&x);
	cr_assert_eq(godiag_blocked(), 1);
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		/* Only this thread exists here: nothing is blocked. */
		int bad = godiag_blocked() != 0 || godiag_verify_none(chan_now()) != 0;
		char *j = godiag_dump_json();

		bad |= !j || !strstr(j, "\"count\":0,");
		_exit(bad);
	}
	int st = 0;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %d", st);
	cr_assert_eq(godiag_blocked(), 1); /* the parent's thread is still there */
	int64_t v = 1;
	cr_assert_eq(chan_send(x.a, &v), 0);
	tu_join(th);
	cr_assert_eq(chan_unref(x.a), 0);
}

Test(diag, dump_rejects_null_and_counts_library_threads, .timeout = 30)
{
	cr_assert_eq(godiag_dump(NULL), EINVAL);
	cr_assert_eq(godiag_threads(), 0);
	char *j = godiag_dump_json();
	cr_assert(tj_valid(j), "%s", j);
	cr_assert(strstr(j, "\"threads\":{\"timer\":0,\"afterfunc\":0,\"poller\":0,\"group\":0,"
			    "\"diag\":0,\"fiber\":0,\"total\":0}}"),
		  "%s", j);
	free(j);
	cr_assert(!tj_valid("{\"a\":}"));
	cr_assert(!tj_valid("{\"a\":\"\x01\"}"));
	cr_assert(tj_valid("{\"a\":[1,-2.5e3,true,null,\"\\u00e9\"]}"));
}

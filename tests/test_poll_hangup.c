/*
 * tests/test_poll_hangup.c - gopoll_hangup_ctx(): cancelled with cause
 * GOPOLL_HANGUP when the peer closes (socketpair, TCP), resets (SO_LINGER 0)
 * or half-closes; not by data arriving (which stays readable), nor by our
 * own shutdown; unregistered before ctx_cancel / a parent's cancel / the
 * last release returns; a reused descriptor number gets no stale cancel;
 * argument errors.
 *
 * "Did not fire" is asserted after gopoll__barrier() (poll_internal.h): the
 * poller has then dispatched everything the kernel had queued.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <gochan/time.h>

#include "context/ctx_internal.h"
#include "tests/leakcheck.h"
#include "tests/test_poll_util.h"
#include "tests/testutil.h"

TU_LEAK_CHECKED_SUITE(poll_hangup);

#define HANGUP_OK(c)                                                                               \
	do {                                                                                       \
		cr_assert(tp_wait_done((c), TP_PATIENCE), "not cancelled by the hangup");          \
		cr_assert_eq(ctx_err(c), CTX_CANCELED);                                            \
		cr_assert_eq(ctx_cause((c), NULL), GOPOLL_HANGUP, "cause %d", ctx_cause(c, NULL)); \
	} while (0)

static void pair(int sv[2])
{
	cr_assert(tp_pair(sv), "socketpair: %s", strerror(errno));
}

static void tcp(int *c, int *s)
{
	cr_assert(tp_tcp_pair(c, s), "tcp pair: %s", strerror(errno));
}

static ctx_t *hangup(ctx_t *parent, int fd)
{
	ctx_t *c = gopoll_hangup_ctx(parent, fd);
	cr_assert_not_null(c, "gopoll_hangup_ctx: %s", strerror(errno));
	return c;
}

static void quiet(void)
{
	cr_assert(tp_quiet(TP_PATIENCE), "poller barrier timed out");
}

static void ends(ctx_t *c, int fd)
{
	ctx_cancel_release(c);
	cr_assert_eq(gopoll__registered(), 0, "still registered after ctx_cancel_release");
	if (fd >= 0)
		close(fd);
}

Test(poll_hangup, cause_distinct_and_worded, .timeout = 10)
{
	cr_assert_neq(GOPOLL_HANGUP, CTX_CANCELED);
	cr_assert_neq(GOPOLL_HANGUP, CTX_DEADLINE_EXCEEDED);
	cr_assert_neq(GOPOLL_HANGUP, 0);
	cr_assert_str_eq(gopoll_strerror(GOPOLL_HANGUP), "peer closed connection");
	cr_assert_str_eq(gopoll_strerror(CTX_CANCELED), "context canceled");
	cr_assert_str_eq(gopoll_strerror(CTX_DEADLINE_EXCEEDED), "context deadline exceeded");
}

Test(poll_hangup, socketpair_peer_close, .timeout = 20)
{
	int sv[2];
	pair(sv);
	ctx_t *c = hangup(ctx_background(), sv[0]);
	cr_assert_eq(gopoll__registered(), 1);
	quiet();
	cr_assert_not(tp_done_now(c), "cancelled with the peer still there");
	cr_assert_eq(ctx_err(c), 0);
	close(sv[1]);
	HANGUP_OK(c);
	cr_assert_eq(gopoll__registered(), 0, "a fired hangup is unregistered");
	ends(c, sv[0]);
}

Test(poll_hangup, tcp_peer_close, .timeout = 20)
{
	int cl, sv;
	tcp(&cl, &sv);
	ctx_t *c = hangup(ctx_background(), sv);
	quiet();
	cr_assert_not(tp_done_now(c));
	close(cl);
	HANGUP_OK(c);
	ends(c, sv);
}

Test(poll_hangup, tcp_peer_close_client_side, .timeout = 20)
{
	int cl, sv;
	tcp(&cl, &sv);
	ctx_t *c = hangup(ctx_background(), cl);
	quiet();
	cr_assert_not(tp_done_now(c));
	close(sv);
	HANGUP_OK(c);
	ends(c, cl);
}

Test(poll_hangup, tcp_peer_reset, .timeout = 20)
{
	int cl, sv;
	tcp(&cl, &sv);
	ctx_t *c = hangup(ctx_background(), sv);
	quiet();
	cr_assert_not(tp_done_now(c));
	cr_assert(tp_reset(cl));
	HANGUP_OK(c);
	/* It really was a reset: the error is pending on the socket. */
	char b;
	cr_assert_eq(read(sv, &b, 1), -1);
	cr_assert_eq(errno, ECONNRESET);
	ends(c, sv);
}

Test(poll_hangup, socketpair_peer_reset, .timeout = 20)
{
	int sv[2];
	pair(sv);
	ctx_t *c = hangup(ctx_background(), sv[0]);
	cr_assert(tp_reset(sv[1]));
	HANGUP_OK(c);
	ends(c, sv[0]);
}

/* Half-close is hangup (Go's HTTP/1.1 server cancels on the background
 * read's EOF); what the peer sent before its shutdown is still readable. */
Test(poll_hangup, half_close_is_hangup, .timeout = 20)
{
	int cl, sv;
	tcp(&cl, &sv);
	ctx_t *c = hangup(ctx_background(), sv);
	cr_assert_eq(write(cl, "req", 3), 3);
	cr_assert_eq(shutdown(cl, SHUT_WR), 0);
	HANGUP_OK(c);
	char buf[8];
	cr_assert_eq(read(sv, buf, sizeof buf), 3, "the data before the FIN was consumed");
	cr_assert_eq(memcmp(buf, "req", 3), 0);
	cr_assert_eq(read(sv, buf, sizeof buf), 0);
	/* The half-closed peer still reads what we send. */
	cr_assert_eq(write(sv, "resp", 4), 4);
	cr_assert(tp_wait_done(c, 0));
	ends(c, sv);
	close(cl);

	int p[2];
	pair(p);
	c = hangup(ctx_background(), p[0]);
	cr_assert_eq(shutdown(p[1], SHUT_WR), 0);
	HANGUP_OK(c);
	ends(c, p[0]);
	close(p[1]);
}

/* Our own shutdown of the sending side is no hangup. */
Test(poll_hangup, own_shutdown_is_not_hangup, .timeout = 20)
{
	int cl, sv;
	tcp(&cl, &sv);
	ctx_t *c = hangup(ctx_background(), sv);
	cr_assert_eq(shutdown(sv, SHUT_WR), 0);
	quiet();
	cr_assert_not(tp_done_now(c), "our own SHUT_WR counted as the peer's hangup");
	close(cl);
	HANGUP_OK(c);
	ends(c, sv);
}

/* A local shutdown(SHUT_RD) reads as hangup (documented: the kernel
 * reports it as the peer's would be). */
Test(poll_hangup, own_shut_rd_is_hangup, .timeout = 20)
{
	int cl, sv;
	tcp(&cl, &sv);
	ctx_t *c = hangup(ctx_background(), sv);
	cr_assert_eq(shutdown(sv, SHUT_RD), 0);
	HANGUP_OK(c);
	ends(c, sv);
	close(cl);
}

/* Data arriving (a pipelined request) is no hangup, and the hangup context
 * never reads: every byte is still there for the socket's owner. */
Test(poll_hangup, data_is_not_hangup_and_stays, .timeout = 20)
{
	int cl, sv;
	tcp(&cl, &sv);
	ctx_t *c = hangup(ctx_background(), sv);
	static const char req[] = "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n";
	cr_assert_eq(write(cl, req, sizeof req - 1), (ssize_t)sizeof req - 1);
	/* The data has arrived: a watch made after the write fires on it. */
	gopoll_t *w = gopoll_watch(sv, GOPOLL_READ);
	cr_assert_not_null(w);
	cr_assert(tp_wait_closed(gopoll_chan(w), TP_PATIENCE));
	gopoll_free(w);
	quiet();
	cr_assert_not(tp_done_now(c), "data arriving cancelled the context");
	char buf[sizeof req];
	cr_assert_eq(read(sv, buf, sizeof buf), (ssize_t)sizeof req - 1);
	cr_assert_eq(memcmp(buf, req, sizeof req - 1), 0);
	/* Still watching: the hangup after the data is seen. */
	close(cl);
	HANGUP_OK(c);
	ends(c, sv);
}

Test(poll_hangup, already_gone_is_done_at_once, .timeout = 20)
{
	int sv[2];
	pair(sv);
	close(sv[1]);
	ctx_t *c = hangup(ctx_background(), sv[0]);
	cr_assert(tp_done_now(c), "a peer that already left is not noticed at once");
	cr_assert_eq(ctx_cause(c, NULL), GOPOLL_HANGUP);
	cr_assert_eq(gopoll__registered(), 0);
	ends(c, sv[0]);
}

Test(poll_hangup, cancel_unregisters_before_return, .timeout = 20)
{
	for (int i = 0; i < 200; i++) {
		int sv[2];
		pair(sv);
		ctx_t *c = hangup(ctx_background(), sv[0]);
		cr_assert_eq(gopoll__registered(), 1);
		cr_assert_eq(ctx_cancel(c), 0);
		cr_assert_eq(gopoll__registered(), 0);
		cr_assert_eq(gopoll__entries(), 0);
		cr_assert_eq(ctx_err(c), CTX_CANCELED);
		cr_assert_eq(ctx_cause(c, NULL), CTX_CANCELED,
			     "cancel before hangup keeps its cause");
		/* A hangup after the cancel changes nothing. */
		close(sv[1]);
		quiet();
		cr_assert_eq(ctx_cause(c, NULL), CTX_CANCELED);
		ctx_release(c);
		close(sv[0]);
	}
}

Test(poll_hangup, parent_cancel_unregisters_before_return, .timeout = 20)
{
	int sv[2];
	pair(sv);
	ctx_t *p = ctx_with_cancel(ctx_background());
	ctx_t *v = ctx_with_value(p, &sv, NULL); /* a value context in between */
	ctx_t *c = hangup(v, sv[0]);
	cr_assert_eq(ctx_value(c, &sv), NULL);
	cr_assert_eq(gopoll__registered(), 1);
	cr_assert_eq(ctx_cancel_cause(p, 77, NULL), 0);
	cr_assert_eq(gopoll__registered(), 0, "a parent's cancel left the fd registered");
	cr_assert(tp_done_now(c));
	cr_assert_eq(ctx_cause(c, NULL), 77);
	ends(c, sv[0]);
	close(sv[1]);
	ctx_release(v);
	ctx_cancel_release(p);
}

Test(poll_hangup, parent_already_done, .timeout = 20)
{
	int sv[2];
	pair(sv);
	ctx_t *p = ctx_with_cancel(ctx_background());
	ctx_cancel_cause(p, 42, NULL);
	ctx_t *c = hangup(p, sv[0]);
	cr_assert(tp_done_now(c));
	cr_assert_eq(ctx_cause(c, NULL), 42);
	cr_assert_eq(gopoll__registered(), 0);
	ends(c, sv[0]);
	close(sv[1]);
	ctx_cancel_release(p);
}

Test(poll_hangup, hangup_cancels_descendants, .timeout = 20)
{
	int sv[2];
	pair(sv);
	ctx_t *c = hangup(ctx_background(), sv[0]);
	ctx_t *k = ctx_with_timeout(c, GOTIME_HOUR);
	ctx_t *k2 = ctx_with_cancel(k);
	close(sv[1]);
	cr_assert(tp_wait_done(k2, TP_PATIENCE));
	cr_assert_eq(ctx_cause(k2, NULL), GOPOLL_HANGUP);
	cr_assert_eq(ctx_cause(k, NULL), GOPOLL_HANGUP);
	ctx_cancel_release(k2);
	ctx_cancel_release(k);
	ends(c, sv[0]);
}

/* A thread blocked on Done is woken by the hangup. */
static void *block_on_done(void *p)
{
	ctx_t *c = p;
	int *rc = malloc(sizeof *rc);
	bool ok = true;
	*rc = chan_recv(ctx_done(c), NULL, &ok) == 0 && !ok ? ctx_cause(c, NULL) : -1;
	return rc;
}

Test(poll_hangup, wakes_blocked_thread, .timeout = 20)
{
	int sv[2];
	pair(sv);
	ctx_t *c = hangup(ctx_background(), sv[0]);
	tu_go_t th = tu_spawn(block_on_done, ctx_ref(c));
	close(sv[1]);
	int *rc;
	rc = tu_join(th);
	cr_assert_eq(*rc, GOPOLL_HANGUP);
	free(rc);
	ctx_release(c);
	ends(c, sv[0]);
}

Test(poll_hangup, release_without_cancel_unregisters, .timeout = 20)
{
	int sv[2];
	pair(sv);
	ctx_t *c = hangup(ctx_background(), sv[0]);
	ctx_t *r = ctx_ref(c);
	ctx_release(c);
	cr_assert_eq(gopoll__registered(), 1, "a reference remains: still registered");
	ctx_release(r);
	cr_assert_eq(gopoll__registered(), 0);
	cr_assert_eq(gopoll__entries(), 0);
	close(sv[0]);
	close(sv[1]);
}

/* Put a fresh socket on descriptor number @fd (the number a reused one would
 * get) and return its peer. */
static int reuse_number(int fd)
{
	int p[2];
	pair(p);
	if (p[0] != fd) { /* the kernel may already have picked @fd */
		cr_assert_eq(dup2(p[0], fd), fd);
		close(p[0]);
	}
	cr_assert_neq(p[1], fd);
	return p[1];
}

Test(poll_hangup, reused_number_gets_no_stale_cancel, .timeout = 20)
{
	for (int i = 0; i < 100; i++) {
		int sv[2];
		pair(sv);
		ctx_t *old = hangup(ctx_background(), sv[0]);
		/* The peer leaves and the owner finishes at the same time. */
		close(sv[1]);
		ctx_cancel_release(old);
		close(sv[0]);
		int peer = reuse_number(sv[0]);
		ctx_t *c = hangup(ctx_background(), sv[0]);
		quiet();
		cr_assert_not(tp_done_now(c), "round %d: a stale hangup reached the new socket", i);
		close(peer);
		HANGUP_OK(c);
		ends(c, sv[0]);
	}
}

/* Closing while registered (a caller error): that registration never fires,
 * cancel/release still work, and a new socket on the same number is
 * independent of it. */
Test(poll_hangup, closed_while_registered, .timeout = 20)
{
	int sv[2];
	pair(sv);
	ctx_t *stale = hangup(ctx_background(), sv[0]);
	close(sv[0]); /* the error */
	close(sv[1]);
	int peer = reuse_number(sv[0]);
	ctx_t *c = hangup(ctx_background(), sv[0]);
	quiet();
	cr_assert_not(tp_done_now(stale), "a closed descriptor's registration fired");
	cr_assert_not(tp_done_now(c));
	cr_assert_eq(gopoll__registered(), 1, "the stale registration is dropped");
	close(peer);
	HANGUP_OK(c);
	cr_assert_not(tp_done_now(stale), "the new socket's hangup reached the stale context");
	ends(stale, -1);
	ends(c, sv[0]);
}

Test(poll_hangup, pipe_writers_gone, .timeout = 20)
{
	int p[2];
	cr_assert_eq(pipe(p), 0);
	ctx_t *c = hangup(ctx_background(), p[0]);
	quiet();
	cr_assert_not(tp_done_now(c));
	close(p[1]);
	HANGUP_OK(c);
	ends(c, p[0]);
}

Test(poll_hangup, bad_arguments, .timeout = 20)
{
	int sv[2];
	pair(sv);
	errno = 0;
	cr_assert_null(gopoll_hangup_ctx(NULL, sv[0]));
	cr_assert_eq(errno, EINVAL);
	cr_assert_null(gopoll_hangup_ctx(ctx_background(), -1));
	cr_assert_eq(errno, EBADF);
	close(sv[1]);
	close(sv[0]);
	cr_assert_null(gopoll_hangup_ctx(ctx_background(), sv[0]));
	cr_assert_eq(errno, EBADF);
	FILE *f = tmpfile();
	cr_assert_not_null(f);
	cr_assert_null(gopoll_hangup_ctx(ctx_background(), fileno(f)));
	cr_assert_eq(errno, EPERM, "regular file: %s", strerror(errno));
	fclose(f);
	cr_assert_eq(gopoll__registered(), 0);
	cr_assert_eq(ctx__live(), 0, "a failed constructor leaked its context");
}

Test(poll_hangup, scoped, .timeout = 20)
{
	int sv[2];
	pair(sv);
	{
		CTX_SCOPED ctx_t *c = hangup(ctx_background(), sv[0]);
		cr_assert_eq(gopoll__registered(), 1);
		cr_assert_eq(ctx_err(c), 0);
	}
	cr_assert_eq(gopoll__registered(), 0);
	cr_assert_eq(ctx__live(), 0);
	close(sv[0]);
	close(sv[1]);
}

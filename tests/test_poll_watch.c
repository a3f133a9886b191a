/*
 * tests/test_poll_watch.c - readiness watches: gopoll_watch's channel is
 * closed when the descriptor is ready (read, write, hang-up and error count),
 * in a chan_select beside channels, contexts and timers; the same descriptor
 * watched twice; spurious readiness (a hint: the I/O must be retried);
 * closing while registered; gopoll_free before the event; gopoll_wait; bad
 * arguments.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <gochan/time.h>

#include "tests/leakcheck.h"
#include "tests/test_poll_util.h"

TU_LEAK_CHECKED_SUITE(poll_watch);

static void pair(int sv[2])
{
	cr_assert(tp_pair(sv), "socketpair: %s", strerror(errno));
}

static gopoll_t *watch(int fd, unsigned ev)
{
	gopoll_t *w = gopoll_watch(fd, ev);
	cr_assert_not_null(w, "gopoll_watch: %s", strerror(errno));
	return w;
}

static void quiet(void)
{
	cr_assert(tp_quiet(TP_PATIENCE), "poller barrier timed out");
}

static void fired(gopoll_t *w)
{
	cr_assert(tp_wait_closed(gopoll_chan(w), TP_PATIENCE), "the watch did not fire");
	cr_assert_neq(gopoll_revents(w), 0);
}

/* Fill @fd's send buffer until it would block. */
static void fill(int fd)
{
	static char junk[65536];
	while (write(fd, junk, sizeof junk) > 0)
		;
	cr_assert_eq(errno, EAGAIN);
}

Test(poll_watch, readable, .timeout = 20)
{
	int sv[2];
	pair(sv);
	gopoll_t *w = watch(sv[0], GOPOLL_READ);
	cr_assert_eq(gopoll__registered(), 1);
	quiet();
	cr_assert_not(tp_closed_now(gopoll_chan(w)), "fired with nothing to read");
	cr_assert_eq(gopoll_revents(w), 0);
	cr_assert_eq(write(sv[1], "x", 1), 1);
	fired(w);
	cr_assert_eq(gopoll_revents(w), GOPOLL_READ);
	cr_assert_eq(gopoll__registered(), 0, "a fired watch is unregistered");
	/* Still closed for every later receiver. */
	cr_assert(tp_closed_now(gopoll_chan(w)));
	char b;
	cr_assert_eq(read(sv[0], &b, 1), 1, "the watch consumed data");
	cr_assert_eq(gopoll_free(w), 0);
	close(sv[0]);
	close(sv[1]);
}

Test(poll_watch, writable, .timeout = 20)
{
	int sv[2];
	pair(sv);
	gopoll_t *w = watch(sv[0], GOPOLL_WRITE);
	fired(w);
	cr_assert_eq(gopoll_revents(w), GOPOLL_WRITE);
	gopoll_free(w);

	fill(sv[0]);
	w = watch(sv[0], GOPOLL_WRITE);
	quiet();
	cr_assert_not(tp_closed_now(gopoll_chan(w)), "writable with a full buffer");
	char buf[65536];
	while (read(sv[1], buf, sizeof buf) > 0)
		;
	fired(w);
	cr_assert_eq(gopoll_revents(w) & GOPOLL_WRITE, GOPOLL_WRITE);
	gopoll_free(w);
	close(sv[0]);
	close(sv[1]);
}

Test(poll_watch, read_and_write_interest, .timeout = 20)
{
	int sv[2];
	pair(sv);
	fill(sv[0]);
	gopoll_t *w = watch(sv[0], GOPOLL_READ | GOPOLL_WRITE);
	quiet();
	cr_assert_not(tp_closed_now(gopoll_chan(w)));
	cr_assert_eq(write(sv[1], "x", 1), 1);
	fired(w);
	cr_assert_eq(gopoll_revents(w), GOPOLL_READ, "revents %#x", gopoll_revents(w));
	gopoll_free(w);
	close(sv[0]);
	close(sv[1]);
}

/* Hang-up and errors count as ready, whatever the watch asked for. */
Test(poll_watch, hangup_counts_as_ready, .timeout = 20)
{
	int sv[2];
	pair(sv);
	gopoll_t *r = watch(sv[0], GOPOLL_READ);
	fill(sv[0]);
	gopoll_t *wr = watch(sv[0], GOPOLL_WRITE);
	quiet();
	cr_assert_not(tp_closed_now(gopoll_chan(r)));
	cr_assert_not(tp_closed_now(gopoll_chan(wr)));
	close(sv[1]);
	fired(r);
	fired(wr);
	cr_assert(gopoll_revents(r) & GOPOLL_HUP, "read watch: %#x", gopoll_revents(r));
	cr_assert(gopoll_revents(wr) & GOPOLL_HUP, "write watch: %#x", gopoll_revents(wr));
	char b;
	/* End of file, or a reset: the peer closed with our data unread. */
	ssize_t n = read(sv[0], &b, 1);
	cr_assert(n == 0 || (n == -1 && errno == ECONNRESET), "read %zd: %s", n, strerror(errno));
	gopoll_free(r);
	gopoll_free(wr);
	close(sv[0]);

	int cl, s;
	cr_assert(tp_tcp_pair(&cl, &s));
	r = watch(s, GOPOLL_READ);
	cr_assert(tp_reset(cl));
	fired(r);
	cr_assert(gopoll_revents(r) & (GOPOLL_ERR | GOPOLL_HUP), "reset: %#x", gopoll_revents(r));
	cr_assert_eq(read(s, &b, 1), -1);
	cr_assert_eq(errno, ECONNRESET);
	gopoll_free(r);
	close(s);
}

/* In a select next to a channel, a Done channel and a timer channel. */
Test(poll_watch, select_beside_other_cases, .timeout = 20)
{
	int sv[2];
	pair(sv);
	chan_t *ch = chan_new(sizeof(int), 0);
	ctx_t *c = ctx_with_cancel(ctx_background());
	chan_t *tm = gotime_after(GOTIME_HOUR);
	gopoll_t *w = watch(sv[0], GOPOLL_READ);
	int v;
	int64_t when;
	cr_assert_eq(CHAN_SELECT(CHAN_NOWAIT, CHAN_RECV(ch, &v, NULL),
				 CHAN_RECV(ctx_done(c), NULL, NULL), CHAN_RECV(tm, &when, NULL),
				 CHAN_RECV(gopoll_chan(w), NULL, NULL)),
		     CHAN_DEFAULT);
	cr_assert_eq(write(sv[1], "x", 1), 1);
	int rc = CHAN_SELECT(chan_now() + TP_PATIENCE, CHAN_RECV(ch, &v, NULL),
			     CHAN_RECV(ctx_done(c), NULL, NULL), CHAN_RECV(tm, &when, NULL),
			     CHAN_RECV(gopoll_chan(w), NULL, NULL));
	cr_assert_eq(rc, 3, "select returned %d", rc);
	cr_assert_eq(gopoll_revents(w), GOPOLL_READ);
	/* The watch stays ready: with Done ready too, select picks either. */
	ctx_cancel(c);
	bool seen[2] = {false, false};
	for (int i = 0; i < 200 && !(seen[0] && seen[1]); i++) {
		rc = CHAN_SELECT(CHAN_NOWAIT, CHAN_RECV(ctx_done(c), NULL, NULL),
				 CHAN_RECV(gopoll_chan(w), NULL, NULL));
		cr_assert(rc == 0 || rc == 1);
		seen[rc] = true;
	}
	cr_assert(seen[0] && seen[1], "select is not choosing among ready cases");
	gopoll_free(w);
	chan_unref(tm);
	/* The hour-long After is an orphan now, but it would keep the timer
	 * thread until it fired: shutdown takes orphans out (leak check). */
	cr_assert_eq(gotime_shutdown(), 0);
	ctx_cancel_release(c);
	chan_unref(ch);
	close(sv[0]);
	close(sv[1]);
}

/* The same descriptor watched twice: both fire, independently; freeing one
 * leaves the other. */
Test(poll_watch, same_fd_twice, .timeout = 20)
{
	int sv[2];
	pair(sv);
	gopoll_t *a = watch(sv[0], GOPOLL_READ);
	gopoll_t *b = watch(sv[0], GOPOLL_READ);
	gopoll_t *gone = watch(sv[0], GOPOLL_READ);
	cr_assert_eq(gopoll__registered(), 3);
	cr_assert_eq(gopoll__entries(), 1, "one epoll entry per descriptor");
	cr_assert_eq(gopoll_free(gone), 0);
	cr_assert_eq(gopoll__registered(), 2);
	cr_assert_eq(write(sv[1], "x", 1), 1);
	fired(a);
	fired(b);
	cr_assert_eq(gopoll__entries(), 0);
	gopoll_free(a);
	gopoll_free(b);

	/* A read and a write watch: only the one that is ready fires. */
	fill(sv[0]);
	gopoll_t *r = watch(sv[0], GOPOLL_READ);
	gopoll_t *w = watch(sv[0], GOPOLL_WRITE);
	fired(r); /* the byte written above is still unread */
	quiet();
	cr_assert_not(tp_closed_now(gopoll_chan(w)), "the write watch fired on readability");
	cr_assert_eq(gopoll__registered(), 1);
	char buf[65536];
	while (read(sv[1], buf, sizeof buf) > 0)
		;
	fired(w);
	cr_assert_eq(gopoll_revents(w), GOPOLL_WRITE);
	gopoll_free(r);
	gopoll_free(w);
	close(sv[0]);
	close(sv[1]);
}

/* Readiness is a hint: two watches fire for one byte, the first reader takes
 * it, the second read finds nothing (EAGAIN) and must wait again. */
Test(poll_watch, spurious_readiness, .timeout = 20)
{
	int sv[2];
	pair(sv);
	gopoll_t *a = watch(sv[0], GOPOLL_READ);
	gopoll_t *b = watch(sv[0], GOPOLL_READ);
	cr_assert_eq(write(sv[1], "x", 1), 1);
	fired(a);
	fired(b);
	char c;
	cr_assert_eq(read(sv[0], &c, 1), 1);
	cr_assert_eq(read(sv[0], &c, 1), -1, "b's readiness was stale: nothing left");
	cr_assert_eq(errno, EAGAIN);
	gopoll_free(a);
	gopoll_free(b);
	/* The retry: a new watch waits for the next byte. */
	gopoll_t *again = watch(sv[0], GOPOLL_READ);
	quiet();
	cr_assert_not(tp_closed_now(gopoll_chan(again)));
	cr_assert_eq(write(sv[1], "y", 1), 1);
	fired(again);
	cr_assert_eq(read(sv[0], &c, 1), 1);
	cr_assert_eq(c, 'y');
	gopoll_free(again);
	close(sv[0]);
	close(sv[1]);
}

Test(poll_watch, free_before_fire, .timeout = 20)
{
	int sv[2];
	pair(sv);
	for (int i = 0; i < 500; i++) {
		gopoll_t *w = watch(sv[0], GOPOLL_READ);
		cr_assert_eq(gopoll_free(w), 0);
		cr_assert_eq(gopoll__registered(), 0);
		cr_assert_eq(gopoll__entries(), 0);
	}
	cr_assert_eq(write(sv[1], "x", 1), 1);
	quiet();
	cr_assert_eq(gopoll_free(NULL), 0);
	close(sv[0]);
	close(sv[1]);
}

/* Put a fresh socket on descriptor number @fd and return its peer. */
static int reuse_number(int fd)
{
	int p[2];
	pair(p);
	if (p[0] != fd) {
		cr_assert_eq(dup2(p[0], fd), fd);
		close(p[0]);
	}
	cr_assert_neq(p[1], fd);
	return p[1];
}

/* Closing while registered (a caller error): the stale watch never fires,
 * and a watch on the reused number works independently of it. */
Test(poll_watch, closed_while_registered, .timeout = 20)
{
	int sv[2];
	pair(sv);
	gopoll_t *stale = watch(sv[0], GOPOLL_READ);
	close(sv[0]);
	close(sv[1]);
	int peer = reuse_number(sv[0]);
	gopoll_t *w = watch(sv[0], GOPOLL_READ);
	cr_assert_eq(write(peer, "x", 1), 1);
	fired(w);
	quiet();
	cr_assert_not(tp_closed_now(gopoll_chan(stale)), "a watch on a closed file fired");
	cr_assert_eq(gopoll_revents(stale), 0);
	cr_assert_eq(gopoll_free(stale), 0);
	cr_assert_eq(gopoll_free(w), 0);
	cr_assert_eq(gopoll__registered(), 0);
	close(sv[0]);
	close(peer);
}

Test(poll_watch, listening_socket_accept, .timeout = 20)
{
	int cl, s;
	cr_assert(tp_tcp_pair(&cl, &s)); /* only to check loopback works */
	close(cl);
	close(s);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof a;
	int l = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	cr_assert(l >= 0 && bind(l, (struct sockaddr *)&a, sizeof a) == 0 && listen(l, 4) == 0);
	cr_assert_eq(getsockname(l, (struct sockaddr *)&a, &len), 0);
	gopoll_t *w = watch(l, GOPOLL_READ);
	quiet();
	cr_assert_not(tp_closed_now(gopoll_chan(w)));
	cl = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert_eq(connect(cl, (struct sockaddr *)&a, sizeof a), 0);
	fired(w);
	s = accept(l, NULL, NULL);
	cr_assert(s >= 0);
	gopoll_free(w);
	close(s);
	close(cl);
	close(l);
}

Test(poll_watch, wait, .timeout = 20)
{
	int sv[2];
	unsigned rev = 0;
	pair(sv);
	cr_assert_eq(gopoll_wait(NULL, sv[0], GOPOLL_READ, chan_now() + GOTIME_MILLISECOND, &rev),
		     ETIMEDOUT);
	cr_assert_eq(gopoll_wait(NULL, sv[0], GOPOLL_READ, CHAN_NOWAIT, &rev), ETIMEDOUT);
	cr_assert_eq(gopoll__registered(), 0);
	cr_assert_eq(gopoll_wait(NULL, sv[0], GOPOLL_WRITE, CHAN_FOREVER, &rev), 0);
	cr_assert_eq(rev, GOPOLL_WRITE);
	cr_assert_eq(write(sv[1], "x", 1), 1);
	cr_assert_eq(gopoll_wait(ctx_background(), sv[0], GOPOLL_READ, CHAN_FOREVER, &rev), 0);
	cr_assert_eq(rev, GOPOLL_READ);
	char b;
	cr_assert_eq(read(sv[0], &b, 1), 1);

	ctx_t *c = ctx_with_cancel(ctx_background());
	ctx_cancel(c);
	cr_assert_eq(gopoll_wait(c, sv[0], GOPOLL_READ, CHAN_FOREVER, &rev), CTX_CANCELED);
	ctx_cancel_release(c);
	c = ctx_with_timeout(ctx_background(), GOTIME_MILLISECOND);
	cr_assert_eq(gopoll_wait(c, sv[0], GOPOLL_READ, CHAN_FOREVER, &rev), CTX_DEADLINE_EXCEEDED);
	ctx_cancel_release(c);
	/* A hangup context: the peer's close ends the wait either way. */
	c = gopoll_hangup_ctx(ctx_background(), sv[0]);
	cr_assert_not_null(c);
	close(sv[1]);
	int rc = gopoll_wait(c, sv[0], GOPOLL_READ, chan_now() + TP_PATIENCE, &rev);
	cr_assert(rc == 0 || rc == CTX_CANCELED, "%d", rc);
	ctx_cancel_release(c);
	cr_assert_eq(gopoll__registered(), 0);
	close(sv[0]);
}

Test(poll_watch, bad_arguments, .timeout = 20)
{
	int sv[2];
	pair(sv);
	errno = 0;
	cr_assert_null(gopoll_watch(sv[0], 0));
	cr_assert_eq(errno, EINVAL);
	cr_assert_null(gopoll_watch(sv[0], GOPOLL_HUP));
	cr_assert_eq(errno, EINVAL);
	cr_assert_null(gopoll_watch(sv[0], 0x100 | GOPOLL_READ));
	cr_assert_eq(errno, EINVAL);
	cr_assert_null(gopoll_watch(-1, GOPOLL_READ));
	cr_assert_eq(errno, EBADF);
	close(sv[1]);
	close(sv[0]);
	/* A number above the descriptor limit is never open (a just-closed
	 * one may be reused by the poller's own descriptors). */
	struct rlimit rl;
	cr_assert_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	int never = rl.rlim_cur < (1 << 30) ? (int)rl.rlim_cur + 1 : (1 << 30);
	cr_assert_null(gopoll_watch(never, GOPOLL_READ));
	cr_assert_eq(errno, EBADF, "%s", strerror(errno));
	FILE *f = tmpfile();
	cr_assert_null(gopoll_watch(fileno(f), GOPOLL_READ));
	cr_assert_eq(errno, EPERM);
	fclose(f);
	cr_assert_null(gopoll_chan(NULL));
	cr_assert_eq(gopoll_revents(NULL), 0);
	cr_assert_eq(gopoll_wait(NULL, -1, GOPOLL_READ, CHAN_NOWAIT, NULL), EBADF);
	cr_assert_eq(gopoll__registered(), 0);
	cr_assert_eq(gopoll__entries(), 0);
}

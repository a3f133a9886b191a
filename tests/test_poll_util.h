/*
 * tests/test_poll_util.h - helpers shared by the poll suites
 * (tests/test_poll_*.c), tests/stress/stress_poll.c and bench/poll_bench.c;
 * no Criterion.  Each returns false / -1 on failure so that the caller
 * reports it its own way.
 *
 *   tp_pair(sv)            a non-blocking AF_UNIX stream socketpair
 *   tp_tcp_pair(&c, &s)    a connected non-blocking TCP pair over 127.0.0.1
 *   tp_reset(fd)           close with SO_LINGER 0: the peer gets a RST
 *   tp_wait_done(c, p)     wait (at most p ns) until c's Done is closed
 *   tp_done_now(c)         whether c's Done is closed right now
 *   tp_closed_now(ch)      whether channel ch is closed right now
 *   tp_quiet(p)            barrier: the poller dispatched everything pending
 *   tp_raise_nofile(n)     make sure n descriptors may be open (soft limit
 *                          raised up to the hard one); false if impossible
 */
#ifndef GOCHAN_TESTS_TEST_POLL_UTIL_H
#define GOCHAN_TESTS_TEST_POLL_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gochan/chan.h>
#include <gochan/context.h>
#include <gochan/poll.h>
#include <gochan/select.h>

#include "poll/poll_internal.h"

/* Patience for anything that should happen "soon": generous (shared machine). */
#define TP_PATIENCE ((int64_t)10000000000)

static inline bool tp_pair(int sv[2])
{
	return socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == 0;
}

static inline bool tp_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	return fl >= 0 && fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0;
}

/* A connected TCP pair over loopback: *@c the client end, *@s the accepted
 * server end, both non-blocking.  The listener is closed again. */
static inline bool tp_tcp_pair(int *c, int *s)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof a;
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	*c = *s = -1;
	if (l < 0)
		return false;
	if (bind(l, (struct sockaddr *)&a, sizeof a) || listen(l, 1) ||
	    getsockname(l, (struct sockaddr *)&a, &len))
		goto fail;
	*c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (*c < 0 || connect(*c, (struct sockaddr *)&a, sizeof a))
		goto fail;
	*s = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	if (*s < 0 || !tp_nonblock(*c) || !tp_nonblock(*s))
		goto fail;
	close(l);
	return true;
fail:
	close(l);
	if (*c >= 0)
		close(*c);
	if (*s >= 0)
		close(*s);
	*c = *s = -1;
	return false;
}

/* Close @fd so that its peer receives a reset instead of an orderly FIN. */
static inline bool tp_reset(int fd)
{
	struct linger lg = {.l_onoff = 1, .l_linger = 0};
	bool ok = setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg) == 0;
	return close(fd) == 0 && ok;
}

static inline bool tp_closed_now(chan_t *ch)
{
	bool ok = true;
	return CHAN_SELECT(CHAN_NOWAIT, CHAN_RECV(ch, NULL, &ok)) == 0 && !ok;
}

static inline bool tp_done_now(ctx_t *c)
{
	chan_t *d = ctx_done(c);
	return d && tp_closed_now(d);
}

static inline bool tp_wait_done(ctx_t *c, int64_t patience)
{
	bool ok = true;
	chan_t *d = ctx_done(c);
	return d && chan_recv_until(d, NULL, &ok, chan_now() + patience) == 0 && !ok;
}

static inline bool tp_wait_closed(chan_t *ch, int64_t patience)
{
	bool ok = true;
	return chan_recv_until(ch, NULL, &ok, chan_now() + patience) == 0 && !ok;
}

static inline bool tp_quiet(int64_t patience)
{
	return gopoll__barrier(chan_now() + patience) == 0;
}

static inline bool tp_raise_nofile(rlim_t n)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl))
		return false;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < n) {
		if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < n)
			return false;
		rl.rlim_cur = rl.rlim_max == RLIM_INFINITY ? n : rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl))
			return false;
	}
	return true;
}

#endif

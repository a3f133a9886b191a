/*
 * tests/test_poll_chanfd.c - a channel as a readiness descriptor
 * (gopoll_chanfd_*): the descriptor is readable exactly when a value (or the
 * close) is waiting, values arrive in order and intact, a producer on an
 * unbuffered channel is served one value at a time, the close is final, a
 * borrowed channel (ctx_done) works, and free stops the adapter's thread
 * whatever it is doing.
 *
 * Waiting for readability uses poll(2) with TC_PATIENCE_MS as a failure
 * bound (the event is what the test waits for, never a sleep); "not
 * readable" is checked with a zero timeout right after the state that
 * implies it.
 */
#include <criterion/criterion.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include <gochan.h>

#include "tests/leakcheck.h"
#include "tests/testutil.h"

TU_LEAK_CHECKED_SUITE(poll_chanfd);

#define TC_PATIENCE_MS 20000

static bool readable(gopoll_chanfd_t *a, int timeout_ms)
{
	struct pollfd p = {.fd = gopoll_chanfd_fd(a), .events = POLLIN};
	int n;

	do
		n = poll(&p, 1, timeout_ms);
	while (n < 0 && errno == EINTR);
	cr_assert_geq(n, 0, "poll: %s", strerror(errno));
	return n == 1 && (p.revents & POLLIN);
}

/* Wait until readable (failing the test if it never becomes so), then take
 * what is waiting. */
static void take(gopoll_chanfd_t *a, void *elem, bool *ok)
{
	cr_assert(readable(a, TC_PATIENCE_MS), "the descriptor never became readable");
	cr_assert_eq(gopoll_chanfd_recv(a, elem, ok), 0);
}

struct item {
	int64_t seq;
	char tag[16];
};

Test(poll_chanfd, values_in_order_then_close, .timeout = 30)
{
	chan_t *c = chan_new(sizeof(struct item), 4);
	gopoll_chanfd_t *a = gopoll_chanfd_new(c);
	cr_assert_not_null(a);
	cr_assert_geq(gopoll_chanfd_fd(a), 0);
	struct item it;
	bool ok = false;
	cr_assert_eq(gopoll_chanfd_recv(a, &it, &ok), EAGAIN, "a value before any was sent");

	for (int64_t i = 1; i <= 3; i++) {
		struct item v = {.seq = i};
		snprintf(v.tag, sizeof v.tag, "item-%d", (int)i);
		cr_assert_eq(chan_send(c, &v), 0);
	}
	for (int64_t i = 1; i <= 3; i++) {
		memset(&it, 0, sizeof it);
		take(a, &it, &ok);
		cr_assert(ok);
		cr_assert_eq(it.seq, i);
		char want[16];
		snprintf(want, sizeof want, "item-%d", (int)i);
		cr_assert_str_eq(it.tag, want);
	}
	/* Everything taken, nothing sent: not readable, EAGAIN. */
	cr_assert_not(readable(a, 0), "readable with nothing waiting");
	cr_assert_eq(gopoll_chanfd_recv(a, &it, &ok), EAGAIN);

	/* The close: readable for good, the zero value, ok == false. */
	cr_assert_eq(chan_close(c), 0);
	for (int round = 0; round < 3; round++) {
		memset(&it, 0xff, sizeof it);
		ok = true;
		take(a, &it, &ok);
		cr_assert_not(ok);
		cr_assert_eq(it.seq, 0);
	}
	cr_assert_eq(gopoll_chanfd_free(a), 0);
	cr_assert_eq(chan_unref(c), 0, "the adapter kept a reference");
}

struct producer {
	chan_t *c; /* the producer's own reference */
	int n;
};

static void *produce(void *arg)
{
	struct producer *p = arg;
	for (int i = 1; i <= p->n; i++)
		cr_assert_eq(chan_send(p->c, &i), 0);
	cr_assert_eq(chan_close(p->c), 0);
	chan_unref(p->c);
	return NULL;
}

/* An unbuffered channel: the adapter receives one value at a time, only
 * after the loop took the previous one; nothing is lost or repeated. */
Test(poll_chanfd, unbuffered_producer, .timeout = 60)
{
	chan_t *c = chan_new(sizeof(int), 0);
	gopoll_chanfd_t *a = gopoll_chanfd_new(c);
	cr_assert_not_null(a);
	struct producer p = {.c = chan_ref(c), .n = 2000};
	tu_go_t th = tu_spawn(produce, &p);
	int next = 1, v;
	bool ok = true;
	for (;;) {
		cr_assert(readable(a, TC_PATIENCE_MS));
		int rc = gopoll_chanfd_recv(a, &v, &ok);
		if (rc == EAGAIN)
			continue; /* a readiness for a value already taken (see chanfd.c) */
		cr_assert_eq(rc, 0);
		if (!ok)
			break;
		cr_assert_eq(v, next, "got %d, expected %d", v, next);
		next++;
	}
	cr_assert_eq(next, p.n + 1);
	tu_join(th);
	cr_assert_eq(gopoll_chanfd_free(a), 0);
	cr_assert_eq(chan_unref(c), 0);
}

/* A borrowed channel: a context's Done turns the descriptor readable when
 * the context is cancelled. */
Test(poll_chanfd, ctx_done, .timeout = 30)
{
	ctx_t *ctx = ctx_with_cancel(ctx_background());
	gopoll_chanfd_t *a = gopoll_chanfd_new(ctx_done(ctx));
	cr_assert_not_null(a);
	cr_assert_eq(gopoll_chanfd_recv(a, NULL, NULL), EAGAIN);
	cr_assert_eq(ctx_cancel(ctx), 0);
	bool ok = true;
	take(a, NULL, &ok);
	cr_assert_not(ok);
	/* The adapter's reference keeps Done alive past the context. */
	ctx_release(ctx);
	cr_assert_eq(gopoll_chanfd_recv(a, NULL, &ok), 0);
	cr_assert_eq(gopoll_chanfd_free(a), 0);
}

/* Free stops the adapter's thread whether it waits for a value, holds one
 * nobody took, or has published the close. */
Test(poll_chanfd, free_in_every_state, .timeout = 30)
{
	for (int state = 0; state < 3; state++) {
		chan_t *c = chan_new(sizeof(int64_t), 1);
		gopoll_chanfd_t *a = gopoll_chanfd_new(c);
		cr_assert_not_null(a);
		int64_t v = 7;
		if (state == 1) {
			cr_assert_eq(chan_send(c, &v), 0);
			cr_assert(readable(a, TC_PATIENCE_MS));
		} else if (state == 2) {
			cr_assert_eq(chan_close(c), 0);
			cr_assert(readable(a, TC_PATIENCE_MS));
		}
		cr_assert_eq(gopoll_chanfd_free(a), 0);
		cr_assert_eq(chan_unref(c), 0);
	}
}

Test(poll_chanfd, misuse, .timeout = 10)
{
	errno = 0;
	cr_assert_null(gopoll_chanfd_new(NULL));
	cr_assert_eq(errno, EINVAL);
	cr_assert_eq(gopoll_chanfd_fd(NULL), -1);
	cr_assert_eq(gopoll_chanfd_recv(NULL, NULL, NULL), EINVAL);
	cr_assert_eq(gopoll_chanfd_free(NULL), EINVAL);
}

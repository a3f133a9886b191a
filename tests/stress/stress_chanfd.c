/*
 * tests/stress/stress_chanfd.c - gopoll_chanfd under concurrency, for TSan
 * (the slot's hand-over between the forwarding task and the loop: the state
 * word one way, the `taken` channel the other, poll/chanfd.c) and ASan (free
 * while the forwarder is in any state).
 *
 * Each round: PRODUCERS threads send VALUES values each (producer id and
 * sequence number) on one channel (capacity alternating 0 and 4), then the
 * last one to finish closes it; the main thread is an event loop: poll(2)
 * on the adapter's descriptor, gopoll_chanfd_recv until EAGAIN, until the
 * close.  Checks: every value arrives exactly once and each producer's in
 * order; the close is seen; a readable descriptor with nothing to take is
 * rare but allowed (counted, not failed).  Every few rounds the adapter is
 * freed in the middle of the stream instead (the producers then see their
 * channel closed by the test and stop).  Prints "N passed, N failed" last.
 */
#include <errno.h>
#include <gochan.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../testutil.h"

#define ROUNDS 60
#define PRODUCERS 3
#define VALUES 200

static int passed, failed;

static void check(bool ok, const char *what)
{
	printf("%s %s\n", ok ? "ok  " : "FAIL", what);
	if (ok)
		passed++;
	else
		failed++;
}

struct round {
	chan_t *c;
	atomic_int left; /* producers still sending: the last one closes */
};

struct producer {
	struct round *r;
	chan_t *c; /* this producer's own reference */
	int id;
};

static void *produce(void *arg)
{
	struct producer *p = arg;
	for (int i = 0; i < VALUES; i++) {
		int64_t v = (int64_t)p->id << 32 | i;
		if (chan_send(p->c, &v))
			break; /* closed early by the test: stop */
	}
	/* acq_rel: the last producer's close comes after every send. */
	if (atomic_fetch_sub_explicit(&p->r->left, 1, memory_order_acq_rel) == 1)
		(void)chan_close(p->c); /* EALREADY if the test closed it first */
	chan_unref(p->c);
	return NULL;
}

int main(void)
{
	long bad_order = 0, missing = 0, no_close = 0, spurious = 0, errors = 0;
	int stopped_early = 0;

	for (int round = 0; round < ROUNDS; round++) {
		struct round r = {.c = chan_new(sizeof(int64_t), round % 2 ? 4 : 0)};
		atomic_init(&r.left, PRODUCERS);
		gopoll_chanfd_t *a = gopoll_chanfd_new(r.c);
		if (!r.c || !a) {
			errors++;
			break;
		}
		struct producer ps[PRODUCERS];
		tu_go_t th[PRODUCERS];
		for (int i = 0; i < PRODUCERS; i++) {
			ps[i] = (struct producer){.r = &r, .c = chan_ref(r.c), .id = i};
			th[i] = tu_spawn(produce, &ps[i]);
		}
		bool early = round % 10 == 9; /* free the adapter mid-stream */
		int next[PRODUCERS] = {0};
		long got = 0;
		bool closed = false;
		while (!closed && !(early && got >= VALUES)) {
			struct pollfd pf = {.fd = gopoll_chanfd_fd(a), .events = POLLIN};
			int n = poll(&pf, 1, 20000);
			if (n < 0 && errno == EINTR)
				continue;
			if (n != 1) {
				errors++; /* 20 s without readiness: lost wake-up */
				break;
			}
			int64_t v;
			bool ok;
			int rc, took = 0;
			while ((rc = gopoll_chanfd_recv(a, &v, &ok)) == 0) {
				took++;
				if (!ok) {
					closed = true;
					break;
				}
				int id = (int)(v >> 32), seq = (int)(v & 0xffffffff);
				if (id < 0 || id >= PRODUCERS || seq != next[id])
					bad_order++;
				else
					next[id]++;
				got++;
			}
			if (rc != 0 && rc != EAGAIN)
				errors++;
			if (!took)
				spurious++;
		}
		if (early) {
			stopped_early++;
			if (gopoll_chanfd_free(a))
				errors++;
			(void)chan_close(r.c); /* the producers stop */
		}
		for (int i = 0; i < PRODUCERS; i++)
			tu_join(th[i]);
		if (!early) {
			if (!closed)
				no_close++;
			for (int i = 0; i < PRODUCERS; i++)
				missing += VALUES - next[i];
			if (gopoll_chanfd_free(a))
				errors++;
		}
		if (chan_unref(r.c))
			errors++;
	}
	check(errors == 0, "no unexpected errors (create, poll, recv, free, unref)");
	check(bad_order == 0, "every producer's values in order, none repeated");
	check(missing == 0, "no value lost");
	check(no_close == 0, "the close is seen once the producers are done");
	check(stopped_early > 0, "adapters freed mid-stream");
	printf("info %ld readiness with nothing to take (allowed)\n", spurious);
	check(tu_no_leaks(), "leak check");
	printf("%d passed, %d failed\n", passed, failed);
	return failed != 0;
}

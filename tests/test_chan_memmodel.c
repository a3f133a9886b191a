/*
 * tests/test_chan_memmodel.c - Go's memory model for channels
 * (https://go.dev/ref/mem#chan, gochan/chan.h "Memory model"), checked with
 * plain (non-atomic) data guarded only by the channel:
 *   1. a send happens before the matching receive completes;
 *   2. a close happens before a receive that returns because of it;
 *   3. on an unbuffered channel a receive happens before the matching send
 *      completes;
 *   4. the k-th receive on a channel of capacity C happens before the
 *      (k+C)-th send completes (a channel used as a counting semaphore).
 * On x86 these mostly check the compiler barriers; the same patterns run
 * under ThreadSanitizer in tests/stress/stress_chan.c, which checks them for
 * every architecture's rules.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <gochan/chan.h>
#include <sched.h>
#include <stdlib.h>

#include "tests/leakcheck.h"
#include "testutil.h"

TU_LEAK_CHECKED_SUITE(chan_memmodel);

#define ROUNDS 5000
#define PAYLOAD 16

struct msg {
	long seq;
	long data[PAYLOAD];
};

/* 1: the sender fills a heap object with plain stores and sends only the
 * pointer; the receiver must see every store. */
struct r1 {
	chan_t *c;
	int bad;
};
static void *r1_producer(void *p)
{
	struct r1 *a = p;
	for (long i = 0; i < ROUNDS; i++) {
		struct msg *m = malloc(sizeof *m);
		m->seq = i;
		for (int j = 0; j < PAYLOAD; j++)
			m->data[j] = i * 100 + j;
		if (chan_send(a->c, &m)) {
			free(m);
			a->bad++;
		}
	}
	return NULL;
}
/* How many of message @i's fields do not hold what r1_producer wrote. */
static int msg_stale(const struct msg *m, long i)
{
	int stale = m->seq != i;
	for (int j = 0; j < PAYLOAD; j++)
		stale += m->data[j] != i * 100 + j;
	return stale;
}
static void send_before_recv(size_t cap)
{
	chan_t *c = chan_new(sizeof(struct msg *), cap);
	struct r1 a = {c, 0};
	tu_go_t th = tu_spawn(r1_producer, &a);
	int bad = 0;
	for (long i = 0; i < ROUNDS; i++) {
		struct msg *m = NULL;
		cr_assert_eq(chan_recv(c, &m, NULL), 0);
		bad += msg_stale(m, i);
		free(m);
	}
	tu_join(th);
	cr_assert_eq(a.bad, 0);
	cr_assert_eq(bad, 0, "cap %zu: %d stale reads", cap, bad);
	cr_assert_eq(chan_unref(c), 0);
}
Test(chan_memmodel, send_hb_recv_unbuffered, .timeout = 20)
{
	send_before_recv(0);
}
Test(chan_memmodel, send_hb_recv_cap1, .timeout = 20)
{
	send_before_recv(1);
}
Test(chan_memmodel, send_hb_recv_cap8, .timeout = 20)
{
	send_before_recv(8);
}

/* 2: plain write, then close; a receiver that sees ok=false sees the write. */
struct r2 {
	chan_t *c;
	long x;
};
static void *r2_closer(void *p)
{
	struct r2 *a = p;
	a->x = 42;
	chan_close(a->c);
	return NULL;
}
Test(chan_memmodel, close_hb_recv_closed, .timeout = 20)
{
	for (int i = 0; i < ROUNDS; i++) {
		chan_t *c = chan_new(0, (size_t)(i % 2));
		struct r2 a = {.c = c, .x = 0};
		tu_go_t th = tu_spawn(r2_closer, &a);
		bool ok = true;
		int rc = i % 3 == 0 ? chan_recv(c, NULL, &ok)
				    : chan_recv_until(c, NULL, &ok, CHAN_FOREVER);
		cr_assert_eq(rc, 0);
		cr_assert_not(ok);
		cr_assert_eq(a.x, 42, "round %d: close not visible", i);
		tu_join(th);
		cr_assert_eq(chan_unref(c), 0);
	}
}
/* Same through the non-blocking receive's lock-free "closed" path. */
Test(chan_memmodel, close_hb_try_recv_closed, .timeout = 20)
{
	for (int i = 0; i < ROUNDS; i++) {
		chan_t *c = chan_new(sizeof(int), (size_t)(i % 2));
		struct r2 a = {.c = c, .x = 0};
		tu_go_t th = tu_spawn(r2_closer, &a);
		bool ok = true;
		int v, rc;
		while ((rc = chan_try_recv(c, &v, &ok)) == EAGAIN)
			tu_yield(); /* 2 shared cores: let the closer run */
		cr_assert_eq(rc, 0);
		cr_assert_not(ok);
		cr_assert_eq(a.x, 42, "round %d: close not visible", i);
		tu_join(th);
		cr_assert_eq(chan_unref(c), 0);
	}
}

/* 3 and 4: the receiver marks slot k, then does its k-th receive.  With
 * capacity C (0: unbuffered), once the sender's (k+C)-th send has completed
 * the k-th receive has happened before it, so slot k must be marked.  On an
 * unbuffered channel that is the receive of the very value sent (3); with
 * C > 0 the channel is a counting semaphore (4). */
struct r3 {
	chan_t *c;
	long slot[ROUNDS];
};
static void *r3_receiver(void *p)
{
	struct r3 *a = p;
	for (int k = 0; k < ROUNDS; k++) {
		a->slot[k] = k + 1;
		if (chan_recv(a->c, NULL, NULL))
			break;
	}
	return NULL;
}
static void recv_hb_send_completes(size_t cap)
{
	struct r3 *a = calloc(1, sizeof *a);
	a->c = chan_new(sizeof(int), cap);
	tu_go_t th = tu_spawn(r3_receiver, a);
	int bad = 0;
	/* Sends are numbered from 0 like the receives: send number k+C can
	 * only complete after receive number k. */
	for (int s = 0; s < ROUNDS; s++) {
		cr_assert_eq(chan_send(a->c, &s), 0);
		int k = s - (int)cap;
		if (k >= 0 && a->slot[k] != k + 1)
			bad++;
	}
	tu_join(th);
	cr_assert_eq(bad, 0);
	cr_assert_eq(chan_unref(a->c), 0);
	free(a);
}
Test(chan_memmodel, unbuffered_recv_hb_send_completes, .timeout = 20)
{
	recv_hb_send_completes(0);
}
#define SEM_C 3
Test(chan_memmodel, kth_recv_hb_k_plus_c_send, .timeout = 20)
{
	recv_hb_send_completes(SEM_C);
}

/*
 * The lock-free non-blocking paths must give the same edges: a value taken
 * by chan_try_recv carries the sender's prior writes.
 */
Test(chan_memmodel, try_recv_sees_payload, .timeout = 20)
{
	chan_t *c = chan_new(sizeof(struct msg *), 4);
	struct r1 a = {c, 0};
	tu_go_t th = tu_spawn(r1_producer, &a);
	int bad = 0;
	for (long i = 0; i < ROUNDS;) {
		struct msg *m = NULL;
		int rc = chan_try_recv(c, &m, NULL);
		if (rc == EAGAIN) {
			tu_yield();
			continue;
		}
		cr_assert_eq(rc, 0);
		bad += msg_stale(m, i);
		free(m);
		i++;
	}
	tu_join(th);
	cr_assert_eq(bad, 0);
	cr_assert_eq(chan_unref(c), 0);
}

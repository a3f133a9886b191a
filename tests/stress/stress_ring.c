/*
 * tests/stress/stress_ring.c - the buffered channel's lock-free ring
 * (chan/array.h) across the wrap-around of its 63-bit positions, and under
 * every mix of lock-free and locked operations.
 *
 * Each round takes a fresh channel of capacity 1, 2, 3, 5, 8 or 64, starts its
 * positions a few hundred laps before 2^63 (chan__ring_test_start, test-only),
 * and then:
 *   1. single thread: fills and drains it across the wrap, checking FIFO
 *      order, len(), EAGAIN on full/empty (chan_try_* and one-case selects
 *      with default), no EAGAIN with room or a value, and that the
 *      positions did wrap;
 *   2. P producers and P consumers, each doing a random mix of blocking,
 *      non-blocking, deadline and select (with an idle second case)
 *      operations, so that waiters queue and the ring's bits go on and off
 *      all the time: every value is received exactly once, and each
 *      consumer sees each producer's values in increasing order (FIFO);
 *   3. close with values still buffered and senders parked: the buffered
 *      values are drained, then zero values; parked senders get EPIPE.
 * Prints "N passed, N failed" last, like every stress program.
 */
#include <errno.h>
#include <gochan/chan.h>
#include <gochan/select.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../testutil.h"
#include "chan/array.h"

static int passed, failed;

#define CHECK(cond)                                                                              \
	do {                                                                                     \
		if (!(cond)) {                                                                   \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			return false;                                                            \
		}                                                                                \
	} while (0)

static uint64_t head_pos(chan_t *c)
{
	return atomic_load(&c->ring->head) >> 1;
}

/* 1. One thread, across the wrap. */
static bool single(size_t cap)
{
	chan_t *c = chan_new(sizeof(uint64_t), cap);
	CHECK(c && c->ring);
	CHECK(chan__ring_test_start(c, 200 * c->one_lap) == 0);
	uint64_t start = head_pos(c), next_in = 0, next_out = 0, v;
	bool ok, wrapped = false;
	for (int round = 0; round < 1000; round++) {
		size_t k = (size_t)(round % 3 == 0 ? cap : 1 + (size_t)round % cap);
		for (size_t i = 0; i < k; i++, next_in++)
			CHECK(chan_send(c, &next_in) == 0);
		CHECK(chan_len(c) == k);
		if (k == cap) {
			/* Full: the non-blocking sends' load-only reject
			 * (chan__ring_send_rejects), also as a one-case select. */
			CHECK(chan_try_send(c, &v) == EAGAIN);
			CHECK(CHAN_SELECT(CHAN_NOWAIT, CHAN_SEND(c, &v, NULL)) == CHAN_DEFAULT);
		} else {
			/* Room: the reject must not refuse it (received below). */
			CHECK(CHAN_SELECT(CHAN_NOWAIT, CHAN_SEND(c, &next_in, NULL)) == 0);
			CHECK(chan_len(c) == k + 1);
			next_in++;
			k++;
		}
		for (size_t i = 0; i < k; i++) {
			/* Every other one non-blocking: a value there is never
			 * refused (chan__ring_recv_rejects). */
			CHECK((i % 2 ? chan_try_recv(c, &v, &ok) : chan_recv(c, &v, &ok)) == 0 &&
			      ok && v == next_out);
			next_out++;
		}
		CHECK(chan_len(c) == 0);
		CHECK(chan_try_recv(c, &v, &ok) == EAGAIN);
		CHECK(CHAN_SELECT(CHAN_NOWAIT, CHAN_RECV(c, &v, &ok)) == CHAN_DEFAULT);
		wrapped |= head_pos(c) < start;
	}
	CHECK(wrapped);
	CHECK(chan_unref(c) == 0);
	return true;
}

/* 2. P producers, P consumers, every kind of operation. */
#define P 3
#define PER 20000

struct mix {
	chan_t *c, *idle;
	atomic_int next_producer, next_consumer;
	atomic_long received;
	atomic_llong sum;
	atomic_bool bad;
};

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void *producer(void *arg)
{
	struct mix *m = arg;
	uint64_t id = (uint64_t)atomic_fetch_add(&m->next_producer, 1);
	uint64_t s = 0x9E3779B97F4A7C15ull * (id + 1);
	for (uint64_t i = 0; i < PER; i++) {
		uint64_t v = id << 32 | i;
		for (;;) {
			int rc;
			switch (rnd(&s) % 4) {
			case 0:
				rc = chan_send(m->c, &v);
				break;
			case 1:
				rc = chan_try_send(m->c, &v);
				break;
			case 2:
				rc = chan_send_until(m->c, &v, chan_deadline_in(20000));
				break;
			default:
				rc = CHAN_SELECT(chan_deadline_in(20000), CHAN_SEND(m->c, &v, NULL),
						 CHAN_RECV(m->idle, NULL, NULL));
				rc = rc == 0 ? 0 : rc == CHAN_TIMEOUT ? ETIMEDOUT : rc;
				break;
			}
			if (rc == 0)
				break;
			if (rc != EAGAIN && rc != ETIMEDOUT) {
				atomic_store(&m->bad, true);
				return NULL;
			}
		}
	}
	return NULL;
}

static void *consumer(void *arg)
{
	struct mix *m = arg;
	uint64_t id = (uint64_t)atomic_fetch_add(&m->next_consumer, 1);
	uint64_t s = 0xD1B54A32D192ED03ull * (id + 7);
	uint64_t last[P];
	long got = 0;
	long long sum = 0;
	memset(last, 0xff, sizeof last);
	for (;;) {
		uint64_t v;
		bool ok = true;
		int rc;
		switch (rnd(&s) % 4) {
		case 0:
			rc = chan_recv(m->c, &v, &ok);
			break;
		case 1:
			rc = chan_try_recv(m->c, &v, &ok);
			break;
		case 2:
			rc = chan_recv_until(m->c, &v, &ok, chan_deadline_in(20000));
			break;
		default:
			rc = CHAN_SELECT(chan_deadline_in(20000), CHAN_RECV(m->idle, NULL, NULL),
					 CHAN_RECV(m->c, &v, &ok));
			rc = rc == 1 ? 0 : rc == CHAN_TIMEOUT ? ETIMEDOUT : rc == 0 ? EPROTO : rc;
			break;
		}
		if (rc == EAGAIN || rc == ETIMEDOUT)
			continue;
		if (rc != 0) {
			atomic_store(&m->bad, true);
			break;
		}
		if (!ok)
			break; /* closed and drained */
		uint64_t p = v >> 32, i = v & 0xffffffffu;
		/* FIFO: each producer's values reach each consumer in order. */
		if (p >= P || (last[p] != UINT64_MAX && i <= last[p])) {
			atomic_store(&m->bad, true);
			break;
		}
		last[p] = i;
		got++;
		sum += (long long)i;
	}
	atomic_fetch_add(&m->received, got);
	atomic_fetch_add(&m->sum, sum);
	return NULL;
}

static bool mix(size_t cap)
{
	struct mix m = {0};
	tu_go_t th[2 * P];
	m.c = chan_new(sizeof(uint64_t), cap);
	m.idle = chan_new(sizeof(uint64_t), 0);
	CHECK(m.c && m.idle && m.c->ring);
	CHECK(chan__ring_test_start(m.c, 20 * m.c->one_lap) == 0);
	uint64_t start = head_pos(m.c);
	for (int i = 0; i < P; i++) {
		th[i] = tu_spawn(producer, &m);
		th[P + i] = tu_spawn(consumer, &m);
	}
	for (int i = 0; i < P; i++)
		tu_join(th[i]);
	CHECK(chan_close(m.c) == 0);
	for (int i = P; i < 2 * P; i++)
		tu_join(th[i]);
	CHECK(!atomic_load(&m.bad));
	CHECK(atomic_load(&m.received) == (long)P * PER);
	CHECK(atomic_load(&m.sum) == (long long)P * ((long long)PER * (PER - 1) / 2));
	CHECK(head_pos(m.c) < start); /* the positions wrapped */
	CHECK(chan_len(m.c) == 0);
	CHECK(chan_unref(m.c) == 0 && chan_unref(m.idle) == 0);
	return true;
}

/* 3. Close with a full ring and parked senders. */
struct parked {
	chan_t *c;
	int rc;
};

static void *parked_sender(void *arg)
{
	struct parked *p = arg;
	uint64_t v = 999;
	p->rc = chan_send(p->c, &v);
	return NULL;
}

static bool close_full(size_t cap)
{
	chan_t *c = chan_new(sizeof(uint64_t), cap);
	CHECK(c);
	CHECK(chan__ring_test_start(c, 2 * c->one_lap) == 0);
	for (uint64_t i = 0; i < cap; i++)
		CHECK(chan_send(c, &i) == 0);
	struct parked p[2] = {{c, -1}, {c, -1}};
	tu_go_t th[2];
	for (int i = 0; i < 2; i++)
		th[i] = tu_spawn(parked_sender, &p[i]);
	/* Wait until both are queued (no sleeps: the queue count is the signal). */
	while (atomic_load(&c->nsendq) < 2)
		tu_yield();
	CHECK(chan_close(c) == 0);
	for (int i = 0; i < 2; i++) {
		tu_join(th[i]);
		CHECK(p[i].rc == EPIPE);
	}
	uint64_t v;
	bool ok;
	for (uint64_t i = 0; i < cap; i++)
		CHECK(chan_recv(c, &v, &ok) == 0 && ok && v == i);
	CHECK(chan_recv(c, &v, &ok) == 0 && !ok && v == 0);
	CHECK(chan_try_recv(c, &v, &ok) == 0 && !ok);
	CHECK(chan_try_send(c, &v) == EPIPE);
	CHECK(chan_unref(c) == 0);
	return true;
}

static void record(const char *what, size_t cap, bool ok)
{
	if (ok) {
		passed++;
	} else {
		failed++;
		fprintf(stderr, "FAIL %s cap=%zu\n", what, cap);
	}
}

int main(void)
{
	static const size_t caps[] = {1, 2, 3, 5, 8, 64};
	chan_t *probe = chan_new(8, 1);
	if (!probe || !probe->ring) {
		/* Built with -DGOCHAN_RING=0: nothing to test here. */
		printf("ring disabled\n0 passed, 0 failed\n");
		return probe ? chan_unref(probe) : 1;
	}
	chan_unref(probe);
	for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++) {
		record("single", caps[i], single(caps[i]));
		record("mix", caps[i], mix(caps[i]));
		record("close_full", caps[i], close_full(caps[i]));
	}
	record("leak check", 0, tu_no_leaks());
	printf("%d passed, %d failed\n", passed, failed);
	return failed != 0;
}

/*
 * tests/stress/stress_nbselect.c - a non-blocking select must not answer
 * "default" while one of its cases is ready at every instant (Go's
 * TestNonblockSelectRace, made continuous).  select.c proves "none ready"
 * without locks by a double collect of version words (select_none_ready);
 * this program is what fails if that proof is wrong.
 *
 * Two ring channels A and B of capacity TOKENS hold TOKENS tokens between
 * them.  A mover thread keeps moving tokens from one channel to the other
 * (a blocking two-case select receive, then a send into the other channel),
 * so the contents keep sliding from all-in-A to all-in-B and back.
 *   recv round: selector threads run `select { case <-A: case <-B: default: }`
 *     and put a token they win back into either channel.  At most
 *     HOLDERS threads hold a token at any instant and TOKENS > HOLDERS, so a
 *     channel is non-empty at every instant: "default" is a failure.
 *   send round: the selectors run `select { case A <- t: case B <- t:
 *     default: }` and take a token back out of either channel.  The
 *     channels never hold more than TOKENS + SELECTORS < 2 * TOKENS tokens, so
 *     one has room at every instant: "default" is a failure.
 * Afterwards exactly TOKENS tokens are left.  Prints "N passed, N failed".
 */
#include <gochan/chan.h>
#include <gochan/select.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "../testutil.h"
#include "stress_check.h"

#define SELECTORS 2
#define HOLDERS (SELECTORS + 1) /* the selectors and the mover */
#define TOKENS (HOLDERS + 1)
#define SELECTS 100000

struct round {
	chan_t *ch[2];
	bool send; /* the selectors' cases are sends */
	atomic_bool stop;
	atomic_long defaults, fired;
};

static void *mover(void *arg)
{
	struct round *r = arg;
	long t;

	/* relaxed: the flag only ends the loop; the joins order the rest. */
	while (!atomic_load_explicit(&r->stop, memory_order_relaxed)) {
		int k = CHAN_SELECT(chan_now() + 10 * 1000 * 1000, CHAN_RECV(r->ch[0], &t, NULL),
				    CHAN_RECV(r->ch[1], &t, NULL));
		if (k == CHAN_TIMEOUT)
			continue; /* selectors hold every token for a moment */
		CHECK(k == 0 || k == 1, "mover select returned %d", k);
		if (k != 0 && k != 1)
			break;
		CHECK(chan_send(r->ch[1 - k], &t) == 0, "mover send");
	}
	return NULL;
}

static void *selector(void *arg)
{
	struct round *r = arg;
	long t = 1, back;
	long defaults = 0, fired = 0;

	for (int i = 0; i < SELECTS; i++) {
		/* Non-blocking selects never park: as fibers, let the mover run. */
		if (i % 64 == 0)
			tu_fiber_yield();
		int k = r->send ? CHAN_SELECT(CHAN_NOWAIT, CHAN_SEND(r->ch[0], &t, NULL),
					      CHAN_SEND(r->ch[1], &t, NULL))
				: CHAN_SELECT(CHAN_NOWAIT, CHAN_RECV(r->ch[0], &t, NULL),
					      CHAN_RECV(r->ch[1], &t, NULL));
		if (k == CHAN_DEFAULT) {
			defaults++;
			continue;
		}
		fired++;
		CHECK(k == 0 || k == 1, "selector select returned %d", k);
		if (k != 0 && k != 1)
			break;
		/* Undo what the case did, on whichever channel can take it (the
		 * mover may have moved the token on: waiting on one channel only
		 * could deadlock with a mover waiting on the other). */
		int u = r->send ? CHAN_SELECT(CHAN_FOREVER, CHAN_RECV(r->ch[0], &back, NULL),
					      CHAN_RECV(r->ch[1], &back, NULL))
				: CHAN_SELECT(CHAN_FOREVER, CHAN_SEND(r->ch[0], &t, NULL),
					      CHAN_SEND(r->ch[1], &t, NULL));
		CHECK(u == 0 || u == 1, "undo select returned %d", u);
	}
	atomic_fetch_add_explicit(&r->defaults, defaults, memory_order_relaxed);
	atomic_fetch_add_explicit(&r->fired, fired, memory_order_relaxed);
	return NULL;
}

static void run(bool send)
{
	struct round r = {.send = send};
	tu_go_t mv, sel[SELECTORS];
	long t = 1;

	for (int k = 0; k < 2; k++) {
		r.ch[k] = chan_new(sizeof(long), TOKENS);
		CHECK(r.ch[k] != NULL, "chan_new");
	}
	for (int i = 0; i < TOKENS; i++)
		CHECK(chan_send(r.ch[0], &t) == 0, "initial token");
	atomic_init(&r.stop, false);
	atomic_init(&r.defaults, 0);
	atomic_init(&r.fired, 0);
	mv = tu_spawn(mover, &r);
	for (int i = 0; i < SELECTORS; i++)
		sel[i] = tu_spawn(selector, &r);
	for (int i = 0; i < SELECTORS; i++)
		tu_join(sel[i]);
	atomic_store_explicit(&r.stop, true, memory_order_relaxed);
	tu_join(mv);

	long defaults = atomic_load_explicit(&r.defaults, memory_order_relaxed);
	long fired = atomic_load_explicit(&r.fired, memory_order_relaxed);
	CHECK(defaults == 0,
	      "%s round: %ld of %ld non-blocking selects said default while a case "
	      "was ready throughout",
	      send ? "send" : "recv", defaults, defaults + fired);
	CHECK(chan_len(r.ch[0]) + chan_len(r.ch[1]) == TOKENS, "tokens left: %zu + %zu",
	      chan_len(r.ch[0]), chan_len(r.ch[1]));
	printf("%s round: %ld selects fired, %ld said default\n", send ? "send" : "recv", fired,
	       defaults);
	for (int k = 0; k < 2; k++)
		CHECK(chan_unref(r.ch[k]) == 0, "unref");
}

int main(void)
{
	for (int rep = 0; rep < 3; rep++) {
		run(false);
		run(true);
	}
	tu_no_leaks();
	printf("%ld passed, %ld failed\n", atomic_load(&passed), atomic_load(&failed));
	return atomic_load(&failed) ? 1 : 0;
}

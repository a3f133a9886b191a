/*
 * tests/stress/stress_diag.c - threads block and unblock in every kind of
 * gochan operation, on channels created and freed all the time, while other
 * threads dump the registry in a loop (text, JSON, counts).  Under ASan a
 * dumper that read a channel or a case array after its thread had left the
 * operation would be a use-after-free; under TSan a missing ordering of the
 * registry protocol (wait/record.c) would be a data race.
 *
 * Workers, per pair, each round: the owner makes a fresh unbuffered channel,
 * hands a reference to its partner through a long-lived buffered control
 * channel, and sends on it (blocking until the partner receives); the
 * partner receives, alternating a plain receive, a select with a never-ready
 * second case, and a one-case select, then drops its reference and acks;
 * the owner drops the last reference after the ack, right after leaving its
 * operation.  Other threads time out on purpose (the abandon path), or sit
 * in select {} with short deadlines.
 *
 * Checks: every value arrives exactly once; every dump succeeds and every
 * JSON dump is valid JSON; at the end nothing is blocked and the leak check
 * passes.  Prints "N passed, N failed" last.
 */
#include <gochan/chan.h>
#include <gochan/diag.h>
#include <gochan/select.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../test_diag_util.h"
#include "../testutil.h"

#define PAIRS 3
#define ROUNDS 3000
#define DUMPERS 2

static atomic_bool stop;
static atomic_long dumps, bad_dumps, bad_values, timeouts;
static atomic_long bad_kind[3]; /* bad dumps by kind: text, JSON, blocked count */
static long dumps_before;       /* dumps taken before the pairs started */
static int passed, failed;

static void check(bool ok, const char *what)
{
	printf("%s %s\n", ok ? "ok  " : "FAIL", what);
	if (ok)
		passed++;
	else
		failed++;
}

struct pair {
	chan_t *ctl;  /* owner -> partner: the round's channel (cap 1) */
	chan_t *ack;  /* partner -> owner (cap 1) */
	chan_t *idle; /* never ready: the select's second case */
	long got;
};

static void *owner(void *p)
{
	struct pair *pr = p;

	for (long r = 0; r < ROUNDS; r++) {
		chan_t *c = chan_new(sizeof(long), 0);
		chan_t *ref;
		bool ok;

		if (!c)
			abort();
		ref = chan_ref(c);
		if (chan_send(pr->ctl, &ref) || chan_send(c, &r) || chan_recv(pr->ack, NULL, &ok) ||
		    !ok)
			atomic_fetch_add(&bad_values, 1);
		if (chan_unref(c)) /* the last reference, just after our send */
			atomic_fetch_add(&bad_values, 1);
	}
	return NULL;
}

static void *partner(void *p)
{
	struct pair *pr = p;

	for (long r = 0; r < ROUNDS; r++) {
		chan_t *c;
		long v = -1;
		bool ok = false;

		if (chan_recv(pr->ctl, &c, &ok) || !ok) {
			atomic_fetch_add(&bad_values, 1);
			return NULL;
		}
		/* Midway, with the owner sending (blocked, or about to block),
		 * wait for DUMPERS dumps taken since the pairs started: however
		 * fast the pairs are, their run overlaps dumps. */
		if (r == ROUNDS / 2)
			while (atomic_load(&dumps) < dumps_before + DUMPERS)
				tu_yield();
		switch (r % 3) {
		case 0:
			if (chan_recv(c, &v, &ok) || !ok)
				v = -1;
			break;
		case 1: {
			chan_case_t cs[2] = {
				{.chan = pr->idle, .op = CHAN_OP_RECV},
				{.chan = c, .op = CHAN_OP_RECV, .elem = &v, .ok = &ok}};
			if (chan_select(cs, 2, CHAN_FOREVER) != 1 || !ok)
				v = -1;
			break;
		}
		default: {
			chan_case_t cs[2] = {
				{.chan = NULL, .op = CHAN_OP_SEND},
				{.chan = c, .op = CHAN_OP_RECV, .elem = &v, .ok = &ok}};
			if (chan_select(cs, 2, CHAN_FOREVER) != 1 || !ok)
				v = -1;
			break;
		}
		}
		if (v != r)
			atomic_fetch_add(&bad_values, 1);
		pr->got++;
		chan_unref(c);
		if (chan_send(pr->ack, NULL))
			atomic_fetch_add(&bad_values, 1);
	}
	return NULL;
}

/* Parks that end by their deadline: receive, select, and select {}. */
static void *timeouter(void *unused)
{
	(void)unused;
	for (long r = 0; !atomic_load_explicit(&stop, memory_order_relaxed); r++) {
		chan_t *c = chan_new(8, r % 2);
		int64_t d = chan_now() + 20000 + (r % 5) * 20000;
		char buf[8];

		if (!c)
			abort();
		if (r % 3 == 0) {
			if (chan_recv_until(c, buf, NULL, d) == ETIMEDOUT)
				atomic_fetch_add(&timeouts, 1);
		} else if (r % 3 == 1) {
			chan_t *c2 = chan_new(0, 0);
			chan_case_t cs[2] = {{.chan = c, .op = CHAN_OP_RECV, .elem = buf},
					     {.chan = c2, .op = CHAN_OP_SEND}};
			if (chan_select(cs, 2, d) == CHAN_TIMEOUT)
				atomic_fetch_add(&timeouts, 1);
			chan_unref(c2);
		} else if (chan_select(NULL, 0, d) == CHAN_TIMEOUT) {
			atomic_fetch_add(&timeouts, 1);
		}
		chan_unref(c); /* right after the operation returned */
	}
	return NULL;
}

static void *dumper(void *arg)
{
	FILE *null = fopen("/dev/null", "w");

	for (long k = (long)(intptr_t)arg; !atomic_load_explicit(&stop, memory_order_relaxed);
	     k++) {
		bool ok = true;

		if (k % 3 == 0) {
			ok = null && godiag_dump(null) == 0;
		} else if (k % 3 == 1) {
			char *j = godiag_dump_json();

			ok = j && tj_valid(j);
			free(j);
		} else {
			/* Each pair's two goroutines and the timeouter; in fiber
			 * mode also main's tu_join, a gofiber_group_wait, which
			 * parks through the wait layer and is listed like any
			 * blocked operation (pthread_join on threads is not). */
			ok = godiag_blocked() <= 2 * PAIRS + 1 + (tu_fiber_mode() ? 1 : 0);
		}
		atomic_fetch_add(&dumps, 1);
		if (!ok) {
			atomic_fetch_add(&bad_dumps, 1);
			atomic_fetch_add(&bad_kind[k % 3], 1);
		}
		tu_fiber_yield(); /* a dump never parks: as fibers, let the pairs run */
	}
	if (null)
		fclose(null);
	return NULL;
}

int main(void)
{
	struct pair pr[PAIRS];
	tu_go_t own[PAIRS], par[PAIRS], dmp[DUMPERS], tmo;
	int64_t t0 = chan_now();

	for (int i = 0; i < PAIRS; i++) {
		pr[i] = (struct pair){.ctl = chan_new(sizeof(chan_t *), 1),
				      .ack = chan_new(0, 1),
				      .idle = chan_new(0, 0)};
		if (!pr[i].ctl || !pr[i].ack || !pr[i].idle)
			abort();
	}
	for (int i = 0; i < DUMPERS; i++)
		dmp[i] = tu_spawn(dumper, (void *)(intptr_t)i);
	tmo = tu_spawn(timeouter, NULL);
	dumps_before = atomic_load(&dumps);
	for (int i = 0; i < PAIRS; i++) {
		own[i] = tu_spawn(owner, &pr[i]);
		par[i] = tu_spawn(partner, &pr[i]);
	}
	for (int i = 0; i < PAIRS; i++) {
		tu_join(own[i]);
		tu_join(par[i]);
	}
	atomic_store(&stop, true);
	tu_join(tmo);
	for (int i = 0; i < DUMPERS; i++)
		tu_join(dmp[i]);

	long got = 0;
	for (int i = 0; i < PAIRS; i++) {
		got += pr[i].got;
		chan_unref(pr[i].ctl);
		chan_unref(pr[i].ack);
		chan_unref(pr[i].idle);
	}
	printf("stress_diag: %ld dumps, %ld values, %ld timeouts in %.2f s\n", atomic_load(&dumps),
	       got, atomic_load(&timeouts), (double)(chan_now() - t0) / 1e9);
	check(atomic_load(&bad_values) == 0 && got == (long)PAIRS * ROUNDS,
	      "every value received exactly once, in its round");
	if (atomic_load(&bad_dumps) != 0 || atomic_load(&dumps) < dumps_before + DUMPERS)
		printf("bad dumps %ld (text %ld, json %ld, count %ld); dumps after the start %ld\n",
		       atomic_load(&bad_dumps), atomic_load(&bad_kind[0]),
		       atomic_load(&bad_kind[1]), atomic_load(&bad_kind[2]),
		       atomic_load(&dumps) - dumps_before);
	check(atomic_load(&bad_dumps) == 0 && atomic_load(&dumps) >= dumps_before + DUMPERS,
	      "every dump succeeded; every JSON dump is valid");
	check(godiag_blocked() == 0, "nothing blocked at the end");
	check(tu_no_leaks(), "leak check");
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}

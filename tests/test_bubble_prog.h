/*
 * tests/test_bubble_prog.h - a program whose output is its schedule, shared
 * by the bubble's tests (test_bubble.c, test_bubble_log.c): WORKERS fibers
 * each write their name, yield, and send on one of two channels through a
 * select ROUNDS times; the main fiber logs which channel each value came
 * through.  The includer defines WORKERS and ROUNDS first.
 */
#ifndef GOCHAN_TESTS_TEST_BUBBLE_PROG_H
#define GOCHAN_TESTS_TEST_BUBBLE_PROG_H

#include <criterion/criterion.h>
#include <gochan/chan.h>
#include <gochan/fiber.h>
#include <gochan/select.h>

#if !defined(WORKERS) || !defined(ROUNDS)
#error "define WORKERS and ROUNDS before including tests/test_bubble_prog.h"
#endif

struct prog {
	char out[512]; /* 3 WORKERS ROUNDS + 2 WORKERS bytes; emit stops at the end */
	size_t len;
	chan_t *a, *b, *done;
};

static void emit(struct prog *p, char c)
{
	if (p->len + 1 < sizeof p->out)
		p->out[p->len++] = c;
}

struct worker {
	struct prog *p;
	char name;
};

/* Writes its name, yields, and sends on one of two channels through a
 * select (both ready: which one is the select's seeded choice). */
static void worker(void *arg)
{
	struct worker *w = arg;
	long v = w->name;

	for (int i = 0; i < ROUNDS; i++) {
		emit(w->p, w->name);
		gofiber_yield();
		chan_case_t cs[2] = {CHAN_SEND(w->p->a, &v, NULL), CHAN_SEND(w->p->b, &v, NULL)};

		(void)chan_select(cs, 2, CHAN_FOREVER);
	}
	(void)chan_send(w->p->done, &v);
}

/* Starts the workers and logs which channel each value came through. */
static void program(void *arg)
{
	struct prog *p = arg;
	struct worker w[WORKERS];

	for (int i = 0; i < WORKERS; i++) {
		w[i] = (struct worker){p, (char)('a' + i)};
		cr_assert_eq(gofiber_go(NULL, worker, &w[i]), 0);
	}
	for (int done = 0; done < WORKERS;) {
		long v;
		bool ok;
		chan_case_t cs[3] = {CHAN_RECV(p->a, &v, &ok), CHAN_RECV(p->b, &v, &ok),
				     CHAN_RECV(p->done, &v, &ok)};
		int i = chan_select(cs, 3, CHAN_FOREVER);

		emit(p, i == 2 ? '.' : i == 0 ? 'A' : 'B');
		emit(p, (char)v);
		done += i == 2;
	}
}

#endif

/*
 * tests/test_chan_noalloc.c - "no heap allocation per operation": after
 * chan_new(), sends, receives (blocking ones included), closes and selects of
 * up to CHAN_SELECT_STACK_CASES cases allocate nothing.
 *
 * Checked with glibc's mallinfo2(): the bytes in use and the number of
 * mmapped regions must not change across many operations.  (Under ASan the
 * allocator is ASan's and mallinfo2 reports nothing useful; the test still
 * runs but then only checks the operations' results.)
 */
#include <criterion/criterion.h>
#include <gochan/chan.h>
#include <gochan/select.h>
#include <malloc.h>
#include <pthread.h>

#include "tests/leakcheck.h"
#include "testutil.h"

TU_LEAK_CHECKED_SUITE(chan_noalloc);

#define ROUNDS 20000

static size_t heap_in_use(void)
{
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
}

static void *echo(void *arg)
{
	chan_t **ch = arg;
	int v;
	bool ok;

	while (chan_recv(ch[0], &v, &ok) == 0 && ok)
		if (chan_send(ch[1], &v) != 0)
			return (void *)1;
	return NULL;
}

/*
 * A thread's diagnostics record (wait/record.c) is malloc'd at its first
 * sleep in a blocking operation and kept until it exits.  Whether a warm-up
 * round trip sleeps depends on the machine: a blocked operation first spins
 * and yields for ~50 us, and a fast counterpart completes it before that (on
 * an idle machine this thread may never sleep in the warm-up, and then its
 * first sleep inside the measured loop, after any hiccup of the echo thread,
 * counts as an allocation).  So this thread sleeps once for certain before
 * the measurement: a receive that a helper completes only after it has seen
 * this thread asleep (testutil.h's tu_wait_blocked).
 */
struct sleep_once {
	chan_t *c;
	tu_blocker_t blk;
	bool seen;
};

static void *wake_when_asleep(void *arg)
{
	struct sleep_once *s = arg;
	int one = 1;

	s->seen = tu_wait_blocked(&s->blk, TU_BLOCK_TIMEOUT_NS);
	return (void *)(intptr_t)chan_send(s->c, &one);
}

static void sleep_once(void)
{
	struct sleep_once s = {.c = chan_new(sizeof(int), 0)};
	int v;

	cr_assert_not_null(s.c);
	/* A thread in fiber mode too: a worker's exit frees heap mid-count. */
	tu_go_t th = tu_spawn_thread(wake_when_asleep, &s);
	tu_about_to_block(&s.blk);
	cr_assert_eq(chan_recv(s.c, &v, NULL), 0);
	cr_assert_null(tu_join(th));
	cr_assert(s.seen, "the warm-up receive never slept");
	cr_assert_eq(chan_unref(s.c), 0);
}

Test(chan_noalloc, operations_do_not_allocate, .timeout = 60)
{
	chan_t *ch[2] = {chan_new(sizeof(int), 0), chan_new(sizeof(int), 0)};
	chan_t *buf = chan_new(sizeof(int), 8);
	chan_t *idle[CHAN_SELECT_STACK_CASES];
	chan_case_t cases[CHAN_SELECT_STACK_CASES];
	pthread_t th;
	int v, got;
	bool ok;

	for (int i = 0; i < CHAN_SELECT_STACK_CASES; i++)
		idle[i] = chan_new(sizeof(int), 0);
	cr_assert_eq(pthread_create(&th, NULL, echo, ch), 0);

	/* Warm up: thread stacks, TLS, the PRNG, lazily sized allocator pools. */
	for (int i = 0; i < 100; i++) {
		cr_assert_eq(chan_send(ch[0], &i), 0);
		cr_assert_eq(chan_recv(ch[1], &got, NULL), 0);
	}
	sleep_once();
	size_t before = heap_in_use();
	int bad = -1; /* first failing round; plain checks: Criterion's own
			 asserts may allocate, which would spoil the count */

	for (int i = 0; i < ROUNDS && bad < 0; i++) {
		/* blocking unbuffered round trip through the echo thread */
		if (chan_send(ch[0], &i) || chan_recv(ch[1], &got, &ok) || !ok || got != i)
			bad = i;
		/* buffered send/receive and the non-blocking forms */
		if (chan_try_send(buf, &i) || chan_try_recv(buf, &v, &ok) ||
		    chan_try_recv(buf, &v, &ok) != EAGAIN)
			bad = i;
		/* a full-width select: 63 idle cases and one ready one */
		if (chan_send(buf, &i))
			bad = i;
		for (int k = 0; k < CHAN_SELECT_STACK_CASES - 1; k++)
			cases[k] = CHAN_RECV(idle[k], &v, NULL);
		cases[CHAN_SELECT_STACK_CASES - 1] = CHAN_RECV(buf, &v, &ok);
		if (chan_select(cases, CHAN_SELECT_STACK_CASES, CHAN_NOWAIT) !=
			    CHAN_SELECT_STACK_CASES - 1 ||
		    !ok || v != i)
			bad = i;
		/* a select that times out (queues and removes 63 waiters) */
		if (i % 1000 == 0 && chan_select(cases, CHAN_SELECT_STACK_CASES - 1,
						 chan_deadline_in(1000)) != CHAN_TIMEOUT)
			bad = i;
	}
	size_t after = heap_in_use();

	cr_assert_eq(chan_close(ch[0]), 0);
	void *echo_rc;
	cr_assert_eq(pthread_join(th, &echo_rc), 0);
	cr_assert_null(echo_rc, "echo thread failed to send");
	cr_assert_eq(bad, -1, "operation failed in round %d", bad);
	cr_assert_eq(after, before, "heap in use grew from %zu to %zu bytes over %d rounds", before,
		     after, ROUNDS);
	for (int i = 0; i < CHAN_SELECT_STACK_CASES; i++)
		cr_assert_eq(chan_unref(idle[i]), 0);
	cr_assert_eq(chan_unref(ch[0]), 0);
	cr_assert_eq(chan_unref(ch[1]), 0);
	cr_assert_eq(chan_unref(buf), 0);
}

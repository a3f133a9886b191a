/*
 * tests/test_fiber_chan.c - fibers parking and being readied through the
 * wait layer (wait/park.h's agent interface), mixed with threads on the
 * same channels: unbuffered ping-pong fiber<->fiber and fiber<->thread,
 * select on fibers, deadlines (results, not timing), the deadline/claim
 * race, errno across a park, 100,000 fibers parked at once, and blocked
 * fibers listed by the dump and counted by the leak check.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <gochan/chan.h>
#include <gochan/fiber.h>
#include <gochan/select.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fiber/sanitize.h"
#include "fiber/stack.h"
#include "tests/leakcheck.h"

TU_LEAK_CHECKED_SUITE(fiber_chan);

#define ROUNDS 20000

struct pp {
	chan_t *ping, *pong;
	atomic_long bad; /* failures seen off the test's thread */
};

/* Receives i on ping, answers i + 1 on pong, until ping closes. */
static void echo(void *p)
{
	struct pp *a = p;
	long v, expect = 0;
	bool ok;

	for (;;) {
		if (chan_recv(a->ping, &v, &ok) != 0 || (ok && v != expect))
			atomic_fetch_add(&a->bad, 1);
		if (!ok)
			return;
		expect += 2;
		v++;
		if (chan_send(a->pong, &v) != 0)
			atomic_fetch_add(&a->bad, 1);
	}
}

/* Sends 0, 2, 4, ... on ping and checks each answer. */
static void serve(void *p)
{
	struct pp *a = p;
	bool ok;

	for (long i = 0; i < 2 * ROUNDS; i += 2) {
		long v = i;

		if (chan_send(a->ping, &v) != 0 || chan_recv(a->pong, &v, &ok) != 0 || !ok ||
		    v != i + 1)
			atomic_fetch_add(&a->bad, 1);
	}
	chan_close(a->ping);
}

static void pp_init(struct pp *a)
{
	a->ping = chan_new(sizeof(long), 0);
	a->pong = chan_new(sizeof(long), 0);
	atomic_init(&a->bad, 0);
	cr_assert(a->ping && a->pong);
}

static void pp_fini(struct pp *a)
{
	cr_expect_eq(atomic_load(&a->bad), 0);
	chan_unref(a->ping);
	chan_unref(a->pong);
}

Test(fiber_chan, pingpong_fiber_fiber)
{
	struct pp a;
	gofiber_group_t *g = gofiber_group_new();

	pp_init(&a);
	cr_assert_eq(gofiber_go(g, echo, &a), 0);
	cr_assert_eq(gofiber_go(g, serve, &a), 0);
	cr_assert_eq(gofiber_group_wait(g), 0);
	pp_fini(&a);
	gofiber_group_free(g);
}

Test(fiber_chan, pingpong_thread_serves_fiber)
{
	struct pp a;
	gofiber_group_t *g = gofiber_group_new();

	pp_init(&a);
	cr_assert_eq(gofiber_go(g, echo, &a), 0);
	serve(&a); /* on this thread */
	cr_assert_eq(gofiber_group_wait(g), 0);
	pp_fini(&a);
	gofiber_group_free(g);
}

static void *echo_thread(void *p)
{
	echo(p);
	return NULL;
}

Test(fiber_chan, pingpong_fiber_serves_thread)
{
	struct pp a;
	pthread_t t;
	gofiber_group_t *g = gofiber_group_new();

	pp_init(&a);
	cr_assert_eq(pthread_create(&t, NULL, echo_thread, &a), 0);
	cr_assert_eq(gofiber_go(g, serve, &a), 0);
	cr_assert_eq(gofiber_group_wait(g), 0);
	pthread_join(t, NULL);
	pp_fini(&a);
	gofiber_group_free(g);
}

/*
 * Select on a fiber: each round it waits on two channels, one fed by a
 * fiber and one by a thread, and must get each value exactly once; then a
 * send case to a thread's receive.
 */
#define SEL_N 5000
struct sel {
	chan_t *from_fiber, *from_thread, *to_thread;
	long got_fiber, got_thread;
	atomic_long bad;
};

static void sel_feeder(void *p)
{
	struct sel *s = p;

	for (long i = 1; i <= SEL_N; i++)
		if (chan_send(s->from_fiber, &i) != 0)
			atomic_fetch_add(&s->bad, 1);
}

static void *sel_thread(void *p)
{
	struct sel *s = p;
	long v;
	bool ok;

	for (long i = 1; i <= SEL_N; i++)
		if (chan_send(s->from_thread, &i) != 0)
			atomic_fetch_add(&s->bad, 1);
	if (chan_recv(s->to_thread, &v, &ok) != 0 || !ok || v != 42)
		atomic_fetch_add(&s->bad, 1);
	return NULL;
}

static void sel_fiber(void *p)
{
	struct sel *s = p;
	long v, last_f = 0, last_t = 0, answer = 42;
	bool ok;

	while (last_f < SEL_N || last_t < SEL_N) {
		switch (CHAN_SELECT(CHAN_FOREVER, CHAN_RECV(s->from_fiber, &v, &ok),
				    CHAN_RECV(s->from_thread, &v, &ok))) {
		case 0:
			if (!ok || v != ++last_f)
				atomic_fetch_add(&s->bad, 1);
			break;
		case 1:
			if (!ok || v != ++last_t)
				atomic_fetch_add(&s->bad, 1);
			break;
		default:
			atomic_fetch_add(&s->bad, 1);
			return;
		}
	}
	s->got_fiber = last_f;
	s->got_thread = last_t;
	if (CHAN_SELECT(CHAN_FOREVER, CHAN_SEND(s->to_thread, &answer, NULL)) != 0)
		atomic_fetch_add(&s->bad, 1);
}

Test(fiber_chan, select_on_a_fiber_with_fiber_and_thread_peers)
{
	struct sel s = {chan_new(sizeof(long), 0),
			chan_new(sizeof(long), 0),
			chan_new(sizeof(long), 0),
			0,
			0,
			0};
	pthread_t t;
	gofiber_group_t *g = gofiber_group_new();

	cr_assert_eq(gofiber_go(g, sel_fiber, &s), 0);
	cr_assert_eq(gofiber_go(g, sel_feeder, &s), 0);
	cr_assert_eq(pthread_create(&t, NULL, sel_thread, &s), 0);
	cr_assert_eq(gofiber_group_wait(g), 0);
	pthread_join(t, NULL);
	cr_expect_eq(atomic_load(&s.bad), 0);
	cr_expect_eq(s.got_fiber, SEL_N);
	cr_expect_eq(s.got_thread, SEL_N);
	chan_unref(s.from_fiber);
	chan_unref(s.from_thread);
	chan_unref(s.to_thread);
	gofiber_group_free(g);
}

/* Deadlines: fibers whose receive nobody answers time out (in any order of
 * deadlines), while one with a later deadline gets its value; and a fiber
 * select with a deadline returns CHAN_TIMEOUT. */
#define DL_N 200
struct dl {
	chan_t *never, *later;
	int64_t deadline;
	int rc;
	long v;
};

static void dl_recv(void *p)
{
	struct dl *d = p;
	bool ok;

	d->rc = chan_recv_until(d->never, &d->v, &ok, d->deadline);
}

static void dl_later(void *p)
{
	struct dl *d = p;
	bool ok;

	d->rc = chan_recv_until(d->later, &d->v, &ok, d->deadline);
}

static void dl_select(void *p)
{
	struct dl *d = p;
	long v;

	d->rc = CHAN_SELECT(d->deadline, CHAN_RECV(d->never, &v, NULL),
			    CHAN_RECV(d->never, NULL, NULL));
}

Test(fiber_chan, deadlines_on_fibers)
{
	chan_t *never = chan_new(sizeof(long), 0), *later = chan_new(sizeof(long), 0);
	static struct dl d[DL_N + 2];
	gofiber_group_t *g = gofiber_group_new();
	int64_t now = chan_now();

	for (int i = 0; i < DL_N; i++) {
		/* Deadlines shuffled (37 is coprime with 200), 0.1-20 ms ahead,
		 * some already past. */
		d[i] = (struct dl){never, later, now + ((i * 37) % DL_N) * 100000 - 500000, -1, 0};
		cr_assert_eq(gofiber_go(g, dl_recv, &d[i]), 0);
	}
	d[DL_N] = (struct dl){never, later, chan_now() + 1000000, -1, 0};
	cr_assert_eq(gofiber_go(g, dl_select, &d[DL_N]), 0);
	d[DL_N + 1] = (struct dl){never, later, CHAN_FOREVER, -1, 0};
	cr_assert_eq(gofiber_go(g, dl_later, &d[DL_N + 1]), 0);
	long v = 99;

	cr_assert_eq(chan_send(later, &v), 0); /* the thread completes a fiber */
	cr_assert_eq(gofiber_group_wait(g), 0);
	for (int i = 0; i < DL_N; i++)
		cr_expect_eq(d[i].rc, ETIMEDOUT, "fiber %d", i);
	cr_expect_eq(d[DL_N].rc, CHAN_TIMEOUT);
	cr_expect_eq(d[DL_N + 1].rc, 0);
	cr_expect_eq(d[DL_N + 1].v, 99);
	chan_unref(never);
	chan_unref(later);
	gofiber_group_free(g);
}

/*
 * The deadline against the claim, decided once: a fiber's receives and a
 * thread's sends race with deadlines 20 us apart.  Whatever interleaving
 * happens, a value whose send returned 0 is received exactly once, and no
 * receive returns a value whose send timed out (or writes on a timeout).
 */
#define RACE_N 3000
struct race {
	chan_t *c;
	int64_t deadline[RACE_N];
	int rc[RACE_N];
	long v[RACE_N];
};

static void race_fiber(void *p)
{
	struct race *r = p;
	bool ok;

	for (int i = 0; i < RACE_N; i++) {
		r->v[i] = -1;
		r->rc[i] = chan_recv_until(r->c, &r->v[i], &ok, r->deadline[i]);
	}
}

Test(fiber_chan, deadline_and_claim_race_is_consistent)
{
	static struct race r;
	static int sent_ok[RACE_N], got[RACE_N];
	int nsent = 0, ngot = 0;
	gofiber_group_t *g = gofiber_group_new();

	r.c = chan_new(sizeof(long), 0);
	int64_t t = chan_now();

	for (int i = 0; i < RACE_N; i++)
		r.deadline[i] = t + (int64_t)(i + 1) * 20000;
	cr_assert_eq(gofiber_go(g, race_fiber, &r), 0);
	for (long i = 0; i < RACE_N; i++) {
		int rc = chan_send_until(r.c, &i, r.deadline[i]);

		cr_assert(rc == 0 || rc == ETIMEDOUT, "send %ld: %d", i, rc);
		sent_ok[i] = rc == 0;
		nsent += rc == 0;
	}
	cr_assert_eq(gofiber_group_wait(g), 0);
	for (int i = 0; i < RACE_N; i++) {
		if (r.rc[i] == 0) {
			cr_assert(r.v[i] >= 0 && r.v[i] < RACE_N, "round %d got %ld", i, r.v[i]);
			got[r.v[i]]++;
			ngot++;
		} else {
			cr_expect_eq(r.rc[i], ETIMEDOUT);
			cr_expect_eq(r.v[i], -1, "round %d: a timed-out receive wrote", i);
		}
	}
	for (int i = 0; i < RACE_N; i++)
		cr_expect_eq(got[i], sent_ok[i], "value %d: sent %d, received %d times", i,
			     sent_ok[i], got[i]);
	cr_log_info("race: %d of %d handed over, the rest timed out\n", ngot, RACE_N);
	cr_expect_eq(ngot, nsent);
	chan_unref(r.c);
	gofiber_group_free(g);
}

/* errno across a park: each fiber sets its own, blocks in a receive that
 * another fiber (r1) or a thread (r2) completes, and finds it unchanged.
 * The fibers may run on any worker and resume on another one, so errno is
 * read and written through calls of their own (gochan/fiber.h, "Threads":
 * a compiler may keep errno's address across the blocking call within one
 * function, and after a migration that address is the old thread's). */
struct en {
	chan_t *c;
	int mine, seen;
};

__attribute__((noinline)) static void set_errno(int v)
{
	__asm__ volatile("" ::: "memory");
	errno = v;
}

__attribute__((noinline)) static int get_errno(void)
{
	__asm__ volatile("" ::: "memory");
	return errno;
}

static void errno_recv(void *p)
{
	struct en *e = p;
	long v;
	bool ok;

	set_errno(e->mine);
	(void)chan_recv(e->c, &v, &ok);
	e->seen = get_errno();
}

static void errno_send(void *p)
{
	struct en *e = p;
	long v = 1;

	set_errno(e->mine);
	(void)chan_send(e->c, &v); /* the receiver is parked: completes it */
	gofiber_yield();           /* let it run and check */
	e->seen = get_errno();
}

static void token(void *p)
{
	long v = 1;

	(void)chan_send(p, &v);
}

Test(fiber_chan, errno_preserved_across_a_park)
{
	chan_t *c1 = chan_new(sizeof(long), 0), *c2 = chan_new(sizeof(long), 0);
	chan_t *tok = chan_new(sizeof(long), 1);
	struct en r1 = {c1, 1111, 0}, s1 = {c1, 2222, 0}, r2 = {c2, 3333, 0};
	gofiber_group_t *g = gofiber_group_new();
	long v = 5;
	bool ok;

	cr_assert_eq(gofiber_go(g, errno_recv, &r1), 0);
	cr_assert_eq(gofiber_go(g, errno_send, &s1), 0);
	cr_assert_eq(gofiber_go(g, errno_recv, &r2), 0);
	cr_assert_eq(gofiber_go(g, token, tok), 0);
	cr_assert_eq(chan_recv(tok, &v, &ok), 0);
	errno = 4444;
	cr_assert_eq(chan_send(c2, &v), 0); /* a thread completes the parked r2 */
	cr_expect_eq(errno, 4444);
	cr_assert_eq(gofiber_group_wait(g), 0);
	cr_expect_eq(r1.seen, 1111);
	cr_expect_eq(s1.seen, 2222);
	cr_expect_eq(r2.seen, 3333, "r2 saw %d", r2.seen);
	chan_unref(c1);
	chan_unref(c2);
	chan_unref(tok);
	gofiber_group_free(g);
}

/*
 * 100,000 fibers parked on channels at once (every 100 share a channel;
 * 20,000 under ASan).
 * The reporter fiber is started last: on the one FIFO worker it runs after
 * every receiver has run into its park (milestone 1's order), so it sees
 * them all parked.  It counts them, reads RSS and the number of mappings.
 */
#ifdef GOFIBER_ASAN
#define MANY 20000 /* ASan's fake stacks and shadow: ~60 KiB per fiber */
#else
#define MANY 100000
#endif
#define PER_CHAN 100
struct many {
	chan_t *c[MANY / PER_CHAN];
	atomic_long started, finished;
	long rss_kb, maps, parked_seen;
	long kinds[3]; /* stacks alive by guard kind (fiber/stack.h) */
};

static void many_recv(void *p)
{
	struct many *m = p;
	long id = atomic_fetch_add(&m->started, 1), v;
	bool ok;

	if (chan_recv(m->c[id / PER_CHAN], &v, &ok) == 0 && !ok)
		atomic_fetch_add(&m->finished, 1);
}

static long status_kb(const char *key)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof line, f))
		if (!strncmp(line, key, strlen(key)))
			kb = atol(line + strlen(key));
	if (f)
		fclose(f);
	return kb;
}

static void many_report(void *p)
{
	struct many *m = p;
	char line[512];
	FILE *f;

	/* The receivers run on every worker, this one among them: yield until
	 * all have started and are parked (the blocked count includes the
	 * test's thread waiting for this fiber, hence >=). */
	while (atomic_load(&m->started) < MANY || godiag_blocked() < MANY)
		gofiber_yield();
	f = fopen("/proc/self/maps", "r");
	m->parked_seen = atomic_load(&m->started) - atomic_load(&m->finished);
	m->rss_kb = status_kb("VmRSS:");
	gofiber__stack_counts(m->kinds);
	m->maps = 0;
	while (f && fgets(line, sizeof line, f))
		m->maps++;
	if (f)
		fclose(f);
}

static void many_parked(const char *policy, long kinds[3])
{
	static struct many m;
	gofiber_group_t *g = gofiber_group_new(), *rep = gofiber_group_new();
	long rss0 = status_kb("VmRSS:");

	for (int i = 0; i < MANY / PER_CHAN; i++)
		cr_assert(m.c[i] = chan_new(sizeof(long), 0));
	for (int i = 0; i < MANY; i++)
		cr_assert_eq(gofiber_go(g, many_recv, &m), 0, "fiber %d", i);
	cr_assert_eq(gofiber_go(rep, many_report, &m), 0);
	cr_assert_eq(gofiber_group_wait(rep), 0);
	fprintf(stderr,
		"fiber_chan: %d parked fibers (%s): RSS %ld KiB (%ld before: +%.1f KiB per "
		"fiber), %ld mappings; guards: %ld madvise, %ld mprotect, %ld canary\n",
		MANY, policy, m.rss_kb, rss0, (double)(m.rss_kb - rss0) / MANY, m.maps, m.kinds[0],
		m.kinds[1], m.kinds[2]);
	memcpy(kinds, m.kinds, sizeof m.kinds);
	cr_expect_eq(m.parked_seen, MANY);
	cr_expect_lt(m.maps, 65530, "mappings %ld", m.maps);
	/* Closing each channel ends its 100 receivers (ok == false). */
	for (int i = 0; i < MANY / PER_CHAN; i++)
		cr_assert_eq(chan_close(m.c[i]), 0);
	cr_assert_eq(gofiber_group_wait(g), 0);
	cr_expect_eq(atomic_load(&m.finished), MANY);
	for (int i = 0; i < MANY / PER_CHAN; i++)
		chan_unref(m.c[i]);
	gofiber_group_free(g);
	gofiber_group_free(rep);
}

Test(fiber_chan, hundred_thousand_parked_fibers, .timeout = 600)
{
	long kinds[3];

	many_parked("default guard policy", kinds);
}

/* As on a kernel without MADV_GUARD_INSTALL: mprotect guards for the first
 * vm.max_map_count / 8 stacks, canaries beyond; still within the limit. */
Test(fiber_chan, hundred_thousand_parked_fibers_mprotect_then_canary, .timeout = 600)
{
	long kinds[3];

	gofiber__stack_policy(false, -1);
	many_parked("mprotect guards, then canaries", kinds);
	cr_expect_eq(kinds[GOFIBER_GUARD_MADVISE], 0);
	cr_expect_gt(kinds[GOFIBER_GUARD_MPROTECT], 0);
	cr_expect_gt(kinds[GOFIBER_GUARD_CANARY], 0, "the budget should run out first (%ld guards)",
		     kinds[GOFIBER_GUARD_MPROTECT]);
}

/*
 * A fiber blocked in a channel receive and one blocked in
 * gofiber_group_wait are listed by the dump, each in a record of its own
 * ("tid":0 and a "fiber" member, wait/record.c), and counted by
 * godiag_blocked(), on which the leak check (godiag_verify_none) waits.
 */
struct listed {
	chan_t *c;
	gofiber_group_t *inner;
	atomic_int done;
};

static void listed_recv(void *p)
{
	struct listed *l = p;
	long v;
	bool ok;

	if (chan_recv(l->c, &v, &ok) == 0 && ok && v == 42)
		atomic_fetch_add(&l->done, 1);
}

static void listed_wait(void *p)
{
	struct listed *l = p;

	if (gofiber_group_wait(l->inner) == 0)
		atomic_fetch_add(&l->done, 1);
}

Test(fiber_chan, blocked_fibers_listed_by_the_dump)
{
	static struct listed l;
	gofiber_group_t *g = gofiber_group_new();
	char addr[64];
	long v = 42;

	l.c = chan_new(sizeof(long), 0);
	l.inner = gofiber_group_new();
	atomic_init(&l.done, 0);
	cr_assert(g && l.c && l.inner);
	cr_assert_eq(gofiber_go(l.inner, listed_recv, &l), 0);
	cr_assert_eq(gofiber_go(g, listed_wait, &l), 0);
	/* Nothing else blocks in this test: wait until both fibers parked. */
	while (godiag_blocked() < 2)
		sched_yield();

	char *j = godiag_dump_json();

	cr_assert(j);
	snprintf(addr, sizeof addr, "\"addr\":\"%p\"", (void *)l.c);
	cr_expect(strstr(j, "\"tid\":0,\"name\":\"\",\"fiber\":\"0x"), "%s", j);
	cr_expect(strstr(j, "\"op\":\"receive\""), "%s", j);
	cr_expect(strstr(j, "\"op\":\"fiber_group_wait\""), "%s", j);
	cr_expect(strstr(j, addr), "no %s in %s", addr, j);
	cr_expect(strstr(j, "\"count\":2,"), "%s", j);
	cr_expect(strstr(j, "\"fiber\":") && !strstr(j, "\"fiber\":0,\"total\":"),
		  "the workers counted: %s", j);
	free(j);
	cr_expect_eq(godiag_blocked(), 2);

	/* The receiver ends, and with it its group: the waiter is readied. */
	cr_assert_eq(chan_send(l.c, &v), 0);
	cr_assert_eq(gofiber_group_wait(g), 0);
	cr_expect_eq(atomic_load(&l.done), 2);
	cr_assert_eq(gofiber_group_free(l.inner), 0);
	cr_assert_eq(gofiber_group_free(g), 0);
	chan_unref(l.c);
}

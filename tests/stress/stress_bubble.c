/*
 * tests/stress/stress_bubble.c - the bubble (gochan/bubble.h) as threaded
 * code: many bubbles in a row and four threads running bubbles at once
 * (each its own worker), a producer/consumer program whose output is its
 * schedule compared between two runs of every seed, and a bubble fiber
 * readied from outside (a plain thread sends to it: the inbox, and
 * report.outside).  Built for ThreadSanitizer too (zig build tsan): the
 * inbox's mutex is what orders an outside completer's writes before the
 * fiber runs again; everything else of a bubble stays on its worker.
 */
#include <gochan/bubble.h>
#include <gochan/chan.h>
#include <gochan/fiber.h>
#include <gochan/select.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "stress_check.h"

#define SEEDS 300
#define THREADS 4
#define PRODUCERS 3
#define ITEMS 8

struct prog {
	chan_t *c;
	char out[PRODUCERS * ITEMS + 1];
	int len;
};

struct producer {
	struct prog *p;
	long id;
};

static void producer(void *arg)
{
	struct producer *pr = arg;

	for (int i = 0; i < ITEMS; i++) {
		(void)chan_send(pr->p->c, &pr->id);
		if (i % 3 == pr->id % 3)
			(void)gofiber_yield();
	}
}

static void consumer_main(void *arg)
{
	struct prog *p = arg;
	struct producer pr[PRODUCERS];
	gofiber_group_t *g = gofiber_group_new();

	CHECK(g != NULL, "group");
	for (long i = 0; i < PRODUCERS; i++) {
		pr[i] = (struct producer){p, i};
		CHECK(gofiber_go(g, producer, &pr[i]) == 0, "go");
	}
	for (int i = 0; i < PRODUCERS * ITEMS; i++) {
		long v;
		bool ok;

		CHECK(chan_recv(p->c, &v, &ok) == 0 && ok, "recv");
		p->out[p->len++] = (char)('a' + v);
	}
	(void)gofiber_group_wait(g);
	gofiber_group_free(g);
}

static void run_prog(uint64_t seed, bool switches, char *out)
{
	struct prog p = {.c = chan_new(sizeof(long), 2)};
	gobubble_opts o = {.seed = seed, .ignore_env = true, .switch_points = switches};
	gobubble_report r;

	CHECK(gobubble_run(&o, consumer_main, &p, &r) == 0, "run");
	CHECK(r.verdict == GOBUBBLE_OK, "seed %llu verdict %d", (unsigned long long)seed,
	      (int)r.verdict);
	p.out[p.len] = '\0';
	memcpy(out, p.out, sizeof p.out);
	chan_unref(p.c);
}

static void *replays(void *arg)
{
	long t = (long)arg;

	for (uint64_t s = 1; s <= SEEDS; s++) {
		char a[PRODUCERS * ITEMS + 1], b[PRODUCERS * ITEMS + 1];
		bool sw = (s + (uint64_t)t) % 2 == 0;

		run_prog(s, sw, a);
		run_prog(s, sw, b);
		CHECK(strcmp(a, b) == 0, "thread %ld seed %llu: %s vs %s", t, (unsigned long long)s,
		      a, b);
	}
	return NULL;
}

/* ---- a fiber readied from outside ---- */

struct outside {
	chan_t *c;
	long got;
	long written; /* plain: the sender's write, ordered by the channel */
};

static void wait_for_thread(void *arg)
{
	struct outside *o = arg;
	bool ok;

	CHECK(chan_recv(o->c, &o->got, &ok) == 0 && ok, "recv from outside");
	CHECK(o->written == 42, "written %ld", o->written);
}

static void *sender(void *arg)
{
	struct outside *o = arg;
	long v = 7;

	o->written = 42;
	CHECK(chan_send(o->c, &v) == 0, "send");
	return NULL;
}

int main(void)
{
	pthread_t th[THREADS];

	/* One thread, then THREADS at once. */
	(void)replays((void *)0L);
	for (long t = 0; t < THREADS; t++)
		CHECK(pthread_create(&th[t], NULL, replays, (void *)t) == 0, "thread");
	for (long t = 0; t < THREADS; t++)
		pthread_join(th[t], NULL);

	for (int i = 0; i < 200; i++) {
		struct outside o = {.c = chan_new(sizeof(long), 0)};
		gobubble_opts opts = {.seed = (uint64_t)i, .ignore_env = true,
				      .outside_wait_ns = 60 * INT64_C(1000000000)};
		gobubble_report r;
		pthread_t s;

		CHECK(pthread_create(&s, NULL, sender, &o) == 0, "sender");
		CHECK(gobubble_run(&opts, wait_for_thread, &o, &r) == 0, "run");
		pthread_join(s, NULL);
		CHECK(r.verdict == GOBUBBLE_OK, "outside verdict %d", (int)r.verdict);
		CHECK(o.got == 7, "got %ld", o.got);
		/* Either the sender came first (no park: nothing outside) or
		 * the fiber parked and the sender readied it from outside. */
		CHECK(r.outside <= 1, "outside %llu", (unsigned long long)r.outside);
		chan_unref(o.c);
	}
	printf("stress_bubble: %ld checks passed, %ld failed\n", atomic_load(&passed),
	       atomic_load(&failed));
	return atomic_load(&failed) ? 1 : 0;
}

/*
 * tests/stress/stress_fiber.c - fibers and threads mixed on the same
 * channels (gochan/fiber.h): senders on threads and on fibers, receivers on
 * fibers and on threads, plain operations and selects with deadlines on
 * both sides, an unbuffered and a buffered channel.  Every value sent
 * (send returned 0) must be received exactly once: checked by per-sender
 * sums and counts.  Then fibers close the loop: a ring of fibers passing a
 * token, with a thread in it.  Then the M:N scheduler's wake-ups (fiber/
 * sched.c): bursts of fibers readied at once by a close from a thread while
 * they are still parking (a lost wake-up hangs the round), and pairs of
 * fibers ping-ponging across workers with deadlines racing completions.
 */
#include <gochan/bubble.h>
#include <gochan/chan.h>
#include <gochan/fiber.h>
#include <gochan/select.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>

#include "stress_check.h"
#include "tests/testutil.h"

#define PER_SENDER 20000
#define T_SENDERS 3
#define F_SENDERS 3
#define T_RECEIVERS 2
#define F_RECEIVERS 24
#define SENDERS (T_SENDERS + F_SENDERS)

static chan_t *unbuf, *buf;
static atomic_long sent_sum, recv_sum, sent_n, recv_n;
static atomic_int senders_left = SENDERS;

/* Sender k sends k * PER_SENDER + i, alternating the two channels, half of
 * them through a select with a short deadline (retried until it succeeds:
 * timeouts exercise abandon, retries keep the count exact). */
static void send_all(long k)
{
	for (long i = 0; i < PER_SENDER; i++) {
		long v = k * PER_SENDER + i;
		int rc;

		if (i & 1) {
			rc = chan_send(i & 2 ? unbuf : buf, &v);
			CHECK(rc == 0, "send %d", rc);
		} else {
			do
				rc = CHAN_SELECT(chan_now() + 20000, CHAN_SEND(unbuf, &v, NULL),
						 CHAN_SEND(buf, &v, NULL));
			while (rc == CHAN_TIMEOUT);
			CHECK(rc == 0 || rc == 1, "select send %d", rc);
		}
		atomic_fetch_add_explicit(&sent_sum, v, memory_order_relaxed);
		atomic_fetch_add_explicit(&sent_n, 1, memory_order_relaxed);
	}
	/* The last sender closes both: receivers drain and stop. */
	if (atomic_fetch_sub_explicit(&senders_left, 1, memory_order_acq_rel) == 1) {
		chan_close(unbuf);
		chan_close(buf);
	}
}

static void recv_all(bool use_deadlines)
{
	bool open_u = true, open_b = true;

	while (open_u || open_b) {
		long v;
		bool ok;
		int rc = CHAN_SELECT(use_deadlines ? chan_now() + 30000 : CHAN_FOREVER,
				     CHAN_RECV(open_u ? unbuf : NULL, &v, &ok),
				     CHAN_RECV(open_b ? buf : NULL, &v, &ok));

		if (rc == CHAN_TIMEOUT)
			continue;
		CHECK(rc == 0 || rc == 1, "select recv %d", rc);
		if (rc < 0)
			return;
		if (!ok) {
			*(rc == 0 ? &open_u : &open_b) = false;
			continue;
		}
		atomic_fetch_add_explicit(&recv_sum, v, memory_order_relaxed);
		atomic_fetch_add_explicit(&recv_n, 1, memory_order_relaxed);
	}
}

static void fiber_sender(void *k)
{
	send_all((long)(intptr_t)k);
}

static void *thread_sender(void *k)
{
	send_all((long)(intptr_t)k);
	return NULL;
}

static void fiber_receiver(void *i)
{
	recv_all((intptr_t)i & 1);
}

static void *thread_receiver(void *i)
{
	recv_all((intptr_t)i & 1);
	return NULL;
}

/* A ring: fiber i receives from ring[i] and sends to ring[i + 1]; the last
 * link is the main thread's. */
#define RING 64
#define LAPS 300
static chan_t *ring[RING + 1];

static void ring_fiber(void *p)
{
	intptr_t i = (intptr_t)p;
	long v;
	bool ok;

	for (;;) {
		CHECK(chan_recv(ring[i], &v, &ok) == 0, "ring recv");
		if (!ok) {
			chan_close(ring[i + 1]);
			return;
		}
		v++;
		CHECK(chan_send(ring[i + 1], &v) == 0, "ring send");
	}
}

/* Bursts: each round, BURST fibers park on a gate that a thread closes
 * while they are starting (some find it closed, some are readied). */
#define ROUNDS 1000
#define BURST 32
static chan_t *gate;

static void burst_fiber(void *p)
{
	long v;
	bool ok;

	(void)p;
	CHECK(chan_recv(gate, &v, &ok) == 0 && !ok, "gate");
}

/* Pairs: fiber 2i and 2i+1 exchange PAIR_MSGS values over an unbuffered
 * channel, the sender through a select with a short deadline (retried). */
#define PAIRS 8
#define PAIR_MSGS 5000
static chan_t *pair_c[PAIRS];

static void pair_sender(void *p)
{
	intptr_t i = (intptr_t)p;

	for (long k = 0; k < PAIR_MSGS; k++) {
		int rc;

		do
			rc = CHAN_SELECT(chan_now() + 5000, CHAN_SEND(pair_c[i], &k, NULL));
		while (rc == CHAN_TIMEOUT);
		CHECK(rc == 0, "pair send %d", rc);
		if ((k & 255) == 0)
			gofiber_yield();
	}
}

static void pair_receiver(void *p)
{
	intptr_t i = (intptr_t)p;

	for (long k = 0; k < PAIR_MSGS; k++) {
		long v;
		bool ok;

		CHECK(chan_recv(pair_c[i], &v, &ok) == 0 && ok && v == k, "pair %ld: %ld", k, v);
	}
}

/* System calls: a fiber blocks in read() inside gofiber_syscall_enter/exit
 * or through gofiber_run_blocking while the fibers it started report to the
 * main thread, which writes to the pipe only after their reports. */
#define SYSCALL_ROUNDS 200
#define SYSCALL_HELPERS 4
static int pfd[2];
static chan_t *reports;

static void reporter(void *p)
{
	long v = (long)(intptr_t)p;

	CHECK(chan_send(reports, &v) == 0, "report");
}

static void blocking_read(void *p)
{
	char c;

	(void)p;
	CHECK(read(pfd[0], &c, 1) == 1, "read");
}

static void syscall_fiber(void *p)
{
	gofiber_group_t *g = p;
	static atomic_long round;
	bool via_pool = atomic_fetch_add(&round, 1) & 1;

	if (!via_pool)
		CHECK(gofiber_syscall_enter() == 0, "enter");
	for (intptr_t i = 0; i < SYSCALL_HELPERS; i++)
		CHECK(gofiber_go(g, reporter, (void *)i) == 0, "go");
	if (via_pool) {
		CHECK(gofiber_run_blocking(blocking_read, NULL) == 0, "run_blocking");
	} else {
		blocking_read(NULL);
		CHECK(gofiber_syscall_exit() == 0, "exit");
	}
}

static void sched_phases(gofiber_group_t *g)
{
	for (int r = 0; r < ROUNDS; r++) {
		gate = chan_new(sizeof(long), 0);
		for (int i = 0; i < BURST; i++)
			CHECK(gofiber_go(g, burst_fiber, NULL) == 0, "go");
		chan_close(gate);
		CHECK(gofiber_group_wait(g) == 0, "wait");
		chan_unref(gate);
	}
	printf("bursts: %d rounds of %d fibers readied by a thread's close\n", ROUNDS, BURST);
	for (intptr_t i = 0; i < PAIRS; i++) {
		pair_c[i] = chan_new(sizeof(long), 0);
		CHECK(gofiber_go(g, pair_sender, (void *)i) == 0, "go");
		CHECK(gofiber_go(g, pair_receiver, (void *)i) == 0, "go");
	}
	CHECK(gofiber_group_wait(g) == 0, "wait");
	for (int i = 0; i < PAIRS; i++)
		chan_unref(pair_c[i]);
	printf("pairs: %d fiber pairs, %d messages each, deadlines racing\n", PAIRS, PAIR_MSGS);

	CHECK(pipe(pfd) == 0, "pipe");
	reports = chan_new(sizeof(long), SYSCALL_HELPERS);
	for (int r = 0; r < SYSCALL_ROUNDS; r++) {
		long v;
		bool ok;

		CHECK(gofiber_go(g, syscall_fiber, g) == 0, "go");
		for (int i = 0; i < SYSCALL_HELPERS; i++)
			CHECK(chan_recv(reports, &v, &ok) == 0 && ok, "reports");
		CHECK(write(pfd[1], "x", 1) == 1, "write");
		CHECK(gofiber_group_wait(g) == 0, "wait");
	}
	chan_unref(reports);
	close(pfd[0]);
	close(pfd[1]);
	printf("syscalls: %d rounds, a fiber blocked in read() while %d others report\n",
	       SYSCALL_ROUNDS, SYSCALL_HELPERS);
}

/* The process's first fibers, started by several threads at once, each
 * running a bubble (gochan/bubble.h) and starting an M:N fiber: the
 * runtime's lazily set state (the page size, the slots, the first stack
 * mappings) must be set without a data race (ThreadSanitizer found one in
 * gofiber__page when bubbles on several threads made their first fibers at
 * once).  Runs first, before any other fiber. */
#define FIRST_STARTERS 4
static pthread_barrier_t first_bar;

static atomic_long first_ran;

static void first_fiber(void *arg)
{
	(void)arg;
	atomic_fetch_add_explicit(&first_ran, 1, memory_order_relaxed);
}

static void *first_starter(void *arg)
{
	gobubble_opts o = {.seed = 1, .ignore_env = true};
	gobubble_report r;

	pthread_barrier_wait(&first_bar);
	CHECK(gobubble_run(&o, first_fiber, NULL, &r) == 0 && r.verdict == GOBUBBLE_OK, "bubble");
	CHECK(gofiber_go(arg, first_fiber, NULL) == 0, "first go");
	return NULL;
}

static void first_starts(void)
{
	gofiber_group_t *g = gofiber_group_new();
	pthread_t th[FIRST_STARTERS];

	CHECK(g != NULL, "group");
	pthread_barrier_init(&first_bar, NULL, FIRST_STARTERS);
	for (int i = 0; i < FIRST_STARTERS; i++)
		CHECK(pthread_create(&th[i], NULL, first_starter, g) == 0, "thread");
	for (int i = 0; i < FIRST_STARTERS; i++)
		pthread_join(th[i], NULL);
	CHECK(gofiber_group_wait(g) == 0, "first wait");
	/* relaxed: the group wait orders the fibers' increments before it */
	CHECK(atomic_load_explicit(&first_ran, memory_order_relaxed) == 2 * FIRST_STARTERS,
	      "first fibers ran %ld", atomic_load_explicit(&first_ran, memory_order_relaxed));
	pthread_barrier_destroy(&first_bar);
	CHECK(gofiber_group_free(g) == 0, "free");
}

int main(void)
{
	first_starts();
	gofiber_group_t *g = gofiber_group_new();
	pthread_t ts[T_SENDERS], tr[T_RECEIVERS];

	unbuf = chan_new(sizeof(long), 0);
	buf = chan_new(sizeof(long), 4);
	for (intptr_t i = 0; i < F_RECEIVERS; i++)
		CHECK(gofiber_go(g, fiber_receiver, (void *)i) == 0, "go");
	for (intptr_t i = 0; i < T_RECEIVERS; i++)
		CHECK(pthread_create(&tr[i], NULL, thread_receiver, (void *)i) == 0, "thread");
	for (intptr_t k = 0; k < F_SENDERS; k++)
		CHECK(gofiber_go(g, fiber_sender, (void *)k) == 0, "go");
	for (intptr_t k = 0; k < T_SENDERS; k++)
		CHECK(pthread_create(&ts[k], NULL, thread_sender, (void *)(k + F_SENDERS)) == 0,
		      "thread");
	for (int k = 0; k < T_SENDERS; k++)
		pthread_join(ts[k], NULL);
	for (int i = 0; i < T_RECEIVERS; i++)
		pthread_join(tr[i], NULL);
	CHECK(gofiber_group_wait(g) == 0, "wait");
	CHECK(atomic_load(&sent_n) == (long)SENDERS * PER_SENDER, "sent %ld", atomic_load(&sent_n));
	CHECK(atomic_load(&recv_n) == atomic_load(&sent_n), "received %ld of %ld",
	      atomic_load(&recv_n), atomic_load(&sent_n));
	CHECK(atomic_load(&recv_sum) == atomic_load(&sent_sum), "sums differ");
	printf("mixed: %ld values, threads and fibers on both sides\n", atomic_load(&recv_n));
	chan_unref(unbuf);
	chan_unref(buf);

	for (int i = 0; i <= RING; i++)
		ring[i] = chan_new(sizeof(long), 0);
	for (intptr_t i = 0; i < RING; i++)
		CHECK(gofiber_go(g, ring_fiber, (void *)i) == 0, "go");
	for (long lap = 0; lap < LAPS; lap++) {
		long v = lap * 1000, w;
		bool ok;

		CHECK(chan_send(ring[0], &v) == 0, "lap send");
		CHECK(chan_recv(ring[RING], &w, &ok) == 0 && ok && w == v + RING, "lap %ld: %ld",
		      lap, w);
	}
	chan_close(ring[0]);
	CHECK(gofiber_group_wait(g) == 0, "wait");
	for (int i = 0; i <= RING; i++)
		chan_unref(ring[i]);
	printf("ring: %d laps through %d fibers\n", LAPS, RING);
	sched_phases(g);
	CHECK(gofiber_group_free(g) == 0, "free");
	CHECK(tu_no_leaks(), "leaks");
	printf("%ld passed, %ld failed\n", atomic_load(&passed), atomic_load(&failed));
	return atomic_load(&failed) ? 1 : 0;
}

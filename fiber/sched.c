/*
 * fiber/sched.c - the fiber runtime's one worker thread: run queues, the
 * park/ready pair lent to the wait layer (wait/park.h), deadlines.
 *
 * Invariants:
 * - One worker thread runs every fiber (milestone 1), on its scheduler
 *   context (the thread's own stack): it picks a runnable fiber, switches to
 *   it, and acts on why the fiber switched back (yield, park, exit).  Fibers
 *   never migrate (errno and TLS: gochan/fiber.h).
 * - Run queues: a local FIFO (head/tail) that only the worker touches (a
 *   fiber readied on the worker, by another fiber or the scheduler), and a
 *   remote stack (Treiber, push by CAS, the worker takes all by exchange)
 *   for ready() and gofiber_go() on other threads.
 * - Park (Go's gopark with its unlock function, the commit after the
 *   switch): the fiber records its parker and switches to the scheduler,
 *   which then CASes parker.futex 0 -> 2.  Success: the fiber is parked, and
 *   exactly one of two things will make it runnable again: a completer's
 *   exchange that reads 2 (it then calls ready()), or the scheduler's own
 *   CAS 2 -> 0 when the deadline passes (it then sets timed_out).  The two
 *   are RMWs on one word, so exactly one wins: a fiber is never readied
 *   twice, and a completer's ready() always finds the fiber parked and alive
 *   (it cannot end before it runs again).  Failure (the word is 1): the
 *   completion came between the fiber's check and the commit; the fiber
 *   runs again at once.  No lost wake-up.
 * - A parked fiber with a deadline is in the deadline heap (worker only);
 *   it leaves it when it runs again, whichever way it was readied.
 * - The worker sleeps on W.sleeping (futex) until the earliest deadline; a
 *   remote push wakes it (Dekker: each side writes its word, seq_cst, then
 *   reads the other's, seq_cst; at least one sees the other).
 * - Lifetime: W.live counts fibers started and not ended.  The worker is a
 *   service thread (service/service.h, kind "fiber"; W.life is the
 *   service's lock): started lazily by the first gofiber_go that finds none,
 *   it exits after the service's linger (LINGER_NS) with no fiber, deciding
 *   so under W.life, so that a concurrent gofiber_go either made its fiber
 *   visible first (W.live, then the remote push) or finds the service
 *   without a thread and starts a new one.  Counted by godiag_threads()
 *   from before its creation to its last access (gosvc__leave_locked).
 */
#include <errno.h>
#include <gochan/chan.h>
#include <gochan/fiber.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "fiber/fiber_impl.h"
#include "fiber/sanitize.h"
#include "service/service.h"
#include "wait/clock.h"
#include "wait/futex.h"
#include "wait/park.h"

#define LINGER_NS 50000000 /* 50 ms, as the thread groups' idle threads */

_Thread_local struct gofiber *gofiber__cur __attribute__((tls_model("initial-exec")));
static _Thread_local bool on_worker;

static struct {
	struct gofiber__ctx sched;
	struct gofiber *head, *tail;      /* local FIFO; worker only */
	_Atomic(struct gofiber *) remote; /* remote pushes; see the top */
	_Atomic uint32_t sleeping;        /* 1: the worker sleeps (or is about to) */
	struct gofiber **heap;            /* deadline min-heap; worker only */
	size_t nheap, capheap;
	_Atomic long live;    /* fibers started, not ended */
	pthread_mutex_t life; /* the worker service's lock (svc below) */
	/* The scheduler context for the sanitizers (fiber/sanitize.h). */
	void *tsan, *asan_fake;
	const void *stack_lo;
	size_t stack_size;
} W = {.life = PTHREAD_MUTEX_INITIALIZER};

/* The worker thread, as a service: lazy start, idle exit, counted. */
static struct gosvc svc =
	GOSVC_INIT(&W.life, GOWAIT_LOCKRANK_FIBER_LIFE, GODIAG_THREAD_FIBER, LINGER_NS, false);

static _Atomic uint64_t last_id;

/* ---- the deadline heap (worker only) ---- */

static void heap_set(size_t i, struct gofiber *f)
{
	W.heap[i] = f;
	f->heap_at = i + 1;
}

static void heap_up(size_t i)
{
	struct gofiber *f = W.heap[i];

	while (i > 0 && W.heap[(i - 1) / 2]->deadline > f->deadline) {
		heap_set(i, W.heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	heap_set(i, f);
}

static void heap_down(size_t i)
{
	struct gofiber *f = W.heap[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= W.nheap)
			break;
		if (c + 1 < W.nheap && W.heap[c + 1]->deadline < W.heap[c]->deadline)
			c++;
		if (W.heap[c]->deadline >= f->deadline)
			break;
		heap_set(i, W.heap[c]);
		i = c;
	}
	heap_set(i, f);
}

static void heap_push(struct gofiber *f)
{
	if (W.nheap == W.capheap) {
		size_t cap = W.capheap ? 2 * W.capheap : 64;
		struct gofiber **h = realloc(W.heap, cap * sizeof *h);

		if (!h) { /* like Go's runtime: out of memory is fatal here */
			fputs("gochan: fiber runtime: out of memory for a deadline\n", stderr);
			abort();
		}
		W.heap = h;
		W.capheap = cap;
	}
	W.nheap++;
	heap_set(W.nheap - 1, f);
	heap_up(W.nheap - 1);
}

static void heap_remove(struct gofiber *f)
{
	size_t i = f->heap_at - 1;

	f->heap_at = 0;
	if (--W.nheap == i)
		return;
	struct gofiber *m = W.heap[W.nheap];

	heap_set(i, m);
	heap_down(i);
	heap_up(m->heap_at - 1);
}

/* ---- run queues ---- */

static void push_local(struct gofiber *f)
{
	f->next = NULL;
	if (W.tail)
		W.tail->next = f;
	else
		W.head = f;
	W.tail = f;
}

static void push_remote(struct gofiber *f)
{
	struct gofiber *h = atomic_load_explicit(&W.remote, memory_order_relaxed);

	/* seq_cst: release publishes the fiber (and whatever its readier did,
	 * e.g. a completed channel operation) to the worker's acquire exchange
	 * in drain_remote; seq_cst orders it before our read of W.sleeping
	 * (the Dekker pair with idle()). */
	do
		f->next = h;
	while (!atomic_compare_exchange_weak_explicit(&W.remote, &h, f, memory_order_seq_cst,
						      memory_order_relaxed));
	if (atomic_load_explicit(&W.sleeping, memory_order_seq_cst) == 1 &&
	    atomic_exchange_explicit(&W.sleeping, 0, memory_order_seq_cst) == 1)
		gowait__futex_wake(&W.sleeping, 1);
}

static void drain_remote(void)
{
	/* acquire: pairs with push_remote's CAS. */
	struct gofiber *f = atomic_exchange_explicit(&W.remote, NULL, memory_order_acquire);
	struct gofiber *rev = NULL;

	while (f) { /* LIFO -> FIFO */
		struct gofiber *n = f->next;

		f->next = rev;
		rev = f;
		f = n;
	}
	while (rev) {
		struct gofiber *n = rev->next;

		push_local(rev);
		rev = n;
	}
}

/* ops->ready: make a committed parked fiber (or a new one) runnable. */
static void ready(void *agent)
{
	struct gofiber *f = agent;

	if (on_worker)
		push_local(f);
	else
		push_remote(f); /* touches only W after the push: f may run */
}

/* ---- the fiber side ---- */

/* Switch to the scheduler with @why; returns when the fiber runs again. */
static void to_sched(struct gofiber *f, enum gofiber__why why)
{
	f->why = why;
	f->saved_errno = errno;
	gofiber__asan_start(why == GOFIBER_EXIT ? NULL : &f->asan_fake, W.stack_lo, W.stack_size);
	gofiber__tsan_switch(W.tsan);
	gofiber__ctx_switch(&f->ctx, &W.sched);
	gofiber__asan_finish(f->asan_fake);
	errno = f->saved_errno;
}

/* One park: 0 completed (futex 1, acquire below), ETIMEDOUT by deadline. */
static int park_once(struct gofiber *f, struct gowait_parker *p, int64_t deadline)
{
	f->parker = p;
	f->deadline = deadline;
	f->timed_out = false;
	to_sched(f, GOFIBER_PARK);
	if (f->timed_out)
		return ETIMEDOUT;
	/* acquire: pairs with the completer's release exchange (gowait__complete);
	 * reads 1 by the invariant at the top. */
	(void)atomic_load_explicit(&p->futex, memory_order_acquire);
	return 0;
}

/* ops->park: gowait__park_wait on a fiber (same results, same protocol). */
static int fiber_park(struct gowait_parker *p, int64_t deadline)
{
	struct gofiber *f = gofiber__cur;

	if (park_once(f, p, deadline) == 0)
		return 0;
	uint32_t expected = GOWAIT_PARK_WAITING;

	/* acq_rel: as wait/park.c's abandon() (pairs with gowait__claim). */
	if (atomic_compare_exchange_strong_explicit(&p->state, &expected, GOWAIT_PARK_ABANDONED,
						    memory_order_acq_rel, memory_order_acquire))
		return ETIMEDOUT;
	/* Claimed just before the deadline: the claimer is completing now.  The
	 * timeout's CAS left the word 0, so this commit is a fresh one. */
	(void)park_once(f, p, GOWAIT_FOREVER);
	return 0;
}

static void *self(void)
{
	return gofiber__cur;
}

static const struct gowait_fiber_ops ops = {self, fiber_park, ready};

static void fiber_main(void *arg)
{
	struct gofiber *f = arg;

	gofiber__asan_finish(NULL);
	f->fn(f->arg);
	if (f->group)
		gofiber__group_done(f->group);
	to_sched(f, GOFIBER_EXIT);
	__builtin_unreachable();
}

/* ---- the scheduler side ---- */

/* Time out the parked fibers whose deadline is <= @now. */
static void expire(int64_t now)
{
	while (W.nheap && W.heap[0]->deadline <= now) {
		struct gofiber *f = W.heap[0];
		uint32_t expected = 2;

		heap_remove(f);
		/* Relaxed: the race with a completer's exchange is decided by
		 * the order of RMWs on this one word (see the top). */
		if (atomic_compare_exchange_strong_explicit(&f->parker->futex, &expected, 0,
							    memory_order_relaxed,
							    memory_order_relaxed)) {
			f->timed_out = true;
			push_local(f);
		} /* else 1: a completer's ready() is on its way */
	}
}

/*
 * With no fiber alive (W.live read 0): whether the worker must exit now
 * (the service's linger has passed with none, or a shutdown asks).  If so
 * it returns true with W.life HELD, and the caller leaves the service
 * (gosvc__leave_locked); else false (W.life released), with *@wake the time
 * to look again.  Under W.life, so that gofiber_go (which counts its fiber
 * in W.live before it takes W.life to look for the worker) either is seen
 * here or finds the service without a thread and starts a new one.
 */
static bool idle_exit(int64_t *idle_since, int64_t *wake)
{
	gowait__mutex_lock(&W.life, GOWAIT_LOCKRANK_FIBER_LIFE);
	/* acquire: pairs with finish()'s release decrement. */
	if (gosvc__idle_expired_locked(&svc, idle_since, wake) &&
	    atomic_load_explicit(&W.live, memory_order_acquire) == 0 &&
	    atomic_load_explicit(&W.remote, memory_order_acquire) == NULL)
		return true;
	gowait__mutex_unlock(&W.life, GOWAIT_LOCKRANK_FIBER_LIFE);
	return false;
}

/* The next fiber to run, sleeping while there is none; NULL: exit (with
 * W.life held, see idle_exit). */
static struct gofiber *next_runnable(void)
{
	int64_t idle_since = GOSVC_BUSY;

	for (;;) {
		if (W.nheap)
			expire(chan_now());
		drain_remote();
		if (W.head) {
			struct gofiber *f = W.head;

			W.head = f->next;
			if (!W.head)
				W.tail = NULL;
			return f;
		}
		int64_t deadline = W.nheap ? W.heap[0]->deadline : GOWAIT_FOREVER;

		if (atomic_load_explicit(&W.live, memory_order_relaxed) == 0) {
			/* No fiber: no deadline either (a parked fiber is alive). */
			if (idle_exit(&idle_since, &deadline))
				return NULL;
			if (atomic_load_explicit(&W.live, memory_order_relaxed) != 0)
				continue; /* a new fiber is on its way: not idle */
		} else {
			idle_since = GOSVC_BUSY;
		}
		/* seq_cst: the Dekker pair with push_remote (see the top). */
		atomic_store_explicit(&W.sleeping, 1, memory_order_seq_cst);
		if (atomic_load_explicit(&W.remote, memory_order_seq_cst) == NULL)
			(void)gowait__futex_wait(&W.sleeping, 1, deadline);
		atomic_store_explicit(&W.sleeping, 0, memory_order_relaxed);
	}
}

static void finish(struct gofiber *f)
{
	struct gofiber__stack s = f->stack; /* f lives on it */

	if (!gofiber__stack_canary_ok(&s))
		gofiber__overflow_report(f, NULL);
	gofiber__tsan_destroy(f->tsan);
	gofiber__stack_put(&s);
	/* release: pairs with try_exit's acquire. */
	atomic_fetch_sub_explicit(&W.live, 1, memory_order_release);
}

static void run(struct gofiber *f)
{
	if (f->heap_at)
		heap_remove(f);
	for (;;) {
		gofiber__cur = f;
		gofiber__asan_start(&W.asan_fake, gofiber__stack_lo(&f->stack),
				    (size_t)((char *)f - gofiber__stack_lo(&f->stack)));
		gofiber__tsan_switch(f->tsan);
		gofiber__ctx_switch(&W.sched, &f->ctx);
		gofiber__asan_finish(W.asan_fake);
		gofiber__cur = NULL;
		if (f->why == GOFIBER_EXIT) {
			finish(f);
			return;
		}
		if (!gofiber__stack_canary_ok(&f->stack))
			gofiber__overflow_report(f, NULL);
		if (f->why == GOFIBER_YIELD) {
			push_local(f);
			return;
		}
		/* GOFIBER_PARK: the commit, now that the fiber is off its stack.
		 * acq_rel on success: the release half pairs with the acquire of
		 * the completer's exchange (gowait__complete), ordering our last
		 * read of f->next before ready() writes it; acquire on failure
		 * pairs with that exchange's release (the completion's data). */
		uint32_t expected = 0;

		if (atomic_compare_exchange_strong_explicit(&f->parker->futex, &expected, 2,
							    memory_order_acq_rel,
							    memory_order_acquire)) {
			if (f->deadline >= 0)
				heap_push(f);
			return;
		}
		/* Already complete (1): run it again at once. */
	}
}

static void *worker_main(void *unused)
{
	(void)unused;
	gosvc__enter(&svc);
	void *alt = gofiber__overflow_thread_init();
	struct gofiber *f;

	W.tsan = gofiber__tsan_current();
#ifdef GOFIBER_ASAN
	pthread_attr_t a;
	void *lo;

	if (pthread_getattr_np(pthread_self(), &a) == 0) {
		if (pthread_attr_getstack(&a, &lo, &W.stack_size) == 0)
			W.stack_lo = lo;
		pthread_attr_destroy(&a);
	}
#endif
	on_worker = true;
	while ((f = next_runnable()))
		run(f);
	/* W.life held (idle_exit): done with W before a next worker may start
	 * (the service has no thread only after the leave below). */
	on_worker = false;
	gofiber__overflow_thread_fini(alt);
	gosvc__leave_locked(&svc); /* the last access: return at once */
	return NULL;
}

/* ---- starting ---- */

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void runtime_init(void)
{
	gofiber__overflow_install();
	gowait__set_fiber_ops(&ops);
}

/* The worker, started if the service has no thread (service/service.h's
 * lazy start: counted before the create, detached). */
static int ensure_worker(void)
{
	int err;

	if (on_worker)
		return 0;
	gowait__mutex_lock(&W.life, GOWAIT_LOCKRANK_FIBER_LIFE);
	err = gosvc__ensure_locked(&svc, worker_main, NULL);
	gowait__mutex_unlock(&W.life, GOWAIT_LOCKRANK_FIBER_LIFE);
	return err;
}

int gofiber_go(gofiber_group_t *g, void (*fn)(void *), void *arg)
{
	struct gofiber__stack s;
	int err;

	if (!fn)
		return EINVAL;
	pthread_once(&init_once, runtime_init);
	if (gofiber__stack_get(&s))
		return ENOMEM;

	/* The record at the top of the stack, on its own cache lines. */
	uintptr_t at = ((uintptr_t)gofiber__stack_hi(&s) - sizeof(struct gofiber)) & ~(uintptr_t)63;
	struct gofiber *f = (struct gofiber *)at;
	char *lo = gofiber__stack_lo(&s);

	/* A reused stack carries the redzones of its last fiber's frames. */
	gofiber__asan_unpoison(lo, (size_t)(gofiber__stack_hi(&s) - lo));
	*f = (struct gofiber){.fn = fn, .arg = arg, .group = g, .stack = s};
	f->tsan = gofiber__tsan_create();
	f->id = atomic_fetch_add_explicit(&last_id, 1, memory_order_relaxed) + 1;
	gofiber__ctx_make(&f->ctx, lo, (size_t)((char *)f - lo), fiber_main, f);

	/* relaxed: the worker reads live under W.life or after an acquire. */
	atomic_fetch_add_explicit(&W.live, 1, memory_order_relaxed);
	err = ensure_worker();
	if (err) {
		atomic_fetch_sub_explicit(&W.live, 1, memory_order_relaxed);
		gofiber__tsan_destroy(f->tsan);
		gofiber__stack_put(&s);
		return err;
	}
	if (g)
		gofiber__group_add(g);
	ready(f);
	return 0;
}

int gofiber_yield(void)
{
	struct gofiber *f = gofiber__cur;

	if (f)
		to_sched(f, GOFIBER_YIELD);
	else
		sched_yield();
	return 0;
}

uint64_t gofiber_id(void)
{
	struct gofiber *f = gofiber__cur;

	return f ? f->id : 0;
}

/*
 * fiber/bubble.c - the bubble (gochan/bubble.h, issue 19;
 * docs/design-bubble.md): a single-worker fiber runtime of its own, on the
 * thread that called gobubble_run, with a seeded schedule and a virtual
 * clock.
 *
 * Invariants:
 * - Everything in struct gofiber__bubble except the inbox is touched by the
 *   bubble's worker only (the thread in gobubble_run, and the bubble's fibers,
 *   which run on no other thread), so it needs no lock and no atomic.
 * - The inbox (fibers readied from another thread: a plain thread's send, the
 *   timer thread, another bubble) is under `mu`; the worker drains it at each
 *   scheduling point.  The mutex is also the hand-over of the fiber: the
 *   outside completer's exchange on the parker's futex happens before its
 *   unlock, the worker's lock before it runs the fiber.
 * - A fiber is in at most one of: running, the run queue (runq), parked.  A
 *   parked fiber with a deadline is also in `timed`; it stays there after a
 *   ready until it is next taken to run (as fiber/sched.c's run() forgets its
 *   heap entry), and an expiry that finds its futex not 2 (a completer's
 *   exchange won) leaves it to that completer's ready.
 * - The clock moves only when runq is empty and the inbox was empty: it jumps
 *   to the earliest deadline in `timed`, and every fiber due then expires, in
 *   the order they parked.  Every choice among several runnable fibers is one
 *   gofiber__decide (fiber/decide.c); choice 0 is the oldest (FIFO).
 */
#include <gochan/bubble.h>
#include <gochan/diag.h>
#include <gochan/fiber.h>

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "chan/chaos.h"
#include "fiber/decide.h"
#include "fiber/decisions.h"
#include "fiber/fiber_impl.h"
#include "fiber/sanitize.h"
#include "fiber/stack.h"
#include "timer/timer_internal.h"
#include "wait/bubble.h"
#include "wait/clock.h"

/* A growable array of fibers, in order. */
struct fvec {
	struct gofiber **v;
	size_t n, cap;
};

struct gofiber__bubble {
	struct gowait__bubble hooks; /* first: gowait__bubble_cur points here */
	struct gofiber__decide d;
	struct gofiber__ctx sched; /* the worker's scheduler context */
	void *tsan;                /* the worker thread's ThreadSanitizer fiber */
	void *asan_fake;
	char *stack_lo; /* the worker thread's stack (AddressSanitizer) */
	size_t stack_size;
	struct fvec runq, timed;
	struct gofiber *main; /* fn's fiber */
	bool main_done;
	bool switches_on, jumps_on;
	bool jump; /* a switch point asked the scheduler for a time jump */
	uint32_t max_switches;
	uint64_t live, fibers, steps, outside, switches, jumps;
	uint64_t points; /* picks of the next fiber and switch points reached */
	/* Thread waits on the worker (hooks_blocks): how many, the first. */
	uint64_t worker_blocks;
	const char *block_what;
	const void *block_ra;
	FILE *dump;
	/* PCT: the change points (steps, ascending; pct_n of them), the next
	 * one to come, the step count, the fiber that ran last. */
	bool pct;
	uint32_t pct_depth, pct_n, pct_next;
	uint64_t pct_step, pct_at[16];
	struct gofiber *last;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct gofiber *inbox, **inbox_end; /* under mu */
};

static void fvec_push(struct fvec *q, struct gofiber *f)
{
	if (q->n == q->cap) {
		size_t cap = q->cap ? 2 * q->cap : 16;
		struct gofiber **v = realloc(q->v, cap * sizeof *v);

		if (!v) { /* as fiber/deadline.c: out of memory is fatal here */
			fputs("gochan: bubble: out of memory for its run queue\n", stderr);
			abort();
		}
		q->v = v;
		q->cap = cap;
	}
	q->v[q->n++] = f;
}

/* Remove entry @i, keeping the order of the others. */
static struct gofiber *fvec_take(struct fvec *q, size_t i)
{
	struct gofiber *f = q->v[i];

	memmove(&q->v[i], &q->v[i + 1], (q->n - i - 1) * sizeof *q->v);
	q->n--;
	return f;
}

static void fvec_forget(struct fvec *q, struct gofiber *f)
{
	for (size_t i = 0; i < q->n; i++)
		if (q->v[i] == f) {
			(void)fvec_take(q, i);
			return;
		}
}

static uint64_t hooks_rand(struct gowait__bubble *h)
{
	return gofiber__decide_bits(&((struct gofiber__bubble *)h)->d);
}

static uint32_t hooks_choose(struct gowait__bubble *h, uint32_t n)
{
	return gofiber__decide_as(&((struct gofiber__bubble *)h)->d, GOBUBBLE_TIMER, n);
}

/* A thread wait is starting on the worker (wait/bubble.h): count it, keep
 * the first, and say so now, on the worker, before it blocks (it may never
 * wake: a deadline it carries came from the virtual clock). */
static void hooks_blocks(struct gowait__bubble *h, const char *what, const void *ra)
{
	struct gofiber__bubble *b = (struct gofiber__bubble *)h;

	if (b->worker_blocks++ == 0) {
		b->block_what = what;
		b->block_ra = ra;
	}
	if (b->dump)
		fprintf(b->dump,
			"gochan: bubble (seed %" PRIu64 "): not replayable: %s blocks the "
			"bubble's worker (called from %p%s); nothing of the bubble runs and its "
			"clock stands still until it returns\n",
			b->d.seed, what, ra, gofiber__cur ? ", on a fiber" : ", on its scheduler");
}

static int add_fiber(struct gofiber__bubble *b, struct gofiber_group *g, void (*fn)(void *),
		     void *arg, struct gofiber **out);

static int hooks_go(struct gowait__bubble *h, void (*fn)(void *), void *arg)
{
	return add_fiber((struct gofiber__bubble *)h, NULL, fn, arg, NULL);
}

/* PCT: one step; at a change point @f (the running fiber, or the one that
 * ran last) drops below every other.  True if it did. */
static bool pct_step(struct gofiber__bubble *b, struct gofiber *f)
{
	if (!b->pct)
		return false;
	b->pct_step++;
	if (b->pct_next >= b->pct_n || b->pct_at[b->pct_next] != b->pct_step)
		return false;
	while (b->pct_next < b->pct_n && b->pct_at[b->pct_next] == b->pct_step)
		b->pct_next++;
	if (f)
		f->prio = b->pct_n - b->pct_next; /* the i-th change point: d - 1 - i */
	return f != NULL;
}

/* The next fiber to run: its index in runq. */
static size_t pick(struct gofiber__bubble *b)
{
	b->points++;
	if (!b->pct)
		return gofiber__decide_as(&b->d, GOBUBBLE_PICK, (uint32_t)b->runq.n);
	(void)pct_step(b, b->last);
	size_t best = 0;

	for (size_t i = 1; i < b->runq.n; i++)
		if (b->runq.v[i]->prio > b->runq.v[best]->prio)
			best = i;
	return best;
}

/* A switch point (chan/chaos.h): one decision among keep running (0),
 * switch (yield to the scheduler, which then picks by the seed; when
 * another fiber could run) and jump (the same after a time jump; with
 * time_jumps and a deadline pending). */
static void hooks_switch(struct gowait__bubble *h)
{
	struct gofiber__bubble *b = (struct gofiber__bubble *)h;
	struct gofiber *f = gofiber__cur;

	if (!f || f->bubble != b || !b->switches_on)
		return;
	b->points++;
	if (b->pct) {
		/* PCT preempts only at its change points. */
		if (pct_step(b, f)) {
			b->switches++;
			(void)gofiber_yield();
		}
		return;
	}
	if (b->max_switches && b->switches >= b->max_switches)
		return;
	bool can_switch = b->runq.n != 0;
	bool can_jump =
		b->jumps_on && (b->timed.n != 0 || gotime__bubble_next(&b->hooks) != INT64_MAX);
	uint32_t c = gofiber__decide_as(&b->d, GOBUBBLE_SWITCH, 1u + can_switch + can_jump);

	if (c == 0)
		return;
	b->switches++;
	if (c == 2 || !can_switch) {
		b->jump = true;
		b->jumps++;
	}
	(void)gofiber_yield();
}

/* ---- the fiber side (called through fiber/sched.c) ---- */

void gofiber__bubble_switch(struct gofiber *f)
{
	struct gofiber__bubble *b = f->bubble;

	gofiber__asan_start(f->why == GOFIBER_EXIT ? NULL : &f->asan_fake, b->stack_lo,
			    b->stack_size);
	gofiber__tsan_switch(b->tsan);
	gofiber__ctx_switch(&f->ctx, &b->sched);
	gofiber__asan_finish(f->asan_fake);
}

void gofiber__bubble_ready(struct gofiber *f)
{
	struct gofiber__bubble *b = f->bubble;

	if (gowait__bubble_cur == &b->hooks) {
		fvec_push(&b->runq, f);
		return;
	}
	/* From outside the bubble: the run is no longer replayable. */
	pthread_mutex_lock(&b->mu);
	f->next = NULL;
	*b->inbox_end = f;
	b->inbox_end = &f->next;
	pthread_cond_signal(&b->cv);
	pthread_mutex_unlock(&b->mu);
}

static int add_fiber(struct gofiber__bubble *b, struct gofiber_group *g, void (*fn)(void *),
		     void *arg, struct gofiber **out)
{
	struct gofiber *f = gofiber__new(g, fn, arg);

	if (!f)
		return ENOMEM;
	f->bubble = b;
	/* PCT: a random priority above every change point's (< 16). */
	f->prio = b->pct ? 16 + (gofiber__decide_bits(&b->d) >> 1) : 0;
	if (g)
		gofiber__group_add(g);
	b->live++;
	b->fibers++;
	fvec_push(&b->runq, f);
	if (out)
		*out = f;
	return 0;
}

int gofiber__bubble_go(struct gofiber *parent, struct gofiber_group *g, void (*fn)(void *),
		       void *arg)
{
	return add_fiber(parent->bubble, g, fn, arg, NULL);
}

/* ---- the scheduler side ---- */

/* Run @f until it parks, yields or ends. */
static void run_one(struct gofiber__bubble *b, struct gofiber *f)
{
	if (f->deadline >= 0) {
		fvec_forget(&b->timed, f);
		f->deadline = GOWAIT_FOREVER;
	}
	for (;;) {
		b->steps++;
		gofiber__cur = f;
		gofiber__asan_start(&b->asan_fake, gofiber__stack_lo(&f->stack),
				    (size_t)((char *)f - gofiber__stack_lo(&f->stack)));
		gofiber__tsan_switch(f->tsan);
		gofiber__ctx_switch(&b->sched, &f->ctx);
		gofiber__asan_finish(b->asan_fake);
		gofiber__cur = NULL;
		switch (f->why) {
		case GOFIBER_EXIT:
			if (f == b->main)
				b->main_done = true;
			b->live--;
			if (b->last == f)
				b->last = NULL; /* freed below */
			gofiber__free(f);
			return;
		case GOFIBER_YIELD:
		case GOFIBER_REQUEUE:
			if (!gofiber__stack_canary_ok(&f->stack))
				gofiber__overflow_report(f, NULL);
			if (b->pct) {
				/* A yield under PCT goes below every runnable
				 * fiber (else a yield loop, gobubble_wait's,
				 * would keep the highest priority for ever);
				 * on a tie the older queued fiber runs first. */
				uint64_t low = f->prio;

				for (size_t i = 0; i < b->runq.n; i++)
					if (b->runq.v[i]->prio < low)
						low = b->runq.v[i]->prio;
				if (low < f->prio)
					f->prio = low ? low - 1 : 0;
			}
			fvec_push(&b->runq, f);
			return;
		case GOFIBER_PARK: {
			uint32_t expected = 0;

			if (!gofiber__stack_canary_ok(&f->stack))
				gofiber__overflow_report(f, NULL);
			/* The commit, as fiber/deadline.c's gofiber__dl_commit:
			 * acq_rel on success pairs with the completer's acq_rel
			 * exchange (gowait__complete), acquire on failure with
			 * its release (the completion's data). */
			if (atomic_compare_exchange_strong_explicit(&f->parker->futex, &expected, 2,
								    memory_order_acq_rel,
								    memory_order_acquire)) {
				if (f->deadline >= 0)
					fvec_push(&b->timed, f);
				return;
			}
			break; /* already complete: run it again at once */
		}
		}
	}
}

/* Move the inbox to the run queue; true if it held a fiber. */
static bool drain_inbox(struct gofiber__bubble *b, int64_t wait_ns)
{
	pthread_mutex_lock(&b->mu);
	if (!b->inbox && wait_ns > 0) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		int64_t at = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec + wait_ns;

		ts.tv_sec = (time_t)(at / 1000000000);
		ts.tv_nsec = (long)(at % 1000000000);
		while (!b->inbox && pthread_cond_timedwait(&b->cv, &b->mu, &ts) == 0)
			;
	}
	struct gofiber *list = b->inbox;

	b->inbox = NULL;
	b->inbox_end = &b->inbox;
	pthread_mutex_unlock(&b->mu);
	for (; list; list = list->next) {
		fvec_push(&b->runq, list);
		b->outside++;
	}
	return b->runq.n != 0;
}

/* Nothing runnable: jump the clock to the earliest deadline, of a timer
 * or of a parked fiber, and fire that timer (one), or else expire every
 * fiber due then.  A timer goes first on a tie.  False: nothing pending. */
static bool advance(struct gofiber__bubble *b)
{
	int64_t next = INT64_MAX, tnext = gotime__bubble_next(&b->hooks);

	for (size_t i = 0; i < b->timed.n; i++)
		if (b->timed.v[i]->deadline < next)
			next = b->timed.v[i]->deadline;
	if (next == INT64_MAX && tnext == INT64_MAX)
		return false;
	if (tnext <= next) {
		if (tnext > b->hooks.now)
			b->hooks.now = tnext;
		(void)gotime__bubble_fire(&b->hooks, b->hooks.now);
		return true;
	}
	if (next > b->hooks.now)
		b->hooks.now = next;
	for (size_t i = 0; i < b->timed.n;) {
		struct gofiber *f = b->timed.v[i];
		uint32_t expected = 2;

		if (f->deadline > b->hooks.now) {
			i++;
			continue;
		}
		(void)fvec_take(&b->timed, i);
		f->deadline = GOWAIT_FOREVER;
		/* relaxed: as gofiber__dl_expire, the race with a completer's
		 * exchange is decided by the order of RMWs on this word. */
		if (atomic_compare_exchange_strong_explicit(&f->parker->futex, &expected, 0,
							    memory_order_relaxed,
							    memory_order_relaxed)) {
			f->timed_out = true;
			fvec_push(&b->runq, f);
		} /* else 1: its completer's ready is on its way (the inbox) */
	}
	return true;
}

static void schedule(struct gofiber__bubble *b, int64_t outside_wait_ns)
{
	for (;;) {
		(void)drain_inbox(b, 0);
		if (b->jump) { /* the yielder is in runq: this cannot end the run */
			b->jump = false;
			(void)advance(b);
		}
		if (b->runq.n) {
			struct gofiber *f = fvec_take(&b->runq, pick(b));

			b->last = f;
			run_one(b, f);
			continue;
		}
		if (b->live == 0)
			return; /* every fiber ended: armed timers stay armed */
		if (advance(b))
			continue;
		if (outside_wait_ns > 0 && drain_inbox(b, outside_wait_ns))
			continue;
		return;
	}
}

static uint64_t env_seed(uint64_t seed)
{
	const char *s = getenv("GOCHAN_SEED");

	if (!s || !*s)
		return seed;
	char *end;
	unsigned long long v = strtoull(s, &end, 0);

	return *end ? seed : (uint64_t)v;
}

int gobubble_run(const gobubble_opts *opts, void (*fn)(void *), void *arg, gobubble_report *report)
{
	gobubble_opts o = opts ? *opts : (gobubble_opts){0};

	if (!fn || gofiber__cur || gowait__bubble_cur)
		return EINVAL;
	gofiber__runtime_init();
	struct gofiber__bubble *b = calloc(1, sizeof *b);

	if (!b)
		return ENOMEM;
	uint64_t seed = o.ignore_env ? o.seed : env_seed(o.seed);

	struct gofiber__decisions_io io;

	gofiber__decide_init(&b->d, seed);
	int err = gofiber__decisions_open(&b->d, &o, &io);

	if (err) {
		free(b);
		return err;
	}
	b->hooks.now = GOBUBBLE_EPOCH;
	b->hooks.rand = hooks_rand;
	b->hooks.go = hooks_go;
	b->hooks.switch_point = hooks_switch;
	b->hooks.choose = hooks_choose;
	b->hooks.blocks = hooks_blocks;
	b->dump = o.dump;
	b->switches_on = o.switch_points;
	if (o.strategy == GOBUBBLE_PCT) {
		uint32_t d = o.pct_depth ? o.pct_depth : 3;
		uint32_t k = o.pct_steps ? o.pct_steps : 100;
		const char *ks = getenv("GOCHAN_PCT_STEPS");

		if (ks && atol(ks) > 0)
			k = (uint32_t)atol(ks);
		if (d > 16)
			d = 16;
		b->pct = true;
		b->pct_depth = d;
		b->pct_n = d - 1;
		for (uint32_t i = 0; i < b->pct_n; i++)
			b->pct_at[i] = 1 + gofiber__decide_bits(&b->d) % k;
		/* ascending (insertion sort: at most 15) */
		for (uint32_t i = 1; i < b->pct_n; i++)
			for (uint32_t j = i; j > 0 && b->pct_at[j] < b->pct_at[j - 1]; j--) {
				uint64_t t = b->pct_at[j];

				b->pct_at[j] = b->pct_at[j - 1];
				b->pct_at[j - 1] = t;
			}
	}
	b->jumps_on = o.time_jumps;
	b->max_switches = o.max_switches;
	b->inbox_end = &b->inbox;
	pthread_mutex_init(&b->mu, NULL);
	pthread_cond_init(&b->cv, NULL);
	b->tsan = gofiber__tsan_current();
#ifdef GOFIBER_ASAN
	pthread_attr_t a;
	void *lo;

	if (pthread_getattr_np(pthread_self(), &a) == 0) {
		if (pthread_attr_getstack(&a, &lo, &b->stack_size) == 0)
			b->stack_lo = lo;
		pthread_attr_destroy(&a);
	}
#endif
	if (add_fiber(b, NULL, fn, arg, &b->main)) {
		gofiber__decisions_close(&b->d, &o, &io, NULL);
		free(b);
		return ENOMEM;
	}
	if (b->switches_on) /* relaxed: chan/chaos.h */
		atomic_fetch_add_explicit(&chan__switch_users, 1, memory_order_relaxed);
	gowait__bubble_cur = &b->hooks;
	schedule(b, o.outside_wait_ns);
	gowait__bubble_cur = NULL;
	if (b->switches_on)
		atomic_fetch_sub_explicit(&chan__switch_users, 1, memory_order_relaxed);
	/* The bubble's idle point, as an M:N worker's that found no work
	 * (fiber/sched.c): the stacks of its ended fibers went to the cache;
	 * unmap those beyond GOFIBER_STACK_CACHE, or beyond its fibers still
	 * parked (an M:N worker going idle trims to its own live count). */
	gofiber__stack_trim((long)b->live);

	gobubble_verdict v = !b->main_done ? GOBUBBLE_DEADLOCK
			     : b->live     ? GOBUBBLE_LEAK
					   : GOBUBBLE_OK;

	if (v != GOBUBBLE_OK && o.dump) {
		fprintf(o.dump,
			"gochan: bubble (seed %" PRIu64 "): %s, %" PRIu64 " fiber(s) blocked\n",
			seed,
			v == GOBUBBLE_DEADLOCK ? "all goroutines are asleep - deadlock!"
					       : "fibers leaked: still blocked after fn returned",
			b->live);
		(void)godiag_dump(o.dump);
	}
	if ((b->outside || b->hooks.thread_wakes || b->worker_blocks) && o.dump) {
		/* Every way out of the bubble that the run saw (gochan/bubble.h,
		 * "Outside the bubble"). */
		fprintf(o.dump,
			"gochan: bubble (seed %" PRIu64 "): not replayable: %" PRIu64
			" ready(s) from outside the bubble, %" PRIu64
			" plain thread(s) woken from inside, %" PRIu64
			" thread wait(s) on its worker",
			seed, b->outside, b->hooks.thread_wakes, b->worker_blocks);
		if (b->worker_blocks)
			fprintf(o.dump, " (the first: %s, called from %p)", b->block_what,
				b->block_ra);
		fputs("\n", o.dump);
	}
	if (report)
		*report = (gobubble_report){.verdict = v,
					    .seed = seed,
					    .fibers = b->fibers,
					    .blocked = b->live,
					    .decisions = b->d.decisions,
					    .steps = b->steps,
					    .outside = b->outside,
					    .switches = b->switches,
					    .jumps = b->jumps,
					    .points = b->points,
					    .thread_wakes = b->hooks.thread_wakes,
					    .worker_blocks = b->worker_blocks,
					    .elapsed_ns = b->hooks.now - GOBUBBLE_EPOCH};
	gofiber__decisions_close(&b->d, &o, &io, report);
	/* Parked fibers and armed timers still name the bubble: it stays
	 * while they do (a small leak, for a leaked run only). */
	if (b->live == 0 && gotime__bubble_next(&b->hooks) == INT64_MAX) {
		free(b->runq.v);
		free(b->timed.v);
		pthread_cond_destroy(&b->cv);
		pthread_mutex_destroy(&b->mu);
		free(b);
	} else {
		gofiber__lsan_keep(b); /* kept on purpose: not a leak of ours */
	}
	return 0;
}

int gobubble_wait(void)
{
	struct gofiber *f = gofiber__cur;

	if (!f || !f->bubble)
		return EINVAL;
	/* The run queue holds every other runnable fiber (the inbox is
	 * drained into it at each switch); this one is not in it while it
	 * runs.  Each yield lets them run until they park. */
	while (f->bubble->runq.n)
		(void)gofiber_yield();
	return 0;
}

int64_t gobubble_now(void)
{
	struct gowait__bubble *h = gowait__bubble_cur;

	return h && gofiber__cur ? h->now : -1;
}

/*
 * timer/thread.c - the one timer thread and the state it shares with the
 * rest of the module.  The thread is a service thread (service/service.h,
 * g->svc, guarded by g->mu): started by the first insertion that finds none
 * live; sleeps on a CLOCK_MONOTONIC condition variable until the earliest
 * deadline; pops expired timers in batches under g->mu and carries them out
 * with no lock held; and once the heap is empty lingers
 * GOTIME_IDLE_LINGER_NS and leaves.  Start and exit are decided under g->mu
 * (g->svc.live), so an insertion either sees the thread live (and it will
 * see the new timer before it sleeps or exits: it re-reads the heap under
 * g->mu) or starts a new one.  Also gotime_shutdown() and the queries of
 * timer_internal.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <time.h>

#include "service/threads.h"
#include "timer/timer_impl.h"
#include "timer/timer_internal.h"
#include "wait/cond.h"
#include "wait/word.h"

/* Expired timers popped per acquisition of g->mu. */
#define FIRE_BATCH 64

struct gotime__state gotime__g = {
	.mu = PTHREAD_MUTEX_INITIALIZER,
	.svc = GOSVC_INIT_FIBER_WAITS(&gotime__g.mu, GOWAIT_LOCKRANK_TIMER_STATE,
				      GODIAG_THREAD_TIMER, GOTIME_IDLE_LINGER_NS, false),
};

_Atomic uint32_t gotime__afterfuncs;

__attribute__((constructor)) static void timer_init(void)
{
	/* Without a monotonic clock a wall-clock jump would shift every
	 * deadline. */
	gowait__cond_init(&g->wake);
}

static void *timer_main(void *unused);

/* Under g->mu: make sure a timer thread is live.  0 or EAGAIN. */
static int ensure_thread(void)
{
	if (g->svc.live > 0)
		return 0;
	if (gosvc__start_locked(&g->svc, timer_main, NULL) != 0)
		return EAGAIN;
	g->sleeping = false;
	return 0;
}

int gotime__arm_locked(struct gotime_timer *t, int64_t when)
{
	GOWAIT_ASSERT_HELD(&g->mu);
	gotime__heap_insert(timer_ref(t), when);
	t->armed_at = ++g->arms;
	if (t->bubble)
		return 0; /* its bubble fires it (timer/bubble.c) */
	/* A new timer overrides a shutdown in progress: let it recheck (it
	 * will return EBUSY). */
	gosvc__cancel_stop_locked(&g->svc);
	if (g->svc.live == 0)
		return ensure_thread();
	if (g->sleeping && t->heap_idx == 0 && when < g->wake_at) {
		g->wake_at = when; /* one signal per earlier deadline is enough */
		pthread_cond_signal(&g->wake);
	}
	return 0;
}

bool gotime__disarm_locked(struct gotime_timer *t)
{
	GOWAIT_ASSERT_HELD(&g->mu);
	if (t->heap_idx == HEAP_NONE)
		return false;
	gotime__heap_remove(t);
	if (g->n == 0 && g->sleeping && !g->lingering) {
		/* It may be sleeping toward a far deadline: wake it to start
		 * its linger, so that it exits on time.  Once lingering (or
		 * woken: wake_at INT64_MIN below), an empty heap needs no
		 * further signal. */
		g->lingering = true;
		g->wake_at = INT64_MIN;
		pthread_cond_signal(&g->wake);
	}
	return true;
}

/* Under g->mu: the timer thread sleeps until @when or a signal (@linger:
 * the heap is empty and this is the idle grace period).  Any return
 * (signal, timeout, spurious) makes it recheck the heap. */
static void sleep_until(int64_t when, bool linger)
{
	g->sleeping = true;
	g->lingering = linger;
	g->wake_at = when;
	(void)gowait__cond_wait_until(&g->wake, &g->mu, when);
	g->sleeping = false;
}

struct firing {
	struct gotime_timer *t; /* holds a reference */
	int64_t when;           /* the due time delivered */
	uint64_t seq;           /* t->seq when popped */
};

/* Under g->mu: pop the timers due at @now (at most FIRE_BATCH) into
 * @batch, re-arming tickers for their next tick.  Returns how many. */
static size_t pop_due(struct firing *batch, int64_t now)
{
	size_t nb = 0;

	GOWAIT_ASSERT_HELD(&g->mu);
	while (nb < FIRE_BATCH && g->n > 0 && g->heap[0].when <= now) {
		struct heap_ent e = g->heap[0];
		struct gotime_timer *t = e.t;

		gotime__heap_remove(t); /* its heap reference moves to the batch */
		batch[nb++] = (struct firing){.t = t, .when = e.when, .seq = t->seq};
		if (t->period > 0 && !gotime__orphaned(t)) {
			/* Next tick: the first multiple of the period after
			 * now (ticks a slow thread missed are dropped, as Go
			 * does).  An orphaned Tick stops here instead: the
			 * batch's reference is its last. */
			int64_t k = 1 + (now - e.when) / t->period, step, next;
			if (__builtin_mul_overflow(k, t->period, &step))
				step = INT64_MAX;
			next = gowait__time_add(e.when, step);
			gotime__heap_insert(timer_ref(t), next);
		}
		if (t->kind == TK_FUNC_THREAD)
			/* Counted from the pop, under g->mu, so a shutdown
			 * that sees the heap empty also sees this function as
			 * still to run.  Relaxed: g->mu orders it against
			 * gotime_shutdown's check. */
			atomic_fetch_add_explicit(&gotime__afterfuncs, 1, memory_order_relaxed);
	}
	return nb;
}

static void *timer_main(void *unused)
{
	struct firing batch[FIRE_BATCH];
	int64_t idle_since = GOSVC_BUSY;

	(void)unused;
	gosvc__enter(&g->svc);
	/* The kernel may defer a sleeping thread's timed wake-up by its timer
	 * slack (50 us by default) to batch wake-ups; deadlines are this
	 * thread's whole job, so ask for 1 ns.  Best effort: on failure timers
	 * are merely up to the default slack late. */
	(void)prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
	gowait__mutex_lock(&g->mu, GOWAIT_LOCKRANK_TIMER_STATE);
	for (;;) {
		int64_t now;
		size_t nb;

		if (g->n == 0) {
			int64_t wake;
			/* A shutdown's stop, or the linger passed. */
			if (gosvc__idle_expired_locked(&g->svc, &idle_since, &wake))
				break;
			sleep_until(wake == CHAN_FOREVER ? INT64_MAX : wake, true);
			continue;
		}
		idle_since = GOSVC_BUSY;
		now = chan_now();
		if (g->heap[0].when > now) {
			sleep_until(g->heap[0].when, false);
			continue;
		}
		nb = pop_due(batch, now);
		gowait__mutex_unlock(&g->mu, GOWAIT_LOCKRANK_TIMER_STATE);
		for (size_t i = 0; i < nb; i++) {
			struct firing *f = &batch[i];
			if (f->t->kind == TK_CHAN)
				gotime__chan_fire(f->t, f->when, f->seq);
			else
				gotime__func_fire(f->t);
		}
		gowait__mutex_lock(&g->mu, GOWAIT_LOCKRANK_TIMER_STATE);
	}
	g->sleeping = false;
	/* Leaves in the critical section that decided it (the heap is empty
	 * under g->mu): the next insertion sees no live thread and starts
	 * one.  Its last access to library state (service/service.h). */
	gosvc__leave_locked(&g->svc);
	return NULL;
}

/*
 * Under g->mu: take up to @max orphans (timer_impl.h) out of the heap into
 * @out, their heap references with them, skipping those of a bubble unless
 * @bubbles.  Returns how many.  O(n): for gotime_shutdown, which must not
 * wait an orphaned Tick's period (or an orphaned After's duration) for the
 * timer thread to notice it, and for the amortised sweep below.
 */
static size_t take_orphans_locked(struct gotime_timer **out, size_t max, bool bubbles)
{
	size_t k = 0;

	/* Collect first, remove after: removal moves entries around. */
	for (size_t i = 0; i < g->n && k < max; i++) {
		struct gotime_timer *t = g->heap[i].t;

		if ((bubbles || !t->bubble) && gotime__orphaned(t))
			out[k++] = t;
	}
	for (size_t i = 0; i < k; i++)
		gotime__disarm_locked(out[i]);
	return k;
}

/* Under g->mu: whether the handleless timers call for a sweep (timer_impl.h,
 * "Orphans"). */
static bool sweep_due_locked(void)
{
	return g->handleless >= GOTIME__ORPHAN_SWEEP_MIN && g->handleless > g->sweep_at &&
	       4 * g->handleless >= g->n;
}

void gotime__handleless_added_locked(void)
{
	g->handleless++;
	if (sweep_due_locked())
		atomic_store_explicit(&g->sweep_wanted, true, memory_order_relaxed);
}

void gotime__sweep_orphans(void)
{
	struct gotime_timer *orphans[FIRE_BATCH];
	size_t k;

	/* relaxed: see g->sweep_wanted. */
	if (!atomic_load_explicit(&g->sweep_wanted, memory_order_relaxed))
		return;
	gowait__mutex_lock(&g->mu, GOWAIT_LOCKRANK_TIMER_STATE);
	atomic_store_explicit(&g->sweep_wanted, false, memory_order_relaxed);
	if (!sweep_due_locked()) {
		gowait__mutex_unlock(&g->mu, GOWAIT_LOCKRANK_TIMER_STATE);
		return;
	}
	/* Once begun, to the end: a batch that finds none ends it.  Each
	 * rescan starts over, but every full batch removes FIRE_BATCH
	 * timers, so the scans cost O(heap) per FIRE_BATCH orphans freed. */
	while ((k = take_orphans_locked(orphans, FIRE_BATCH, false)) > 0) {
		/* Their heap references are usually their last (an orphan
		 * has no handle; only a ticker's firing in progress may hold
		 * another): drop them unlocked, since destruction takes
		 * g->mu. */
		gowait__mutex_unlock(&g->mu, GOWAIT_LOCKRANK_TIMER_STATE);
		for (size_t i = 0; i < k; i++)
			timer_unref(orphans[i]);
		gowait__mutex_lock(&g->mu, GOWAIT_LOCKRANK_TIMER_STATE);
		if (k < FIRE_BATCH)
			break;
	}
	g->sweep_at = 2 * g->handleless;
	gowait__mutex_unlock(&g->mu, GOWAIT_LOCKRANK_TIMER_STATE);
}

/*
 * gotime_shutdown's check, under g->mu (which it may release and retake):
 * first drop the orphans, then EBUSY if a timer is pending or an AfterFunc
 * function has not returned.
 */
static int shutdown_busy(void)
{
	struct gotime_timer *orphans[FIRE_BATCH];
	size_t k;

	while (g->n > 0 && (k = take_orphans_locked(orphans, FIRE_BATCH, true)) > 0) {
		/* Their heap references may be their last: drop them unlocked
		 * (destruction takes g->mu), then look again. */
		gowait__mutex_unlock(&g->mu, GOWAIT_LOCKRANK_TIMER_STATE);
		for (size_t i = 0; i < k; i++)
			timer_unref(orphans[i]);
		gowait__mutex_lock(&g->mu, GOWAIT_LOCKRANK_TIMER_STATE);
	}
	/* Acquire: pairs with func.c's release decrement. */
	if (g->n > 0 || atomic_load_explicit(&gotime__afterfuncs, memory_order_acquire) > 0)
		return EBUSY;
	return 0;
}

/* Under g->mu: make a sleeping timer thread look at its stop request. */
static void shutdown_wake(void)
{
	pthread_cond_signal(&g->wake);
}

int gotime_shutdown(void)
{
	gowait__mutex_lock(&g->mu, GOWAIT_LOCKRANK_TIMER_STATE);
	int ret = gosvc__shutdown_locked(&g->svc, shutdown_busy, shutdown_wake);
	/* The AfterFunc threads whose functions returned (counted out above)
	 * are gone too: none outlives this call. */
	if (ret == 0)
		gotime__afterfunc_sync();
	if (ret == 0 && g->reserved == 0) {
		free(g->heap);
		g->heap = NULL;
		g->cap = 0;
	}
	gowait__mutex_unlock(&g->mu, GOWAIT_LOCKRANK_TIMER_STATE);
	return ret;
}

/* ---- timer_internal.h ---------------------------------------------------- */

size_t gotime__pending(void)
{
	size_t n;
	gowait__mutex_lock(&g->mu, GOWAIT_LOCKRANK_TIMER_STATE);
	n = g->n;
	gowait__mutex_unlock(&g->mu, GOWAIT_LOCKRANK_TIMER_STATE);
	return n;
}

unsigned gotime__threads_live(void)
{
	return gosvc__live(&g->svc);
}

uint64_t gotime__threads_started(void)
{
	return gosvc__started(&g->svc);
}

unsigned gotime__afterfunc_live(void)
{
	return atomic_load_explicit(&gotime__afterfuncs, memory_order_acquire);
}

size_t gotime__heap_capacity(void)
{
	size_t n;
	gowait__mutex_lock(&g->mu, GOWAIT_LOCKRANK_TIMER_STATE);
	n = g->cap;
	gowait__mutex_unlock(&g->mu, GOWAIT_LOCKRANK_TIMER_STATE);
	return n;
}

size_t gotime__heap_reserved(void)
{
	size_t n;
	gowait__mutex_lock(&g->mu, GOWAIT_LOCKRANK_TIMER_STATE);
	n = g->reserved;
	gowait__mutex_unlock(&g->mu, GOWAIT_LOCKRANK_TIMER_STATE);
	return n;
}

int gotime__wait_afterfuncs(int64_t deadline)
{
	const struct gowait__site site = {GOWAIT_OP_LIB_WAIT, NULL, NULL,
					  __builtin_return_address(0)};
	bool timed_out = false;

	for (;;) {
		/* Acquire: pairs with afterfunc_main's release decrement, so
		 * all the functions did happens before we return 0. */
		uint32_t v = atomic_load_explicit(&gotime__afterfuncs, memory_order_acquire);
		if (v == 0) {
			/* And their threads have left (service/service.h). */
			gotime__afterfunc_sync();
			return 0;
		}
		if (timed_out)
			return ETIMEDOUT;
		/* A drop to 0 after the load makes this return at once (the
		 * word is no longer v), so its wake cannot be missed.  Parks a
		 * fiber on a fiber (wait/word.h). */
		timed_out = gowait__word_wait(&gotime__afterfuncs, v, deadline, &site) == ETIMEDOUT;
	}
}

int64_t gotime__set_linger_ns(int64_t ns)
{
	gowait__mutex_lock(&g->mu, GOWAIT_LOCKRANK_TIMER_STATE);
	int64_t old = gosvc__set_linger_locked(&g->svc, ns);
	/* A lingering thread re-reads it. */
	if (g->sleeping && g->lingering)
		pthread_cond_signal(&g->wake);
	gowait__mutex_unlock(&g->mu, GOWAIT_LOCKRANK_TIMER_STATE);
	return old;
}

int gotime__wait_thread_exit(int64_t deadline)
{
	return gosvc__wait_gone(&g->svc, deadline);
}

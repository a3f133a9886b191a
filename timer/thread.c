/*
 * timer/thread.c - the one timer thread and the state it shares with the
 * rest of the module: started (detached) by the first insertion that finds
 * none running; sleeps on a CLOCK_MONOTONIC condition variable until the
 * earliest deadline; pops expired timers in batches under g->mu and carries
 * them out with no lock held; and once the heap is empty lingers
 * GOTIME_IDLE_LINGER_NS and exits.  Start and exit are decided under g->mu
 * (g->running), so an insertion either sees the thread running (and it will
 * see the new timer before it sleeps or exits: it re-reads the heap under
 * g->mu) or starts a new one.  Also gotime_shutdown() and the queries of
 * timer_internal.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <time.h>

#include "wait/futex.h"
#include "diag/threads.h"
#include "timer/timer_impl.h"
#include "timer/timer_internal.h"

/* Expired timers popped per acquisition of g->mu. */
#define FIRE_BATCH 64

struct gotime__state gotime__g = {
	.mu = PTHREAD_MUTEX_INITIALIZER,
};

_Atomic uint32_t gotime__afterfuncs;

/* Statistics for timer_internal.h.  Written under g->mu; read relaxed by
 * tests, which synchronise by other means. */
static atomic_uint threads_live;
static atomic_uint_least64_t threads_started;

/* True on the timer thread, so gotime_shutdown can refuse to wait for itself. */
static _Thread_local bool on_timer_thread;

__attribute__((constructor)) static void timer_init(void)
{
	pthread_condattr_t a;
	/* Only fails for invalid arguments; these are valid.  Without a
	 * monotonic clock a wall-clock jump would shift every deadline. */
	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(&g->wake, &a);
	pthread_cond_init(&g->exited, &a);
	pthread_condattr_destroy(&a);
}

static void *timer_main(void *unused);

/* Under g->mu: make sure a timer thread is running.  0 or EAGAIN. */
static int ensure_thread(void)
{
	pthread_attr_t attr;
	pthread_t tid;
	int err;

	if (g->running)
		return 0;
	if (pthread_attr_init(&attr))
		return EAGAIN;
	/* Detached: it exits on its own when idle and nobody ever needs to
	 * join it, so it can never linger as an unjoined (zombie) thread. */
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	/* Counted for godiag_verify_none from before the create. */
	godiag__thread_start(GODIAG_THREAD_TIMER);
	err = pthread_create(&tid, &attr, timer_main, NULL);
	pthread_attr_destroy(&attr);
	if (err) {
		godiag__thread_exit(GODIAG_THREAD_TIMER);
		return EAGAIN;
	}
	g->running = true;
	g->sleeping = false;
	atomic_fetch_add_explicit(&threads_live, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&threads_started, 1, memory_order_relaxed);
	return 0;
}

int gotime__arm_locked(struct gotime_timer *t, int64_t when)
{
	gotime__heap_insert(timer_ref(t), when);
	if (g->stop_req) {
		/* A new timer overrides a shutdown in progress: let it recheck
		 * (it will return EBUSY). */
		g->stop_req = false;
		pthread_cond_broadcast(&g->exited);
	}
	if (!g->running)
		return ensure_thread();
	if (g->sleeping && t->heap_idx == 0 && when < g->wake_at) {
		g->wake_at = when; /* one signal per earlier deadline is enough */
		pthread_cond_signal(&g->wake);
	}
	return 0;
}

bool gotime__disarm_locked(struct gotime_timer *t)
{
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

/* Under g->mu: wait on @cv (a CLOCK_MONOTONIC one) until a signal or the
 * chan_now() time @when.  0, or ETIMEDOUT once @when has passed. */
static int cond_wait_until(pthread_cond_t *cv, int64_t when)
{
	struct timespec ts;
	if (when < 0)
		when = 0;
	ts.tv_sec = (time_t)(when / 1000000000);
	ts.tv_nsec = (long)(when % 1000000000);
	return pthread_cond_timedwait(cv, &g->mu, &ts);
}

/* Under g->mu: the timer thread sleeps until @when or a signal (@linger:
 * the heap is empty and this is the idle grace period).  Any return
 * (signal, timeout, spurious) makes it recheck the heap. */
static void sleep_until(int64_t when, bool linger)
{
	g->sleeping = true;
	g->lingering = linger;
	g->wake_at = when;
	(void)cond_wait_until(&g->wake, when);
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
			next = chan__time_add(e.when, step);
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
	int64_t idle_until = 0; /* 0: not idle */

	(void)unused;
	on_timer_thread = true;
	/* The kernel may defer a sleeping thread's timed wake-up by its timer
	 * slack (50 us by default) to batch wake-ups; deadlines are this
	 * thread's whole job, so ask for 1 ns.  Best effort: on failure timers
	 * are merely up to the default slack late. */
	(void)prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
	pthread_mutex_lock(&g->mu);
	for (;;) {
		int64_t now;
		size_t nb;

		if (g->n == 0) {
			if (g->stop_req)
				break;
			now = chan_now();
			if (idle_until == 0)
				idle_until = chan__time_add(now, GOTIME_IDLE_LINGER_NS);
			if (now >= idle_until)
				break;
			sleep_until(idle_until, true);
			continue;
		}
		idle_until = 0;
		now = chan_now();
		if (g->heap[0].when > now) {
			sleep_until(g->heap[0].when, false);
			continue;
		}
		nb = pop_due(batch, now);
		pthread_mutex_unlock(&g->mu);
		for (size_t i = 0; i < nb; i++) {
			struct firing *f = &batch[i];
			if (f->t->kind == TK_CHAN)
				gotime__chan_fire(f->t, f->when, f->seq);
			else
				gotime__func_fire(f->t);
		}
		pthread_mutex_lock(&g->mu);
	}
	g->running = false;
	g->stop_req = false;
	atomic_fetch_sub_explicit(&threads_live, 1, memory_order_relaxed);
	/* Uncounted before `running` reads false to anyone (g->mu orders the
	 * two): gotime_shutdown, which waits under g->mu for !running, then
	 * returns with godiag_threads() already 0.  Only the unlock of the
	 * static g->mu follows (diag/threads.h allows exactly that). */
	godiag__thread_exit(GODIAG_THREAD_TIMER);
	pthread_cond_broadcast(&g->exited);
	pthread_mutex_unlock(&g->mu);
	return NULL;
}

/*
 * Under g->mu: take up to @max orphans (timer_impl.h) out of the heap into
 * @out, their heap references with them.  Returns how many.  O(n): for
 * gotime_shutdown only, which must not wait an orphaned Tick's period (or an
 * orphaned After's duration) for the timer thread to notice it.
 */
static size_t take_orphans_locked(struct gotime_timer **out, size_t max)
{
	size_t k = 0;

	/* Collect first, remove after: removal moves entries around. */
	for (size_t i = 0; i < g->n && k < max; i++)
		if (gotime__orphaned(g->heap[i].t))
			out[k++] = g->heap[i].t;
	for (size_t i = 0; i < k; i++)
		gotime__disarm_locked(out[i]);
	return k;
}

int gotime_shutdown(void)
{
	struct gotime_timer *orphans[FIRE_BATCH];
	int ret = 0;

	if (on_timer_thread)
		return EDEADLK;
	pthread_mutex_lock(&g->mu);
	for (;;) {
		size_t k = g->n > 0 ? take_orphans_locked(orphans, FIRE_BATCH) : 0;
		if (k > 0) {
			/* Their heap references may be their last: drop them
			 * unlocked (destruction takes g->mu), then look again. */
			pthread_mutex_unlock(&g->mu);
			for (size_t i = 0; i < k; i++)
				timer_unref(orphans[i]);
			pthread_mutex_lock(&g->mu);
			continue;
		}
		/* Acquire: pairs with func.c's release decrement. */
		if (g->n > 0 ||
		    atomic_load_explicit(&gotime__afterfuncs, memory_order_acquire) > 0) {
			ret = EBUSY;
			break;
		}
		if (!g->running)
			break;
		g->stop_req = true;
		pthread_cond_signal(&g->wake);
		pthread_cond_wait(&g->exited, &g->mu);
	}
	if (ret == 0 && g->reserved == 0) {
		free(g->heap);
		g->heap = NULL;
		g->cap = 0;
	}
	pthread_mutex_unlock(&g->mu);
	return ret;
}

/* ---- timer_internal.h ---------------------------------------------------- */

size_t gotime__pending(void)
{
	size_t n;
	pthread_mutex_lock(&g->mu);
	n = g->n;
	pthread_mutex_unlock(&g->mu);
	return n;
}

unsigned gotime__threads_live(void)
{
	return atomic_load_explicit(&threads_live, memory_order_relaxed);
}

uint64_t gotime__threads_started(void)
{
	return atomic_load_explicit(&threads_started, memory_order_relaxed);
}

unsigned gotime__afterfunc_live(void)
{
	return atomic_load_explicit(&gotime__afterfuncs, memory_order_acquire);
}

size_t gotime__heap_capacity(void)
{
	size_t n;
	pthread_mutex_lock(&g->mu);
	n = g->cap;
	pthread_mutex_unlock(&g->mu);
	return n;
}

size_t gotime__heap_reserved(void)
{
	size_t n;
	pthread_mutex_lock(&g->mu);
	n = g->reserved;
	pthread_mutex_unlock(&g->mu);
	return n;
}

int gotime__wait_afterfuncs(int64_t deadline)
{
	bool timed_out = false;

	for (;;) {
		/* Acquire: pairs with afterfunc_main's release decrement, so
		 * all the functions did happens before we return 0. */
		uint32_t v = atomic_load_explicit(&gotime__afterfuncs, memory_order_acquire);
		if (v == 0)
			return 0;
		if (timed_out)
			return ETIMEDOUT;
		/* A drop to 0 after the load makes this return at once (the
		 * word is no longer v), so its wake cannot be missed. */
		timed_out = chan__futex_wait(&gotime__afterfuncs, v,
					     deadline == CHAN_FOREVER ? -1 : deadline) == ETIMEDOUT;
	}
}

int gotime__wait_thread_exit(int64_t deadline)
{
	int ret = 0;
	pthread_mutex_lock(&g->mu);
	while (g->running && ret == 0) {
		if (deadline == CHAN_FOREVER)
			pthread_cond_wait(&g->exited, &g->mu);
		else
			ret = cond_wait_until(&g->exited, deadline);
	}
	pthread_mutex_unlock(&g->mu);
	return ret;
}

/*
 * timer/timer.c - every timer of the process: one binary min-heap under one
 * mutex, served by one lazily started library thread.
 *
 * Objects.  A struct gotime_timer is a one-shot channel timer, a ticker (a
 * channel timer with a period), a function timer run on the timer thread
 * (gotime_after_func_at) or a function timer run on a thread of its own
 * (gotime_after_func).  It is reference counted; references are held by
 *   - the user's handle (none for gotime_after / gotime_tick orphans),
 *   - the heap, while the timer is in it,
 *   - a firing in progress (the heap's reference moves to it when a one-shot
 *     timer is popped; a ticker that goes back in the heap takes a new one),
 * so a timer freed by its user while it fires stays valid until the firing
 * is done.  The last reference is never dropped under a lock.
 *
 * Locks, in the only order they are ever nested:
 *     t->send_mu  ->  g.mu (the heap)          and    t->send_mu -> channel lock
 * g.mu is never held while taking any other lock (it is held around
 * pthread_create and realloc only), and callbacks run with no lock held.
 *
 * What each lock guards:
 *   g.mu:        the heap array and every t->heap_idx, the thread state
 *                (running, sleeping, lingering, wake_at, stop_req) and the
 *                slot reservation count;
 *   t->send_mu:  t->armed, t->sent, and delivery into t->ch against its
 *                clearing;
 *   both:        t->seq and t->period are written only with both held, so
 *                they may be read under either.
 *
 * The stale-value rule (Go 1.23: once Stop/Reset returns, nothing from the
 * earlier setting is received).  Every (re)arming or stop bumps t->seq.  The
 * timer thread records seq when it pops a timer (under g.mu) and delivers
 * only if t->seq is unchanged when it holds t->send_mu.  Stop/Reset hold
 * t->send_mu across: remove from heap, bump seq, clear the channel.  So a
 * delivery either completed before (its value is cleared, and counts as
 * "pending") or sees the new seq and does nothing.  t->armed says "this
 * setting has neither been delivered nor stopped", which is what makes Stop
 * return true for a timer that was popped but whose value is not yet sent.
 *
 * Slots.  Each timer object reserves one heap slot when it is created, so
 * inserting (arming, Reset) never allocates and cannot fail for memory.
 *
 * The thread.  Started (detached) by the first insertion that finds none
 * running; sleeps on a CLOCK_MONOTONIC condition variable until the earliest
 * deadline; fires expired timers in batches, calling back outside the lock;
 * and when the heap is empty lingers GOTIME_IDLE_LINGER_NS and exits.  Start
 * and exit are decided under g.mu (g.running), so an insertion either sees
 * the thread running (and it will see the new timer before it sleeps or
 * exits: it re-reads the heap under g.mu) or starts a new one.
 */
#include <gochan/time.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <time.h>

#include "chan/chan_internal.h"
#include "timer/timer_internal.h"

#define HEAP_NONE SIZE_MAX
#define HEAP_MIN_CAP 64
/* Expired timers popped per acquisition of g.mu. */
#define FIRE_BATCH 64

enum timer_kind {
	TK_CHAN,        /* one-shot channel timer or ticker (period > 0) */
	TK_FUNC,        /* fn on the timer thread */
	TK_FUNC_THREAD, /* fn on a thread of its own (Go's AfterFunc) */
};

struct gotime_timer {
	/* Immutable after creation. */
	enum timer_kind kind;
	void (*fn)(void *arg);
	void *arg;
	chan_t *ch; /* TK_CHAN: the channel (one reference owned by the timer) */

	/* Guarded by g.mu. */
	size_t heap_idx; /* position in g.heap, HEAP_NONE when not in it */

	/* Written with both t->send_mu and g.mu held; read under either. */
	uint64_t seq;
	int64_t period; /* ticker period; 0 for one-shot */

	/* Guarded by send_mu (TK_CHAN only). */
	pthread_mutex_t send_mu;
	bool armed; /* the current setting is neither delivered nor stopped */
	bool sent;  /* a value may be in ch: sent since the last clear (it may
		       have been received since: only "false" is certain) */

	/* Reference count, see above. */
	atomic_size_t refs;
};

/* A ticker is a channel timer with a period; the distinct type only keeps
 * users from mixing up the two APIs. */
struct gotime_ticker {
	struct gotime_timer t;
};

struct heap_ent {
	int64_t when; /* the key, kept beside the pointer for cache-friendly sifts */
	struct gotime_timer *t;
};

static struct {
	pthread_mutex_t mu;
	/* Both on CLOCK_MONOTONIC (set up in timer_init). */
	pthread_cond_t wake;   /* the timer thread sleeps on it */
	pthread_cond_t exited; /* broadcast when the thread exits or a shutdown must recheck */
	struct heap_ent *heap;
	size_t n;        /* timers in the heap */
	size_t cap;      /* slots allocated */
	size_t reserved; /* live timer objects: n <= reserved <= cap */
	bool running;    /* a timer thread exists and has not decided to exit */
	bool sleeping;   /* it is waiting on wake, until wake_at */
	bool lingering;  /* that wait is the idle linger (the heap was empty) */
	bool stop_req;   /* gotime_shutdown asks an idle thread to exit now */
	int64_t wake_at;
} g = {
	.mu = PTHREAD_MUTEX_INITIALIZER,
};

/* Statistics for timer_internal.h.  Written under g.mu (or, for
 * afterfunc_live, by the AfterFunc thread); read relaxed by tests, which
 * synchronise by other means. */
static atomic_uint threads_live;
static atomic_uint_least64_t threads_started;
static atomic_uint afterfunc_live;

/* True on the timer thread, so gotime_shutdown can refuse to wait for itself. */
static _Thread_local bool on_timer_thread;

__attribute__((constructor)) static void timer_init(void)
{
	pthread_condattr_t a;
	/* Only fails for invalid arguments; these are valid.  Without a
	 * monotonic clock a wall-clock jump would shift every deadline. */
	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(&g.wake, &a);
	pthread_cond_init(&g.exited, &a);
	pthread_condattr_destroy(&a);
}

static int64_t add_sat(int64_t a, int64_t b)
{
	int64_t r;
	if (__builtin_add_overflow(a, b, &r))
		return b > 0 ? INT64_MAX : INT64_MIN;
	return r;
}

/* ---------------------------------------------------------------------- */
/* References                                                             */

static struct gotime_timer *timer_ref(struct gotime_timer *t)
{
	/* Relaxed: the caller already holds a reference (or holds g.mu while
	 * the heap holds one), so the object cannot go away meanwhile. */
	atomic_fetch_add_explicit(&t->refs, 1, memory_order_relaxed);
	return t;
}

static void timer_destroy(struct gotime_timer *t);

static void timer_unref(struct gotime_timer *t)
{
	/* acq_rel: release publishes this holder's last use of *t; the thread
	 * that drops the last reference acquires every other holder's, so all
	 * uses happen before the free. */
	if (atomic_fetch_sub_explicit(&t->refs, 1, memory_order_acq_rel) == 1)
		timer_destroy(t);
}

/* ---------------------------------------------------------------------- */
/* The heap (all under g.mu)                                              */

static void heap_put(size_t i, struct heap_ent e)
{
	g.heap[i] = e;
	e.t->heap_idx = i;
}

static void sift_up(size_t i, struct heap_ent e)
{
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (g.heap[p].when <= e.when)
			break;
		heap_put(i, g.heap[p]);
		i = p;
	}
	heap_put(i, e);
}

static void sift_down(size_t i, struct heap_ent e)
{
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= g.n)
			break;
		if (c + 1 < g.n && g.heap[c + 1].when < g.heap[c].when)
			c++;
		if (e.when <= g.heap[c].when)
			break;
		heap_put(i, g.heap[c]);
		i = c;
	}
	heap_put(i, e);
}

/* Insert (never allocates: the timer's slot is reserved). */
static void heap_insert(struct gotime_timer *t, int64_t when)
{
	sift_up(g.n++, (struct heap_ent){.when = when, .t = t});
}

static void heap_remove(struct gotime_timer *t)
{
	size_t i = t->heap_idx;
	struct heap_ent last = g.heap[--g.n];
	t->heap_idx = HEAP_NONE;
	if (i == g.n)
		return;
	if (i > 0 && last.when < g.heap[(i - 1) / 2].when)
		sift_up(i, last);
	else
		sift_down(i, last);
}

/* Reserve a slot for a new timer object; ENOMEM if the array cannot grow. */
static int heap_reserve(void)
{
	if (g.reserved == g.cap) {
		size_t ncap = g.cap ? 2 * g.cap : HEAP_MIN_CAP;
		struct heap_ent *h;
		if (ncap > SIZE_MAX / sizeof(*h))
			return ENOMEM;
		h = realloc(g.heap, ncap * sizeof(*h));
		if (!h)
			return ENOMEM;
		g.heap = h;
		g.cap = ncap;
	}
	g.reserved++;
	return 0;
}

/* Give a slot back; shrink the array when three quarters of it are unused. */
static void heap_unreserve(void)
{
	g.reserved--;
	if (g.cap > HEAP_MIN_CAP && g.reserved < g.cap / 4) {
		struct heap_ent *h = realloc(g.heap, g.cap / 2 * sizeof(*h));
		if (h) { /* else keep the larger array: still correct */
			g.heap = h;
			g.cap /= 2;
		}
	}
}

/* ---------------------------------------------------------------------- */
/* The timer thread                                                       */

static void *timer_main(void *unused);

/* Under g.mu: make sure a timer thread is running.  0 or EAGAIN. */
static int ensure_thread(void)
{
	pthread_attr_t attr;
	pthread_t tid;
	int err;

	if (g.running)
		return 0;
	if (pthread_attr_init(&attr))
		return EAGAIN;
	/* Detached: it exits on its own when idle and nobody ever needs to
	 * join it, so it can never linger as an unjoined (zombie) thread. */
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	err = pthread_create(&tid, &attr, timer_main, NULL);
	pthread_attr_destroy(&attr);
	if (err)
		return EAGAIN;
	g.running = true;
	g.sleeping = false;
	atomic_fetch_add_explicit(&threads_live, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&threads_started, 1, memory_order_relaxed);
	return 0;
}

/*
 * Under g.mu: insert @t (which must not be in the heap) to fire at @when,
 * taking the heap's reference, start the thread if needed, and wake it if
 * @t became the earliest deadline before the moment it means to wake.
 * Returns 0, or EAGAIN if no thread runs and none could be started (the
 * timer is then in the heap all the same and the next insertion retries).
 */
static int arm_locked(struct gotime_timer *t, int64_t when)
{
	heap_insert(timer_ref(t), when);
	if (g.stop_req) {
		/* A new timer overrides a shutdown in progress: let it recheck
		 * (it will return EBUSY). */
		g.stop_req = false;
		pthread_cond_broadcast(&g.exited);
	}
	if (!g.running)
		return ensure_thread();
	if (g.sleeping && t->heap_idx == 0 && when < g.wake_at) {
		g.wake_at = when; /* one signal per earlier deadline is enough */
		pthread_cond_signal(&g.wake);
	}
	return 0;
}

/*
 * Under g.mu: remove @t from the heap if it is there.  Returns true if it
 * was; the caller then owns the heap's reference and must drop it after
 * unlocking.  If the heap became empty while the thread sleeps toward a
 * deadline, wake it so that it lingers and exits on time instead.
 */
static bool disarm_locked(struct gotime_timer *t)
{
	if (t->heap_idx == HEAP_NONE)
		return false;
	heap_remove(t);
	if (g.n == 0 && g.sleeping && !g.lingering) {
		/* It may be sleeping toward a far deadline: wake it to start
		 * its linger.  Once lingering (or woken: wake_at INT64_MIN
		 * below), an empty heap needs no further signal. */
		g.lingering = true;
		g.wake_at = INT64_MIN;
		pthread_cond_signal(&g.wake);
	}
	return true;
}

/* Under g.mu: wait on @cv (a CLOCK_MONOTONIC one) until a signal or the
 * chan_now() time @when.  0, or ETIMEDOUT once @when has passed. */
static int cond_wait_until(pthread_cond_t *cv, int64_t when)
{
	struct timespec ts;
	if (when < 0)
		when = 0;
	ts.tv_sec = (time_t)(when / 1000000000);
	ts.tv_nsec = (long)(when % 1000000000);
	return pthread_cond_timedwait(cv, &g.mu, &ts);
}

/* Under g.mu: the timer thread sleeps until @when or a signal (@linger:
 * the heap is empty and this is the idle grace period).  Any return
 * (signal, timeout, spurious) makes it recheck the heap. */
static void sleep_until(int64_t when, bool linger)
{
	g.sleeping = true;
	g.lingering = linger;
	g.wake_at = when;
	(void)cond_wait_until(&g.wake, when);
	g.sleeping = false;
}

struct firing {
	struct gotime_timer *t; /* holds a reference */
	int64_t when;           /* the due time delivered */
	uint64_t seq;           /* t->seq when popped */
};

static void *afterfunc_main(void *p)
{
	struct gotime_timer *t = p;
	t->fn(t->arg);
	timer_unref(t);
	/* Release: pairs with the acquire in gotime_shutdown/tests so that
	 * everything fn did happens before they see the count drop. */
	atomic_fetch_sub_explicit(&afterfunc_live, 1, memory_order_release);
	return NULL;
}

/* Outside every lock: carry out one popped timer and drop its reference. */
static void fire(struct firing *f)
{
	struct gotime_timer *t = f->t;

	switch (t->kind) {
	case TK_CHAN:
		pthread_mutex_lock(&t->send_mu);
		if (t->seq == f->seq) {
			/* Never blocks: the channel buffers one value.  A
			 * ticker whose last tick is still unreceived drops
			 * this one (EAGAIN), as Go's does. */
			if (chan_try_send(t->ch, &f->when) == 0)
				t->sent = true;
			if (t->period == 0)
				t->armed = false;
		}
		pthread_mutex_unlock(&t->send_mu);
		break;
	case TK_FUNC:
		t->fn(t->arg);
		break;
	case TK_FUNC_THREAD: {
		pthread_attr_t attr;
		pthread_t tid;
		int err = pthread_attr_init(&attr);
		if (!err) {
			pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
			/* The firing's reference moves to the new thread. */
			err = pthread_create(&tid, &attr, afterfunc_main, t);
			pthread_attr_destroy(&attr);
		}
		if (!err)
			return;
		afterfunc_main(t); /* no thread to be had: run it here rather than lose it */
		return;
	}
	}
	timer_unref(t);
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
	pthread_mutex_lock(&g.mu);
	for (;;) {
		int64_t now;
		size_t nb = 0;

		if (g.n == 0) {
			if (g.stop_req)
				break;
			now = chan_now();
			if (idle_until == 0)
				idle_until = add_sat(now, GOTIME_IDLE_LINGER_NS);
			if (now >= idle_until)
				break;
			sleep_until(idle_until, true);
			continue;
		}
		idle_until = 0;
		now = chan_now();
		if (g.heap[0].when > now) {
			sleep_until(g.heap[0].when, false);
			continue;
		}
		while (nb < FIRE_BATCH && g.n > 0 && g.heap[0].when <= now) {
			struct heap_ent e = g.heap[0];
			struct gotime_timer *t = e.t;

			heap_remove(t); /* its heap reference moves to the batch */
			batch[nb++] = (struct firing){.t = t, .when = e.when, .seq = t->seq};
			if (t->period > 0) {
				/* Next tick: the first multiple of the period
				 * after now (ticks a slow thread missed are
				 * dropped, as Go does). */
				int64_t k = 1 + (now - e.when) / t->period, step, next;
				if (__builtin_mul_overflow(k, t->period, &step))
					step = INT64_MAX;
				next = add_sat(e.when, step);
				heap_insert(timer_ref(t), next);
			}
			if (t->kind == TK_FUNC_THREAD)
				/* Counted from the pop, under g.mu, so a
				 * shutdown that sees the heap empty also sees
				 * this function as still to run.  Relaxed: g.mu
				 * orders it against gotime_shutdown's check. */
				atomic_fetch_add_explicit(&afterfunc_live, 1, memory_order_relaxed);
		}
		pthread_mutex_unlock(&g.mu);
		for (size_t i = 0; i < nb; i++)
			fire(&batch[i]);
		pthread_mutex_lock(&g.mu);
	}
	g.running = false;
	g.stop_req = false;
	atomic_fetch_sub_explicit(&threads_live, 1, memory_order_relaxed);
	pthread_cond_broadcast(&g.exited);
	pthread_mutex_unlock(&g.mu);
	/* Nothing of the library is touched after this point. */
	return NULL;
}

/* ---------------------------------------------------------------------- */
/* Creation and destruction                                               */

static struct gotime_timer *timer_alloc(enum timer_kind kind, void (*fn)(void *), void *arg)
{
	struct gotime_timer *t = calloc(1, sizeof(struct gotime_ticker));
	int err;

	if (!t) {
		errno = ENOMEM;
		return NULL;
	}
	t->kind = kind;
	t->fn = fn;
	t->arg = arg;
	t->heap_idx = HEAP_NONE;
	atomic_init(&t->refs, 1); /* the creator's */
	if (kind == TK_CHAN) {
		t->ch = chan__new_timer(sizeof(int64_t));
		if (!t->ch) {
			free(t);
			errno = ENOMEM;
			return NULL;
		}
		pthread_mutex_init(&t->send_mu, NULL);
	}
	pthread_mutex_lock(&g.mu);
	err = heap_reserve();
	pthread_mutex_unlock(&g.mu);
	if (err) {
		if (t->ch) {
			chan_unref(t->ch);
			pthread_mutex_destroy(&t->send_mu);
		}
		free(t);
		errno = err;
		return NULL;
	}
	return t;
}

static void timer_destroy(struct gotime_timer *t)
{
	pthread_mutex_lock(&g.mu);
	heap_unreserve();
	pthread_mutex_unlock(&g.mu);
	if (t->ch) {
		/* EBUSY here means a thread is still blocked on the channel
		 * without its own reference, against the documented contract;
		 * the channel is then left to it rather than freed under it. */
		(void)chan_unref(t->ch);
		pthread_mutex_destroy(&t->send_mu);
	}
	free(t);
}

/*
 * Stop and, if @rearm, re-arm a channel timer: the one place that
 * implements the stale-value rule.  Re-arming makes it fire @d from now
 * (@d <= 0: deliver now, in this thread), with @period (0: keep a one-shot
 * timer one-shot; > 0: the new ticker period).  Returns whether the earlier
 * setting was pending.  *@err gets 0 or ensure_thread's EAGAIN.
 */
static bool chan_timer_set(struct gotime_timer *t, bool rearm, int64_t d, int64_t period, int *err)
{
	bool removed, pending;
	int64_t now = rearm ? chan_now() : 0;

	*err = 0;
	pthread_mutex_lock(&t->send_mu);
	pthread_mutex_lock(&g.mu);
	removed = disarm_locked(t);
	t->seq++; /* a popped-but-undelivered earlier setting is now stale */
	if (rearm) {
		if (period > 0)
			t->period = period;
		if (d > 0)
			*err = arm_locked(t, add_sat(now, d));
	}
	pthread_mutex_unlock(&g.mu);

	pending = t->armed;
	t->armed = rearm;
	/* Only a timer that has sent can have a value to clear: this keeps the
	 * channel lock off the common Stop/Reset of a timer that never fired. */
	if (t->sent) {
		t->sent = false;
		if (chan__clear(t->ch) > 0)
			pending = true;
	}
	if (rearm && d <= 0 && t->period == 0) {
		/* Fires at once: the value is there before we return. */
		t->sent = chan_try_send(t->ch, &now) == 0;
		t->armed = false;
	}
	pthread_mutex_unlock(&t->send_mu);
	if (removed)
		timer_unref(t); /* the heap's reference; never the last */
	return pending;
}

/* Stop and/or re-arm a function timer (no channel, no send_mu). */
static bool func_timer_set(struct gotime_timer *t, bool rearm, int64_t when, int *err)
{
	bool removed;

	*err = 0;
	pthread_mutex_lock(&g.mu);
	removed = disarm_locked(t);
	if (rearm)
		*err = arm_locked(t, when);
	pthread_mutex_unlock(&g.mu);
	if (removed)
		timer_unref(t); /* the heap's reference; never the last */
	return removed;
}

static gotime_timer_t *func_timer_new(enum timer_kind kind, int64_t when, void (*fn)(void *),
				      void *arg)
{
	struct gotime_timer *t;
	int err;

	if (!fn) {
		errno = EINVAL;
		return NULL;
	}
	t = timer_alloc(kind, fn, arg);
	if (!t)
		return NULL;
	func_timer_set(t, true, when, &err);
	if (err) {
		func_timer_set(t, false, 0, &err);
		timer_unref(t);
		errno = EAGAIN;
		return NULL;
	}
	return t;
}

/* A channel timer (period 0) or ticker (period > 0) armed to fire @d from now. */
static struct gotime_timer *chan_timer_new(int64_t d, int64_t period)
{
	struct gotime_timer *t = timer_alloc(TK_CHAN, NULL, NULL);
	int err;

	if (!t)
		return NULL;
	chan_timer_set(t, true, d, period, &err);
	if (err) {
		chan_timer_set(t, false, 0, 0, &err);
		timer_unref(t);
		errno = EAGAIN;
		return NULL;
	}
	return t;
}

/* ---------------------------------------------------------------------- */
/* Public API                                                             */

gotime_timer_t *gotime_after_func_at(int64_t deadline, void (*fn)(void *arg), void *arg)
{
	return func_timer_new(TK_FUNC, deadline, fn, arg);
}

gotime_timer_t *gotime_after_func(int64_t d, void (*fn)(void *arg), void *arg)
{
	return func_timer_new(TK_FUNC_THREAD, add_sat(chan_now(), d > 0 ? d : 0), fn, arg);
}

gotime_timer_t *gotime_timer_new(int64_t d)
{
	return chan_timer_new(d, 0);
}

chan_t *gotime_timer_chan(const gotime_timer_t *t)
{
	return t ? t->ch : NULL;
}

bool gotime_timer_stop(gotime_timer_t *t)
{
	int err;

	if (!t)
		return false;
	if (t->kind == TK_CHAN)
		return chan_timer_set(t, false, 0, 0, &err);
	return func_timer_set(t, false, 0, &err);
}

bool gotime_timer_reset(gotime_timer_t *t, int64_t d)
{
	int err;

	if (!t)
		return false;
	if (t->kind == TK_CHAN)
		return chan_timer_set(t, true, d, 0, &err);
	return func_timer_set(t, true, add_sat(chan_now(), d > 0 ? d : 0), &err);
}

void gotime_timer_free(gotime_timer_t *t)
{
	if (!t)
		return;
	gotime_timer_stop(t);
	timer_unref(t);
}

chan_t *gotime_after(int64_t d)
{
	struct gotime_timer *t = chan_timer_new(d, 0);
	chan_t *c;

	if (!t)
		return NULL;
	c = chan_ref(t->ch); /* the caller's */
	/* Drop the handle without stopping: the heap's reference keeps the
	 * timer until it fires, and the firing frees it. */
	timer_unref(t);
	return c;
}

gotime_ticker_t *gotime_ticker_new(int64_t d)
{
	if (d <= 0) {
		errno = EINVAL;
		return NULL;
	}
	return (gotime_ticker_t *)chan_timer_new(d, d);
}

chan_t *gotime_ticker_chan(const gotime_ticker_t *tk)
{
	return tk ? tk->t.ch : NULL;
}

void gotime_ticker_stop(gotime_ticker_t *tk)
{
	int err;
	if (tk)
		chan_timer_set(&tk->t, false, 0, 0, &err);
}

int gotime_ticker_reset(gotime_ticker_t *tk, int64_t d)
{
	int err;
	if (!tk || d <= 0)
		return EINVAL;
	chan_timer_set(&tk->t, true, d, d, &err);
	return 0;
}

void gotime_ticker_free(gotime_ticker_t *tk)
{
	if (tk)
		gotime_timer_free(&tk->t);
}

chan_t *gotime_tick(int64_t d)
{
	gotime_ticker_t *tk;
	chan_t *c;

	if (d <= 0) {
		errno = EINVAL;
		return NULL;
	}
	tk = gotime_ticker_new(d);
	if (!tk)
		return NULL;
	c = chan_ref(tk->t.ch);
	timer_unref(&tk->t); /* never stopped: the heap keeps it */
	return c;
}

int gotime_shutdown(void)
{
	int ret = 0;

	if (on_timer_thread)
		return EDEADLK;
	pthread_mutex_lock(&g.mu);
	for (;;) {
		/* Acquire: pairs with afterfunc_main's release. */
		if (g.n > 0 || atomic_load_explicit(&afterfunc_live, memory_order_acquire) > 0) {
			ret = EBUSY;
			break;
		}
		if (!g.running)
			break;
		g.stop_req = true;
		pthread_cond_signal(&g.wake);
		pthread_cond_wait(&g.exited, &g.mu);
	}
	if (ret == 0 && g.reserved == 0) {
		free(g.heap);
		g.heap = NULL;
		g.cap = 0;
	}
	pthread_mutex_unlock(&g.mu);
	return ret;
}

/* ---------------------------------------------------------------------- */
/* timer_internal.h                                                       */

size_t gotime__pending(void)
{
	size_t n;
	pthread_mutex_lock(&g.mu);
	n = g.n;
	pthread_mutex_unlock(&g.mu);
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
	return atomic_load_explicit(&afterfunc_live, memory_order_acquire);
}

size_t gotime__heap_capacity(void)
{
	size_t n;
	pthread_mutex_lock(&g.mu);
	n = g.cap;
	pthread_mutex_unlock(&g.mu);
	return n;
}

size_t gotime__heap_reserved(void)
{
	size_t n;
	pthread_mutex_lock(&g.mu);
	n = g.reserved;
	pthread_mutex_unlock(&g.mu);
	return n;
}

int gotime__wait_thread_exit(int64_t deadline)
{
	int ret = 0;
	pthread_mutex_lock(&g.mu);
	while (g.running && ret == 0) {
		if (deadline == CHAN_FOREVER)
			pthread_cond_wait(&g.exited, &g.mu);
		else
			ret = cond_wait_until(&g.exited, deadline);
	}
	pthread_mutex_unlock(&g.mu);
	return ret;
}

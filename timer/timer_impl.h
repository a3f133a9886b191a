/*
 * timer/timer_impl.h - the insides of the timer module, shared by its files.
 * Not installed; nothing outside timer/ includes it.
 *
 * Every timer of the process lives in one binary min-heap under one mutex,
 * served by one lazily started library thread.  The files, one job each:
 *   object.c  the timer object: allocation (with its heap slot), destruction
 *   heap.c    the min-heap of armed timers and the slot reservations
 *   thread.c  the timer thread: lazy start, arming/disarming, sleeping until
 *             the earliest deadline, firing in batches, idle exit, shutdown
 *   timer.c   channel timers (NewTimer, Stop, Reset, After): delivery into
 *             the channel and the stale-value rule
 *   ticker.c  tickers and Tick
 *   func.c    function timers: after_func_at (run on the timer thread) and
 *             after_func (run on a thread of its own)
 *
 * Objects.  A struct gotime_timer is a one-shot channel timer, a ticker (a
 * channel timer with a period), a function timer run on the timer thread
 * (TK_FUNC) or a function timer run on a thread of its own (TK_FUNC_THREAD).
 * It is reference counted; references are held by
 *   - the user's handle (none for the handleless gotime_after / gotime_tick
 *     timers; dropped without stopping the timer by gotime_timer_release,
 *     and by gotime_after_func_detached at once),
 *   - the heap, while the timer is in it,
 *   - a firing in progress (the heap's reference moves to it when a timer is
 *     popped; a ticker that goes back in the heap takes a new one),
 * so a timer freed by its user while it fires stays valid until the firing
 * is done.  The last reference is never dropped under a lock (destruction
 * takes g->mu).
 *
 * Lock order: wait/lockrank.h (the one table for the library).  The
 * nestings here are t->send_mu -> g->mu and t->send_mu -> channel lock;
 * g->mu is held around pthread_create (and the thread accounting of
 * service/threads.h) and realloc only, and callbacks run with no lock held.
 *
 * What each lock guards:
 *   g->mu:       the heap array and every t->heap_idx, the thread state
 *                (g->svc: the service thread's count and stop request;
 *                sleeping, lingering, wake_at) and the slot reservation
 *                count;
 *   t->send_mu:  t->armed, t->sent, and delivery into t->ch against its
 *                clearing;
 *   both:        t->seq and t->period are written only with both held, so
 *                they may be read under either.
 *
 * Invariants:
 *   - g->n <= g->reserved <= g->cap: each live timer object reserved one
 *     heap slot when it was created, so arming never allocates or fails
 *     for memory;
 *   - t->heap_idx == HEAP_NONE exactly when t is not in the heap, and then
 *     the heap holds no reference to it;
 *   - g->svc.live (0 or 1, service/service.h): a timer thread exists and
 *     will look at the heap again under g->mu before it sleeps or exits
 *     (it leaves the service in the same critical section as its decision
 *     to exit), so an insertion that sees it live needs no new thread (at
 *     most a signal), and one that sees none starts one;
 *   - the stale-value rule (Go 1.23: once Stop/Reset returns, nothing from
 *     the earlier setting is received): every (re)arming or stop bumps
 *     t->seq with t->send_mu held across removal from the heap, the bump and
 *     the clearing of the channel; the thread records seq when it pops a
 *     timer and delivers only if it is unchanged under t->send_mu;
 *   - a handleless timer (t->handleless: gotime_after, gotime_tick, and a
 *     gotime_timer_new timer once released) is reachable by users only
 *     through references to its channel.  The user's first reference is
 *     taken before the timer is armed (a released timer: before the release,
 *     since the handle's borrowed channel pointer ends with it), so when
 *     the timer thread finds t->ch held by the timer alone (chan__refs() ==
 *     1) nobody can ever receive from it again: the timer is an orphan,
 *     stops (no delivery, a ticker is not re-armed) and is freed with the
 *     firing's reference.  gotime_shutdown() takes orphans out of the heap
 *     too, and gotime_timer_release() stops a timer it leaves an orphan.
 *
 * Orphans.  Go 1.23 collects an unreferenced After timer at once; here an
 * orphan would otherwise stay in the heap (with its object and channel)
 * until it is due, so a loop that makes a time.After each time round and
 * drops it would keep one timer per iteration for the whole duration.  So
 * each new handleless timer (and each channel timer released still armed)
 * may sweep (gotime__sweep_orphans), as Go's
 * runtime cleans its zombie timers once they are a quarter of a heap: when
 * the handleless timers in the heap (g->handleless) are at least
 * GOTIME__ORPHAN_SWEEP_MIN, more than g->sweep_at (twice what the last
 * sweep left), and at least a quarter of the heap.  A sweep is O(heap)
 * and follows at least half as many handleless creations as it examines
 * timers (amortised O(1) per creation); the orphans never exceed about
 * twice the handleless timers the last sweep left plus
 * GOTIME__ORPHAN_SWEEP_MIN, or a third of the other timers.  A bubble's timers are left to their bubble
 * (its decisions count the timers it fires) and are not counted.
 */
#ifndef GOCHAN_TIMER_IMPL_H
#define GOCHAN_TIMER_IMPL_H

#include <gochan/time.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chan/chan_internal.h"
#include "service/service.h"
#include "wait/clock.h"
#include "wait/debug.h"

#define HEAP_NONE SIZE_MAX

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

	/* Guarded by g->mu. */
	size_t heap_idx;   /* position in g->heap, HEAP_NONE when not in it */
	uint64_t armed_at; /* g->arms at its last arming (a bubble's tie-break) */

	/* Immutable after creation: the bubble it was created in (NULL: none;
	 * timer_internal.h, timer/bubble.c). */
	struct gowait__bubble *bubble;

	/* Written with both t->send_mu and g->mu held; read under either. */
	uint64_t seq;
	int64_t period; /* ticker period; 0 for one-shot */
	/* No user handle exists: gotime_after / gotime_tick from creation (set
	 * before the timer is shared), a channel timer from its
	 * gotime_timer_release() on (false -> true once, never back). */
	bool handleless;

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

/* The state of the timer machinery: one per process, defined in thread.c. */
struct gotime__state {
	pthread_mutex_t mu;
	/* The timer thread: a service (service/service.h) guarded by mu,
	 * lingering GOTIME_IDLE_LINGER_NS. */
	struct gosvc svc;
	/* On CLOCK_MONOTONIC (set up by thread.c's constructor). */
	pthread_cond_t wake; /* the timer thread sleeps on it */
	struct heap_ent *heap;
	size_t n;        /* timers in the heap */
	size_t cap;      /* slots allocated */
	size_t reserved; /* live timer objects: n <= reserved <= cap */
	bool sleeping;   /* it is waiting on wake, until wake_at */
	bool lingering;  /* that wait is the idle linger (the heap was empty) */
	int64_t wake_at;
	uint64_t arms;     /* armings so far (each timer's armed_at) */
	size_t handleless; /* handleless timers of no bubble in the heap */
	size_t sweep_at;   /* a sweep needs more handleless than this */
	/* The rule ("Orphans") held when the handleless count last grew: set
	 * under mu by gotime__handleless_added_locked, cleared under mu by the
	 * sweep, read without mu by gotime__sweep_orphans so that a creation
	 * takes mu a second time only when a sweep is due.  relaxed: the
	 * creator reads its own store (program order); another thread that
	 * reads it late only leaves the sweep to the next creation, and the
	 * rule is checked again under mu before sweeping. */
	atomic_bool sweep_wanted;
};

extern struct gotime__state gotime__g;
/* Each file's short name for it. */
__attribute__((unused)) static struct gotime__state *const g = &gotime__g;

/* AfterFunc functions popped and not yet returned (thread.c counts them in
 * under g->mu at the pop; func.c counts them out with a release decrement
 * and wakes gotime__wait_afterfuncs when the count reaches 0).  A 32-bit
 * word so that it can be waited on (wait/word.h). */
extern _Atomic uint32_t gotime__afterfuncs;

/* Every AfterFunc thread that counted its function out of gotime__afterfuncs
 * before this call (as the caller observed) has left: uncounted and past
 * its last access (func.c; service/service.h gosvc__sync). */
void gotime__afterfunc_sync(void);

/* ---- object.c ---------------------------------------------------------- */

/* A new timer with one reference (the creator's) and a reserved heap slot;
 * TK_CHAN gets its channel.  NULL with errno ENOMEM. */
struct gotime_timer *gotime__timer_alloc(enum timer_kind kind, void (*fn)(void *), void *arg,
					 bool handleless);
/* Free a timer whose last reference is gone.  Takes g->mu: never call it
 * (nor timer_unref) with a lock held. */
void gotime__timer_destroy(struct gotime_timer *t);

static inline struct gotime_timer *timer_ref(struct gotime_timer *t)
{
	/* Relaxed: the caller already holds a reference (or holds g->mu while
	 * the heap holds one), so the object cannot go away meanwhile. */
	atomic_fetch_add_explicit(&t->refs, 1, memory_order_relaxed);
	return t;
}

static inline void timer_unref(struct gotime_timer *t)
{
	/* acq_rel: release publishes this holder's last use of *t; the thread
	 * that drops the last reference acquires every other holder's, so all
	 * uses happen before the free. */
	if (atomic_fetch_sub_explicit(&t->refs, 1, memory_order_acq_rel) == 1)
		gotime__timer_destroy(t);
}

/*
 * Whether @t is an orphan: a handleless channel timer whose channel only the
 * timer itself still references.  Exact in the direction that matters:
 * false may turn true at any moment (a user drops the last reference), but
 * true stays true (no handle and no other channel reference remain from
 * which a new one could be taken).  For a holder of a reference to @t,
 * under t->send_mu or g->mu (t->handleless may turn true under both).
 */
static inline bool gotime__orphaned(const struct gotime_timer *t)
{
	return t->handleless && chan__refs(t->ch) == 1;
}

/* ---- heap.c (everything under g->mu) ----------------------------------- */

/* Insert @t (not in the heap) at key @when; never allocates. */
void gotime__heap_insert(struct gotime_timer *t, int64_t when);
/* Remove @t, which is in the heap. */
void gotime__heap_remove(struct gotime_timer *t);
/* Reserve a slot for a new timer object: 0 or ENOMEM. */
int gotime__heap_reserve(void);
/* Give a slot back (the array may shrink). */
void gotime__heap_unreserve(void);

/* ---- thread.c ---------------------------------------------------------- */

/*
 * Under g->mu: insert @t (which must not be in the heap) to fire at @when,
 * taking the heap's reference, start the thread if needed, and wake it if
 * @t became the earliest deadline before the moment it means to wake.
 * Returns 0, or EAGAIN if no thread runs and none could be started (the
 * timer is then in the heap all the same and the next insertion retries).
 */
int gotime__arm_locked(struct gotime_timer *t, int64_t when);

/*
 * Under g->mu: remove @t from the heap if it is there.  Returns true if it
 * was; the caller then owns the heap's reference and must drop it after
 * unlocking.
 */
bool gotime__disarm_locked(struct gotime_timer *t);

/*
 * Under g->mu: a handleless timer of no bubble joined the heap (or an armed
 * channel timer became handleless): count it, and note whether the rule
 * above ("Orphans") now calls for a sweep (g->sweep_wanted).
 */
void gotime__handleless_added_locked(void);

/*
 * Sweep the orphans out of the heap and free them if the rule above
 * ("Orphans") says it is time.  No lock held: it returns after one relaxed
 * load unless g->sweep_wanted is set, and otherwise takes g->mu (and frees
 * outside it).  Called after each handleless timer is made, and after a
 * gotime_timer_release() that left a channel timer armed.
 */
void gotime__sweep_orphans(void);

/* ---- timer.c / func.c: what the timer thread does with a popped timer --- */

/* Deliver the due time @when of a popped channel timer whose seq was @seq
 * at the pop (nothing if it is stale or an orphan); consumes the firing's
 * reference.  No lock held. */
void gotime__chan_fire(struct gotime_timer *t, int64_t when, uint64_t seq);

/* Run (TK_FUNC) or start (TK_FUNC_THREAD) a popped function timer's
 * function; consumes the firing's reference.  No lock held. */
void gotime__func_fire(struct gotime_timer *t);

/* ---- timer.c: shared with ticker.c ------------------------------------- */

/*
 * A channel timer (@period 0) or ticker (@period > 0) armed to fire @d from
 * now.  With @user_ch it is handleless, and *@user_ch gets the caller's
 * reference to its channel, taken before the timer is armed (see
 * gotime__orphaned); the caller then drops the returned handle with
 * timer_unref().  NULL with errno ENOMEM or EAGAIN (no timer thread could be
 * started).
 */
struct gotime_timer *gotime__chan_timer_new(int64_t d, int64_t period, chan_t **user_ch);

/*
 * Stop and, if @rearm, re-arm a channel timer: the one place that
 * implements the stale-value rule.  Re-arming makes it fire @d from now
 * (@d <= 0: deliver now, in this thread), with @period (0: keep a one-shot
 * timer one-shot; > 0: the new ticker period).  Returns whether the earlier
 * setting was pending.  *@err gets 0 or EAGAIN (see gotime__arm_locked).
 */
bool gotime__chan_timer_set(struct gotime_timer *t, bool rearm, int64_t d, int64_t period,
			    int *err);

/* ---- func.c: shared with timer.c (Stop/Reset dispatch on the kind) ------ */

/* Stop and, if @rearm, re-arm a function timer to fire at @when.  Returns
 * whether it was pending; *@err as gotime__chan_timer_set. */
bool gotime__func_timer_set(struct gotime_timer *t, bool rearm, int64_t when, int *err);

#endif

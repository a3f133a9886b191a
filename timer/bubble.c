/*
 * timer/bubble.c - a bubble's timers (timer_internal.h; gochan/bubble.h):
 * found in the one heap by their bubble and fired by the bubble on its
 * worker, when its virtual clock reaches them.  The firing is the timer
 * thread's (thread.c pop_due, then timer.c / func.c), one timer at a time,
 * so that the bubble runs the fibers it readied before the next one fires.
 *
 * Timers due at the same virtual instant fire in an order the bubble's seed
 * chooses (issue 19: "when a timer fires relative to others"): at each
 * firing, one decision among the k due now (wait/bubble.h choose), the
 * answer i naming the i-th oldest arming.  Choice 0 is the oldest, so seed
 * 0 fires them in arming order, as before; one due timer draws nothing.
 */
#include "wait/bubble.h"
#include "timer/timer_impl.h"
#include "timer/timer_internal.h"

/* Under g->mu: @b's earliest deadline, and how many of its timers share it. */
static int64_t earliest_locked(const struct gowait__bubble *b, uint32_t *count)
{
	int64_t when = INT64_MAX;

	*count = 0;
	for (size_t i = 0; i < g->n; i++) {
		const struct heap_ent *e = &g->heap[i];

		if (e->t->bubble != b || e->when > when)
			continue;
		if (e->when < when) {
			when = e->when;
			*count = 0;
		}
		(*count)++;
	}
	return when;
}

/* Under g->mu: among @b's timers due at @when, the one armed after exactly
 * @skip others of them (one scan per skip: the ties are few). */
static struct gotime_timer *nth_armed_locked(const struct gowait__bubble *b, int64_t when,
					     uint32_t skip)
{
	struct gotime_timer *best = NULL;
	uint64_t after = 0; /* armed_at counts from 1 */

	for (uint32_t pass = 0; pass <= skip; pass++) {
		best = NULL;
		for (size_t i = 0; i < g->n; i++) {
			struct heap_ent *e = &g->heap[i];

			if (e->t->bubble != b || e->when != when || e->t->armed_at <= after)
				continue;
			if (!best || e->t->armed_at < best->armed_at)
				best = e->t;
		}
		after = best->armed_at;
	}
	return best;
}

int64_t gotime__bubble_next(const struct gowait__bubble *b)
{
	uint32_t count;

	gowait__mutex_lock(&g->mu, GOWAIT_LOCKRANK_TIMER_STATE);
	int64_t when = earliest_locked(b, &count);

	gowait__mutex_unlock(&g->mu, GOWAIT_LOCKRANK_TIMER_STATE);
	return when;
}

bool gotime__bubble_fire(struct gowait__bubble *b, int64_t now)
{
	uint32_t count;
	uint64_t seq;

	gowait__mutex_lock(&g->mu, GOWAIT_LOCKRANK_TIMER_STATE);
	int64_t when = earliest_locked(b, &count);

	if (count == 0 || when > now) {
		gowait__mutex_unlock(&g->mu, GOWAIT_LOCKRANK_TIMER_STATE);
		return false;
	}
	/* The seeded choice among the ties (no lock taken by choose: it only
	 * draws from the worker's own decision source). */
	struct gotime_timer *t = nth_armed_locked(b, when, b->choose(b, count));

	gotime__heap_remove(t); /* its heap reference moves to this firing */
	seq = t->seq;
	if (t->period > 0 && !gotime__orphaned(t)) {
		/* As pop_due: the next tick after now (the virtual clock
		 * stops at each tick, so none is ever missed here). */
		int64_t k = 1 + (now - when) / t->period, step;

		if (__builtin_mul_overflow(k, t->period, &step))
			step = INT64_MAX;
		gotime__heap_insert(timer_ref(t), gowait__time_add(when, step));
		t->armed_at = ++g->arms;
	}
	gowait__mutex_unlock(&g->mu, GOWAIT_LOCKRANK_TIMER_STATE);
	if (t->kind == TK_CHAN) {
		gotime__chan_fire(t, when, seq);
	} else if (t->kind == TK_FUNC_THREAD && b->go(b, t->fn, t->arg) == 0) {
		timer_unref(t); /* AfterFunc: a fiber of the bubble runs fn */
	} else {
		/* after_func_at (a context's deadline): on this thread, as on
		 * the timer thread; also an after_func whose fiber could not
		 * be started. */
		t->fn(t->arg);
		timer_unref(t);
	}
	return true;
}

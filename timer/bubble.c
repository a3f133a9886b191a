/*
 * timer/bubble.c - a bubble's timers (timer_internal.h; gochan/bubble.h):
 * found in the one heap by their bubble and fired by the bubble on its
 * worker, when its virtual clock reaches them.  The firing is the timer
 * thread's (thread.c pop_due, then timer.c / func.c), one timer at a time,
 * so that the bubble runs the fibers it readied before the next one fires.
 */
#include "wait/bubble.h"
#include "timer/timer_impl.h"
#include "timer/timer_internal.h"

/* Under g->mu: @b's timer due first (deadline, then arming order). */
static struct gotime_timer *earliest_locked(const struct gowait__bubble *b, int64_t *when)
{
	struct gotime_timer *best = NULL;

	*when = INT64_MAX;
	for (size_t i = 0; i < g->n; i++) {
		struct heap_ent *e = &g->heap[i];

		if (e->t->bubble != b)
			continue;
		if (!best || e->when < *when ||
		    (e->when == *when && e->t->armed_at < best->armed_at)) {
			best = e->t;
			*when = e->when;
		}
	}
	return best;
}

int64_t gotime__bubble_next(const struct gowait__bubble *b)
{
	int64_t when;

	gowait__mutex_lock(&g->mu, GOWAIT_LOCKRANK_TIMER_STATE);
	(void)earliest_locked(b, &when);
	gowait__mutex_unlock(&g->mu, GOWAIT_LOCKRANK_TIMER_STATE);
	return when;
}

bool gotime__bubble_fire(struct gowait__bubble *b, int64_t now)
{
	int64_t when;
	uint64_t seq;

	gowait__mutex_lock(&g->mu, GOWAIT_LOCKRANK_TIMER_STATE);
	struct gotime_timer *t = earliest_locked(b, &when);

	if (!t || when > now) {
		gowait__mutex_unlock(&g->mu, GOWAIT_LOCKRANK_TIMER_STATE);
		return false;
	}
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

/*
 * timer/timer.c - channel timers: gotime_timer_new/_stop/_reset/_free and
 * gotime_after, the delivery of a due time into the timer's channel, and the
 * stale-value rule they share with tickers (timer_impl.h).  Stop, Reset and
 * Free also dispatch function timers to func.c.
 */
#include <errno.h>

#include "timer/timer_impl.h"

bool gotime__chan_timer_set(struct gotime_timer *t, bool rearm, int64_t d, int64_t period, int *err)
{
	bool removed, pending;
	int64_t now = rearm ? chan_now() : 0;

	*err = 0;
	gowait__mutex_lock(&t->send_mu, GOWAIT_LOCKRANK_TIMER_SEND);
	gowait__mutex_lock(&g->mu, GOWAIT_LOCKRANK_TIMER_STATE);
	removed = gotime__disarm_locked(t);
	t->seq++; /* a popped-but-undelivered earlier setting is now stale */
	if (rearm) {
		if (period > 0)
			t->period = period;
		if (d > 0)
			*err = gotime__arm_locked(t, gowait__time_add(now, d));
	}
	gowait__mutex_unlock(&g->mu, GOWAIT_LOCKRANK_TIMER_STATE);

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
		t->sent = chan__try_send_owned(t->ch, &now) == 0;
		t->armed = false;
	}
	gowait__mutex_unlock(&t->send_mu, GOWAIT_LOCKRANK_TIMER_SEND);
	if (removed)
		timer_unref(t); /* the heap's reference; never the last */
	return pending;
}

void gotime__chan_fire(struct gotime_timer *t, int64_t when, uint64_t seq)
{
	gowait__mutex_lock(&t->send_mu, GOWAIT_LOCKRANK_TIMER_SEND);
	if (t->seq == seq) {
		/* Never blocks: the channel buffers one value.  A ticker whose
		 * last tick is still unreceived drops this one (EAGAIN), as
		 * Go's does.  An orphan's value could never be received: it is
		 * not sent (a one-shot orphan is freed with this firing's
		 * reference; an orphaned ticker stops at its next pop). */
		if (!gotime__orphaned(t) && chan__try_send_owned(t->ch, &when) == 0)
			t->sent = true;
		if (t->period == 0)
			t->armed = false;
	}
	gowait__mutex_unlock(&t->send_mu, GOWAIT_LOCKRANK_TIMER_SEND);
	timer_unref(t);
}

struct gotime_timer *gotime__chan_timer_new(int64_t d, int64_t period, chan_t **user_ch)
{
	struct gotime_timer *t = gotime__timer_alloc(TK_CHAN, NULL, NULL, user_ch != NULL);
	int err;

	if (!t)
		return NULL;
	/* Before arming: from then on the timer thread may look at the
	 * channel's reference count, and must not find the timer's alone. */
	if (user_ch)
		*user_ch = chan_ref(t->ch);
	gotime__chan_timer_set(t, true, d, period, &err);
	if (err) {
		gotime__chan_timer_set(t, false, 0, 0, &err);
		if (user_ch) {
			chan_unref(*user_ch);
			*user_ch = NULL;
		}
		timer_unref(t);
		errno = EAGAIN;
		return NULL;
	}
	/* A handleless timer's creation pays for the orphans that earlier
	 * ones left (timer_impl.h, "Orphans"); this one is not one: the
	 * caller holds its channel. */
	if (user_ch)
		gotime__sweep_orphans();
	return t;
}

gotime_timer_t *gotime_timer_new(int64_t d)
{
	return gotime__chan_timer_new(d, 0, NULL);
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
		return gotime__chan_timer_set(t, false, 0, 0, &err);
	return gotime__func_timer_set(t, false, 0, &err);
}

bool gotime_timer_reset(gotime_timer_t *t, int64_t d)
{
	int err;

	if (!t)
		return false;
	if (t->kind == TK_CHAN)
		return gotime__chan_timer_set(t, true, d, 0, &err);
	return gotime__func_timer_set(t, true, chan_deadline_in(d), &err);
}

void gotime_timer_free(gotime_timer_t *t)
{
	if (!t)
		return;
	gotime_timer_stop(t);
	timer_unref(t);
}

int gotime_timer_release(gotime_timer_t *t)
{
	bool removed = false, armed = false;

	if (!t)
		return EINVAL;
	if (t->kind == TK_CHAN) {
		/* From now on the timer is reachable only through references to
		 * its channel, as a gotime_after timer is: it becomes
		 * handleless, written with both locks held (timer_impl.h), and
		 * counted among the heap's handleless timers if it is in it. */
		gowait__mutex_lock(&t->send_mu, GOWAIT_LOCKRANK_TIMER_SEND);
		gowait__mutex_lock(&g->mu, GOWAIT_LOCKRANK_TIMER_STATE);
		t->handleless = true;
		if (t->heap_idx != HEAP_NONE && !t->bubble)
			gotime__handleless_added_locked();
		if (gotime__orphaned(t)) {
			/* Nobody holds its channel: nothing could ever receive
			 * from it, so stop it now rather than leave it to the
			 * sweep or its due time. */
			removed = gotime__disarm_locked(t);
			t->seq++;
			t->armed = false;
		}
		armed = t->heap_idx != HEAP_NONE;
		gowait__mutex_unlock(&g->mu, GOWAIT_LOCKRANK_TIMER_STATE);
		gowait__mutex_unlock(&t->send_mu, GOWAIT_LOCKRANK_TIMER_SEND);
		if (removed)
			timer_unref(t); /* the heap's; never the last: ours follows */
	}
	/* A function timer still in the heap keeps the heap's reference: it
	 * fires as if the handle were held, and its firing's reference is then
	 * the last (timer/func.c).  Otherwise this is the last reference, or a
	 * firing in progress holds the last one. */
	timer_unref(t);
	/* A channel timer left armed counts as a handleless creation would:
	 * it may become an orphan, so it pays for the sweep (timer_impl.h,
	 * "Orphans"). */
	if (armed)
		gotime__sweep_orphans();
	return 0;
}

chan_t *gotime_after(int64_t d)
{
	chan_t *c;
	struct gotime_timer *t = gotime__chan_timer_new(d, 0, &c);

	if (!t)
		return NULL;
	/* Drop the handle without stopping: the heap's reference keeps the
	 * timer until it fires (delivering only if the caller still holds a
	 * reference to c, see gotime__chan_fire), and the firing frees it. */
	timer_unref(t);
	return c;
}

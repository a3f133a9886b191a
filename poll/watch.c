/*
 * poll/watch.c - readiness watches (gopoll_watch and friends) and
 * gopoll_wait(), the blocking form built on one watch and chan_select.
 *
 * A watch is a registration plus a channel of element size 0 that the
 * poller thread closes, under the poller mutex, when the registration fires
 * (poller.c, dispatch_locked); gopoll_free() detaches it under the same
 * mutex, so a watch is either fired or unregistered, never both halfway.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/epoll.h>

#include <gochan/select.h>

#include "poll/poll_impl.h"

gopoll_t *gopoll_watch(int fd, unsigned events)
{
	if (events == 0 || (events & ~(GOPOLL_READ | GOPOLL_WRITE))) {
		errno = EINVAL;
		return NULL;
	}
	if (fd < 0) {
		errno = EBADF;
		return NULL;
	}
	struct gopoll *w = calloc(1, sizeof(*w));
	if (!w) {
		errno = ENOMEM;
		return NULL;
	}
	w->ch = chan__new_owned(0, 0); /* users may only receive */
	if (!w->ch) {
		free(w);
		errno = ENOMEM;
		return NULL;
	}
	atomic_init(&w->revents, 0);
	w->r.fd = fd;
	/* EPOLLRDHUP with reading: end of file is readable too, and reported
	 * even where EPOLLIN would not be asked again. */
	w->r.interest = (events & GOPOLL_READ ? EPOLLIN | EPOLLRDHUP : 0) |
			(events & GOPOLL_WRITE ? EPOLLOUT : 0);
	w->r.kind = PREG_WATCH;
	w->r.state = PREG_NEW;
	gopoll__lock();
	int err = gopoll__attach_locked(&w->r);
	gopoll__unlock();
	if (err) {
		(void)chan__unref_owner(w->ch);
		free(w);
		errno = err;
		return NULL;
	}
	return w;
}

chan_t *gopoll_chan(gopoll_t *w)
{
	return w ? w->ch : NULL;
}

unsigned gopoll_revents(gopoll_t *w)
{
	/* Acquire: pairs with the poller's release store before chan_close. */
	return w ? atomic_load_explicit(&w->revents, memory_order_acquire) : 0;
}

int gopoll_free(gopoll_t *w)
{
	if (!w)
		return 0;
	gopoll__lock();
	gopoll__detach_locked(&w->r);
	gopoll__unlock();
	/* EBUSY: a thread is still blocked on it; the channel is kept (not
	 * freed) so that thread never touches freed memory. */
	int rc = chan__unref_owner(w->ch);
	free(w);
	return rc;
}

/* Deadline already passed: one look with poll(2), no registration. */
static int wait_now(int fd, unsigned events, unsigned *revents)
{
	struct pollfd p = {.fd = fd,
			   .events = (short)((events & GOPOLL_READ ? POLLIN | POLLRDHUP : 0) |
					     (events & GOPOLL_WRITE ? POLLOUT : 0))};
	int n = poll(&p, 1, 0);
	if (n < 0)
		return errno;
	if (p.revents & POLLNVAL)
		return EBADF;
	if (n == 0 || p.revents == 0)
		return ETIMEDOUT;
	if (revents) /* POLL* and EPOLL* bits are the same on Linux */
		*revents = gopoll__revents_from_epoll((uint32_t)p.revents);
	return 0;
}

int gopoll_wait(ctx_t *ctx, int fd, unsigned events, int64_t deadline, unsigned *revents)
{
	chan_t *done = NULL;
	int64_t dl = deadline, cdl;

	if (events == 0 || (events & ~(GOPOLL_READ | GOPOLL_WRITE)))
		return EINVAL;
	if (fd < 0)
		return EBADF;
	if (ctx) {
		int e = ctx_err(ctx);
		if (e)
			return e;
		errno = 0;
		done = ctx_done(ctx);
		if (!done && errno == ENOMEM)
			return ENOMEM;
		if (ctx_deadline(ctx, &cdl) && (dl == CHAN_FOREVER || cdl < dl))
			dl = cdl;
	}
	if (dl != CHAN_FOREVER && dl <= chan_now())
		return wait_now(fd, events, revents);
	gopoll_t *w = gopoll_watch(fd, events);
	if (!w)
		return errno;
	chan_case_t cases[2] = {
		CHAN_RECV(gopoll_chan(w), NULL, NULL),
		CHAN_RECV(done, NULL, NULL),
	};
	int rc = chan_select(cases, 2, dl);
	int ret;
	if (rc == 0) {
		if (revents)
			*revents = gopoll_revents(w);
		ret = 0;
	} else if (rc == 1) {
		ret = ctx_err(ctx);
	} else if (rc == CHAN_TIMEOUT || rc == CHAN_DEFAULT) {
		/* Our deadline or the context's: both read ETIMEDOUT
		 * (== CTX_DEADLINE_EXCEEDED). */
		ret = ETIMEDOUT;
	} else {
		ret = -rc;
	}
	(void)gopoll_free(w);
	return ret;
}

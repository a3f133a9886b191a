/*
 * poll/hangup.c - gopoll_hangup_ctx(): a WithCancel context carrying a
 * registration on a socket, attached to it through the context's cancel
 * hook (context/ctx_hook.h).
 *
 * Ownership.  The struct gopoll_hup belongs to its context (the hook's
 * argument) and is freed by hook->destroy, when the context's last
 * reference goes.  The registration asks for EPOLLRDHUP only (EPOLLHUP and
 * EPOLLERR come anyway), so data arriving never wakes anything.
 *
 * Unregistering.  hook->cancel detaches the registration under the poller
 * mutex; it runs before any cancel of the context returns (the one that won
 * and every ctx_cancel on the context itself), and hook->destroy does the
 * same for a context released without a cancel.  Neither ever waits for the
 * poller thread: the thread claims a firing registration by taking a
 * reference to its context (ctx__tryref, under the poller mutex, which
 * hook->destroy must take before the context can be freed), so the
 * context it then cancels - with no lock held - is alive, and is the very
 * context of that registration, never a later one on a reused descriptor
 * number.  Its cancel may lose to another: nothing is lost, first cancel
 * wins.  If the claim fails (the count is already 0) the context is being
 * destroyed and nobody can see it any more: nothing to cancel.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/epoll.h>

#include "context/ctx_hook.h"
#include "poll/poll_impl.h"

static void hup_cancel(void *arg)
{
	struct gopoll_hup *h = arg;
	gopoll__lock();
	gopoll__detach_locked(&h->r);
	gopoll__unlock();
}

static void hup_destroy(void *arg)
{
	hup_cancel(arg);
	free(arg);
}

static const struct ctx_hook hup_hook = {.cancel = hup_cancel, .destroy = hup_destroy};

bool gopoll__hup_claim_locked(struct preg *r)
{
	struct gopoll_hup *h = caa_container_of(r, struct gopoll_hup, r);
	return ctx__tryref(h->ctx);
}

void gopoll__hup_fire(struct preg *r)
{
	ctx_t *c = caa_container_of(r, struct gopoll_hup, r)->ctx;
	(void)ctx_cancel_cause(c, GOPOLL_HANGUP, NULL);
	ctx_release(c); /* the claim's; may free @r */
}

/* One look at @fd: EBADF if it is not open, 1 if its peer is already gone
 * (or it is in error), 0 otherwise (also if poll(2) itself fails: the
 * registration then reports the problem). */
static int hung_up_now(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLRDHUP};
	if (poll(&p, 1, 0) != 1)
		return 0;
	if (p.revents & POLLNVAL)
		return EBADF;
	return (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

ctx_t *gopoll_hangup_ctx(ctx_t *parent, int fd)
{
	if (!parent) {
		errno = EINVAL;
		return NULL;
	}
	/* poll(2) ignores negative descriptors: refuse them here. */
	int now = fd < 0 ? EBADF : hung_up_now(fd);
	if (now == EBADF) {
		errno = EBADF;
		return NULL;
	}
	struct gopoll_hup *h = calloc(1, sizeof(*h));
	if (!h) {
		errno = ENOMEM;
		return NULL;
	}
	h->r.fd = fd;
	h->r.interest = EPOLLRDHUP;
	h->r.kind = PREG_HANGUP;
	h->r.state = PREG_NEW;
	/* If @parent is done, the hook's cancel runs in here and turns the
	 * registration DONE: it is then never attached. */
	ctx_t *c = ctx__with_hook(parent, &hup_hook, h);
	if (!c) {
		free(h); /* no hook function ever runs on failure */
		return NULL;
	}
	/* Published to the poller thread by the mutex of the attach below. */
	h->ctx = c;
	if (ctx_err(c) != 0)
		return c;
	if (now) { /* already gone: done at once, nothing registered */
		(void)ctx_cancel_cause(c, GOPOLL_HANGUP, NULL);
		return c;
	}
	int err = 0;
	gopoll__lock();
	/* NEW unless a cancel (of the parent) came in between: then stay out. */
	if (h->r.state == PREG_NEW)
		err = gopoll__attach_locked(&h->r);
	gopoll__unlock();
	if (err) {
		ctx_cancel_release(c); /* frees h */
		errno = err;
		return NULL;
	}
	return c;
}

const char *gopoll_strerror(int err)
{
	if (err == GOPOLL_HANGUP || err == -GOPOLL_HANGUP)
		return "peer closed connection";
	return ctx_strerror(err);
}

/*
 * poll/chanfd.c - a channel as a readiness descriptor (gopoll_chanfd_*), for
 * event loops that wait on descriptors (epoll, libuv, libevent).
 *
 * One forwarding task per adapter, on a pooled library thread (gowg_go):
 *
 *   loop: select { v, ok := <-ch: ...; <-stop: return }
 *         publish: slot = v, state = VALUE (or CLOSED), eventfd += 1
 *         CLOSED: return (the descriptor stays readable for good)
 *         select { <-taken: continue; <-stop: return }
 *
 * and the loop's gopoll_chanfd_recv: state VALUE -> copy the slot, read the
 * eventfd (back to 0: not readable), state = EMPTY, send on taken.
 *
 * Invariants.  Only the forwarder writes the slot, only while state is
 * EMPTY and after it received from `taken` (or before the first publish);
 * only the loop reads it, while state is VALUE.  So the slot has one owner
 * at a time, handed over by the state word one way (release store of
 * VALUE, acquire load in recv) and by the `taken` channel the other way
 * (recv's copy and its EMPTY store come before its send on taken, which
 * happens before the forwarder's next receive into the slot).
 *
 * Readiness is never missing, and at worst spurious: every VALUE or CLOSED
 * store is followed by a write to the eventfd, and the counter is read
 * (reset) only by a recv that has seen VALUE, before its send on `taken` -
 * so it can consume the writes of values up to the one it takes, never a
 * later one's.  If recv runs between the forwarder's state store and its
 * write, it reads nothing (EAGAIN from the non-blocking eventfd) and the
 * late write leaves the descriptor readable with nothing waiting: the
 * loop's next recv says EAGAIN.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <gochan/chan.h>
#include <gochan/poll.h>
#include <gochan/select.h>
#include <gochan/waitgroup.h>

enum { CHANFD_EMPTY, CHANFD_VALUE, CHANFD_CLOSED };

struct gopoll_chanfd {
	chan_t *ch;        /* the adapter's own reference */
	chan_t *stop;      /* closed by gopoll_chanfd_free: the forwarder returns */
	chan_t *taken;     /* cap 1, elem 0: the loop took the value */
	gowg_t *wg;        /* the forwarding task */
	int efd;           /* EFD_NONBLOCK eventfd: the loop's readiness */
	_Atomic int state; /* CHANFD_*: see the invariants */
	size_t elem_size;
	unsigned char slot[]; /* one value (elem_size bytes) */
};

static void forward(void *arg)
{
	struct gopoll_chanfd *a = arg;

	for (;;) {
		bool ok = false;
		/* The slot is ours here (state EMPTY).  A byte pointer: the
		 * channel's own element size is what is copied. */
		if (CHAN_SELECT(CHAN_FOREVER, CHAN_RECV(a->ch, a->elem_size ? a->slot : NULL, &ok),
				CHAN_RECV(a->stop, NULL, NULL)) != 0)
			return;
		/* release: the slot (and the send's happens-before edge, which
		 * the receive acquired) before the state; pairs with the acquire
		 * load in gopoll_chanfd_recv. */
		atomic_store_explicit(&a->state, ok ? CHANFD_VALUE : CHANFD_CLOSED,
				      memory_order_release);
		uint64_t one = 1;
		/* Cannot fail: the counter is 0 or 1 here, far from overflow. */
		(void)!write(a->efd, &one, sizeof one);
		if (!ok)
			return; /* closed and drained: readable for good */
		if (CHAN_SELECT(CHAN_FOREVER, CHAN_RECV(a->taken, NULL, NULL),
				CHAN_RECV(a->stop, NULL, NULL)) != 0)
			return;
	}
}

gopoll_chanfd_t *gopoll_chanfd_new(chan_t *ch)
{
	if (!ch) {
		errno = EINVAL;
		return NULL;
	}
	size_t es = chan_elem_size(ch);
	struct gopoll_chanfd *a = calloc(1, sizeof(*a) + es);
	int err = ENOMEM;

	if (!a)
		goto fail;
	a->elem_size = es;
	a->efd = -1;
	atomic_init(&a->state, CHANFD_EMPTY);
	a->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (a->efd < 0) {
		err = errno;
		goto fail;
	}
	a->stop = chan_new(0, 0);
	a->taken = chan_new(0, 1);
	a->wg = gowg_new();
	if (!a->stop || !a->taken || !a->wg)
		goto fail;
	a->ch = chan_ref(ch);
	err = gowg_go(a->wg, forward, a);
	if (err) {
		chan_unref(a->ch);
		goto fail;
	}
	return a;
fail:
	if (a) {
		if (a->efd >= 0)
			close(a->efd);
		chan_unref(a->stop);
		chan_unref(a->taken);
		gowg_free(a->wg);
		free(a);
	}
	errno = err;
	return NULL;
}

int gopoll_chanfd_fd(const gopoll_chanfd_t *a)
{
	return a ? a->efd : -1;
}

int gopoll_chanfd_recv(gopoll_chanfd_t *a, void *elem, bool *ok)
{
	if (!a)
		return EINVAL;
	/* acquire: pairs with the forwarder's release store (the slot). */
	int st = atomic_load_explicit(&a->state, memory_order_acquire);

	if (st == CHANFD_EMPTY)
		return EAGAIN;
	if (st == CHANFD_CLOSED) {
		if (elem && a->elem_size)
			memset(elem, 0, a->elem_size);
		if (ok)
			*ok = false;
		return 0;
	}
	if (elem && a->elem_size)
		memcpy(elem, a->slot, a->elem_size);
	uint64_t n;
	/* Back to 0: not readable until the next value (the write for this
	 * value may still be on its way: see the invariants). */
	(void)!read(a->efd, &n, sizeof n);
	/* relaxed: the send on taken below orders it before the forwarder's
	 * next store (which it makes only after receiving from taken). */
	atomic_store_explicit(&a->state, CHANFD_EMPTY, memory_order_relaxed);
	(void)chan_try_send(a->taken, NULL); /* cap 1, and empty: cannot fail */
	if (ok)
		*ok = true;
	return 0;
}

int gopoll_chanfd_free(gopoll_chanfd_t *a)
{
	if (!a)
		return EINVAL;
	chan_close(a->stop);
	gowg_wait(a->wg); /* the forwarder returned: it touches nothing of a now */
	gowg_free(a->wg);
	close(a->efd);
	chan_unref(a->ch);
	chan_unref(a->stop);
	chan_unref(a->taken);
	free(a);
	return 0;
}

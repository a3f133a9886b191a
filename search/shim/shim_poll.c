/* TEMPORARY stand-in for gopoll_hangup_ctx (see search/shim/README.md): a
 * detached thread per context polls the fd for POLLRDHUP every 20 ms until
 * the context is done. */
#include <gochan/poll.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>

struct hup {
	ctx_t *c;
	int fd;
};

static void *watch(void *arg)
{
	struct hup *h = arg;
	while (ctx_err(h->c) == 0) {
		struct pollfd p = {.fd = h->fd, .events = POLLRDHUP};
		int n = poll(&p, 1, 20);
		if (n > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL))) {
			ctx_cancel_cause(h->c, GOPOLL_HANGUP, NULL);
			break;
		}
	}
	ctx_release(h->c);
	free(h);
	return NULL;
}

ctx_t *gopoll_hangup_ctx(ctx_t *parent, int fd)
{
	ctx_t *c = ctx_with_cancel_cause(parent);
	if (!c)
		return NULL;
	struct hup *h = malloc(sizeof *h);
	if (!h) {
		ctx_cancel_release(c);
		errno = ENOMEM;
		return NULL;
	}
	h->c = ctx_ref(c);
	h->fd = fd;
	pthread_t t;
	pthread_attr_t a;
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	int err = pthread_create(&t, &a, watch, h);
	pthread_attr_destroy(&a);
	if (err) {
		ctx_release(c);
		free(h);
		ctx_cancel_release(c);
		errno = err;
		return NULL;
	}
	return c;
}

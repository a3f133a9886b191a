/*
 * examples/libuv/uv_chanfd.c - a gochan channel in a libuv event loop.
 *
 * A worker thread computes results and sends them on a channel, as a Go
 * goroutine would; the program's main thread runs a libuv loop, which can
 * only wait on descriptors.  gopoll_chanfd_new() gives the channel one: a
 * uv_poll_t watches it for UV_READABLE, and the callback takes every value
 * waiting with gopoll_chanfd_recv() until EAGAIN.  When the worker closes
 * the channel the descriptor stays readable and recv reports ok == false:
 * the callback stops the poll handle and the loop ends.
 *
 * Built and run by `zig build libuv-example` (pkg-config libuv); prints the
 * ten squares in order, then "loop done: 10 values, channel closed".
 */
#include <gochan.h>
#include <pthread.h>
#include <stdio.h>
#include <uv.h>

struct app {
	gopoll_chanfd_t *adapter;
	uv_poll_t poll;
	int received;
	int failed;
};

static void *worker(void *arg)
{
	chan_t *out = arg; /* the worker's own reference */
	for (long i = 1; i <= 10; i++) {
		long sq = i * i;
		if (chan_send(out, &sq))
			break;
	}
	chan_close(out);
	chan_unref(out);
	return NULL;
}

static void on_closed(uv_handle_t *h)
{
	(void)h;
}

static void on_readable(uv_poll_t *h, int status, int events)
{
	struct app *app = h->data;
	long v;
	bool ok;
	int rc;

	if (status < 0 || !(events & UV_READABLE)) {
		app->failed = 1;
		uv_close((uv_handle_t *)h, on_closed);
		return;
	}
	/* Take everything waiting; EAGAIN: nothing more for now. */
	while ((rc = gopoll_chanfd_recv(app->adapter, &v, &ok)) == 0) {
		if (!ok) {
			printf("loop done: %d values, channel closed\n", app->received);
			uv_poll_stop(h);
			uv_close((uv_handle_t *)h, on_closed);
			return;
		}
		app->received++;
		printf("value %d: %ld\n", app->received, v);
	}
	if (rc != EAGAIN) {
		app->failed = 1;
		uv_close((uv_handle_t *)h, on_closed);
	}
}

int main(void)
{
	struct app app = {0};
	chan_t *results = chan_new(sizeof(long), 0);
	pthread_t th;

	if (!results || !(app.adapter = gopoll_chanfd_new(results)))
		return 1;
	if (pthread_create(&th, NULL, worker, chan_ref(results)))
		return 1;

	uv_loop_t *loop = uv_default_loop();
	app.poll.data = &app;
	if (uv_poll_init(loop, &app.poll, gopoll_chanfd_fd(app.adapter)) ||
	    uv_poll_start(&app.poll, UV_READABLE, on_readable))
		return 1;
	uv_run(loop, UV_RUN_DEFAULT); /* returns once the poll handle is closed */

	pthread_join(th, NULL);
	gopoll_chanfd_free(app.adapter); /* after the handle left the loop */
	chan_unref(results);
	uv_loop_close(loop);
	return app.failed || app.received != 10 ||
			       godiag_verify_none(chan_deadline_in(5 * GOTIME_SECOND)) != 0
		       ? 1
		       : 0;
}

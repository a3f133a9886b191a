/*
 * examples/handler_dowork.c - the zombie-goroutine story, part 2: an HTTP
 * handler whose DoWork returns early when the request's context is
 * cancelled (the client went away), instead of finishing work nobody will
 * read.  The Go program and its port:
 *
 *   func DoWork(ctx context.Context, d time.Duration) (string, error) {
 *       timer := time.NewTimer(d) // the work takes d
 *       defer timer.Stop()
 *       select {
 *       case <-timer.C:
 *           return "work done", nil
 *       case <-ctx.Done():
 *           return "", ctx.Err()  // stop early: nobody is waiting any more
 *       }
 *   }
 *
 *   func handler(w http.ResponseWriter, r *http.Request) {
 *       ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
 *       defer cancel()
 *       result, err := DoWork(ctx, workTime(r))
 *       if err != nil {
 *           log.Printf("%s: DoWork returned early: %v", r.URL.Path, err)
 *           http.Error(w, err.Error(), http.StatusServiceUnavailable)
 *           return
 *       }
 *       fmt.Fprintf(w, "%s: %s\n", r.URL.Path, result)
 *   }
 *
 * There is no network here: a request is a context and a path, and the
 * three requests show the three endings, none of which depends on timing
 * (/fast and /hangup get an hour, not 2 s, as the handler's timeout: a
 * machine that stalls for 2 s cannot turn them into "deadline exceeded"):
 *   /fast       10 ms of work, nobody cancels          -> "work done"
 *   /hangup     an hour of work; the client hangs up    -> context canceled
 *               (a thread cancels the request's context, as net/http does
 *               when the connection closes; a gochan server gets that
 *               context from gopoll_hangup_ctx(parent, fd))
 *   /slow       an hour of work under the handler's 2 s  -> context deadline
 *               timeout, here 100 ms                        exceeded
 *
 * Differences: r.Context() is the ctx_t the server hands the handler;
 * errors are errno values with Go's wording from ctx_strerror; `defer
 * cancel()` is CTX_SCOPED; `defer timer.Stop()` is gotime_timer_free().
 */
#include <gochan.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* DoWork: the result, or ctx's error if ctx is done first. */
static int do_work(ctx_t *ctx, int64_t work_time, const char **result)
{
	gotime_timer_t *timer = gotime_timer_new(work_time);
	int64_t when;
	int err;

	if (!timer)
		return errno;
	switch (CHAN_SELECT(CHAN_FOREVER, CHAN_RECV(gotime_timer_chan(timer), &when, NULL),
			    CHAN_RECV(ctx_done(ctx), NULL, NULL))) {
	case 0:
		*result = "work done";
		err = 0;
		break;
	case 1:
		err = ctx_err(ctx);
		break;
	default:
		err = EINVAL;
		break;
	}
	gotime_timer_free(timer); /* defer timer.Stop() */
	return err;
}

struct request {
	const char *path;
	ctx_t *ctx; /* r.Context() */
	int64_t work_time;
	int64_t timeout;
};

/* The handler writes its response (or the error) to stdout. */
static void handler(struct request *r)
{
	CTX_SCOPED ctx_t *ctx = ctx_with_timeout(r->ctx, r->timeout);
	const char *result = NULL;
	int err = ctx ? do_work(ctx, r->work_time, &result) : errno;

	if (err) {
		printf("%s: DoWork returned early: %s\n", r->path, ctx_strerror(err));
		return;
	}
	printf("%s: %s\n", r->path, result);
}

/* The client of /hangup: waits a little, then closes the connection. */
static void *client_hangs_up(void *arg)
{
	struct timespec patience = {0, 50 * 1000 * 1000};
	nanosleep(&patience, NULL);
	ctx_cancel((ctx_t *)arg); /* what the server does when the peer closes */
	return NULL;
}

int main(void)
{
	struct request fast = {"/fast", ctx_with_cancel(ctx_background()), 10 * GOTIME_MILLISECOND,
			       GOTIME_HOUR};
	struct request hangup = {"/hangup", ctx_with_cancel(ctx_background()), GOTIME_HOUR,
				 GOTIME_HOUR};
	struct request slow = {"/slow", ctx_with_cancel(ctx_background()), GOTIME_HOUR,
			       100 * GOTIME_MILLISECOND};
	pthread_t client;

	if (!fast.ctx || !hangup.ctx || !slow.ctx) {
		perror("ctx_with_cancel");
		return 1;
	}
	handler(&fast);
	if (pthread_create(&client, NULL, client_hangs_up, hangup.ctx) != 0) {
		perror("pthread_create");
		return 1;
	}
	handler(&hangup);
	pthread_join(client, NULL);
	handler(&slow);
	/* The server's side of each request: done with it. */
	ctx_cancel_release(fast.ctx);
	ctx_cancel_release(hangup.ctx);
	ctx_cancel_release(slow.ctx);
	return 0;
}

/*
 * examples/demo.c - a producer / worker pipeline, the way it is written in Go:
 *
 *   jobs := make(chan int, 4)            a producer sends N_JOBS numbers, then closes jobs
 *   results := make(chan result)         N_WORKERS workers range over jobs and send squares
 *   finished := make(chan int)           each worker sends its id here when jobs is drained
 *
 * main collects results with a select over results and finished, under an
 * overall deadline, then shows select's default branch and a timeout.
 * Part 2 is a request with a 120 ms context deadline over a ticker-driven
 * two-stage pipeline: when the deadline passes every stage stops.
 * Run it with `python3 -m ziglang build demo`.  Exit status 0 when every job
 * was computed exactly once.
 */
#include <gochan.h>

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_JOBS 12
#define N_WORKERS 3
#define MS ((int64_t)1000000) /* nanoseconds */

struct result {
	int worker;
	int job;
	long square;
};

struct worker_arg {
	int id;
	chan_t *jobs;     /* this thread's own reference (chan_ref) */
	chan_t *results;  /* ditto */
	chan_t *finished; /* ditto */
};

static void die(const char *what, int err)
{
	fprintf(stderr, "demo: %s: %s\n", what, chan_strerror(err));
	exit(1);
}

/* The producer: go func() { for i := 1..N_JOBS { jobs <- i }; close(jobs) }() */
static void *producer(void *arg)
{
	chan_t *jobs = (chan_t *)arg;
	int err;

	for (int i = 1; i <= N_JOBS; i++)
		if ((err = chan_send(jobs, &i)))
			die("send job", err);
	if ((err = chan_close(jobs)))
		die("close jobs", err);
	chan_unref(jobs);
	return NULL;
}

/* A worker: for j := range jobs { results <- result{id, j, j*j} }; finished <- id */
static void *worker(void *p)
{
	struct worker_arg *w = (struct worker_arg *)p;
	int job, err;

	CHAN_RANGE(w->jobs, &job) {
		struct result r = {.worker = w->id, .job = job, .square = (long)job * job};
		if ((err = chan_send(w->results, &r)))
			die("send result", err);
	}
	if ((err = chan_send(w->finished, &w->id)))
		die("send finished", err);
	chan_unref(w->jobs);
	chan_unref(w->results);
	chan_unref(w->finished);
	return NULL;
}

/*
 * Part 2: a request with a deadline, the reason gochan exists.
 *
 *   ctx, cancel := context.WithTimeout(context.Background(), 120*time.Millisecond)
 *   defer cancel()
 *   nums := gen(ctx)        // sends 1, 2, 3, ... one per tick of a 10 ms ticker
 *   sq := square(ctx, nums) // squares them
 *   for { select { case v := <-sq: ...; case <-ctx.Done(): return ctx.Err() } }
 *
 * Every stage gives up when the request's context is done, so when the
 * deadline passes nothing is left running: main joins both threads.
 */
struct stage {
	ctx_t *ctx;  /* this thread's own reference (ctx_ref) */
	chan_t *in;  /* NULL for the generator */
	chan_t *out; /* this thread's own reference */
	int err;     /* why the stage stopped */
};

static void *gen(void *p)
{
	struct stage *st = (struct stage *)p;
	gotime_ticker_t *tick = gotime_ticker_new(10 * MS);
	int n = 0;

	for (st->err = 0; !st->err;) {
		/* select { case <-tick.C: n++; out <- n ... case <-ctx.Done() } */
		int64_t when;
		st->err = ctx_recv(st->ctx, gotime_ticker_chan(tick), &when, NULL);
		if (!st->err) {
			n++;
			st->err = ctx_send(st->ctx, st->out, &n);
		}
	}
	gotime_ticker_free(tick);
	chan_unref(st->out);
	ctx_release(st->ctx);
	return NULL;
}

static void *square(void *p)
{
	struct stage *st = (struct stage *)p;
	int v;
	bool ok;

	for (st->err = 0; !st->err;) {
		st->err = ctx_recv(st->ctx, st->in, &v, &ok);
		if (!st->err && ok) {
			long sq = (long)v * v;
			st->err = ctx_send(st->ctx, st->out, &sq);
		}
	}
	chan_unref(st->in);
	chan_unref(st->out);
	ctx_release(st->ctx);
	return NULL;
}

static int request_with_deadline(void)
{
	ctx_t *ctx = ctx_with_timeout(ctx_background(), 120 * MS);
	chan_t *nums = chan_new(sizeof(int), 0), *squares = chan_new(sizeof(long), 0);
	struct stage g = {.ctx = ctx_ref(ctx), .in = NULL, .out = chan_ref(nums), .err = 0};
	struct stage q = {.ctx = ctx_ref(ctx), .in = chan_ref(nums), .out = chan_ref(squares), .err = 0};
	pthread_t tg, tq;
	int64_t start = chan_now();
	int got = 0, err;
	long sq;

	if (!ctx || !nums || !squares)
		die("request set-up", ENOMEM);
	pthread_create(&tg, NULL, gen, &g);
	pthread_create(&tq, NULL, square, &q);
	while (!(err = ctx_recv(ctx, squares, &sq, NULL)))
		got++;
	printf("request: %d squares in %" PRId64 " ms, then: %s\n", got, (chan_now() - start) / MS,
	       ctx_strerror(err));
	pthread_join(tg, NULL); /* both stages saw Done: nothing outlives the request */
	pthread_join(tq, NULL);
	printf("request: generator stopped with \"%s\", squarer with \"%s\"; all threads joined\n",
	       ctx_strerror(g.err), ctx_strerror(q.err));
	ctx_cancel_release(ctx); /* defer cancel() */
	chan_unref(nums);
	chan_unref(squares);
	/* How many squares fit in the 120 ms depends on the machine (a loaded
	 * one may run the stages only after the deadline): not a failure. */
	return (err == CTX_DEADLINE_EXCEEDED && g.err == CTX_DEADLINE_EXCEEDED &&
		q.err == CTX_DEADLINE_EXCEEDED)
		       ? 0
		       : 1;
}

int main(void)
{
	chan_t *jobs = chan_new(sizeof(int), 4);
	chan_t *results = chan_new(sizeof(struct result), 0);
	chan_t *finished = chan_new(sizeof(int), 0);
	if (!jobs || !results || !finished) {
		perror("demo: chan_new");
		return 1;
	}

	pthread_t prod, workers[N_WORKERS];
	struct worker_arg args[N_WORKERS];
	if (pthread_create(&prod, NULL, producer, chan_ref(jobs))) {
		fprintf(stderr, "demo: pthread_create failed\n");
		return 1;
	}
	for (int i = 0; i < N_WORKERS; i++) {
		args[i] = (struct worker_arg){
			.id = i + 1,
			.jobs = chan_ref(jobs),
			.results = chan_ref(results),
			.finished = chan_ref(finished),
		};
		if (pthread_create(&workers[i], NULL, worker, &args[i])) {
			fprintf(stderr, "demo: pthread_create failed\n");
			return 1;
		}
	}

	/*
	 * for done < N_WORKERS {
	 *     select {
	 *     case r := <-results:    record it
	 *     case id := <-finished:  done++
	 *     case <-time.After(2s):  give up
	 *     }
	 * }
	 */
	int64_t deadline = chan_deadline_in(2000 * MS);
	int seen[N_JOBS + 1] = {0};
	long sum = 0;
	int done = 0, got = 0, status = 0;
	while (done < N_WORKERS) {
		struct result r;
		int id;
		switch (CHAN_SELECT(deadline, CHAN_RECV(results, &r, NULL),
				    CHAN_RECV(finished, &id, NULL))) {
		case 0:
			printf("worker %d: %2d * %2d = %3ld\n", r.worker, r.job, r.job, r.square);
			if (r.job < 1 || r.job > N_JOBS || seen[r.job]++) {
				printf("job %d delivered twice or out of range!\n", r.job);
				status = 1;
			}
			sum += r.square;
			got++;
			break;
		case 1:
			printf("worker %d: jobs closed and drained, finished\n", id);
			done++;
			break;
		case CHAN_TIMEOUT:
			printf("deadline passed with %d of %d workers finished\n", done, N_WORKERS);
			return 1; /* threads still blocked: exit without cleanup */
		default:
			fprintf(stderr, "demo: chan_select failed\n");
			return 1;
		}
	}
	pthread_join(prod, NULL);
	for (int i = 0; i < N_WORKERS; i++)
		pthread_join(workers[i], NULL);

	long want = (long)N_JOBS * (N_JOBS + 1) * (2 * N_JOBS + 1) / 6;
	printf("%d results, sum of squares %ld (expected %ld)\n", got, sum, want);
	if (got != N_JOBS || sum != want)
		status = 1;

	/* select { case v := <-jobs: ... default: } on the closed, drained jobs
	 * channel: a closed channel is always ready, with ok == false. */
	int v;
	bool ok = true;
	int rc = CHAN_SELECT(CHAN_NOWAIT, CHAN_RECV(jobs, &v, &ok));
	printf("receive from closed jobs: case %d, ok=%s\n", rc, ok ? "true" : "false");
	if (rc != 0 || ok)
		status = 1;

	/* Nobody sends on results any more: the default branch is taken ... */
	rc = CHAN_SELECT(CHAN_NOWAIT, CHAN_RECV(results, NULL, NULL));
	printf("non-blocking receive on idle results: %s\n",
	       rc == CHAN_DEFAULT ? "default branch" : "unexpected");
	if (rc != CHAN_DEFAULT)
		status = 1;

	/* ... and with a 50 ms deadline, the timeout. */
	int64_t start = chan_now();
	rc = CHAN_SELECT(chan_deadline_in(50 * MS), CHAN_RECV(results, NULL, NULL));
	printf("receive with a 50 ms deadline: %s after %" PRId64 " ms\n",
	       rc == CHAN_TIMEOUT ? "timed out" : "unexpected", (chan_now() - start) / MS);
	if (rc != CHAN_TIMEOUT)
		status = 1;

	chan_unref(jobs);
	chan_unref(results);
	chan_unref(finished);

	if (request_with_deadline())
		status = 1;
	puts(status ? "demo: FAILED" : "demo: ok");
	return status;
}

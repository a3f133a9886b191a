/*
 * examples/demo.c - a producer / worker pipeline, the way it is written in Go:
 *
 *   jobs := make(chan int, 4)            a producer sends N_JOBS numbers, then closes jobs
 *   results := make(chan result)         N_WORKERS workers range over jobs and send squares
 *   finished := make(chan int)           each worker sends its id here when jobs is drained
 *
 * main collects results with a select over results and finished, under an
 * overall deadline, then shows select's default branch and a timeout.
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
	chan_t *jobs = arg;
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
	struct worker_arg *w = p;
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
		switch (CHAN_SELECT(deadline, CHAN_RECV(results, &r, NULL), CHAN_RECV(finished, &id, NULL))) {
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
	puts(status ? "demo: FAILED" : "demo: ok");
	return status;
}

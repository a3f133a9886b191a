/*
 * examples/prime_sieve.c - Go's concurrent prime sieve (the Go tour's and
 * golang.org/doc/play/sieve.go), ported line for line, plus what Go leaves
 * out: stopping the pipeline.
 *
 *   func Generate(ch chan<- int) {            // Send 2, 3, 4, ... to ch.
 *       for i := 2; ; i++ { ch <- i }
 *   }
 *   func Filter(in <-chan int, out chan<- int, prime int) {
 *       for {
 *           i := <-in
 *           if i%prime != 0 { out <- i }
 *       }
 *   }
 *   func main() {
 *       ch := make(chan int)
 *       go Generate(ch)
 *       for i := 0; i < 10; i++ {
 *           prime := <-ch
 *           fmt.Println(prime)
 *           ch1 := make(chan int)
 *           go Filter(ch, ch1, prime)
 *           ch = ch1
 *       }
 *   }
 *
 * prints the first 10 primes (or argv[1] of them), one per line.
 *
 * Differences: in Go the generator and the filters are still blocked when
 * main returns, and the process exit reaps them.  Threads are not free and
 * must not outlive their work, so here every stage sends and receives with
 * ctx_send/ctx_recv under one context that main cancels at the end; then
 * main joins every thread.  Each stage owns references to its channels.
 */
#include <gochan.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

struct stage {
	ctx_t *ctx;  /* its own reference */
	chan_t *in;  /* NULL for the generator */
	chan_t *out; /* its own reference */
	int prime;
	pthread_t thread;
};

/* Send the sequence 2, 3, 4, ... to out, until ctx is cancelled. */
static void *generate(void *arg)
{
	struct stage *s = (struct stage *)arg;
	for (int i = 2;; i++)
		if (ctx_send(s->ctx, s->out, &i))
			break;
	return NULL;
}

/* Copy the values from in to out, removing those divisible by prime. */
static void *filter(void *arg)
{
	struct stage *s = (struct stage *)arg;
	for (;;) {
		int i;
		if (ctx_recv(s->ctx, s->in, &i, NULL))
			break;
		if (i % s->prime != 0 && ctx_send(s->ctx, s->out, &i))
			break;
	}
	return NULL;
}

static void stage_free(struct stage *s)
{
	chan_unref(s->in);
	chan_unref(s->out);
	ctx_release(s->ctx);
	free(s);
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 10;
	ctx_t *ctx = ctx_with_cancel(ctx_background());
	struct stage **stages = (struct stage **)calloc((size_t)n + 1, sizeof(*stages));
	int started = 0, status = 0;

	if (!ctx || !stages) {
		perror("setup");
		return 1;
	}
	chan_t *ch = chan_new(sizeof(int), 0); /* ch := make(chan int) */
	for (int i = -1; i < n && ch; i++) {
		struct stage *s = (struct stage *)calloc(1, sizeof(*s));
		if (!s)
			break;
		s->ctx = ctx_ref(ctx);
		if (i < 0) { /* go Generate(ch) */
			s->out = chan_ref(ch);
		} else {
			int prime;
			bool ok;
			if (chan_recv(ch, &prime, &ok) || !ok) { /* prime := <-ch */
				stage_free(s);
				status = 1;
				break;
			}
			printf("%d\n", prime); /* fmt.Println(prime) */
			chan_t *ch1 = chan_new(sizeof(int), 0); /* ch1 := make(chan int) */
			s->in = ch; /* go Filter(ch, ch1, prime): main's reference moves to the filter */
			s->out = chan_ref(ch1);
			s->prime = prime;
			ch = ch1; /* ch = ch1 */
			if (!ch1) {
				stage_free(s);
				status = 1;
				break;
			}
		}
		if (pthread_create(&s->thread, NULL, i < 0 ? generate : filter, s) != 0) {
			stage_free(s);
			status = 1;
			break;
		}
		stages[started++] = s;
	}
	/* What Go leaves to the process exit: stop every stage and wait for it. */
	ctx_cancel(ctx);
	for (int i = 0; i < started; i++) {
		pthread_join(stages[i]->thread, NULL);
		stage_free(stages[i]);
	}
	chan_unref(ch);
	ctx_cancel_release(ctx);
	free(stages);
	return status;
}

/*
 * examples/process_stream.c - the zombie-goroutine story, part 3: a stream
 * pipeline whose stages all shut down when the consumer cancels, instead of
 * staying blocked on a channel nobody reads.  The Go program and its port:
 *
 *   func generate(ctx context.Context) <-chan int {
 *       out := make(chan int)
 *       go func() {
 *           defer close(out)
 *           for i := 1; ; i++ {
 *               select {
 *               case out <- i:
 *               case <-ctx.Done():
 *                   return
 *               }
 *           }
 *       }()
 *       return out
 *   }
 *
 *   func ProcessStream(ctx context.Context, in <-chan int) <-chan int {
 *       out := make(chan int)
 *       go func() {
 *           defer close(out)
 *           for {
 *               select {
 *               case v, ok := <-in:
 *                   if !ok { return }
 *                   select {
 *                   case out <- v * 2:
 *                   case <-ctx.Done():
 *                       return
 *                   }
 *               case <-ctx.Done():
 *                   return
 *               }
 *           }
 *       }()
 *       return out
 *   }
 *
 *   func main() {
 *       ctx, cancel := context.WithCancel(context.Background())
 *       results := ProcessStream(ctx, generate(ctx))
 *       for i := 0; i < 5; i++ {
 *           fmt.Println("got", <-results)
 *       }
 *       cancel() // we have what we need: every stage stops
 *       for range results {
 *       } // closed once ProcessStream has returned
 *       fmt.Println("stream closed: pipeline shut down")
 *   }
 *
 * Differences: the stage functions return the thread along with the channel,
 * and main joins both threads at the end (a goroutine that returns just
 * ends; a thread must be joined); each stage holds its own references.
 */
#include <gochan.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

struct stage {
	ctx_t *ctx;  /* own reference */
	chan_t *in;  /* own reference; NULL for the generator */
	chan_t *out; /* own reference; closed when the stage returns */
	pthread_t thread;
};

static void *generate_loop(void *arg)
{
	struct stage *s = (struct stage *)arg;
	for (int i = 1;; i++) {
		int r = CHAN_SELECT(CHAN_FOREVER, CHAN_SEND(s->out, &i, NULL),
				    CHAN_RECV(ctx_done(s->ctx), NULL, NULL));
		if (r != 0)
			break;
	}
	chan_close(s->out); /* defer close(out) */
	return NULL;
}

static void *process_loop(void *arg)
{
	struct stage *s = (struct stage *)arg;
	for (;;) {
		int v;
		bool ok;
		if (CHAN_SELECT(CHAN_FOREVER, CHAN_RECV(s->in, &v, &ok),
				CHAN_RECV(ctx_done(s->ctx), NULL, NULL)) != 0)
			break; /* case <-ctx.Done(): return */
		if (!ok)
			break; /* in closed */
		int doubled = v * 2;
		if (CHAN_SELECT(CHAN_FOREVER, CHAN_SEND(s->out, &doubled, NULL),
				CHAN_RECV(ctx_done(s->ctx), NULL, NULL)) != 0)
			break;
	}
	chan_close(s->out); /* defer close(out) */
	return NULL;
}

/* Start a stage; returns its out channel (a reference for the caller). */
static chan_t *start(struct stage *s, ctx_t *ctx, chan_t *in, void *(*loop)(void *))
{
	s->ctx = ctx_ref(ctx);
	s->in = chan_ref(in);
	s->out = chan_new(sizeof(int), 0);
	if (!s->out || pthread_create(&s->thread, NULL, loop, s) != 0) {
		perror("start");
		exit(1);
	}
	return chan_ref(s->out);
}

static void finish(struct stage *s)
{
	pthread_join(s->thread, NULL);
	chan_unref(s->in);
	chan_unref(s->out);
	ctx_release(s->ctx);
}

int main(void)
{
	ctx_t *ctx = ctx_with_cancel(ctx_background());
	struct stage gen, proc;
	int v;

	if (!ctx) {
		perror("ctx_with_cancel");
		return 1;
	}
	chan_t *numbers = start(&gen, ctx, NULL, generate_loop);
	chan_t *results = start(&proc, ctx, numbers, process_loop);
	for (int i = 0; i < 5; i++) {
		bool ok;
		chan_recv(results, &v, &ok);
		if (!ok) {
			fprintf(stderr, "results closed early\n");
			return 1;
		}
		printf("got %d\n", v);
	}
	ctx_cancel(ctx); /* cancel() */
	CHAN_RANGE(results, &v) {
	} /* closed once ProcessStream has returned */
	printf("stream closed: pipeline shut down\n");
	finish(&proc);
	finish(&gen);
	chan_unref(numbers);
	chan_unref(results);
	ctx_cancel_release(ctx);
	return 0;
}

/*
 * examples/fiber_sieve.c - Go's concurrent prime sieve with a goroutine per
 * prime, as fibers (gochan/fiber.h), up to the 10,000th prime (104,729):
 * 10,001 fibers, every number handed from filter to filter over unbuffered
 * channels.
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
 *       for i := 0; i < 10000; i++ {
 *           prime := <-ch
 *           ch1 := make(chan int)
 *           go Filter(ch, ch1, prime)
 *           ch = ch1
 *       }
 *   }
 *
 * `go f(x)` is gofiber_go(g, f, x); main's body runs as a fiber too (Go's
 * main goroutine), and the main thread waits for it with
 * gofiber_group_wait.  Prints how many primes it found, the last one, and
 * their sum (checked by the test command: examples/expected/fiber_sieve.txt).
 * argv[1]: the generator's last number (default 104729).
 *
 * Difference from Go: Go's generator counts forever and its filters are
 * still blocked when main returns (the process exit reaps them).  Here the
 * generator stops at the limit and closes its channel; each filter, when its
 * input is closed, closes its output and returns, so the close ripples down
 * the chain and every fiber ends; main ranges over the last channel until it
 * closes.  Each stage owns a reference to each of its channels.
 */
#include <gochan.h>
#include <gochan/fiber.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct stage_arg {
	chan_t *in;  /* its own reference */
	chan_t *out; /* its own reference */
	long prime;  /* 0: the generator (no input) */
};

struct sieve {
	gofiber_group_t *g; /* every fiber of the pipeline */
	long limit;
	long count, last, sum;
	int err;
};

/* Send 2, 3, ..., limit to f->out, then close it. */
static void generate(void *arg)
{
	struct stage_arg *f = (struct stage_arg *)arg;

	for (long i = 2; i <= f->prime; i++)
		if (chan_send(f->out, &i) != 0)
			break;
	chan_close(f->out);
	chan_unref(f->out);
	free(f);
}

/* Copy the values from in to out, removing those divisible by prime; close
 * out when in is closed. */
static void filter(void *arg)
{
	struct stage_arg *f = (struct stage_arg *)arg;
	long i;
	bool ok;

	while (chan_recv(f->in, &i, &ok) == 0 && ok)
		if (i % f->prime != 0 && chan_send(f->out, &i) != 0)
			break;
	chan_close(f->out);
	chan_unref(f->in);
	chan_unref(f->out);
	free(f);
}

/* Start fn on a new stage of the pipeline; 0 or an errno value. */
static int stage(struct sieve *s, void (*fn)(void *), chan_t *in, chan_t *out, long prime)
{
	struct stage_arg *f = (struct stage_arg *)malloc(sizeof *f);
	int err;

	if (!f)
		return ENOMEM;
	f->in = in;
	f->out = out;
	f->prime = prime;
	if (in)
		chan_ref(in);
	chan_ref(out);
	err = gofiber_go(s->g, fn, f);
	if (err) {
		if (in)
			chan_unref(in);
		chan_unref(out);
		free(f);
	}
	return err;
}

/* Go's main(): the chain grows by one filter per prime received. */
static void sieve_main(void *arg)
{
	struct sieve *s = (struct sieve *)arg;
	chan_t *ch = chan_new(sizeof(long), 0);
	long prime;
	bool ok;

	if (!ch || (s->err = stage(s, generate, NULL, ch, s->limit)) != 0) {
		s->err = s->err ? s->err : ENOMEM;
		if (ch)
			chan_unref(ch);
		return;
	}
	while (chan_recv(ch, &prime, &ok) == 0 && ok) {
		s->count++;
		s->last = prime;
		s->sum += prime;
		chan_t *ch1 = chan_new(sizeof(long), 0);

		if (!ch1 || (s->err = stage(s, filter, ch, ch1, prime)) != 0) {
			/* Drain what is left so that the stages end. */
			s->err = s->err ? s->err : ENOMEM;
			if (ch1)
				chan_unref(ch1);
			while (chan_recv(ch, &prime, &ok) == 0 && ok) {
			}
			break;
		}
		chan_unref(ch);
		ch = ch1;
	}
	chan_unref(ch);
}

int main(int argc, char **argv)
{
	struct sieve s = {NULL, argc > 1 ? atol(argv[1]) : 104729, 0, 0, 0, 0};
	int err;

	s.g = gofiber_group_new();
	if (!s.g) {
		perror("gofiber_group_new");
		return 1;
	}
	err = gofiber_go(s.g, sieve_main, &s);
	if (err == 0)
		err = gofiber_group_wait(s.g); /* every stage, and main's fiber */
	if (err == 0)
		err = s.err;
	gofiber_group_free(s.g);
	if (err) {
		fprintf(stderr, "fiber_sieve: %s\n", strerror(err));
		return 1;
	}
	printf("primes up to %ld: %ld\n", s.limit, s.count);
	printf("the last: %ld\n", s.last);
	printf("their sum: %ld\n", s.sum);
	return 0;
}

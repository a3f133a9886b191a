/*
 * examples/chaos_race.c - a channel race that almost never shows, until
 * chaos mode (GOCHAN_CHAOS=<seed>) widens its window.
 *
 * The bug: "initialise once" built from check-then-act on chan_len().
 *
 *     if (chan_len(cfg) == 0) {        // check: nobody has published yet...
 *         build_config();              // (expensive, must happen once)
 *         chan_try_send(cfg, &conf);   // ...act: publish (result ignored!)
 *     }
 *
 * Two threads run it at about the same time.  The check and the act are two
 * separate operations, so both threads can see an empty channel and both
 * build the configuration.  Without chaos the window is a few nanoseconds and
 * the second thread starts tens of microseconds after the first, so the race
 * essentially never happens.  In chaos mode every channel operation may first
 * yield, spin or sleep, so the first thread often pauses inside its window and
 * the second one walks in.
 *
 * The fix: let the channel decide atomically, and look at its answer:
 *
 *     if (chan_try_send(cfg, &conf) == 0) ... we published; EAGAIN: someone did
 *
 * (with the configuration built first, or a sync.Once-style primitive).
 *
 *     ./chaos_race [ROUNDS]                   prints "race in K of N rounds"
 *     GOCHAN_CHAOS=7 ./chaos_race [ROUNDS]    the same under chaos, seed 7
 * Exit status 1 if the race happened in any round (a failing test), else 0.
 * fuzz/chaos_demo.sh runs it over 20 seeds and without chaos.
 */
#include <gochan/chan.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

struct round {
	chan_t *cfg;    /* capacity 1: holds the published configuration */
	chan_t *builds; /* capacity 2, struct{}: one token per build (must be 1) */
};

static void *init_once(void *arg)
{
	struct round *r = (struct round *)arg;
	int conf = 42;
	if (chan_len(r->cfg) == 0) { /* BUG: check ... */
		chan_try_send(r->builds, NULL); /* build_config(): count it */
		chan_try_send(r->cfg, &conf); /* ... then act (result ignored) */
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 200;
	int races = 0;
	for (int i = 0; i < rounds; i++) {
		struct round r;
		r.cfg = chan_new(sizeof(int), 1);
		r.builds = chan_new(0, 2);
		if (!r.cfg || !r.builds) {
			perror("chan_new");
			return 2;
		}
		pthread_t a, b;
		if (pthread_create(&a, NULL, init_once, &r) != 0 ||
		    pthread_create(&b, NULL, init_once, &r) != 0) {
			fprintf(stderr, "pthread_create failed\n");
			return 2;
		}
		pthread_join(a, NULL);
		pthread_join(b, NULL);
		/* Exact: both threads are joined, nobody else uses the channel. */
		if (chan_len(r.builds) > 1)
			races++;
		chan_unref(r.cfg);
		chan_unref(r.builds);
	}
	printf("race in %d of %d rounds\n", races, rounds);
	return races ? 1 : 0;
}

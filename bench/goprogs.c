/*
 * bench/goprogs.c - Go's test/chan programs, ported line by line and timed
 * whole (thread start and join included): what a user's channel program
 * feels on an idle or a busy machine (issue 21).  Each checks its own
 * result and aborts if it is wrong.  The bench protocol (bench/bench.h);
 * ns_per_op is the whole run divided by n.  Twin: bench/go/goprogs.go.
 *
 *   doubleselect N   test/chan/doubleselect.go: one sender selects over 4
 *                    unbuffered channels, 4 mux threads forward to one
 *                    channel, the receiver checks that no value arrives
 *                    twice (N values)
 *   sieve N          test/chan/sieve1.go: the concurrent prime sieve, one
 *                    thread per prime, the first N primes
 */
#include <gochan/chan.h>
#include <gochan/select.h>

#include "bench.h"

/* ---- doubleselect ---------------------------------------------------- */

struct ds {
	chan_t *c[4], *cmux, *done;
	int n;
};

static void *ds_sender(void *arg)
{
	struct ds *d = arg;
	for (int i = 0; i < d->n; i++) {
		int r = CHAN_SELECT(CHAN_FOREVER, CHAN_SEND(d->c[0], &i, NULL),
				    CHAN_SEND(d->c[1], &i, NULL), CHAN_SEND(d->c[2], &i, NULL),
				    CHAN_SEND(d->c[3], &i, NULL));
		BENCH_CHECK(r >= 0 && r < 4);
	}
	for (int k = 0; k < 4; k++)
		BENCH_OK(chan_close(d->c[k]));
	return NULL;
}

struct ds_mux {
	struct ds *d;
	chan_t *in;
};

static void *ds_mux(void *arg)
{
	struct ds_mux *m = arg;
	int v;
	bool ok;
	for (;;) {
		BENCH_OK(chan_recv(m->in, &v, &ok));
		if (!ok)
			break;
		BENCH_OK(chan_send(m->d->cmux, &v));
	}
	bool t = true;
	BENCH_OK(chan_send(m->d->done, &t));
	return NULL;
}

static void *ds_closer(void *arg)
{
	struct ds *d = arg;
	for (int k = 0; k < 4; k++)
		BENCH_OK(chan_recv(d->done, NULL, NULL));
	BENCH_OK(chan_close(d->cmux));
	return NULL;
}

static int64_t doubleselect(long *np)
{
	int n = (int)*np;
	int64_t t0 = bench_now_ns();
	struct ds d = {.n = n};
	for (int k = 0; k < 4; k++)
		d.c[k] = chan_new(sizeof(int), 0);
	d.cmux = chan_new(sizeof(int), 0);
	d.done = chan_new(sizeof(bool), 0);
	unsigned char *seen = calloc((size_t)n, 1);
	BENCH_CHECK(seen);
	pthread_t ts, tm[4], tc;
	struct ds_mux m[4];
	BENCH_CHECK(pthread_create(&ts, NULL, ds_sender, &d) == 0);
	for (int k = 0; k < 4; k++) {
		m[k] = (struct ds_mux){&d, d.c[k]};
		BENCH_CHECK(pthread_create(&tm[k], NULL, ds_mux, &m[k]) == 0);
	}
	BENCH_CHECK(pthread_create(&tc, NULL, ds_closer, &d) == 0);
	int v, got = 0;
	bool ok;
	for (;;) { /* recver */
		BENCH_OK(chan_recv(d.cmux, &v, &ok));
		if (!ok)
			break;
		BENCH_CHECK(v >= 0 && v < n && !seen[v]); /* "got duplicate value" */
		seen[v] = 1;
		got++;
	}
	BENCH_CHECK(got == n);
	pthread_join(ts, NULL);
	for (int k = 0; k < 4; k++)
		pthread_join(tm[k], NULL);
	pthread_join(tc, NULL);
	for (int k = 0; k < 4; k++)
		chan_unref(d.c[k]);
	chan_unref(d.cmux);
	chan_unref(d.done);
	free(seen);
	return bench_now_ns() - t0;
}

/* ---- sieve ------------------------------------------------------------ */

/* Go's Generate: 2, 3, 4, ... into ch until the context (a close of quit)
 * says stop.  The C port needs the quit channel where Go leaks its
 * goroutines at exit: no thread here outlives the program's work. */
struct sv_gen {
	chan_t *out, *quit;
};

static void *sv_generate(void *arg)
{
	struct sv_gen *g = arg;
	for (int i = 2;; i++)
		if (CHAN_SELECT(CHAN_FOREVER, CHAN_SEND(g->out, &i, NULL),
				CHAN_RECV(g->quit, NULL, NULL)) != 0)
			return NULL;
}

struct sv_filter {
	chan_t *in, *out, *quit;
	int prime;
};

static void *sv_filter(void *arg)
{
	struct sv_filter *f = arg;
	for (;;) {
		int i;
		bool ok;
		if (CHAN_SELECT(CHAN_FOREVER, CHAN_RECV(f->in, &i, &ok),
				CHAN_RECV(f->quit, NULL, NULL)) != 0 ||
		    !ok)
			return NULL;
		if (i % f->prime != 0 &&
		    CHAN_SELECT(CHAN_FOREVER, CHAN_SEND(f->out, &i, NULL),
				CHAN_RECV(f->quit, NULL, NULL)) != 0)
			return NULL;
	}
}

static int64_t sieve(long *np)
{
	int n = (int)*np;
	int64_t t0 = bench_now_ns();
	static const int first[] = {2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47};
	chan_t *quit = chan_new(0, 0);
	chan_t *ch = chan_new(sizeof(int), 0);
	struct sv_gen g = {ch, quit};
	pthread_t tg, *tf = calloc((size_t)n, sizeof *tf);
	struct sv_filter *f = calloc((size_t)n, sizeof *f);
	chan_t **chans = calloc((size_t)n, sizeof *chans);
	BENCH_CHECK(tf && f && chans);
	BENCH_CHECK(pthread_create(&tg, NULL, sv_generate, &g) == 0);
	int nf = 0;
	for (int i = 0; i < n; i++) {
		int prime;
		BENCH_OK(chan_recv(ch, &prime, NULL));
		if (i < (int)(sizeof first / sizeof first[0]))
			BENCH_CHECK(prime == first[i]);
		chan_t *ch1 = chan_new(sizeof(int), 0);
		chans[nf] = ch1;
		f[nf] = (struct sv_filter){ch, ch1, quit, prime};
		BENCH_CHECK(pthread_create(&tf[nf], NULL, sv_filter, &f[nf]) == 0);
		nf++;
		ch = ch1;
	}
	BENCH_OK(chan_close(quit));
	pthread_join(tg, NULL);
	for (int i = 0; i < nf; i++)
		pthread_join(tf[i], NULL);
	chan_unref(g.out);
	for (int i = 0; i < nf; i++)
		chan_unref(chans[i]);
	chan_unref(quit);
	free(tf);
	free(f);
	free(chans);
	return bench_now_ns() - t0;
}

static const bench_case_t cases[] = {
	{"doubleselect", 50000, doubleselect},
	{"sieve", 300, sieve},
};

int main(int argc, char **argv)
{
	return bench_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}

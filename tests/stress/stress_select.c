/*
 * tests/stress/stress_select.c - selects under fire.
 *
 * Each round makes NCH channels of mixed capacities (0, 1, 8), then runs
 * NWORK worker threads doing selects with random mixes of send and receive
 * cases over those channels (with a short deadline, sometimes CHAN_NOWAIT,
 * and now and then a plain timed send or receive), while NCLOSE closer
 * threads receive through selects too and close the channels at random
 * points.  When a worker sees a channel closed (a send case fires with
 * ok == false, or a receive case with ok == false) it drops it, as Go code
 * sets a channel variable to nil.  After the threads are joined the
 * channels are drained.
 *
 * Checked every round:
 *   - every value whose send succeeded was received exactly once;
 *   - no value whose send failed (closed, timed out, not chosen) was ever
 *     received, and nothing that was never offered appeared;
 *   - a receive that reported ok == false stored the zero value;
 *   - a send that reported ok == false happened only on a closed channel;
 *   - after the drain the buffers are empty and every chan_unref succeeds
 *     (no waiter left queued: no EBUSY).
 *
 * Usage: stress_select [seconds]   (default 3; the env STRESS_SECONDS too).
 * Rounds run until the time budget is spent (at least MIN_ROUNDS).  The last
 * line is "N passed, N failed" (checks); the exit status is non-zero if any
 * check failed.  Built as a plain program; meant for ThreadSanitizer.
 */
#include <gochan/chan.h>
#include <gochan/select.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../testutil.h"

enum {
	NCH = 6,
	NWORK = 8,
	NCLOSE = 2,
	NTHREAD = NWORK + NCLOSE,
	OPS = 300, /* selects per worker per round */
	MIN_ROUNDS = 3,
	MAX_ROUNDS = 100000,
};

static const size_t caps[NCH] = {0, 1, 8, 0, 1, 8};

#define MS (1000000LL)

/* A value: sender thread id + 1 in the high half, sequence number + 1 in the
 * low half; never 0, so the zero value of a closed receive is distinct. */
static uint64_t make_value(int tid, int seq)
{
	return ((uint64_t)(tid + 1) << 32) | (uint64_t)(seq + 1);
}

struct round {
	chan_t *ch[NCH];
	/* sent[t][s]: thread t's s-th value was delivered (written only by t;
	 * read by main after the join, which orders it). */
	unsigned char sent[NTHREAD][OPS + 1];
	/* received[t][s]: times thread t's s-th value was received (relaxed
	 * atomics: only the totals matter, read after every join). */
	atomic_uchar received[NTHREAD][OPS + 1];
	atomic_int phantom;       /* values that were never offered */
	atomic_int nonzero_close; /* ok == false receive with a non-zero value */
	atomic_int bad_result;    /* impossible select results */
	atomic_int false_closed;  /* send ok == false on an open channel */
	atomic_long nsent, nrecv, nclosed_seen, ntimeout;
	/* Worker ops finished this round: the closers' clock.  Relaxed: it
	 * only paces the closes, it publishes nothing. */
	atomic_long progress;
};

struct worker {
	struct round *r;
	int id;
	uint64_t rng;
	/* closers: close ch[k] once the workers have done close_at[k] ops in
	 * all (0 .. NWORK*OPS), or -1: not this closer's channel */
	long close_at[NCH];
};

static uint64_t rnd(uint64_t *s)
{
	/* xorshift64* */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545F4914F6CDD1Dull;
}

static void record_recv(struct round *r, uint64_t v)
{
	uint64_t hi = v >> 32, lo = v & 0xffffffffu;
	if (hi < 1 || hi > NTHREAD || lo < 1 || lo > OPS + 1) {
		atomic_fetch_add_explicit(&r->phantom, 1, memory_order_relaxed);
		return;
	}
	atomic_fetch_add_explicit(&r->received[hi - 1][lo - 1], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&r->nrecv, 1, memory_order_relaxed);
}

static void *worker_run(void *p)
{
	struct worker *w = p;
	struct round *r = w->r;
	chan_t *view[NCH];
	int seq = 0;
	bool closer = w->id >= NWORK;

	for (int k = 0; k < NCH; k++)
		view[k] = chan_ref(r->ch[k]);
	/* Workers do OPS operations; closers run until their closes are done
	 * (they receive meanwhile, so they are counterparts too). */
	for (int op = 0; closer || op < OPS; op++) {
		if (closer) {
			long now = atomic_load_explicit(&r->progress, memory_order_relaxed);
			int pending = 0;
			for (int k = 0; k < NCH; k++) {
				if (w->close_at[k] < 0)
					continue;
				if (w->close_at[k] > now) {
					pending++;
					continue;
				}
				int rc = chan_close(r->ch[k]);
				if (rc != 0 && rc != EALREADY)
					atomic_fetch_add(&r->bad_result, 1);
				w->close_at[k] = -1;
			}
			if (!pending)
				break;
		}

		uint64_t out = make_value(w->id, seq), in[2 * NCH];
		bool ok[2 * NCH];
		chan_case_t cs[2 * NCH];
		int chan_of[2 * NCH];
		size_t n = 0;
		int live = 0;
		for (int k = 0; k < NCH; k++) {
			if (!view[k])
				continue;
			live++;
			/* closers only receive; workers: none/send/recv/both */
			unsigned what = closer ? 2 : (unsigned)(rnd(&w->rng) % 4);
			if (what & 1) {
				ok[n] = false;
				chan_of[n] = k;
				cs[n] = CHAN_SEND(view[k], &out, &ok[n]);
				n++;
			}
			if (what & 2) {
				in[n] = UINT64_MAX;
				ok[n] = false;
				chan_of[n] = k;
				cs[n] = CHAN_RECV(view[k], &in[n], &ok[n]);
				n++;
			}
		}
		if (!live && !closer)
			break;
		if (n == 0) {
			if (closer) /* nothing to receive on: let the workers run */
				tu_yield();
			else
				atomic_fetch_add_explicit(&r->progress, 1, memory_order_relaxed);
			continue;
		}
		if (!closer)
			atomic_fetch_add_explicit(&r->progress, 1, memory_order_relaxed);
		/* Shuffle the case order: the positions must not matter. */
		for (size_t i = n; i > 1; i--) {
			size_t j = (size_t)(rnd(&w->rng) % i);
			chan_case_t tc = cs[i - 1];
			int tk = chan_of[i - 1];
			cs[i - 1] = cs[j];
			chan_of[i - 1] = chan_of[j];
			cs[j] = tc;
			chan_of[j] = tk;
		}

		unsigned mode = (unsigned)(rnd(&w->rng) % 10);
		int fired;
		bool fok = false;
		uint64_t fin = UINT64_MAX;
		enum chan_op fop;
		if (mode == 0 && !closer) {
			/* a plain timed operation on the first case's channel */
			fop = cs[0].op;
			int rc = fop == CHAN_OP_SEND
					 ? chan_send_until(cs[0].chan, &out, chan_now() + MS)
					 : chan_recv_until(cs[0].chan, &fin, &fok, chan_now() + MS);
			if (rc == ETIMEDOUT) {
				atomic_fetch_add_explicit(&r->ntimeout, 1, memory_order_relaxed);
				continue;
			}
			if (fop == CHAN_OP_SEND) {
				fok = rc == 0;
				if (rc != 0 && rc != EPIPE)
					atomic_fetch_add(&r->bad_result, 1);
			} else if (rc != 0) {
				atomic_fetch_add(&r->bad_result, 1);
			}
			fired = 0;
		} else {
			int64_t dl =
				mode == 1 ? CHAN_NOWAIT : chan_now() + (closer ? MS / 4 : 2 * MS);
			fired = chan_select(cs, n, dl);
			if (fired == CHAN_TIMEOUT || fired == CHAN_DEFAULT) {
				if ((fired == CHAN_DEFAULT) != (dl == CHAN_NOWAIT))
					atomic_fetch_add(&r->bad_result, 1);
				atomic_fetch_add_explicit(&r->ntimeout, 1, memory_order_relaxed);
				continue;
			}
			if (fired < 0 || (size_t)fired >= n) {
				atomic_fetch_add(&r->bad_result, 1);
				continue;
			}
			fop = cs[fired].op;
			fok = *cs[fired].ok;
			if (fop == CHAN_OP_RECV)
				fin = *(uint64_t *)cs[fired].elem;
		}

		int k = chan_of[fired];
		if (fop == CHAN_OP_SEND) {
			if (fok) {
				r->sent[w->id][seq] = 1;
				atomic_fetch_add_explicit(&r->nsent, 1, memory_order_relaxed);
			} else {
				/* only a closed channel refuses a send; the flag
				 * is set before close wakes anyone (acquire read) */
				if (!chan_is_closed(view[k]))
					atomic_fetch_add(&r->false_closed, 1);
				atomic_fetch_add_explicit(&r->nclosed_seen, 1,
							  memory_order_relaxed);
				chan_unref(view[k]);
				view[k] = NULL;
			}
			seq++; /* a fresh value for the next send either way */
		} else {
			if (fok) {
				record_recv(r, fin);
			} else {
				if (fin != 0)
					atomic_fetch_add(&r->nonzero_close, 1);
				atomic_fetch_add_explicit(&r->nclosed_seen, 1,
							  memory_order_relaxed);
				chan_unref(view[k]);
				view[k] = NULL;
			}
		}
	}
	for (int k = 0; k < NCH; k++)
		if (view[k] && chan_unref(view[k]))
			atomic_fetch_add(&r->bad_result, 1);
	return NULL;
}

static int passed, failed;

static pthread_mutex_t wd_lock = PTHREAD_MUTEX_INITIALIZER; /* guards the counts */

static void check(bool cond, int round, const char *what, long a, long b)
{
	pthread_mutex_lock(&wd_lock); /* the watchdog reads the counts */
	if (cond) {
		passed++;
	} else {
		failed++;
		fprintf(stderr, "round %d: FAIL %s (%ld, %ld)\n", round, what, a, b);
	}
	pthread_mutex_unlock(&wd_lock);
}

static void run_round(int round, uint64_t seed, long totals[4])
{
	struct round *r = calloc(1, sizeof *r);
	if (!r) {
		fprintf(stderr, "out of memory\n");
		exit(2);
	}
	for (int k = 0; k < NCH; k++) {
		r->ch[k] = chan_new(sizeof(uint64_t), caps[k]);
		if (!r->ch[k]) {
			fprintf(stderr, "chan_new failed\n");
			exit(2);
		}
	}
	struct worker w[NTHREAD];
	tu_go_t th[NTHREAD];
	for (int i = 0; i < NTHREAD; i++) {
		w[i] = (struct worker){
			.r = r, .id = i, .rng = seed * 0x9E3779B97F4A7C15ull + (uint64_t)i + 1};
		for (int k = 0; k < NCH; k++)
			w[i].close_at[k] = -1;
	}
	/* Each channel gets a closer and a random moment (in worker progress);
	 * one round in four leaves one channel open until the drain. */
	for (int k = 0; k < NCH; k++) {
		uint64_t s = seed + (uint64_t)k * 7919;
		if (round % 4 == 3 && k == (int)(round % NCH))
			continue;
		w[NWORK + (int)(rnd(&s) % NCLOSE)].close_at[k] = (long)(rnd(&s) % (NWORK * OPS));
	}
	for (int i = 0; i < NTHREAD; i++)
		th[i] = tu_spawn(worker_run, &w[i]);
	for (int i = 0; i < NTHREAD; i++)
		tu_join(th[i]);

	/* Drain: close what is still open, then take everything buffered. */
	for (int k = 0; k < NCH; k++) {
		int rc = chan_close(r->ch[k]);
		check(rc == 0 || rc == EALREADY, round, "final close", k, rc);
		for (;;) {
			uint64_t v = UINT64_MAX;
			bool ok = false;
			rc = chan_try_recv(r->ch[k], &v, &ok);
			if (rc != 0) {
				check(false, round, "drain try_recv", k, rc);
				break;
			}
			if (!ok) {
				check(v == 0, round, "drained close: zero value", k, (long)v);
				break;
			}
			record_recv(r, v);
		}
		check(chan_len(r->ch[k]) == 0, round, "empty after drain", k,
		      (long)chan_len(r->ch[k]));
		rc = chan_unref(r->ch[k]);
		check(rc == 0, round, "last chan_unref (EBUSY = stale waiter)", k, rc);
	}

	long lost = 0, dup = 0, ghost = 0;
	for (int t = 0; t < NTHREAD; t++)
		for (int s = 0; s <= OPS; s++) {
			unsigned n = atomic_load_explicit(&r->received[t][s], memory_order_relaxed);
			if (r->sent[t][s]) {
				lost += n == 0;
				dup += n > 1;
			} else {
				ghost += n != 0;
			}
		}
	check(lost == 0, round, "values sent but never received", lost, 0);
	check(dup == 0, round, "values received more than once", dup, 0);
	check(ghost == 0, round, "values received though their send failed", ghost, 0);
	check(atomic_load(&r->phantom) == 0, round, "values never offered",
	      atomic_load(&r->phantom), 0);
	check(atomic_load(&r->nonzero_close) == 0, round, "closed receive with a non-zero value",
	      atomic_load(&r->nonzero_close), 0);
	check(atomic_load(&r->false_closed) == 0, round, "send refused on an open channel",
	      atomic_load(&r->false_closed), 0);
	check(atomic_load(&r->bad_result) == 0, round, "impossible results",
	      atomic_load(&r->bad_result), 0);
	check(atomic_load(&r->nsent) == atomic_load(&r->nrecv), round, "sent == received",
	      atomic_load(&r->nsent), atomic_load(&r->nrecv));
	totals[0] += atomic_load(&r->nsent);
	totals[1] += atomic_load(&r->nrecv);
	totals[2] += atomic_load(&r->nclosed_seen);
	totals[3] += atomic_load(&r->ntimeout);
	free(r);
}

/*
 * Watchdog: a lost wake-up or a deadlock in the library would hang a round
 * forever.  If a round makes no progress for ROUND_LIMIT_S, report it as a
 * failure (with the counts so far) and exit, instead of waiting for an
 * outer timeout.  It uses a pthread condition variable, not the library
 * under test.
 */
#define ROUND_LIMIT_S 60

static pthread_cond_t wd_cond;
static int wd_round = -1; /* the round in progress; -2: all done */

static void *watchdog_run(void *p)
{
	(void)p;
	pthread_mutex_lock(&wd_lock);
	while (wd_round != -2) {
		int seen = wd_round;
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += ROUND_LIMIT_S;
		int rc = 0;
		while (wd_round == seen && rc == 0)
			rc = pthread_cond_timedwait(&wd_cond, &wd_lock, &ts);
		if (wd_round == seen) {
			fprintf(stderr,
				"stress_select: round %d made no progress in %d s: hang "
				"(lost wake-up or deadlock)\n",
				seen, ROUND_LIMIT_S);
			printf("%d passed, %d failed\n", passed, failed + 1);
			fflush(stdout);
			_exit(1);
		}
	}
	pthread_mutex_unlock(&wd_lock);
	return NULL;
}

static void wd_set(int round)
{
	pthread_mutex_lock(&wd_lock);
	wd_round = round;
	pthread_cond_signal(&wd_cond);
	pthread_mutex_unlock(&wd_lock);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&wd_cond, &ca);
	pthread_condattr_destroy(&ca);
	tu_go_t wd = tu_spawn(watchdog_run, NULL);

	double seconds = 3;
	const char *env = getenv("STRESS_SECONDS");
	if (argc > 1)
		seconds = atof(argv[1]);
	else if (env)
		seconds = atof(env);
	if (seconds <= 0)
		seconds = 3;
	uint64_t seed = (uint64_t)tu_now_ns();
	printf("stress_select: %d channels (caps 0/1/8), %d select workers, %d closers, %d ops each, "
	       "budget %.1f s, seed %llu\n",
	       NCH, NWORK, NCLOSE, OPS, seconds, (unsigned long long)seed);
	int64_t start = tu_now_ns(), budget = (int64_t)(seconds * 1e9);
	long totals[4] = {0, 0, 0, 0};
	int rounds = 0;
	while (rounds < MAX_ROUNDS && (rounds < MIN_ROUNDS || tu_now_ns() - start < budget)) {
		wd_set(rounds);
		run_round(rounds, seed + (uint64_t)rounds, totals);
		rounds++;
	}
	wd_set(-2);
	tu_join(wd);
	printf("%d rounds in %.2f s: %ld values sent, %ld received, %ld closed cases seen, "
	       "%ld timeouts/defaults\n",
	       rounds, (double)(tu_now_ns() - start) / 1e9, totals[0], totals[1], totals[2],
	       totals[3]);
	if (tu_no_leaks())
		passed++;
	else
		failed++;
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}

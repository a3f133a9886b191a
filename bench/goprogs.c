/*
 * bench/goprogs.c - Go's test/chan programs and crossbeam-channel's stress
 * tests, ported line by line and timed whole (thread start and join
 * included): what a user's channel program feels on an idle or a busy
 * machine (issue 21).  Each checks its own result and aborts if it is wrong.
 * The bench protocol (bench/bench.h); ns_per_op is the whole run divided
 * by n.  Twin: bench/go/goprogs.go.
 *
 * Every program is written once against bench/prog_chan.h and runs on
 * gochan or, with BENCH_IMPL=naive, on the naive channel of
 * bench/naive/naive_chan.c (one global mutex, a condition variable per
 * waiter): the floor to compare with.  `goprogs --impls` lists both.
 *
 *   doubleselect N   test/chan/doubleselect.go: one sender selects over 4
 *                    unbuffered channels, 4 mux threads forward to one
 *                    channel, the receiver checks that no value arrives
 *                    twice (N values)
 *   sieve N          test/chan/sieve1.go: the concurrent prime sieve, one
 *                    thread per prime, the first N primes
 *   powser1 N        test/chan/powser1.go: McIlroy's power series, a thread
 *                    per operator and per split generation, demand-driven
 *                    over unbuffered channels; Go's whole test (Ones, Add,
 *                    Diff, Integ, Cmul, Sub, Mul, Exp, ATan, 10 terms each,
 *                    checked against the exact rationals) N times
 *   multiconsumer N  runtime/chan_test.go's TestMultiConsumer: 23 workers
 *                    range over one cap-69 channel and forward to another
 *                    (a sched_yield where Go calls runtime.Gosched), N
 *                    values (Go's niter = 271,828); count and sum checked
 *   xbeam_stress N   crossbeam-channel tests/mpsc.rs, sync_channel_tests::
 *                    stress: one thread sends N ones on an unbuffered
 *                    channel, the main thread receives them (crossbeam's
 *                    count is 10,000)
 *   xbeam_stress_shared N   the same file's stress_shared: 8 senders of
 *                    N/8 ones each, one receiver, unbuffered; nothing left
 *                    after (crossbeam's AMT 1,000 x 8)
 */
#include <setjmp.h>
#include <stdatomic.h>

#include "bench.h"
#include "prog_chan.h"
/* Each bench program is one translation unit (run.sh and build.zig build
 * bench/<family>.c alone against libgochan): the naive channel comes in
 * here rather than as a second object file. */
#include "naive/naive_chan.c"

/* ---- doubleselect ---------------------------------------------------- */

struct ds {
	pc_chan_t *c[4], *cmux, *done;
	int n;
};

static void *ds_sender(void *arg)
{
	struct ds *d = arg;
	for (int i = 0; i < d->n; i++) {
		int r = PC_SELECT(PC_SEND_CASE(d->c[0], &i, NULL), PC_SEND_CASE(d->c[1], &i, NULL),
				  PC_SEND_CASE(d->c[2], &i, NULL), PC_SEND_CASE(d->c[3], &i, NULL));
		BENCH_CHECK(r >= 0 && r < 4);
	}
	for (int k = 0; k < 4; k++)
		BENCH_OK(pc->close(d->c[k]));
	return NULL;
}

struct ds_mux {
	struct ds *d;
	pc_chan_t *in;
};

static void *ds_mux(void *arg)
{
	struct ds_mux *m = arg;
	int v;
	bool ok;
	for (;;) {
		BENCH_OK(pc->recv(m->in, &v, &ok));
		if (!ok)
			break;
		BENCH_OK(pc->send(m->d->cmux, &v));
	}
	bool t = true;
	BENCH_OK(pc->send(m->d->done, &t));
	return NULL;
}

static void *ds_closer(void *arg)
{
	struct ds *d = arg;
	for (int k = 0; k < 4; k++)
		BENCH_OK(pc->recv(d->done, NULL, NULL));
	BENCH_OK(pc->close(d->cmux));
	return NULL;
}

static int64_t doubleselect(long *np)
{
	int n = (int)*np;
	int64_t t0 = bench_now_ns();
	struct ds d = {.n = n};
	for (int k = 0; k < 4; k++)
		d.c[k] = pc->make(sizeof(int), 0);
	d.cmux = pc->make(sizeof(int), 0);
	d.done = pc->make(sizeof(bool), 0);
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
		BENCH_OK(pc->recv(d.cmux, &v, &ok));
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
		pc->free(d.c[k]);
	pc->free(d.cmux);
	pc->free(d.done);
	free(seen);
	return bench_now_ns() - t0;
}

/* ---- sieve ------------------------------------------------------------ */

/* Go's Generate: 2, 3, 4, ... into ch until the context (a close of quit)
 * says stop.  The C port needs the quit channel where Go leaks its
 * goroutines at exit: no thread here outlives the program's work. */
struct sv_gen {
	pc_chan_t *out, *quit;
};

static void *sv_generate(void *arg)
{
	struct sv_gen *g = arg;
	for (int i = 2;; i++)
		if (PC_SELECT(PC_SEND_CASE(g->out, &i, NULL), PC_RECV_CASE(g->quit, NULL, NULL)) !=
		    0)
			return NULL;
}

struct sv_filter {
	pc_chan_t *in, *out, *quit;
	int prime;
};

static void *sv_filter(void *arg)
{
	struct sv_filter *f = arg;
	for (;;) {
		int i;
		bool ok;
		if (PC_SELECT(PC_RECV_CASE(f->in, &i, &ok), PC_RECV_CASE(f->quit, NULL, NULL)) !=
			    0 ||
		    !ok)
			return NULL;
		if (i % f->prime != 0 && PC_SELECT(PC_SEND_CASE(f->out, &i, NULL),
						   PC_RECV_CASE(f->quit, NULL, NULL)) != 0)
			return NULL;
	}
}

static int64_t sieve(long *np)
{
	int n = (int)*np;
	int64_t t0 = bench_now_ns();
	static const int first[] = {2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47};
	pc_chan_t *quit = pc->make(0, 0);
	pc_chan_t *ch = pc->make(sizeof(int), 0);
	struct sv_gen g = {ch, quit};
	pthread_t tg, *tf = calloc((size_t)n, sizeof *tf);
	struct sv_filter *f = calloc((size_t)n, sizeof *f);
	pc_chan_t **chans = calloc((size_t)n, sizeof *chans);
	BENCH_CHECK(tf && f && chans);
	BENCH_CHECK(pthread_create(&tg, NULL, sv_generate, &g) == 0);
	int nf = 0;
	for (int i = 0; i < n; i++) {
		int prime;
		BENCH_OK(pc->recv(ch, &prime, NULL));
		if (i < (int)(sizeof first / sizeof first[0]))
			BENCH_CHECK(prime == first[i]);
		pc_chan_t *ch1 = pc->make(sizeof(int), 0);
		chans[nf] = ch1;
		f[nf] = (struct sv_filter){ch, ch1, quit, prime};
		BENCH_CHECK(pthread_create(&tf[nf], NULL, sv_filter, &f[nf]) == 0);
		nf++;
		ch = ch1;
	}
	BENCH_OK(pc->close(quit));
	pthread_join(tg, NULL);
	for (int i = 0; i < nf; i++)
		pthread_join(tf[i], NULL);
	pc->free(g.out);
	for (int i = 0; i < nf; i++)
		pc->free(chans[i]);
	pc->free(quit);
	free(tf);
	free(f);
	free(chans);
	return bench_now_ns() - t0;
}

/* ---- powser1 ------------------------------------------------------------ */
/*
 * Go's program leaks its goroutines (they stay blocked until main exits).
 * Here every channel and thread of a run is registered in ps_world; at the
 * end the run closes every channel, and a thread whose operation finds its
 * channel closed leaves (ps_quit: a longjmp back to its start), so that all
 * can be joined and freed.  Channels made after the close starts are closed
 * at birth (under the world's lock), so no thread can block on one.  The
 * Go twin ends its goroutines the same way.
 */

typedef struct rat {
	int64_t num, den; /* den == 0: the end mark */
} rat;

static int64_t gcd(int64_t u, int64_t v)
{
	if (u < 0)
		return gcd(-u, v);
	if (u == 0)
		return v;
	return gcd(v % u, u);
}

static rat i2tor(int64_t u, int64_t v)
{
	int64_t g = gcd(u, v);
	if (v > 0)
		return (rat){u / g, v / g};
	return (rat){-u / g, -v / g};
}

static rat itor(int64_t u)
{
	return i2tor(u, 1);
}

static int64_t rat_end(rat u)
{
	return u.den == 0;
}

static bool rat_eq(rat u, rat c)
{
	return u.num == c.num && u.den == c.den;
}

static rat rat_add(rat u, rat v)
{
	int64_t g = gcd(u.den, v.den);
	return i2tor(u.num * (v.den / g) + v.num * (u.den / g), u.den * (v.den / g));
}

static rat rat_mul(rat u, rat v)
{
	int64_t g1 = gcd(u.num, v.den), g2 = gcd(u.den, v.num);
	return (rat){(u.num / g1) * (v.num / g2), (u.den / g2) * (v.den / g1)};
}

static rat rat_neg(rat u)
{
	return i2tor(-u.num, u.den);
}

static rat ps_zero, ps_one, ps_finis;

/* A demand channel: send a request on req, then the value comes on dat. */
typedef struct dch {
	pc_chan_t *req; /* int */
	pc_chan_t *dat; /* rat */
} dch;

/* Go's dch2 is an array that every split generation shares and swaps in
 * place, unsynchronised (ordered in practice by the hand-offs between the
 * generations); relaxed atomics keep that C-legal without ordering more. */
typedef struct dch2 {
	_Atomic(dch *) d[2];
} dch2;

static dch *d2_get(dch2 *p, int i)
{
	return atomic_load_explicit(&p->d[i], memory_order_relaxed);
}

struct ps_task {
	pthread_t th;
	void (*fn)(struct ps_task *);
	dch *U, *V, *Z;
	dch2 *out;
	pc_chan_t *wait;
	rat c;
	int n;
};

static struct ps_world {
	pthread_mutex_t mu;
	bool closing;            /* under mu: every channel made from now is closed */
	void **chans;            /* pc_chan_t *, under mu */
	size_t nchans, capchans; /* under mu */
	void **tasks;            /* struct ps_task *, under mu */
	size_t ntasks, captasks; /* under mu */
	void **mem;              /* dch and dch2 blocks, under mu */
	size_t nmem, capmem;     /* under mu */
	atomic_int seqno;        /* Go's seqno (a racy global there); only counts */
} W = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* Where a thread of the run goes when its channel is closed; NULL in main. */
static _Thread_local jmp_buf *ps_exit_jb;

static _Noreturn void ps_quit(void)
{
	BENCH_CHECK(ps_exit_jb); /* main's operations never meet a closed channel */
	longjmp(*ps_exit_jb, 1);
}

static void ps_push(void ***arr, size_t *n, size_t *cap, void *p)
{
	if (*n == *cap) {
		*cap = *cap ? 2 * *cap : 64;
		*arr = realloc(*arr, *cap * sizeof **arr);
		BENCH_CHECK(*arr);
	}
	(*arr)[(*n)++] = p;
}

static pc_chan_t *ps_chan(size_t elem_size)
{
	pc_chan_t *c = pc->make(elem_size, 0);
	BENCH_CHECK(c);
	pthread_mutex_lock(&W.mu);
	ps_push(&W.chans, &W.nchans, &W.capchans, c);
	if (W.closing)
		BENCH_OK(pc->close(c));
	pthread_mutex_unlock(&W.mu);
	return c;
}

static void *ps_alloc(size_t size)
{
	void *p = calloc(1, size);
	BENCH_CHECK(p);
	pthread_mutex_lock(&W.mu);
	ps_push(&W.mem, &W.nmem, &W.capmem, p);
	pthread_mutex_unlock(&W.mu);
	return p;
}

static void ps_send(pc_chan_t *c, const void *v)
{
	if (pc->send(c, v) != 0)
		ps_quit();
}

static void ps_recv(pc_chan_t *c, void *v)
{
	bool ok;
	BENCH_OK(pc->recv(c, v, &ok));
	if (!ok)
		ps_quit();
}

/* A blocking select whose cases' ok flags it owns: leaves on a closed channel. */
static int ps_select(pc_case_t *cs, size_t n)
{
	bool oks[PC_MAX_CASES];
	BENCH_CHECK(n <= PC_MAX_CASES);
	for (size_t i = 0; i < n; i++)
		cs[i].ok = &oks[i];
	int r = pc->select(cs, n, true);
	BENCH_CHECK(r >= 0 && (size_t)r < n);
	if (!oks[r])
		ps_quit();
	return r;
}
#define PS_SELECT(...)                        \
	ps_select((pc_case_t[]){__VA_ARGS__}, \
		  sizeof((pc_case_t[]){__VA_ARGS__}) / sizeof(pc_case_t))

static void *ps_thread(void *arg)
{
	struct ps_task *t = arg;
	jmp_buf jb;
	ps_exit_jb = &jb;
	if (setjmp(jb) == 0)
		t->fn(t);
	return NULL;
}

/* Go's `go fn(...)`: the arguments in *args. */
static void ps_go(void (*fn)(struct ps_task *), struct ps_task args)
{
	struct ps_task *t = malloc(sizeof *t);
	BENCH_CHECK(t);
	*t = args;
	t->fn = fn;
	bench_spawn(&t->th, ps_thread, t);
	/* Registered after its start, so t->th is written before the joiner
	 * can read it.  The joiner cannot miss t: this thread is registered
	 * itself (or is main, the joiner) and is joined only after it returns. */
	pthread_mutex_lock(&W.mu);
	ps_push(&W.tasks, &W.ntasks, &W.captasks, t);
	pthread_mutex_unlock(&W.mu);
}

static int ps_seq(void)
{
	return atomic_fetch_add_explicit(&W.seqno, 1, memory_order_relaxed) + 1;
}

static dch *mkdch(void)
{
	dch *d = ps_alloc(sizeof *d);
	d->req = ps_chan(sizeof(int));
	d->dat = ps_chan(sizeof(rat));
	return d;
}

static dch2 *mkdch2(void)
{
	dch2 *d = ps_alloc(sizeof *d);
	atomic_init(&d->d[0], mkdch());
	atomic_init(&d->d[1], mkdch());
	return d;
}

static void dosplit(struct ps_task *t)
{
	dch *in = t->U;
	dch2 *out = t->out;
	pc_chan_t *wait = t->wait;
	bool both = false; /* do not service both channels */

	if (PS_SELECT(PC_RECV_CASE(d2_get(out, 0)->req, NULL, NULL),
		      PC_RECV_CASE(wait, NULL, NULL)) == 1) {
		both = true;
		if (PS_SELECT(PC_RECV_CASE(d2_get(out, 0)->req, NULL, NULL),
			      PC_RECV_CASE(d2_get(out, 1)->req, NULL, NULL)) == 1) {
			dch *t0 = d2_get(out, 0);
			atomic_store_explicit(&out->d[0], d2_get(out, 1), memory_order_relaxed);
			atomic_store_explicit(&out->d[1], t0, memory_order_relaxed);
		}
	}
	int s = ps_seq();
	ps_send(in->req, &s);
	pc_chan_t *release = ps_chan(sizeof(int));
	ps_go(dosplit, (struct ps_task){.U = in, .out = out, .wait = release});
	rat dat;
	ps_recv(in->dat, &dat);
	ps_send(d2_get(out, 0)->dat, &dat);
	if (!both)
		ps_recv(wait, NULL);
	ps_recv(d2_get(out, 1)->req, NULL);
	ps_send(d2_get(out, 1)->dat, &dat);
	int zero = 0;
	ps_send(release, &zero);
}

static void split(dch *in, dch2 *out)
{
	pc_chan_t *release = ps_chan(sizeof(int));
	ps_go(dosplit, (struct ps_task){.U = in, .out = out, .wait = release});
	int zero = 0;
	ps_send(release, &zero);
}

static void split_task(struct ps_task *t)
{
	split(t->U, t->out);
}

static void put(rat dat, dch *out)
{
	ps_recv(out->req, NULL);
	ps_send(out->dat, &dat);
}

static rat get(dch *in)
{
	int s = ps_seq();
	ps_send(in->req, &s);
	rat r;
	ps_recv(in->dat, &r);
	return r;
}

/* Go's getn for n = 2 (the only n it allows): one item from each. */
static void get2(dch *in0, dch *in1, rat out[2])
{
	dch *in[2] = {in0, in1};
	pc_chan_t *req[2] = {in0->req, in1->req}, *dat[2] = {NULL, NULL};
	rat it;
	for (int n = 4; n > 0; n--) {
		int s = ps_seq();
		switch (PS_SELECT(PC_SEND_CASE(req[0], &s, NULL), PC_SEND_CASE(req[1], &s, NULL),
				  PC_RECV_CASE(dat[0], &it, NULL),
				  PC_RECV_CASE(dat[1], &it, NULL))) {
		case 0:
			dat[0] = in[0]->dat;
			req[0] = NULL;
			break;
		case 1:
			dat[1] = in[1]->dat;
			req[1] = NULL;
			break;
		case 2:
			out[0] = it;
			dat[0] = NULL;
			break;
		default:
			out[1] = it;
			dat[1] = NULL;
			break;
		}
	}
}

static _Noreturn void copy(dch *in, dch *out)
{
	for (;;) {
		ps_recv(out->req, NULL);
		rat r = get(in);
		ps_send(out->dat, &r);
	}
}

static void repeat_task(struct ps_task *t)
{
	for (;;)
		put(t->c, t->Z);
}

static dch2 *Split(dch *U)
{
	dch2 *UU = mkdch2();
	ps_go(split_task, (struct ps_task){.U = U, .out = UU});
	return UU;
}

static void add_task(struct ps_task *t)
{
	for (;;) {
		ps_recv(t->Z->req, NULL);
		rat uv[2];
		get2(t->U, t->V, uv);
		switch (rat_end(uv[0]) + 2 * rat_end(uv[1])) {
		case 0: {
			rat r = rat_add(uv[0], uv[1]);
			ps_send(t->Z->dat, &r);
			break;
		}
		case 1:
			ps_send(t->Z->dat, &uv[1]);
			copy(t->V, t->Z);
		case 2:
			ps_send(t->Z->dat, &uv[0]);
			copy(t->U, t->Z);
		default:
			ps_send(t->Z->dat, &ps_finis);
			break;
		}
	}
}

static dch *Add(dch *U, dch *V)
{
	dch *Z = mkdch();
	ps_go(add_task, (struct ps_task){.U = U, .V = V, .Z = Z});
	return Z;
}

static void cmul_task(struct ps_task *t)
{
	bool done = false;
	while (!done) {
		ps_recv(t->Z->req, NULL);
		rat u = get(t->U);
		if (rat_end(u)) {
			done = true;
		} else {
			rat r = rat_mul(t->c, u);
			ps_send(t->Z->dat, &r);
		}
	}
	ps_send(t->Z->dat, &ps_finis);
}

static dch *Cmul(rat c, dch *U)
{
	dch *Z = mkdch();
	ps_go(cmul_task, (struct ps_task){.c = c, .U = U, .Z = Z});
	return Z;
}

static dch *Sub(dch *U, dch *V)
{
	return Add(U, Cmul(rat_neg(ps_one), V));
}

static dch *Rep(rat c)
{
	dch *Z = mkdch();
	ps_go(repeat_task, (struct ps_task){.c = c, .Z = Z});
	return Z;
}

static dch *Mul(dch *U, dch *V);

static void mul_task(struct ps_task *t)
{
	ps_recv(t->Z->req, NULL);
	rat uv[2];
	get2(t->U, t->V, uv);
	if (rat_end(uv[0]) || rat_end(uv[1])) {
		ps_send(t->Z->dat, &ps_finis);
		return;
	}
	rat r = rat_mul(uv[0], uv[1]);
	ps_send(t->Z->dat, &r);
	dch2 *UU = Split(t->U);
	dch2 *VV = Split(t->V);
	dch *W = Add(Cmul(uv[0], d2_get(VV, 0)), Cmul(uv[1], d2_get(UU, 0)));
	ps_recv(t->Z->req, NULL);
	r = get(W);
	ps_send(t->Z->dat, &r);
	copy(Add(W, Mul(d2_get(UU, 1), d2_get(VV, 1))), t->Z);
}

static dch *Mul(dch *U, dch *V)
{
	dch *Z = mkdch();
	ps_go(mul_task, (struct ps_task){.U = U, .V = V, .Z = Z});
	return Z;
}

static void diff_task(struct ps_task *t)
{
	ps_recv(t->Z->req, NULL);
	rat u = get(t->U);
	if (!rat_end(u)) {
		bool done = false;
		for (int64_t i = 1; !done; i++) {
			u = get(t->U);
			if (rat_end(u)) {
				done = true;
			} else {
				rat r = rat_mul(itor(i), u);
				ps_send(t->Z->dat, &r);
				ps_recv(t->Z->req, NULL);
			}
		}
	}
	ps_send(t->Z->dat, &ps_finis);
}

static dch *Diff(dch *U)
{
	dch *Z = mkdch();
	ps_go(diff_task, (struct ps_task){.U = U, .Z = Z});
	return Z;
}

static void integ_task(struct ps_task *t)
{
	put(t->c, t->Z);
	bool done = false;
	for (int64_t i = 1; !done; i++) {
		ps_recv(t->Z->req, NULL);
		rat u = get(t->U);
		if (rat_end(u))
			done = true;
		rat r = rat_mul(i2tor(1, i), u);
		ps_send(t->Z->dat, &r);
	}
	ps_send(t->Z->dat, &ps_finis);
}

static dch *Integ(rat c, dch *U)
{
	dch *Z = mkdch();
	ps_go(integ_task, (struct ps_task){.c = c, .U = U, .Z = Z});
	return Z;
}

static dch *Exp(dch *U)
{
	dch2 *ZZ = mkdch2();
	split(Integ(ps_one, Mul(d2_get(ZZ, 0), Diff(U))), ZZ);
	return d2_get(ZZ, 1);
}

static void monsubst_task(struct ps_task *t)
{
	rat c = ps_one;
	for (;;) {
		ps_recv(t->Z->req, NULL);
		rat u = get(t->U);
		rat r = rat_mul(u, c);
		ps_send(t->Z->dat, &r);
		c = rat_mul(c, t->c);
		if (rat_end(u)) {
			ps_send(t->Z->dat, &ps_finis);
			break;
		}
		for (int i = 1; i < t->n; i++) {
			ps_recv(t->Z->req, NULL);
			ps_send(t->Z->dat, &ps_zero);
		}
	}
}

static dch *MonSubst(dch *U, rat c0, int n)
{
	dch *Z = mkdch();
	ps_go(monsubst_task, (struct ps_task){.U = U, .c = c0, .n = n, .Z = Z});
	return Z;
}

static void ps_check(dch *U, rat c, int count, const char *str)
{
	for (int i = 0; i < count; i++) {
		rat r = get(U);
		if (!rat_eq(r, c)) {
			fprintf(stderr, "powser1: %s: got %lld/%lld, should get %lld/%lld\n", str,
				(long long)r.num, (long long)r.den, (long long)c.num,
				(long long)c.den);
			abort();
		}
	}
}

#define PS_N 10

static void ps_checka(dch *U, const rat *a, const char *str)
{
	for (int i = 0; i < PS_N; i++)
		ps_check(U, a[i], 1, str);
}

/* Go's main() in test mode, then the end of every thread. */
static void powser_once(void)
{
	dch *Ones = Rep(ps_one), *Twos = Rep(itor(2));
	ps_check(Ones, ps_one, 5, "Ones");
	ps_check(Add(Ones, Ones), itor(2), 0, "Add Ones Ones"); /* 1 1 1 1 1 */
	ps_check(Add(Ones, Twos), itor(3), 0, "Add Ones Twos"); /* 3 3 3 3 3 */
	rat a[PS_N];
	dch *d = Diff(Ones);
	for (int i = 0; i < PS_N; i++)
		a[i] = itor(i + 1);
	ps_checka(d, a, "Diff"); /* 1 2 3 4 5 */
	dch *in = Integ(ps_zero, Ones);
	a[0] = ps_zero; /* integration constant */
	for (int i = 1; i < PS_N; i++)
		a[i] = i2tor(1, i);
	ps_checka(in, a, "Integ");                                   /* 0 1 1/2 1/3 1/4 1/5 */
	ps_check(Cmul(rat_neg(ps_one), Twos), itor(-2), 10, "CMul"); /* -1 -1 -1 -1 -1 */
	ps_check(Sub(Ones, Twos), itor(-1), 0, "Sub Ones Twos");     /* -1 -1 -1 -1 -1 */
	dch *m = Mul(Ones, Ones);
	for (int i = 0; i < PS_N; i++)
		a[i] = itor(i + 1);
	ps_checka(m, a, "Mul"); /* 1 2 3 4 5 */
	dch *e = Exp(Ones);
	static const int64_t exp_num[PS_N] = {1, 1, 3, 13, 73, 167, 4051, 37633, 43817, 4596553};
	static const int64_t exp_den[PS_N] = {1, 1, 2, 6, 24, 40, 720, 5040, 4480, 362880};
	for (int i = 0; i < PS_N; i++)
		a[i] = i2tor(exp_num[i], exp_den[i]);
	ps_checka(e, a, "Exp"); /* 1 1 3/2 13/6 73/24 */
	dch *at = Integ(ps_zero, MonSubst(Ones, rat_neg(ps_one), 2));
	for (int c = 1, i = 0; i < PS_N; i++) {
		if (i % 2 == 0) {
			a[i] = ps_zero;
		} else {
			a[i] = i2tor(c, i);
			c *= -1;
		}
	}
	ps_checka(at, a, "ATan"); /* 0 -1 0 -1/3 0 -1/5 */

	/* The end: close everything, join every thread, free it all. */
	pthread_mutex_lock(&W.mu);
	W.closing = true;
	for (size_t i = 0; i < W.nchans; i++)
		BENCH_OK(pc->close(W.chans[i]));
	pthread_mutex_unlock(&W.mu);
	for (size_t i = 0;; i++) {
		pthread_mutex_lock(&W.mu);
		struct ps_task *t = i < W.ntasks ? W.tasks[i] : NULL;
		pthread_mutex_unlock(&W.mu);
		if (!t)
			break; /* all joined, so none is left to start another */
		bench_join(t->th);
	}
	for (size_t i = 0; i < W.nchans; i++)
		pc->free(W.chans[i]);
	for (size_t i = 0; i < W.ntasks; i++)
		free(W.tasks[i]);
	for (size_t i = 0; i < W.nmem; i++)
		free(W.mem[i]);
	W.nchans = W.ntasks = W.nmem = 0;
	W.closing = false;
}

static int64_t powser1(long *np)
{
	int64_t t0 = bench_now_ns();
	ps_zero = itor(0);
	ps_one = itor(1);
	ps_finis = i2tor(1, 0);
	for (long i = 0; i < *np; i++)
		powser_once();
	int64_t t = bench_now_ns() - t0;
	free(W.chans);
	free(W.tasks);
	free(W.mem);
	return t;
}

/* ---- multiconsumer (runtime/chan_test.go, TestMultiConsumer) ---------------- */

#define MC_NWORK 23
static const int mc_pn[] = {2, 3, 7, 11, 13, 17, 19, 23, 27, 31};
#define MC_NPN ((int)(sizeof mc_pn / sizeof mc_pn[0]))

struct mc {
	pc_chan_t *q, *r;
	long niter;
	int64_t expect; /* the feeder's, read by main after joining it */
	pthread_t workers[MC_NWORK];
	int w[MC_NWORK];
};

struct mc_worker {
	struct mc *m;
	int w;
};

static void *mc_worker(void *arg)
{
	struct mc_worker *wk = arg;
	struct mc *m = wk->m;
	int v;
	bool ok;
	for (;;) {
		BENCH_OK(pc->recv(m->q, &v, &ok));
		if (!ok)
			break;
		if (mc_pn[wk->w % MC_NPN] == v) /* mess with the fifo-ish nature of range */
			sched_yield();          /* Go: runtime.Gosched() */
		BENCH_OK(pc->send(m->r, &v));
	}
	return NULL;
}

static void *mc_feeder(void *arg)
{
	struct mc *m = arg;
	for (long i = 0; i < m->niter; i++) {
		int v = mc_pn[i % MC_NPN];
		m->expect += v;
		BENCH_OK(pc->send(m->q, &v));
	}
	BENCH_OK(pc->close(m->q)); /* no more work */
	for (int i = 0; i < MC_NWORK; i++)
		bench_join(m->workers[i]); /* workers done */
	BENCH_OK(pc->close(m->r));         /* ... so there can be no more results */
	return NULL;
}

static int64_t multiconsumer(long *np)
{
	int64_t t0 = bench_now_ns();
	struct mc m = {.niter = *np};
	struct mc_worker wk[MC_NWORK];
	m.q = pc->make(sizeof(int), MC_NWORK * 3);
	m.r = pc->make(sizeof(int), MC_NWORK * 3);
	for (int i = 0; i < MC_NWORK; i++) {
		wk[i] = (struct mc_worker){&m, i};
		bench_spawn(&m.workers[i], mc_worker, &wk[i]);
	}
	pthread_t feeder;
	bench_spawn(&feeder, mc_feeder, &m);
	long n = 0;
	int64_t s = 0;
	int v;
	bool ok;
	for (;;) { /* consume & check */
		BENCH_OK(pc->recv(m.r, &v, &ok));
		if (!ok)
			break;
		n++;
		s += v;
	}
	bench_join(feeder);
	BENCH_CHECK(n == m.niter && s == m.expect);
	pc->free(m.q);
	pc->free(m.r);
	return bench_now_ns() - t0;
}

/* ---- crossbeam-channel tests/mpsc.rs: stress, stress_shared ------------------- */

struct xs {
	pc_chan_t *tx, *dtx;
	long count;
};

static void *xs_sender(void *arg)
{
	struct xs *x = arg;
	for (long i = 0; i < x->count; i++) {
		int one = 1;
		BENCH_OK(pc->send(x->tx, &one));
	}
	return NULL;
}

static int64_t xbeam_stress(long *np)
{
	int64_t t0 = bench_now_ns();
	struct xs x = {.tx = pc->make(sizeof(int), 0), .count = *np};
	pthread_t t;
	bench_spawn(&t, xs_sender, &x);
	for (long i = 0; i < x.count; i++) {
		int v = 0;
		bool ok;
		BENCH_OK(pc->recv(x.tx, &v, &ok));
		BENCH_CHECK(ok && v == 1);
	}
	bench_join(t);
	pc->free(x.tx);
	return bench_now_ns() - t0;
}

#define XS_NTHREADS 8

static void *xs_receiver(void *arg)
{
	struct xs *x = arg;
	for (long i = 0; i < x->count * XS_NTHREADS; i++) {
		int v = 0;
		bool ok;
		BENCH_OK(pc->recv(x->tx, &v, &ok));
		BENCH_CHECK(ok && v == 1);
	}
	int v; /* rx.try_recv() must find nothing */
	BENCH_CHECK(pc->select((pc_case_t[]){PC_RECV_CASE(x->tx, &v, NULL)}, 1, false) == -1);
	bool t = true;
	BENCH_OK(pc->send(x->dtx, &t));
	return NULL;
}

static int64_t xbeam_stress_shared(long *np)
{
	long amt = *np / XS_NTHREADS;
	if (amt < 1)
		amt = 1;
	*np = amt * XS_NTHREADS;
	int64_t t0 = bench_now_ns();
	struct xs x = {
		.tx = pc->make(sizeof(int), 0), .dtx = pc->make(sizeof(bool), 0), .count = amt};
	pthread_t t, ts[XS_NTHREADS];
	bench_spawn(&t, xs_receiver, &x);
	for (int i = 0; i < XS_NTHREADS; i++)
		bench_spawn(&ts[i], xs_sender, &x);
	BENCH_OK(pc->recv(x.dtx, NULL, NULL));
	for (int i = 0; i < XS_NTHREADS; i++)
		bench_join(ts[i]);
	bench_join(t);
	pc->free(x.tx);
	pc->free(x.dtx);
	return bench_now_ns() - t0;
}

static const bench_case_t cases[] = {
	{"doubleselect", 50000, doubleselect},
	{"sieve", 300, sieve},
	{"powser1", 1, powser1},
	{"multiconsumer", 271828, multiconsumer},
	{"xbeam_stress", 10000, xbeam_stress},
	{"xbeam_stress_shared", 8000, xbeam_stress_shared},
};

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "--impls") == 0) {
		printf("gochan naive\n");
		return 0;
	}
	pc = pc_from_env();
	if (!pc) {
		fprintf(stderr, "%s: unknown BENCH_IMPL '%s' (gochan or naive)\n", argv[0],
			getenv("BENCH_IMPL"));
		return 2;
	}
	return bench_main_impl(argc, argv, cases, sizeof cases / sizeof cases[0], pc->name);
}

/*
 * tests/stress/stress_failinject.c - failure injection: the k-th allocation
 * or thread start fails, for every k, in a run of channel, select, timer and
 * context operations.  Every run must end with the error reported (ENOMEM or
 * EAGAIN) or recovered as documented (an AfterFunc whose thread cannot start
 * runs on another thread), with every value that was communicated right,
 * nothing leaked (live allocations back to their count before the run) and
 * no library thread left (service/threads.h).
 *
 * The program defines malloc, calloc, realloc, free and pthread_create,
 * forwarding to glibc (__libc_* and dlsym(RTLD_NEXT)); the library is linked
 * statically into it, so its calls come here.  Under ASan or TSan, whose
 * runtimes own those symbols, the interposition is compiled out and the
 * scenario runs once without failures.  Prints "N passed, N failed" last.
 */
#include <dlfcn.h>
#include <errno.h>
#include <gochan/chan.h>
#include <gochan/context.h>
#include <gochan/select.h>
#include <gochan/time.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service/threads.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define NO_INTERPOSE 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define NO_INTERPOSE 1
#endif

/* ---- the interposed calls ------------------------------------------------ */

#ifndef NO_INTERPOSE
static atomic_long calls;    /* interposed calls since the run started */
static atomic_long fail_at;  /* fail the call with this number (1-based); 0: none */
static atomic_long injected; /* failures injected in this run */
static atomic_long live;     /* allocations not yet freed */

/*
 * glibc's pthread_create allocates for the new thread (its DTV) and frees that
 * whenever the stack leaves glibc's cache, at a time no test can wait for.
 * Those allocations are neither counted nor failed: made while `in_create`,
 * they are remembered in a small set, and their frees are ignored.
 */
static _Thread_local bool in_create;
#define EXCL 1024
static void *_Atomic excluded[EXCL];

static void exclude(void *p)
{
	for (int i = 0; i < EXCL; i++) {
		void *none = NULL;
		if (atomic_compare_exchange_strong(&excluded[i], &none, p))
			return;
	}
	abort(); /* more than EXCL thread allocations alive: raise EXCL */
}

static bool was_excluded(void *p)
{
	for (int i = 0; i < EXCL; i++) {
		void *q = p;
		if (atomic_load_explicit(&excluded[i], memory_order_relaxed) == p &&
		    atomic_compare_exchange_strong(&excluded[i], &q, NULL))
			return true;
	}
	return false;
}

/* A new allocation @p: count it, or remember it as glibc's. */
static void allocated(void *p)
{
	if (!p)
		return;
	if (in_create)
		exclude(p);
	else
		atomic_fetch_add_explicit(&live, 1, memory_order_relaxed);
}

/* Whether this call is the one to fail (relaxed: a counter, no data). */
static bool fail_now(void)
{
	if (in_create)
		return false;
	long n = atomic_fetch_add_explicit(&calls, 1, memory_order_relaxed) + 1;
	if (n != atomic_load_explicit(&fail_at, memory_order_relaxed))
		return false;
	atomic_fetch_add_explicit(&injected, 1, memory_order_relaxed);
	return true;
}

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);

void *malloc(size_t n)
{
	if (fail_now()) {
		errno = ENOMEM;
		return NULL;
	}
	void *p = __libc_malloc(n);
	allocated(p);
	return p;
}

void *calloc(size_t k, size_t n)
{
	if (fail_now()) {
		errno = ENOMEM;
		return NULL;
	}
	void *p = __libc_calloc(k, n);
	allocated(p);
	return p;
}

void *realloc(void *old, size_t n)
{
	if (fail_now()) {
		errno = ENOMEM;
		return NULL;
	}
	if (old && was_excluded(old)) { /* glibc's: stays out of the count */
		bool was = in_create;
		in_create = true;
		void *p = __libc_realloc(old, n);
		allocated(p ? p : (n ? old : NULL));
		in_create = was;
		return p;
	}
	void *p = __libc_realloc(old, n);
	if (!old)
		allocated(p);
	else if (n == 0 && !p)
		atomic_fetch_sub_explicit(&live, 1, memory_order_relaxed);
	return p;
}

void free(void *p)
{
	if (p && !was_excluded(p))
		atomic_fetch_sub_explicit(&live, 1, memory_order_relaxed);
	__libc_free(p);
}

typedef int (*create_fn)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);

int pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg)
{
	static _Atomic(create_fn) real;
	create_fn f = atomic_load_explicit(&real, memory_order_acquire);
	if (!f) {
		/* dlsym's result is a data pointer: copy it into the function
		 * pointer (ISO C has no cast between the two). */
		void *sym = dlsym(RTLD_NEXT, "pthread_create");
		memcpy(&f, &sym, sizeof f);
		atomic_store_explicit(&real, f, memory_order_release);
	}
	if (fail_now())
		return EAGAIN;
	in_create = true;
	int rc = f(t, a, fn, arg);
	in_create = false;
	return rc;
}
#endif

/* ---- the scenario ---------------------------------------------------------- */

static void signal_done(void *arg)
{
	int64_t one = 1;
	/* The channel has room for every signal: never blocks. */
	(void)chan_try_send(arg, &one);
}

#define BIG 70 /* more cases than CHAN_SELECT_STACK_CASES: select allocates */

/* 0: everything done; ENOMEM/EAGAIN: a call reported it (and all was undone);
 * anything else: a bug (described on stderr). */
static int scenario(void)
{
	int err = 0;
	chan_t *a = NULL, *b = NULL, *done = NULL;
	gotime_timer_t *t = NULL, *f = NULL;
	ctx_t *cx = NULL, *ct = NULL;
	ctx_after_t *af = NULL;
	int64_t v, w;
	bool ok;

#define FAILED(call_errno)                                                     \
	do {                                                                   \
		err = (call_errno);                                            \
		if (err != ENOMEM && err != EAGAIN) {                          \
			fprintf(stderr, "line %d: error %d\n", __LINE__, err); \
			err = EPROTO;                                          \
		}                                                              \
		goto out;                                                      \
	} while (0)
#define EXPECT(cond)                                                       \
	do {                                                               \
		if (!(cond)) {                                             \
			fprintf(stderr, "line %d: %s\n", __LINE__, #cond); \
			err = EPROTO;                                      \
			goto out;                                          \
		}                                                          \
	} while (0)

	if (!(a = chan_new(sizeof(int64_t), 4)))
		FAILED(errno);
	if (!(b = chan_new(sizeof(int64_t), 0)))
		FAILED(errno);
	if (!(done = chan_new(sizeof(int64_t), 8)))
		FAILED(errno);
	for (v = 0; v < 4; v++)
		EXPECT(chan_send(a, &v) == 0);
	EXPECT(chan_try_send(a, &v) == EAGAIN);
	EXPECT(chan_recv(a, &w, &ok) == 0 && ok && w == 0);

	/* A select too big for the stack: -ENOMEM, or the ready case. */
	chan_case_t cases[BIG];
	for (int i = 0; i < BIG - 1; i++)
		cases[i] = CHAN_RECV(b, &w, NULL);
	cases[BIG - 1] = CHAN_RECV(a, &w, &ok);
	int r = chan_select(cases, BIG, CHAN_NOWAIT);
	if (r == -ENOMEM)
		FAILED(ENOMEM);
	EXPECT(r == BIG - 1 && ok && w == 1);

	/* A channel timer (starts the timer thread). */
	if (!(t = gotime_timer_new(0)))
		FAILED(errno);
	EXPECT(chan_recv_until(gotime_timer_chan(t), &w, &ok, chan_deadline_in(5000000000)) == 0 &&
	       ok);

	/* AfterFunc: its own thread, or the timer thread if none can start. */
	if (!(f = gotime_after_func(0, signal_done, done)))
		FAILED(errno);
	EXPECT(chan_recv_until(done, &w, &ok, chan_deadline_in(5000000000)) == 0 && ok);

	/* Contexts: cancel, timeout (a timer), AfterFunc on cancellation. */
	if (!(cx = ctx_with_cancel(ctx_background())))
		FAILED(errno);
	if (!(ct = ctx_with_timeout(cx, 3600 * (int64_t)1000000000)))
		FAILED(errno);
	if (!(af = ctx_after_func(ct, signal_done, done)))
		FAILED(errno);
	EXPECT(ctx_err(ct) == 0);
	EXPECT(ctx_cancel(cx) == 0);
	EXPECT(ctx_err(ct) == CTX_CANCELED);
	EXPECT(chan_recv_until(done, &w, &ok, chan_deadline_in(5000000000)) == 0 && ok);
	/* ctx_recv on a done context, with a value ready: either may fire. */
	int rc = ctx_recv(ct, a, &w, &ok);
	EXPECT(rc == 0 || rc == CTX_CANCELED);

out:
	ctx_after_release(af);
	if (ct)
		ctx_cancel_release(ct);
	if (cx)
		ctx_cancel_release(cx);
	gotime_timer_free(f);
	gotime_timer_free(t);
	if (a)
		chan_unref(a);
	if (b)
		chan_unref(b);
	if (done)
		chan_unref(done);
	return err;
#undef FAILED
#undef EXPECT
}

/* After a run: no library thread alive, timer thread stopped, heap freed. */
static bool quiesce(void)
{
	int64_t deadline = chan_deadline_in(10000000000);
	for (;;) {
		int rc = gotime_shutdown();
		if (rc == 0)
			break;
		if (rc != EBUSY || chan_now() > deadline)
			return false;
		/* An AfterFunc thread still finishing: wait for it to exit. */
		gosvc__threads_wait(deadline);
	}
	return gosvc__threads_wait(deadline) == 0;
}

int main(void)
{
	printf("failure injection\n"); /* stdio's buffer: allocated before counting */
	fflush(stdout);
	if (scenario() != 0 || !quiesce()) {
		printf("0 passed, 1 failed\n");
		return 1;
	}
#ifdef NO_INTERPOSE
	printf("(sanitizer build: no interposition, one plain run)\n1 passed, 0 failed\n");
	return 0;
#else
	int passed = 0, failed = 0, reported = 0, recovered = 0;
	/* A thread's diagnostics record (wait/record.c) is allocated at its
	 * first park and kept until the thread exits.  The warm-up run above
	 * may not have parked this thread (a value can arrive while it still
	 * spins or retries), and then the first counted run would count that
	 * record as a leak (seen in CI, about 1 run in 5): park once here, on
	 * a timed receive that must time out, before taking the base. */
	chan_t *idle = chan_new(sizeof(int64_t), 0);
	int64_t sink;
	if (!idle || chan_recv_until(idle, &sink, NULL, chan_deadline_in(1000000)) != ETIMEDOUT) {
		printf("0 passed, 1 failed\n");
		return 1;
	}
	chan_unref(idle);
	long base = atomic_load(&live);
	atomic_store(&calls, 0);
	if (scenario() != 0 || !quiesce()) {
		printf("0 passed, 1 failed\n");
		return 1;
	}
	long total = atomic_load(&calls);
	if (atomic_load(&live) != base) {
		fprintf(stderr, "leak without failures: %ld\n", atomic_load(&live) - base);
		failed++;
	}
	for (long k = 1; k <= total + 2; k++) {
		atomic_store(&injected, 0);
		atomic_store(&calls, 0);
		atomic_store(&fail_at, k);
		int err = scenario();
		bool quiet = quiesce();
		atomic_store(&fail_at, 0);
		long leak = atomic_load(&live) - base;
		bool good = quiet && leak == 0 && (err == 0 || err == ENOMEM || err == EAGAIN) &&
			    (err == 0 || atomic_load(&injected) == 1);
		if (good) {
			passed++;
			if (err)
				reported++;
			else if (atomic_load(&injected))
				recovered++;
		} else {
			failed++;
			fprintf(stderr, "k=%ld: err=%d injected=%ld leak=%ld threads_quiet=%d\n", k,
				err, atomic_load(&injected), leak, quiet);
		}
	}
	printf("%ld interposed calls per run; %d runs reported ENOMEM/EAGAIN, %d recovered\n",
	       total, reported, recovered);
	printf("%d passed, %d failed\n", passed, failed);
	return failed != 0;
#endif
}

/*
 * diag/threads.c - the library-thread counters of diag/threads.h.
 *
 * One mutex and condition variable guard the per-kind counts.  Starting and
 * exiting a library thread is rare (a timer thread start, an AfterFunc, a
 * group task), so a mutex costs nothing measurable and makes the wait exact.
 */
#include "diag/threads.h"

#include <errno.h>
#include <pthread.h>
#include <time.h>

#include <gochan/chan.h>

static pthread_mutex_t threads_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t threads_cv;
static pthread_once_t threads_once = PTHREAD_ONCE_INIT;
static unsigned threads_alive[GODIAG_THREAD_KINDS];
static unsigned threads_total;

static void threads_init(void)
{
	pthread_condattr_t a;

	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(&threads_cv, &a);
	pthread_condattr_destroy(&a);
}

void godiag__thread_start(enum godiag_thread_kind k)
{
	pthread_once(&threads_once, threads_init);
	pthread_mutex_lock(&threads_mu);
	threads_alive[k]++;
	threads_total++;
	pthread_mutex_unlock(&threads_mu);
}

void godiag__thread_exit(enum godiag_thread_kind k)
{
	pthread_once(&threads_once, threads_init);
	pthread_mutex_lock(&threads_mu);
	threads_alive[k]--;
	if (--threads_total == 0)
		pthread_cond_broadcast(&threads_cv);
	pthread_mutex_unlock(&threads_mu);
}

const char *godiag__thread_kind_name(enum godiag_thread_kind k)
{
	static const char *const names[GODIAG_THREAD_KINDS] = {"timer", "afterfunc", "poller",
							       "group", "diag", "fiber"};

	return k < GODIAG_THREAD_KINDS ? names[k] : "total";
}

unsigned godiag__threads_alive(enum godiag_thread_kind k)
{
	unsigned n;

	pthread_mutex_lock(&threads_mu);
	n = k == GODIAG_THREAD_KINDS ? threads_total : threads_alive[k];
	pthread_mutex_unlock(&threads_mu);
	return n;
}

int godiag__threads_wait(int64_t deadline)
{
	int err = 0;

	pthread_once(&threads_once, threads_init);
	pthread_mutex_lock(&threads_mu);
	while (threads_total != 0 && err == 0) {
		if (deadline == CHAN_FOREVER) {
			pthread_cond_wait(&threads_cv, &threads_mu);
			continue;
		}
		struct timespec ts = {.tv_sec = deadline / 1000000000,
				      .tv_nsec = deadline % 1000000000};
		if (deadline < 0)
			ts = (struct timespec){0, 0};
		err = pthread_cond_timedwait(&threads_cv, &threads_mu, &ts);
	}
	if (threads_total == 0)
		err = 0;
	pthread_mutex_unlock(&threads_mu);
	return err;
}

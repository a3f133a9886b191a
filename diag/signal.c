/*
 * diag/signal.c - godiag_signal: a dump on a signal the program chooses.
 *
 * The handler write()s one byte to a non-blocking pipe (async-signal-safe;
 * a full pipe means a dump is pending already, so the byte may be dropped)
 * and restores errno.  One library thread (GODIAG_THREAD_DIAG in
 * service/threads.h), a service thread (service/service.h) that never idles
 * out (it must be there when the signal comes: a thread cannot be started
 * from a handler), started by godiag_signal(signo) and stopped and joined
 * by godiag_signal(0), sleeps in poll() on the read end and writes
 * godiag_dump(stderr) for each batch of bytes it reads.  gochan/diag.h says
 * why the dump is not written from the handler itself.
 *
 * The pipe is made once and kept for the life of the process: the handler
 * reads its write end from an atomic, and closing it while a handler that
 * already loaded it is still running could make that handler write into a
 * reused descriptor.  Stopping sets the service's stop request and writes a
 * byte; the thread checks the request after every wake-up.
 */
#include <errno.h>
#include <fcntl.h>
#include <gochan/diag.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "diag/diag_internal.h"
#include "service/service.h"
#include "wait/cond.h"
#include "wait/debug.h"

/* The locks here and their ranks (wait/lockrank.h): sig_mu 45, dump_mu 47,
 * count_mu 70, each taken through gowait__mutex_lock with its rank. */
static pthread_mutex_t sig_mu = PTHREAD_MUTEX_INITIALIZER; /* serialises godiag_signal */
static int pipe_fd[2] = {-1, -1};                          /* made once, under sig_mu */
static _Atomic int wfd = -1;     /* the handler's write end; relaxed (set before install) */
static int cur_sig;              /* under sig_mu: the signal handled now, 0: none */
static struct sigaction old_act; /* under sig_mu */

/* The dump thread: a joinable service that never idles out, under a lock of
 * its own (taken under sig_mu, never the reverse: godiag_signal holds
 * sig_mu while it stops and joins the thread, which takes this one, the
 * record mutex and the counters' mutexes, never sig_mu). */
static pthread_mutex_t dump_mu = PTHREAD_MUTEX_INITIALIZER;
static struct gosvc dump_svc = GOSVC_INIT(&dump_mu, GOWAIT_LOCKRANK_DIAG_DUMP_THREAD,
					  GODIAG_THREAD_DIAG, GOSVC_LINGER_FOREVER, true);

/* Dumps written by the thread, and a condition variable for tests. */
static pthread_mutex_t count_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t count_cv; /* CLOCK_MONOTONIC, made by count_init */
static unsigned long dumps_done;

static pthread_once_t count_once = PTHREAD_ONCE_INIT;

static void count_init(void)
{
	gowait__cond_init(&count_cv);
}

static void on_signal(int signo)
{
	int saved = errno;
	int fd = atomic_load_explicit(&wfd, memory_order_relaxed);

	(void)signo;
	if (fd >= 0) {
		char b = 'd';
		ssize_t r = write(fd, &b, 1); /* EAGAIN: a dump is pending anyway */

		(void)r;
	}
	errno = saved;
}

static void *dump_main(void *unused)
{
	char buf[64];

	(void)unused;
	gosvc__enter(&dump_svc);
	for (;;) {
		struct pollfd p = {.fd = pipe_fd[0], .events = POLLIN};

		if (poll(&p, 1, -1) < 0 && errno != EINTR)
			break;
		bool any = false;

		while (read(pipe_fd[0], buf, sizeof(buf)) > 0)
			any = true;
		/* The stopper sets the request before it writes its byte. */
		if (gosvc__stop_requested(&dump_svc))
			break;
		if (!any)
			continue;
		fputs("gochan: dump on signal\n", stderr);
		(void)godiag_dump(stderr);
		pthread_once(&count_once, count_init);
		gowait__mutex_lock(&count_mu, GOWAIT_LOCKRANK_DIAG_DUMPS);
		dumps_done++;
		pthread_cond_broadcast(&count_cv);
		gowait__mutex_unlock(&count_mu, GOWAIT_LOCKRANK_DIAG_DUMPS);
	}
	gosvc__leave(&dump_svc); /* its last access to library state */
	return NULL;
}

/* Under dump_mu, with the stop request set: wake the thread. */
static void dump_wake(void)
{
	char b = 'q';

	/* EAGAIN: the pipe is full, so the thread has bytes to wake it. */
	while (write(pipe_fd[1], &b, 1) < 0 && errno == EINTR)
		;
}

/* Under sig_mu: restore the old handler, stop and join the thread. */
static void sig_stop_locked(void)
{
	if (!cur_sig)
		return;
	sigaction(cur_sig, &old_act, NULL);
	cur_sig = 0;
	atomic_store_explicit(&wfd, -1, memory_order_relaxed);
	(void)gosvc__shutdown(&dump_svc, NULL, dump_wake); /* 0: not on the thread */
}

static int make_pipe_locked(void)
{
	if (pipe_fd[0] >= 0)
		return 0;
	if (pipe2(pipe_fd, O_CLOEXEC | O_NONBLOCK) != 0) {
		pipe_fd[0] = pipe_fd[1] = -1;
		return errno;
	}
	return 0;
}

int godiag_signal(int signo)
{
	struct sigaction act;
	char buf[64];
	int err;

	if (signo < 0 || signo >= NSIG || signo == SIGKILL || signo == SIGSTOP)
		return EINVAL;
	gowait__mutex_lock(&sig_mu, GOWAIT_LOCKRANK_DIAG_SIGNAL);
	sig_stop_locked();
	if (signo == 0) {
		gowait__mutex_unlock(&sig_mu, GOWAIT_LOCKRANK_DIAG_SIGNAL);
		return 0;
	}
	if ((err = make_pipe_locked()))
		goto out;
	while (read(pipe_fd[0], buf, sizeof(buf)) > 0) /* stale bytes of an earlier run */
		;
	if ((err = gosvc__start(&dump_svc, dump_main, NULL)))
		goto out;
	atomic_store_explicit(&wfd, pipe_fd[1], memory_order_relaxed);
	memset(&act, 0, sizeof(act));
	act.sa_handler = on_signal;
	act.sa_flags = SA_RESTART;
	sigemptyset(&act.sa_mask);
	if (sigaction(signo, &act, &old_act) != 0) {
		err = errno;
		cur_sig = signo; /* so that sig_stop_locked stops the thread */
		sig_stop_locked();
		goto out;
	}
	cur_sig = signo;
out:
	gowait__mutex_unlock(&sig_mu, GOWAIT_LOCKRANK_DIAG_SIGNAL);
	return err;
}

int godiag__signal_wait_dumps(unsigned long n, int64_t deadline)
{
	int err = 0;

	pthread_once(&count_once, count_init);
	gowait__mutex_lock(&count_mu, GOWAIT_LOCKRANK_DIAG_DUMPS);
	while (dumps_done < n && err == 0)
		err = gowait__cond_wait_until(&count_cv, &count_mu, deadline);
	if (dumps_done >= n)
		err = 0;
	gowait__mutex_unlock(&count_mu, GOWAIT_LOCKRANK_DIAG_DUMPS);
	return err;
}

unsigned long godiag__signal_dumps(void)
{
	unsigned long n;

	gowait__mutex_lock(&count_mu, GOWAIT_LOCKRANK_DIAG_DUMPS);
	n = dumps_done;
	gowait__mutex_unlock(&count_mu, GOWAIT_LOCKRANK_DIAG_DUMPS);
	return n;
}

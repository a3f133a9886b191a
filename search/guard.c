/* search/guard.c - see guard.h. */
#include "search/guard.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>

#include <gochan/chan.h>
#include <gochan/time.h>

/* One arming of a deadline: owned by the timer's callback once the timer
 * has started, else by whoever stops it (disarm). */
struct shot {
	struct guard *g;
	gotime_timer_t *t;
	enum guard_cut which;
};

struct guard {
	pthread_mutex_t mu;
	int refs; /* the connection's + one per shot alive */
	int fd;
	bool closed; /* guard_close ran: libmicrohttpd owns the fd's fate */
	enum guard_cut cut;
	struct shot *headers, *response; /* the armed shot of each deadline */
};

static atomic_long open_count;

static struct shot **slot(struct guard *g, enum guard_cut which)
{
	return which == GUARD_HEADERS ? &g->headers : &g->response;
}

static void unref(struct guard *g)
{
	pthread_mutex_lock(&g->mu);
	bool last = --g->refs == 0;
	pthread_mutex_unlock(&g->mu);
	if (last) {
		pthread_mutex_destroy(&g->mu);
		free(g);
	}
}

/* A deadline passed: cut the connection unless it was disarmed or closed. */
static void fire(void *arg)
{
	struct shot *sh = arg;
	struct guard *g = sh->g;
	pthread_mutex_lock(&g->mu);
	struct shot **s = slot(g, sh->which);
	if (*s == sh) {
		*s = NULL;
		if (!g->closed && g->cut == GUARD_NONE) {
			g->cut = sh->which;
			shutdown(g->fd, SHUT_RDWR);
		}
	}
	pthread_mutex_unlock(&g->mu);
	gotime_timer_free(sh->t);
	free(sh);
	unref(g);
}

/* Under g->mu. */
static void disarm(struct guard *g, enum guard_cut which)
{
	struct shot **s = slot(g, which), *sh = *s;
	if (!sh)
		return;
	*s = NULL;
	if (gotime_timer_stop(sh->t)) {
		gotime_timer_free(sh->t);
		free(sh);
		g->refs--; /* the connection's reference keeps it above 0 */
	}
	/* else fire() runs or is about to: it finds *s != sh and frees sh. */
}

/* Under g->mu. */
static void arm(struct guard *g, enum guard_cut which, int64_t at)
{
	disarm(g, which);
	if (g->closed)
		return;
	struct shot *sh = malloc(sizeof *sh);
	if (!sh)
		return;
	sh->g = g;
	sh->which = which;
	g->refs++;
	/* fire() takes g->mu, held here: it cannot see sh before *slot is set. */
	if (!(sh->t = gotime_after_func_at(at, fire, sh))) {
		g->refs--;
		free(sh);
		return;
	}
	*slot(g, which) = sh;
}

struct guard *guard_open(int fd, int64_t in_ns)
{
	struct guard *g = calloc(1, sizeof *g);
	if (!g)
		return NULL;
	pthread_mutex_init(&g->mu, NULL);
	g->refs = 1;
	g->fd = fd;
	atomic_fetch_add_explicit(&open_count, 1, memory_order_relaxed);
	pthread_mutex_lock(&g->mu);
	arm(g, GUARD_HEADERS, chan_now() + in_ns);
	pthread_mutex_unlock(&g->mu);
	return g;
}

void guard_headers_done(struct guard *g)
{
	if (!g)
		return;
	pthread_mutex_lock(&g->mu);
	disarm(g, GUARD_HEADERS);
	pthread_mutex_unlock(&g->mu);
}

void guard_response_by(struct guard *g, int64_t at)
{
	if (!g)
		return;
	pthread_mutex_lock(&g->mu);
	arm(g, GUARD_RESPONSE, at);
	pthread_mutex_unlock(&g->mu);
}

void guard_response_done(struct guard *g, int64_t in_ns)
{
	if (!g)
		return;
	pthread_mutex_lock(&g->mu);
	disarm(g, GUARD_RESPONSE);
	if (g->cut == GUARD_NONE)
		arm(g, GUARD_HEADERS, chan_now() + in_ns);
	pthread_mutex_unlock(&g->mu);
}

enum guard_cut guard_cut(struct guard *g)
{
	if (!g)
		return GUARD_NONE;
	pthread_mutex_lock(&g->mu);
	enum guard_cut c = g->cut;
	pthread_mutex_unlock(&g->mu);
	return c;
}

void guard_close(struct guard *g)
{
	if (!g)
		return;
	pthread_mutex_lock(&g->mu);
	g->closed = true;
	disarm(g, GUARD_HEADERS);
	disarm(g, GUARD_RESPONSE);
	pthread_mutex_unlock(&g->mu);
	atomic_fetch_sub_explicit(&open_count, 1, memory_order_relaxed);
	unref(g);
}

long guard_open_count(void)
{
	return atomic_load_explicit(&open_count, memory_order_relaxed);
}

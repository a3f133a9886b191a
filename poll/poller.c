/*
 * poll/poller.c - the one poller thread and the descriptor table it serves
 * (poll_impl.h): attach / detach of registrations, the thread (a service
 * thread, service/service.h: lazy start, idle exit after
 * GOPOLL_IDLE_LINGER_NS, counted, shutdown), dispatch of epoll events,
 * gopoll_shutdown() and the queries of poll_internal.h.
 *
 * Start and exit are decided under g.mu (svc.live): a registration either
 * sees the thread live (its epoll_ctl goes into the instance the thread
 * waits on) or starts a new one with a new epoll instance.  The thread exits
 * once no registration has been attached for GOPOLL_IDLE_LINGER_NS; when the
 * count drops to zero while it sleeps in an unbounded epoll_wait, the
 * detacher wakes it through the eventfd so that it starts its linger.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "poll/poll_impl.h"
#include "poll/poll_internal.h"
#include "service/service.h"
#include "wait/cond.h"
#include "wait/debug.h"

/* Events taken per epoll_wait(). */
#define MAX_EVENTS 128
/* epoll data of the eventfd (a pent's data has fd < 2^31 in its low half). */
#define WAKE_TOKEN UINT64_MAX

/* Interest bits kept as per-entry counts, so that the union is O(1). */
static const uint32_t interest_bits[] = {EPOLLIN, EPOLLOUT, EPOLLRDHUP};
#define NBITS (sizeof(interest_bits) / sizeof(interest_bits[0]))

struct pent_full {
	struct pent e;
	unsigned count[NBITS]; /* registrations wanting each interest bit */
};

static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv; /* the thread exited; a barrier round completed */
	bool blocked;      /* it is (about to be) in an unbounded epoll_wait */
	int epfd, evfd;
	struct pent_full **fds; /* by descriptor number, cap entries */
	size_t cap;
	size_t nregs;    /* attached registrations */
	size_t nentries; /* non-NULL fds[] */
	uint32_t gen;    /* last pent generation handed out */
	uint64_t barrier_req, barrier_done;
} g = {
	.mu = PTHREAD_MUTEX_INITIALIZER,
	.epfd = -1,
	.evfd = -1,
};

/* The poller thread: a service guarded by g.mu; while it is live (0 or 1)
 * it owns epfd/evfd. */
static struct gosvc svc = GOSVC_INIT_FIBER_WAITS(&g.mu, GOWAIT_LOCKRANK_POLL, GODIAG_THREAD_POLLER,
						 GOPOLL_IDLE_LINGER_NS, false);

__attribute__((constructor)) static void poller_init(void)
{
	gowait__cond_init(&g.cv);
}

/* g.mu: rank GOWAIT_LOCKRANK_POLL (wait/lockrank.h: taken with no other lock
 * held; the channel lock of a fired watch and the thread counter are taken
 * under it). */
void gopoll__lock(void)
{
	gowait__mutex_lock(&g.mu, GOWAIT_LOCKRANK_POLL);
}

void gopoll__unlock(void)
{
	gowait__mutex_unlock(&g.mu, GOWAIT_LOCKRANK_POLL);
}

/* Under g.mu: wake the thread from epoll_wait (the eventfd becomes readable
 * until the thread drains it).  A full counter (EAGAIN) is still readable. */
static void wake_locked(void)
{
	uint64_t one = 1;
	ssize_t n = write(g.evfd, &one, sizeof one);
	(void)n;
}

/* Under g.mu: wait on g.cv until a signal or the chan_now() time @when. */
static int cond_wait_until(int64_t when)
{
	return gowait__cond_wait_until(&g.cv, &g.mu, when);
}

/* ------------------------------------------------------------------------ */
/* The table                                                                */

static uint32_t pent_union(const struct pent_full *p)
{
	uint32_t u = 0;
	for (size_t i = 0; i < NBITS; i++)
		if (p->count[i])
			u |= interest_bits[i];
	return u;
}

static void pent_count(struct pent_full *p, uint32_t interest, int delta)
{
	for (size_t i = 0; i < NBITS; i++)
		if (interest & interest_bits[i])
			p->count[i] += (unsigned)delta;
}

static int pent_ctl(int op, const struct pent_full *p)
{
	struct epoll_event ev = {
		.events = pent_union(p) | EPOLLONESHOT,
		.data.u64 = (uint64_t)p->e.gen << 32 | (uint32_t)p->e.fd,
	};
	return epoll_ctl(g.epfd, op, p->e.fd, &ev) == 0 ? 0 : errno;
}

/* Under g.mu: take @r out of its pent (the caller deals with an empty one). */
static void unlink_reg(struct preg *r)
{
	struct pent_full *p = (struct pent_full *)r->ent;
	cds_list_del(&r->node);
	pent_count(p, r->interest, -1);
	r->ent = NULL;
	r->state = PREG_DONE;
	g.nregs--;
}

/* Under g.mu: forget the empty-or-stale pent of @fd (its registrations, if
 * any, are detached for good: they never fire). */
static void drop_pent(struct pent_full *p, bool del)
{
	struct preg *r, *tmp;
	cds_list_for_each_entry_safe(r, tmp, &p->e.regs, node)
		unlink_reg(r);
	if (del)
		(void)epoll_ctl(g.epfd, EPOLL_CTL_DEL, p->e.fd, NULL); /* EBADF/ENOENT: gone */
	g.fds[p->e.fd] = NULL;
	g.nentries--;
	free(p);
}

/* Under g.mu: the registration count fell to 0; a thread sleeping without
 * a timeout must start its linger. */
static void maybe_idle_locked(void)
{
	if (g.nregs == 0 && g.blocked) {
		g.blocked = false;
		wake_locked();
	}
}

static void *poller_main(void *unused);

/* Under g.mu: make sure a poller thread and its descriptors exist.  0 or EAGAIN. */
static int ensure_running_locked(void)
{
	if (svc.live > 0)
		return 0;
	int epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0)
		return EAGAIN;
	int evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = WAKE_TOKEN};
	if (evfd < 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, evfd, &ev) != 0)
		goto fail;
	g.epfd = epfd;
	g.evfd = evfd;
	if (gosvc__start_locked(&svc, poller_main, NULL) != 0) {
		g.epfd = g.evfd = -1;
		goto fail;
	}
	g.blocked = false;
	return 0;
fail:
	if (evfd >= 0)
		close(evfd);
	close(epfd);
	return EAGAIN;
}

static int grow_locked(int fd)
{
	size_t want = (size_t)fd + 1, cap = g.cap ? g.cap : 64;
	while (cap < want)
		cap *= 2;
	struct pent_full **n = realloc(g.fds, cap * sizeof(*n));
	if (!n)
		return ENOMEM;
	memset(n + g.cap, 0, (cap - g.cap) * sizeof(*n));
	g.fds = n;
	g.cap = cap;
	return 0;
}

int gopoll__attach_locked(struct preg *r)
{
	int fd = r->fd, err;

	GOWAIT_ASSERT_HELD(&g.mu);
	if (fd < 0)
		return EBADF;
	err = ensure_running_locked();
	if (err)
		return err;
	/* A registration overrides a shutdown in progress: let it recheck
	 * (it will return EBUSY). */
	gosvc__cancel_stop_locked(&svc);
	if ((size_t)fd >= g.cap && (err = grow_locked(fd)) != 0)
		return err;
	struct pent_full *p = g.fds[fd];
	if (p) {
		/* Re-arm with the new union.  ENOENT: @fd now names another
		 * file than the one p was made for (closed while registered):
		 * p's registrations are stale; start afresh below. */
		pent_count(p, r->interest, 1);
		err = pent_ctl(EPOLL_CTL_MOD, p);
		if (err == 0)
			goto attach;
		pent_count(p, r->interest, -1);
		if (err != ENOENT)
			return err;
		drop_pent(p, false);
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return ENOMEM;
	p->e.fd = fd;
	p->e.gen = ++g.gen;
	CDS_INIT_LIST_HEAD(&p->e.regs);
	pent_count(p, r->interest, 1);
	err = pent_ctl(EPOLL_CTL_ADD, p);
	if (err == EEXIST) /* an entry we could not delete (see drop_pent): reuse it */
		err = pent_ctl(EPOLL_CTL_MOD, p);
	if (err) {
		free(p);
		return err;
	}
	g.fds[fd] = p;
	g.nentries++;
attach:
	cds_list_add_tail(&r->node, &p->e.regs);
	r->ent = &p->e;
	r->state = PREG_ATTACHED;
	g.nregs++;
	return 0;
}

void gopoll__detach_locked(struct preg *r)
{
	GOWAIT_ASSERT_HELD(&g.mu);
	if (r->state != PREG_ATTACHED) {
		r->state = PREG_DONE;
		return;
	}
	struct pent_full *p = (struct pent_full *)r->ent;
	unlink_reg(r);
	/* A wider mask left armed is harmless: the event it may bring matches
	 * nobody and the thread re-arms with the real union. */
	if (cds_list_empty(&p->e.regs))
		drop_pent(p, true);
	maybe_idle_locked();
}

unsigned gopoll__revents_from_epoll(uint32_t ev)
{
	unsigned r = 0;
	if (ev & (EPOLLIN | EPOLLPRI))
		r |= GOPOLL_READ;
	if (ev & EPOLLOUT)
		r |= GOPOLL_WRITE;
	if (ev & (EPOLLHUP | EPOLLRDHUP))
		r |= GOPOLL_HUP;
	if (ev & EPOLLERR)
		r |= GOPOLL_ERR;
	return r;
}

/* ------------------------------------------------------------------------ */
/* The thread                                                               */

/*
 * Under g.mu: dispatch one event.  Watches fire here (revents, then close of
 * the channel); hangups that could be claimed are pushed on *@batch for the
 * caller to cancel once g.mu is released.
 */
static void dispatch_locked(const struct epoll_event *ev, struct preg **batch)
{
	int fd = (int)(uint32_t)ev->data.u64;
	uint32_t gen = (uint32_t)(ev->data.u64 >> 32);
	GOWAIT_ASSERT_HELD(&g.mu);
	struct pent_full *p = (size_t)fd < g.cap ? g.fds[fd] : NULL;
	if (!p || p->e.gen != gen)
		return; /* stale: its registrations were all detached */

	struct preg *r, *tmp;
	cds_list_for_each_entry_safe(r, tmp, &p->e.regs, node) {
		uint32_t hit = ev->events & (r->interest | EPOLLHUP | EPOLLERR);
		if (!hit)
			continue;
		unlink_reg(r);
		if (r->kind == PREG_WATCH) {
			struct gopoll *w = caa_container_of(r, struct gopoll, r);
			/* Release: pairs with gopoll_revents()'s acquire (and
			 * chan_close orders it for receivers too). */
			atomic_store_explicit(&w->revents, gopoll__revents_from_epoll(hit),
					      memory_order_release);
			chan__close_owned(w->ch); /* only here: cannot fail */
		} else if (gopoll__hup_claim_locked(r)) {
			r->fire_next = *batch;
			*batch = r;
		}
	}
	if (cds_list_empty(&p->e.regs))
		drop_pent(p, true);
	else /* a failure: @fd closed or replaced under us; the rest stays
		inert until freed, or detached by a new registration */
		(void)pent_ctl(EPOLL_CTL_MOD, p);
	maybe_idle_locked();
}

static void *poller_main(void *unused)
{
	struct epoll_event evs[MAX_EVENTS];
	int64_t idle_since = GOSVC_BUSY;

	(void)unused;
	gosvc__enter(&svc);
	/* Visible in top -H, gdb and /proc (best effort). */
	(void)prctl(PR_SET_NAME, (unsigned long)"gochan-poller", 0UL, 0UL, 0UL);
	gopoll__lock();
	const int epfd = g.epfd, evfd = g.evfd;
	for (;;) {
		int timeout = -1;
		if (g.nregs == 0) {
			int64_t wake;
			/* A shutdown's stop, or the linger passed. */
			if (gosvc__idle_expired_locked(&svc, &idle_since, &wake))
				break;
			/* Rounded up to whole ms: epoll_wait's unit (a linger
			 * too long for an int of ms: no timeout). */
			int64_t left = wake == CHAN_FOREVER ? INT64_MAX : wake - chan_now();
			if (left <= 0)
				timeout = 0;
			else if (left < (int64_t)INT_MAX * 1000000 - 999999)
				timeout = (int)((left + 999999) / 1000000);
		} else {
			idle_since = GOSVC_BUSY;
		}
		/* A barrier asked after the last round was drained: don't sleep. */
		uint64_t cover = g.barrier_req;
		if (cover != g.barrier_done)
			timeout = 0;
		g.blocked = timeout < 0;
		gopoll__unlock();

		int n = epoll_wait(epfd, evs, MAX_EVENTS, timeout);

		struct preg *batch = NULL;
		gopoll__lock();
		g.blocked = false;
		for (int i = 0; i < n; i++) {
			if (evs[i].data.u64 == WAKE_TOKEN) {
				uint64_t v;
				ssize_t k = read(evfd, &v, sizeof v);
				(void)k;
				continue;
			}
			dispatch_locked(&evs[i], &batch);
		}
		if (batch) {
			gopoll__unlock();
			while (batch) {
				struct preg *next = batch->fire_next;
				gopoll__hup_fire(batch); /* may free it */
				batch = next;
			}
			gopoll__lock();
		}
		/* A round that returned everything ready (not a full array,
		 * not interrupted) completes the barriers asked before it. */
		if (n >= 0 && n < MAX_EVENTS && cover != g.barrier_done) {
			g.barrier_done = cover;
			pthread_cond_broadcast(&g.cv);
		}
	}
	/* nregs == 0: the table is empty, only its storage remains. */
	g.blocked = false;
	close(epfd);
	close(evfd);
	g.epfd = g.evfd = -1;
	free(g.fds);
	g.fds = NULL;
	g.cap = 0;
	pthread_cond_broadcast(&g.cv); /* barrier waiters: no poller any more */
	/* Leaves in the critical section that decided it: the next
	 * registration sees no live thread and starts one with new
	 * descriptors.  Its last access to library state. */
	gosvc__leave_locked(&svc);
	return NULL;
}

/* gopoll_shutdown's check (under g.mu): EBUSY while anything is registered. */
static int shutdown_busy(void)
{
	return g.nregs > 0 ? EBUSY : 0;
}

int gopoll_shutdown(void)
{
	return gosvc__shutdown(&svc, shutdown_busy, wake_locked);
}

/* ---- poll_internal.h ----------------------------------------------------- */

unsigned gopoll__threads_live(void)
{
	return gosvc__live(&svc);
}

uint64_t gopoll__threads_started(void)
{
	return gosvc__started(&svc);
}

size_t gopoll__registered(void)
{
	gopoll__lock();
	size_t n = g.nregs;
	gopoll__unlock();
	return n;
}

size_t gopoll__entries(void)
{
	gopoll__lock();
	size_t n = g.nentries;
	gopoll__unlock();
	return n;
}

size_t gopoll__fd_registrations(int fd)
{
	size_t n = 0;
	gopoll__lock();
	struct pent_full *p = fd >= 0 && (size_t)fd < g.cap ? g.fds[fd] : NULL;
	if (p) {
		struct cds_list_head *pos;
		cds_list_for_each(pos, &p->e.regs)
			n++;
	}
	gopoll__unlock();
	return n;
}

int64_t gopoll__set_linger_ns(int64_t ns)
{
	gopoll__lock();
	int64_t old = gosvc__set_linger_locked(&svc, ns);
	if (svc.live > 0)
		wake_locked(); /* a lingering thread re-reads it */
	gopoll__unlock();
	return old;
}

int gopoll__wait_thread_exit(int64_t deadline)
{
	return gosvc__wait_gone(&svc, deadline);
}

int gopoll__barrier(int64_t deadline)
{
	int ret = 0;
	gopoll__lock();
	if (svc.live > 0) {
		uint64_t mine = ++g.barrier_req;
		wake_locked();
		while (svc.live > 0 && g.barrier_done < mine && ret == 0)
			ret = cond_wait_until(deadline);
	}
	gopoll__unlock();
	return ret == 0 ? 0 : ETIMEDOUT;
}

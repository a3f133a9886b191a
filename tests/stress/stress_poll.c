/*
 * tests/stress/stress_poll.c - the poller under races, for ThreadSanitizer
 * and AddressSanitizer: registrations, unregistrations and firings at once
 * from several threads.
 *
 * Phases (each check counts one pass or one failure):
 *   1. hangup vs cancel: a peer thread closes / resets / half-closes the
 *      peer end while the owner waits for the hangup, cancels, releases
 *      without cancel, or cancels the parent, at random; the cause is
 *      GOPOLL_HANGUP when the owner waited for it, and always HANGUP or the
 *      owner's cancel, never anything else.
 *   2. no stale cancel: a hangup fires while its owner cancels it and
 *      closes the descriptor, whose number (recycled between the threads)
 *      gets a new hangup context at once: that one is never cancelled until
 *      its own peer leaves.
 *   3. watches: pairs of threads ping-pong numbered messages over
 *      non-blocking sockets, waiting with gopoll_wait and raw watches in a
 *      select (every message arrives once, in order); watches freed while
 *      they fire.
 *   4. a parent cancelled while its 40 hangup children's peers leave: each
 *      child ends with HANGUP or the parent's cause.
 *   5. gopoll_shutdown racing registrations: 0 or EBUSY, nothing lost.
 * At the end nothing is registered, the poller thread exits, and no context
 * is alive.
 *
 * Usage: stress_poll [scale] [seed].  Prints "N passed, N failed" last and
 * exits non-zero if anything failed.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gochan/chan.h>
#include <gochan/context.h>
#include <gochan/poll.h>
#include <gochan/select.h>
#include <gochan/time.h>

#include "../test_context_util.h"
#include "../test_poll_util.h"
#include "../testutil.h"

#include "stress_check.h"

static int scale = 1;
static unsigned seed0 = 1;

enum {
	OWNER_CAUSE = 4242
};

/* ---- phase 1: hangup vs cancel ------------------------------------------ */

struct p1_peer {
	chan_t *fds; /* int: a peer end to dispose of; closed: done */
	chan_t *ack; /* int: the end was disposed of */
	unsigned seed;
};

static void *p1_peer_main(void *p)
{
	struct p1_peer *a = p;
	int fd;
	bool ok;
	while (chan_recv(a->fds, &fd, &ok) == 0 && ok) {
		switch (rand_r(&a->seed) % 3) {
		case 0:
			close(fd);
			break;
		case 1:
			tp_reset(fd);
			break;
		default:
			shutdown(fd, SHUT_WR); /* half-close: still a hangup */
			close(fd);
			break;
		}
		chan_send(a->ack, &fd);
	}
	return NULL;
}

static void *p1_owner_main(void *p)
{
	unsigned seed = (unsigned)(uintptr_t)p;
	struct p1_peer peer = {.fds = chan_new(sizeof(int), 0),
			       .ack = chan_new(sizeof(int), 0),
			       .seed = seed * 7 + 1};
	tu_go_t th = tu_spawn(p1_peer_main, &peer);
	for (int i = 0; i < 300 * scale; i++) {
		int sv[2];
		if (!tp_pair(sv)) {
			CHECK(false, "socketpair: %s", strerror(errno));
			break;
		}
		ctx_t *parent = ctx_with_cancel(ctx_background());
		ctx_t *c = gopoll_hangup_ctx(parent, sv[0]);
		CHECK(c != NULL, "hangup ctx: %s", strerror(errno));
		if (!c)
			break;
		int mode = rand_r(&seed) % 4;
		chan_send(peer.fds, &sv[1]); /* the peer leaves, concurrently */
		switch (mode) {
		case 0: /* wait for it */
			CHECK(tp_wait_done(c, TP_PATIENCE), "no hangup");
			CHECK(ctx_cause(c, NULL) == GOPOLL_HANGUP, "cause %d", ctx_cause(c, NULL));
			ctx_cancel_release(c);
			break;
		case 1: /* the owner finishes first, or not */
			ctx_cancel_cause(c, OWNER_CAUSE, NULL);
			/* Even if the poller's cancel won and is still running,
			 * ours returns only after the fd is unregistered. */
			CHECK(gopoll__fd_registrations(sv[0]) == 0, "registered after ctx_cancel");
			CHECK(ctx_cause(c, NULL) == GOPOLL_HANGUP ||
				      ctx_cause(c, NULL) == OWNER_CAUSE,
			      "cause %d", ctx_cause(c, NULL));
			ctx_release(c);
			break;
		case 2: /* released without cancel: unregisters at the last ref
			 * (ours, or the poller's if it is cancelling it now) */
			ctx_release(c);
			break;
		default: /* the parent's cancel */
			ctx_cancel_cause(parent, OWNER_CAUSE, NULL);
			CHECK(tp_done_now(c), "parent cancel returned, child not done");
			CHECK(ctx_cause(c, NULL) == GOPOLL_HANGUP ||
				      ctx_cause(c, NULL) == OWNER_CAUSE,
			      "cause %d", ctx_cause(c, NULL));
			ctx_release(c);
			break;
		}
		ctx_cancel_release(parent);
		/* Whatever happened, the fd is unregistered now: the poller
		 * detaches a registration before it cancels the context, and
		 * every other path detaches before it returns. */
		CHECK(gopoll__fd_registrations(sv[0]) == 0, "mode %d: still registered", mode);
		close(sv[0]); /* allowed: everything above unregistered it */
		int fd;
		chan_recv(peer.ack, &fd, NULL);
	}
	chan_close(peer.fds);
	tu_join(th);
	chan_unref(peer.fds);
	chan_unref(peer.ack);
	return NULL;
}

/* ---- phase 2: no stale cancel on a recycled number ---------------------- */

static void *p2_main(void *p)
{
	unsigned seed = (unsigned)(uintptr_t)p;
	for (int i = 0; i < 150 * scale; i++) {
		int sv[2], nv[2];
		if (!tp_pair(sv)) {
			CHECK(false, "socketpair");
			break;
		}
		ctx_t *old = gopoll_hangup_ctx(ctx_background(), sv[0]);
		CHECK(old != NULL, "hangup ctx");
		if (!old)
			break;
		close(sv[1]); /* the hangup is under way ... */
		if (rand_r(&seed) % 2)
			tu_yield();
		ctx_cancel_release(old); /* ... while the owner finishes */
		close(sv[0]);
		if (!tp_pair(nv)) { /* likely the numbers just freed, here or elsewhere */
			CHECK(false, "socketpair");
			break;
		}
		ctx_t *c = gopoll_hangup_ctx(ctx_background(), nv[0]);
		CHECK(c != NULL, "hangup ctx");
		if (!c)
			break;
		CHECK(tp_quiet(TP_PATIENCE), "barrier");
		CHECK(!tp_done_now(c), "stale cancel: fd %d (old %d) cause %d", nv[0], sv[0],
		      ctx_cause(c, NULL));
		close(nv[1]);
		CHECK(tp_wait_done(c, TP_PATIENCE) && ctx_cause(c, NULL) == GOPOLL_HANGUP,
		      "no hangup");
		ctx_cancel_release(c);
		close(nv[0]);
	}
	return NULL;
}

/* ---- phase 3: watches ---------------------------------------------------- */

struct p3_arg {
	int fd;
	bool starts;
	unsigned seed;
};

/* Wait until @fd is ready for @ev: gopoll_wait, or a raw watch in a select
 * next to a channel that never fires.  true if ready. */
static bool p3_wait(int fd, unsigned ev, unsigned *seed, chan_t *never)
{
	unsigned rev = 0;
	if (rand_r(seed) % 2)
		return gopoll_wait(NULL, fd, ev, chan_now() + TP_PATIENCE, &rev) == 0 && rev;
	gopoll_t *w = gopoll_watch(fd, ev);
	if (!w)
		return false;
	int rc = CHAN_SELECT(chan_now() + TP_PATIENCE, CHAN_RECV(never, NULL, NULL),
			     CHAN_RECV(gopoll_chan(w), NULL, NULL));
	bool ok = rc == 1 && gopoll_revents(w) != 0;
	gopoll_free(w);
	return ok;
}

static void *p3_main(void *p)
{
	struct p3_arg *a = p;
	chan_t *never = chan_new(0, 0);
	uint32_t next_in = 0, next_out = 0;
	int n = 1000 * scale;
	/* Each side sends n numbers and receives n, alternating turns. */
	bool my_turn = a->starts;
	while (next_in < (uint32_t)n || next_out < (uint32_t)n) {
		if (my_turn && next_out < (uint32_t)n) {
			ssize_t k = write(a->fd, &next_out, sizeof next_out);
			if (k == sizeof next_out) {
				next_out++;
				my_turn = false;
				continue;
			}
			CHECK(k < 0 && errno == EAGAIN, "write %zd", k);
			CHECK(p3_wait(a->fd, GOPOLL_WRITE, &a->seed, never), "not writable");
			continue;
		}
		uint32_t v;
		ssize_t k = read(a->fd, &v, sizeof v);
		if (k == sizeof v) {
			if (v != next_in)
				CHECK(false, "got %u, expected %u", v, next_in);
			next_in++;
			my_turn = true;
			continue;
		}
		if (k < 0 && errno == EAGAIN) {
			/* Readiness is a hint: wait, then retry the read. */
			if (!p3_wait(a->fd, GOPOLL_READ, &a->seed, never)) {
				CHECK(false, "not readable");
				break;
			}
			continue;
		}
		CHECK(false, "read %zd: %s", k, strerror(errno));
		break;
	}
	CHECK(next_in == (uint32_t)n && next_out == (uint32_t)n, "%u in, %u out", next_in,
	      next_out);
	chan_unref(never);
	return NULL;
}

struct p3_free_arg {
	int fd;
	int rounds;
};

/* Writes a byte per round while the other side watches and frees. */
static void *p3_writer(void *p)
{
	struct p3_free_arg *a = p;
	for (int i = 0; i < a->rounds; i++) {
		char c = 'x';
		while (write(a->fd, &c, 1) != 1)
			CHECK(gopoll_wait(NULL, a->fd, GOPOLL_WRITE, chan_now() + TP_PATIENCE,
					  NULL) == 0,
			      "writer stuck");
	}
	return NULL;
}

static void p3_free_race(void)
{
	int sv[2];
	if (!tp_pair(sv)) {
		CHECK(false, "socketpair");
		return;
	}
	struct p3_free_arg wa = {.fd = sv[1], .rounds = 500 * scale};
	tu_go_t th = tu_spawn(p3_writer, &wa);
	int got = 0;
	unsigned seed = seed0;
	while (got < wa.rounds) {
		gopoll_t *w = gopoll_watch(sv[0], GOPOLL_READ);
		CHECK(w != NULL, "watch");
		if (!w)
			break;
		if (rand_r(&seed) % 2)
			CHECK(tp_wait_closed(gopoll_chan(w), TP_PATIENCE), "watch did not fire");
		CHECK(gopoll_free(w) == 0, "free");
		char buf[64];
		ssize_t k;
		while ((k = read(sv[0], buf, sizeof buf)) > 0)
			got += (int)k;
	}
	tu_join(th);
	CHECK(got == wa.rounds, "%d of %d bytes", got, wa.rounds);
	close(sv[0]);
	close(sv[1]);
}

/* ---- phase 4: parent cancel vs hangups ------------------------------------ */

enum {
	P4_KIDS = 40
};

struct p4_arg {
	int *peers;
	unsigned seed;
};

static void *p4_closer(void *p)
{
	struct p4_arg *a = p;
	for (int i = 0; i < P4_KIDS; i++) {
		if (rand_r(&a->seed) % 2)
			tp_reset(a->peers[i]);
		else
			close(a->peers[i]);
	}
	return NULL;
}

static void p4_round(unsigned seed)
{
	int fds[P4_KIDS], peers[P4_KIDS];
	ctx_t *kids[P4_KIDS];
	ctx_t *parent = ctx_with_cancel(ctx_background());
	for (int i = 0; i < P4_KIDS; i++) {
		int sv[2];
		if (!tp_pair(sv)) {
			CHECK(false, "socketpair");
			return;
		}
		fds[i] = sv[0];
		peers[i] = sv[1];
		kids[i] = gopoll_hangup_ctx(parent, fds[i]);
		CHECK(kids[i] != NULL, "hangup ctx");
		if (!kids[i])
			return;
	}
	struct p4_arg a = {.peers = peers, .seed = seed};
	tu_go_t th = tu_spawn(p4_closer, &a);
	if (seed % 3)
		tu_yield();
	ctx_cancel_cause(parent, OWNER_CAUSE, NULL);
	for (int i = 0; i < P4_KIDS; i++) {
		CHECK(tp_done_now(kids[i]), "child %d not done after the parent's cancel", i);
		CHECK(gopoll__fd_registrations(fds[i]) == 0, "child %d still registered", i);
		int cause = ctx_cause(kids[i], NULL);
		CHECK(cause == GOPOLL_HANGUP || cause == OWNER_CAUSE, "cause %d", cause);
	}
	tu_join(th);
	for (int i = 0; i < P4_KIDS; i++) {
		ctx_cancel_release(kids[i]);
		close(fds[i]);
	}
	ctx_cancel_release(parent);
}

/* ---- phase 5: shutdown racing registrations ------------------------------ */

static atomic_int p5_running;

static void *p5_worker(void *p)
{
	(void)p;
	for (int i = 0; i < 150 * scale; i++) {
		int sv[2];
		if (!tp_pair(sv)) {
			CHECK(false, "socketpair");
			break;
		}
		ctx_t *c = gopoll_hangup_ctx(ctx_background(), sv[0]);
		CHECK(c != NULL, "hangup ctx: %s", strerror(errno));
		if (c) {
			close(sv[1]);
			CHECK(tp_wait_done(c, TP_PATIENCE) && ctx_cause(c, NULL) == GOPOLL_HANGUP,
			      "hangup lost to a shutdown");
			ctx_cancel_release(c);
		}
		close(sv[0]);
	}
	/* Release: the shutdown loop's acquire load ends with our work done. */
	atomic_fetch_sub_explicit(&p5_running, 1, memory_order_release);
	return NULL;
}

static void phase5(void)
{
	enum {
		W = 2
	};
	tu_go_t th[W];
	atomic_store(&p5_running, W);
	for (int i = 0; i < W; i++)
		th[i] = tu_spawn(p5_worker, NULL);
	long zero = 0, busy = 0;
	while (atomic_load_explicit(&p5_running, memory_order_acquire) > 0) {
		int rc = gopoll_shutdown();
		CHECK(rc == 0 || rc == EBUSY, "shutdown %d", rc);
		zero += rc == 0;
		busy += rc == EBUSY;
		tu_yield();
	}
	for (int i = 0; i < W; i++)
		tu_join(th[i]);
	CHECK(gopoll_shutdown() == 0, "final shutdown");
	CHECK(gopoll__threads_live() == 0, "thread alive after shutdown");
	(void)zero;
	(void)busy;
}

int main(int argc, char **argv)
{
	if (argc > 1)
		scale = atoi(argv[1]) > 0 ? atoi(argv[1]) : 1;
	if (argc > 2)
		seed0 = (unsigned)strtoul(argv[2], NULL, 0);

	/* 1 */
	tu_go_t th[3];
	for (int i = 0; i < 3; i++)
		th[i] = tu_spawn(p1_owner_main, (void *)(uintptr_t)(seed0 + (unsigned)i));
	for (int i = 0; i < 3; i++)
		tu_join(th[i]);
	CHECK(gopoll__registered() == 0, "phase 1 left %zu registered", gopoll__registered());
	fprintf(stderr, "stress_poll: phase 1 done\n");

	/* 2 */
	for (int i = 0; i < 2; i++)
		th[i] = tu_spawn(p2_main, (void *)(uintptr_t)(seed0 + 10 + (unsigned)i));
	for (int i = 0; i < 2; i++)
		tu_join(th[i]);
	CHECK(gopoll__registered() == 0, "phase 2 left %zu registered", gopoll__registered());
	fprintf(stderr, "stress_poll: phase 2 done\n");

	/* 3 */
	int sv[2];
	if (tp_pair(sv)) {
		struct p3_arg a = {.fd = sv[0], .starts = true, .seed = seed0 + 20};
		struct p3_arg b = {.fd = sv[1], .starts = false, .seed = seed0 + 21};
		th[0] = tu_spawn(p3_main, &a);
		th[1] = tu_spawn(p3_main, &b);
		tu_join(th[0]);
		tu_join(th[1]);
		close(sv[0]);
		close(sv[1]);
	} else {
		CHECK(false, "socketpair");
	}
	p3_free_race();
	CHECK(gopoll__registered() == 0, "phase 3 left %zu registered", gopoll__registered());
	fprintf(stderr, "stress_poll: phase 3 done\n");

	/* 4 */
	for (int r = 0; r < 20 * scale; r++)
		p4_round(seed0 + 30 + (unsigned)r);
	CHECK(gopoll__registered() == 0, "phase 4 left %zu registered", gopoll__registered());
	fprintf(stderr, "stress_poll: phase 4 done\n");

	/* 5 */
	phase5();
	fprintf(stderr, "stress_poll: phase 5 done\n");

	CHECK(gopoll__registered() == 0 && gopoll__entries() == 0, "left registered");
	CHECK(gopoll__wait_thread_exit(chan_now() + TP_PATIENCE) == 0, "poller thread stays");
	CHECK(wait_no_live(TP_PATIENCE), "%ld contexts alive", ctx__live());
	CHECK(tu_no_leaks(), "leak check (dump above)");
	printf("%ld passed, %ld failed\n", atomic_load(&passed), atomic_load(&failed));
	return atomic_load(&failed) == 0 ? 0 : 1;
}

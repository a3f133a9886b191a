/*
 * bench/prog_chan.h - one channel interface, two implementations: the ported
 * whole programs of bench/goprogs.c are written once against it and run on
 * gochan or on the naive channel (bench/naive/naive_chan.h), chosen at
 * start-up by $BENCH_IMPL (gochan, the default, or naive) (issue 21).
 *
 * A table of function pointers, not a macro switch: one executable runs
 * both, so run.sh interleaves them like any two implementations.  The
 * indirect call costs a few ns; a channel hand-off between threads costs
 * microseconds, and both implementations pay it alike.
 *
 * Only what the ported programs use: make, free, send, receive, close and a
 * select whose send on a closed channel fires with ok == false (gochan's
 * and the naive channel's rule; Go panics).
 */
#ifndef GOCHAN_BENCH_PROG_CHAN_H
#define GOCHAN_BENCH_PROG_CHAN_H

#include <errno.h>
#include <gochan/chan.h>
#include <gochan/select.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "naive/naive_chan.h"

/* A channel of either implementation (a chan_t or a naive_chan_t). */
typedef struct pc_chan pc_chan_t;

/* One select case: a receive into elem, or a send of *elem. */
typedef struct pc_case {
	pc_chan_t *ch; /* NULL: never fires (Go's nil channel) */
	void *elem;
	bool *ok; /* optional: false when the case fired because ch is closed */
	bool send;
} pc_case_t;

typedef struct pc_ops {
	const char *name; /* printed as impl=<name> */
	pc_chan_t *(*make)(size_t elem_size, size_t cap);
	void (*free)(pc_chan_t *c);
	int (*send)(pc_chan_t *c, const void *elem); /* 0, or EPIPE: closed */
	int (*recv)(pc_chan_t *c, void *elem, bool *ok);
	int (*close)(pc_chan_t *c); /* 0, or non-zero if already closed */
	/* The index of the case done; with block false, -1 if none is ready. */
	int (*select)(pc_case_t *cases, size_t n, bool block);
} pc_ops_t;

/* The implementation every program uses: set once in main(), before any thread. */
static const pc_ops_t *pc;

#define PC_SEND_CASE(c, src, okp) \
	((pc_case_t){.ch = (c), .elem = (void *)(src), .ok = (okp), .send = true})
#define PC_RECV_CASE(c, dst, okp) \
	((pc_case_t){.ch = (c), .elem = (dst), .ok = (okp), .send = false})
/* A blocking select statement over the cases given: evaluates to the index. */
#define PC_SELECT(...)                         \
	pc->select((pc_case_t[]){__VA_ARGS__}, \
		   sizeof((pc_case_t[]){__VA_ARGS__}) / sizeof(pc_case_t), true)

/* ---- gochan ------------------------------------------------------------- */

static pc_chan_t *pc_gochan_make(size_t elem_size, size_t cap)
{
	return (pc_chan_t *)chan_new(elem_size, cap);
}

static void pc_gochan_free(pc_chan_t *c)
{
	chan_unref((chan_t *)c);
}

static int pc_gochan_send(pc_chan_t *c, const void *elem)
{
	return chan_send((chan_t *)c, elem);
}

static int pc_gochan_recv(pc_chan_t *c, void *elem, bool *ok)
{
	return chan_recv((chan_t *)c, elem, ok);
}

static int pc_gochan_close(pc_chan_t *c)
{
	return chan_close((chan_t *)c);
}

#define PC_MAX_CASES 16

static int pc_gochan_select(pc_case_t *cases, size_t n, bool block)
{
	chan_case_t cs[PC_MAX_CASES];
	if (n > PC_MAX_CASES)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		cs[i] = (chan_case_t){.chan = (chan_t *)cases[i].ch,
				      .elem = cases[i].elem,
				      .ok = cases[i].ok,
				      .op = cases[i].send ? CHAN_OP_SEND : CHAN_OP_RECV};
	int r = chan_select(cs, n, block ? CHAN_FOREVER : CHAN_NOWAIT);
	return r == CHAN_DEFAULT ? -1 : r;
}

static const pc_ops_t pc_gochan = {
	.name = "gochan",
	.make = pc_gochan_make,
	.free = pc_gochan_free,
	.send = pc_gochan_send,
	.recv = pc_gochan_recv,
	.close = pc_gochan_close,
	.select = pc_gochan_select,
};

/* ---- the naive channel -------------------------------------------------- */

static pc_chan_t *pc_naive_make(size_t elem_size, size_t cap)
{
	return (pc_chan_t *)naive_chan_new(elem_size, cap);
}

static void pc_naive_free(pc_chan_t *c)
{
	naive_chan_free((naive_chan_t *)c);
}

static int pc_naive_send(pc_chan_t *c, const void *elem)
{
	return naive_send((naive_chan_t *)c, elem);
}

static int pc_naive_recv(pc_chan_t *c, void *elem, bool *ok)
{
	return naive_recv((naive_chan_t *)c, elem, ok);
}

static int pc_naive_close(pc_chan_t *c)
{
	return naive_close((naive_chan_t *)c);
}

static int pc_naive_select(pc_case_t *cases, size_t n, bool block)
{
	naive_case_t cs[PC_MAX_CASES];
	if (n > PC_MAX_CASES)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		cs[i] = (naive_case_t){.chan = (naive_chan_t *)cases[i].ch,
				       .elem = cases[i].elem,
				       .ok = cases[i].ok,
				       .send = cases[i].send};
	return naive_select(cs, n, block);
}

static const pc_ops_t pc_naive = {
	.name = "naive",
	.make = pc_naive_make,
	.free = pc_naive_free,
	.send = pc_naive_send,
	.recv = pc_naive_recv,
	.close = pc_naive_close,
	.select = pc_naive_select,
};

/* The implementation $BENCH_IMPL names (unset or empty: gochan); NULL if unknown. */
static inline const pc_ops_t *pc_from_env(void)
{
	const char *s = getenv("BENCH_IMPL");
	if (!s || !*s || strcmp(s, "gochan") == 0)
		return &pc_gochan;
	if (strcmp(s, "naive") == 0)
		return &pc_naive;
	return NULL;
}

#endif /* GOCHAN_BENCH_PROG_CHAN_H */

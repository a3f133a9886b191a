/*
 * diag/snapshot.h - a copy of the record of blocked operations
 * (wait/record.h), taken by diag/snapshot.c through the record's walk and
 * formatted by diag/dump.c.  Not installed.
 */
#ifndef GOCHAN_DIAG_SNAPSHOT_H
#define GOCHAN_DIAG_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "wait/record.h"

#define GODIAG_BT_MAX GOWAIT_BT_MAX

/* One channel a blocked thread waits on, read at snapshot time. */
struct godiag__snap_chan {
	const void *addr;
	uint32_t case_index; /* select: the index in the caller's array; else 0 */
	bool send;           /* direction of this case / operation */
	bool closed;
	size_t elem_size, len, cap;
};

/* One blocked thread. */
struct godiag__snap_thread {
	pid_t tid;         /* 0 for a fiber */
	const void *fiber; /* the fiber (wait/park.h's agent), or NULL */
	char name[32];
	enum gowait__op op;
	uint32_t ncases; /* select: the caller's n (nil cases included); else 1 */
	int64_t since;   /* chan_now() when it blocked */
	const void *ra;  /* return address of the public entry point */
	int nbt;         /* frames in bt (0: backtrace mode was off) */
	void *bt[GODIAG_BT_MAX];
	size_t first_chan, nchans; /* its channels in godiag__snap.chans */
};

struct godiag__snap {
	int64_t now; /* chan_now() at the snapshot */
	size_t nthreads;
	struct godiag__snap_thread *threads;
	size_t nchans;
	struct godiag__snap_chan *chans;
};

/* Take a snapshot (gowait__record_walk; the protocol is in wait/record.c).
 * 0 or ENOMEM. */
int godiag__snapshot(struct godiag__snap *s);
void godiag__snap_free(struct godiag__snap *s);

#endif

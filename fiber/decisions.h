/*
 * fiber/decisions.h - a bubble's decision source chosen from its options
 * and environment, and its log handed out at the end (fiber/decisions.c).
 * Not installed.
 */
#ifndef GOCHAN_FIBER_DECISIONS_H
#define GOCHAN_FIBER_DECISIONS_H

#include "fiber/decide.h"

#include <stdio.h>

/* What a run opened for its log: a list read from GOCHAN_REPLAY, the file
 * GOCHAN_DECISIONS names, opts->decisions_out. */
struct gofiber__decisions_io {
	gobubble_decision *replay;
	size_t replay_len;
	const char *out_path;
	FILE *out;
};

/* After gofiber__decide_init: the replay list (GOCHAN_REPLAY first, then
 * o->replay) or fuzz bytes as the source, and recording on when anything
 * wants the log.  0, or an errno (GOCHAN_REPLAY unreadable or malformed). */
int gofiber__decisions_open(struct gofiber__decide *d, const gobubble_opts *o,
			    struct gofiber__decisions_io *io);

/* At the end of the run: write the log where asked, fill @report's log
 * fields (may be NULL), free the rest. */
void gofiber__decisions_close(struct gofiber__decide *d, const gobubble_opts *o,
			      struct gofiber__decisions_io *io, gobubble_report *report);

#endif

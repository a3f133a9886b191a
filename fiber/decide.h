/*
 * fiber/decide.h - a bubble's one decision source (issue 19): every choice
 * the runtime makes in a bubble is a call of gofiber__decide_as (or
 * gofiber__decide_bits), and each call that draws is one entry of the
 * decision log (gochan/bubble.h: gobubble_decision).  Not installed.
 *
 * Three sources, the first that is set wins:
 *   a list (replay):  entry i answers the i-th draw; a choice >= n is
 *                     clamped to n - 1 and counted in `misfits`;
 *   bytes (fuzzing):  byte i answers the i-th draw: byte % n, or for 64
 *                     bits the byte repeated in every byte of the word;
 *   the seed:         splitmix64 (seed 0: every choice 0, bits still drawn).
 * Past the end of a list or of the bytes every draw answers 0 (choice 0,
 * the default order; bits 0, a select polls its cases in order) and is
 * counted in `past_end`.
 */
#ifndef GOCHAN_FIBER_DECIDE_H
#define GOCHAN_FIBER_DECIDE_H

#include <gochan/bubble.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gofiber__decide {
	uint64_t state;                /* splitmix64's counter */
	uint64_t seed;                 /* 0: every choice is 0 (the default order) */
	uint64_t decisions;            /* draws: choices among more than one option, bits */
	bool replaying;                /* list is the source (it may be empty) */
	const gobubble_decision *list; /* replay source */
	size_t list_len;
	const uint8_t *bytes; /* fuzz source (NULL: none) */
	size_t bytes_len;
	size_t pos;        /* the next entry of list or bytes */
	uint64_t misfits;  /* list entries clamped (chosen >= n) */
	uint64_t past_end; /* draws answered 0 past the list's or bytes' end */
	bool record;       /* append every draw to log */
	bool log_oom;      /* the log lost an entry (out of memory) */
	gobubble_decision *log;
	size_t log_len, log_cap;
};

/* Seed source, nothing recorded. */
void gofiber__decide_init(struct gofiber__decide *d, uint64_t seed);

/* A choice in [0, n) (n >= 1) of @kind.  n == 1 draws nothing and counts
 * nothing, so that adding a fiber that never competes changes no later
 * choice. */
uint32_t gofiber__decide_as(struct gofiber__decide *d, gobubble_decision_kind kind, uint32_t n);

/* gofiber__decide_as(d, GOBUBBLE_OTHER, n): any choice without a kind of
 * its own. */
uint32_t gofiber__decide(struct gofiber__decide *d, uint32_t n);

/* 64 bits (select's poll order, PCT's priorities and change points):
 * always one draw, of kind GOBUBBLE_BITS (n 0 in the log). */
uint64_t gofiber__decide_bits(struct gofiber__decide *d);

/* Free the log (it is handed to the report otherwise). */
void gofiber__decide_fini(struct gofiber__decide *d);

#endif

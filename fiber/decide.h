/*
 * fiber/decide.h - a bubble's one decision source (issue 19): every choice
 * the runtime makes in a bubble is a call of gofiber__decide.  Not installed.
 * The choices: the next fiber to run and a switch point's (fiber/bubble.c),
 * select's poll order (gofiber__decide_bits), and which of the timers due
 * at one virtual instant fires first (timer/bubble.c, through wait/bubble.h's
 * choose hook).
 */
#ifndef GOCHAN_FIBER_DECIDE_H
#define GOCHAN_FIBER_DECIDE_H

#include <stdint.h>

struct gofiber__decide {
	uint64_t state;     /* splitmix64's counter */
	uint64_t seed;      /* 0: every choice is 0 (the default order) */
	uint64_t decisions; /* choices made among more than one option */
};

void gofiber__decide_init(struct gofiber__decide *d, uint64_t seed);

/* A choice in [0, n) (n >= 1).  n == 1 draws nothing and counts nothing,
 * so that adding a fiber that never competes changes no later choice. */
uint32_t gofiber__decide(struct gofiber__decide *d, uint32_t n);

/* 64 random bits (select's poll order); drawn even with seed 0. */
uint64_t gofiber__decide_bits(struct gofiber__decide *d);

#endif

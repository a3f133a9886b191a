/*
 * fiber/decide.c - the decision source of a bubble: splitmix64 of the seed
 * (the generator chan/chaos.c uses), so that a seed names one schedule on
 * every machine; or a recorded list (replay); or fuzz bytes.  Choice 0 is
 * the default order (first-in first-out), and seed 0 answers 0 to every
 * gofiber__decide: the schedule a single plain worker would run.  Every
 * draw can be logged (fiber/decide.h).  Touched by the bubble's worker
 * only: no lock, no atomic.
 */
#include "fiber/decide.h"

#include <stdlib.h>

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void gofiber__decide_init(struct gofiber__decide *d, uint64_t seed)
{
	*d = (struct gofiber__decide){.seed = seed, .state = seed};
}

void gofiber__decide_fini(struct gofiber__decide *d)
{
	free(d->log);
	d->log = NULL;
	d->log_len = d->log_cap = 0;
}

static void log_one(struct gofiber__decide *d, gobubble_decision_kind kind, uint32_t n,
		    uint64_t chosen)
{
	if (!d->record)
		return;
	if (d->log_len == d->log_cap) {
		size_t cap = d->log_cap ? 2 * d->log_cap : 64;
		gobubble_decision *v = realloc(d->log, cap * sizeof *v);

		if (!v) { /* the run goes on; the report says the log is short */
			d->log_oom = true;
			return;
		}
		d->log = v;
		d->log_cap = cap;
	}
	d->log[d->log_len++] = (gobubble_decision){.kind = kind, .n = n, .chosen = chosen};
}

/* The next entry of a list or bytes source, through *@v; false past the
 * end or with the seed source. */
static bool next_given(struct gofiber__decide *d, uint64_t *v, bool *from_bytes)
{
	if (d->replaying) {
		if (d->pos >= d->list_len) {
			d->past_end++;
			*v = 0;
			return true;
		}
		*v = d->list[d->pos++].chosen;
		*from_bytes = false;
		return true;
	}
	if (d->bytes) {
		if (d->pos >= d->bytes_len) {
			d->past_end++;
			*v = 0;
			return true;
		}
		*v = d->bytes[d->pos++];
		*from_bytes = true;
		return true;
	}
	return false;
}

uint32_t gofiber__decide_as(struct gofiber__decide *d, gobubble_decision_kind kind, uint32_t n)
{
	uint64_t v;
	bool from_bytes = false;
	uint32_t c;

	if (n <= 1)
		return 0;
	d->decisions++;
	if (next_given(d, &v, &from_bytes)) {
		if (from_bytes) {
			c = (uint32_t)(v % n);
		} else if (v >= n) {
			d->misfits++; /* the program changed under the list */
			c = n - 1;
		} else {
			c = (uint32_t)v;
		}
	} else if (d->seed == 0) {
		c = 0;
	} else {
		/* Lemire's multiply-shift: bias below n / 2^32, irrelevant here. */
		c = (uint32_t)(((splitmix64(&d->state) >> 32) * n) >> 32);
	}
	log_one(d, kind, n, c);
	return c;
}

uint32_t gofiber__decide(struct gofiber__decide *d, uint32_t n)
{
	return gofiber__decide_as(d, GOBUBBLE_OTHER, n);
}

uint64_t gofiber__decide_bits(struct gofiber__decide *d)
{
	uint64_t v;
	bool from_bytes = false;

	d->decisions++;
	if (next_given(d, &v, &from_bytes)) {
		/* A byte in every byte of the word: select's rng_below reads
		 * the low 32 bits as a fraction, so byte b picks about b/256
		 * of the way through the cases. */
		if (from_bytes)
			v *= 0x0101010101010101ull;
	} else {
		v = splitmix64(&d->state);
	}
	log_one(d, GOBUBBLE_BITS, 0, v);
	return v;
}

/*
 * fiber/decide.c - the decision source of a bubble: splitmix64 of the seed
 * (the generator chan/chaos.c uses), so that a seed names one schedule on
 * every machine.  Choice 0 is the default order (first-in first-out), and
 * seed 0 answers 0 to every gofiber__decide: the schedule a single plain
 * worker would run.
 */
#include "fiber/decide.h"

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void gofiber__decide_init(struct gofiber__decide *d, uint64_t seed)
{
	d->seed = seed;
	d->state = seed;
	d->decisions = 0;
}

uint32_t gofiber__decide(struct gofiber__decide *d, uint32_t n)
{
	if (n <= 1)
		return 0;
	d->decisions++;
	if (d->seed == 0)
		return 0;
	/* Lemire's multiply-shift: bias below n / 2^32, irrelevant here. */
	return (uint32_t)(((splitmix64(&d->state) >> 32) * n) >> 32);
}

uint64_t gofiber__decide_bits(struct gofiber__decide *d)
{
	d->decisions++;
	return splitmix64(&d->state);
}

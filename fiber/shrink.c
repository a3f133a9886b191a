/*
 * fiber/shrink.c - gobubble_shrink (gochan/bubble.h): delta debugging of a
 * failing decision list (Zeller's ddmin, the chunk-removal half, then a
 * value-lowering pass as Hypothesis shrinks its choice sequences).
 *
 * Invariant: @d[0, *n) is always a list that failed: a candidate is built
 * in a scratch array and copied back only when @fails says it fails too.
 * A replay is exact (gochan/bubble.h), so "failed once" is "fails".
 * Termination: every kept change makes the list shorter or makes one
 * entry smaller with none larger (a well-founded order), and the budget of
 * runs bounds it anyway.
 */
#include <gochan/bubble.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct shrinker {
	gobubble_decision *d, *tmp;
	size_t n;
	bool (*fails)(const gobubble_decision *, size_t, void *);
	void *ctx;
	uint64_t runs, max_runs;
};

static bool budget_left(const struct shrinker *s)
{
	return s->runs < s->max_runs;
}

/* Try the list without [at, at + len): kept if it fails. */
static bool try_drop(struct shrinker *s, size_t at, size_t len)
{
	memcpy(s->tmp, s->d, at * sizeof *s->d);
	memcpy(s->tmp + at, s->d + at + len, (s->n - at - len) * sizeof *s->d);
	s->runs++;
	if (!s->fails(s->tmp, s->n - len, s->ctx))
		return false;
	memcpy(s->d, s->tmp, (s->n - len) * sizeof *s->d);
	s->n -= len;
	return true;
}

/* Try entry @i with @v (< its value): kept if it fails. */
static bool try_lower(struct shrinker *s, size_t i, uint64_t v)
{
	memcpy(s->tmp, s->d, s->n * sizeof *s->d);
	s->tmp[i].chosen = v;
	s->runs++;
	if (!s->fails(s->tmp, s->n, s->ctx))
		return false;
	s->d[i].chosen = v;
	return true;
}

/* Past the end a replay answers 0: trailing zeros change nothing. */
static void cut_zeros(struct shrinker *s)
{
	while (s->n && s->d[s->n - 1].chosen == 0)
		s->n--;
}

static bool drop_pass(struct shrinker *s)
{
	bool changed = false;

	for (size_t chunk = s->n / 2 ? s->n / 2 : 1; chunk >= 1 && s->n; chunk /= 2) {
		for (size_t at = 0; at + chunk <= s->n && budget_left(s);) {
			if (try_drop(s, at, chunk))
				changed = true; /* the next chunk slid into place */
			else
				at += chunk;
		}
		if (chunk == 1 || !budget_left(s))
			break;
	}
	return changed;
}

static bool lower_pass(struct shrinker *s)
{
	bool changed = false;

	for (size_t i = 0; i < s->n && budget_left(s); i++) {
		uint64_t v = s->d[i].chosen;

		if (v == 0)
			continue;
		if (try_lower(s, i, 0)) {
			changed = true;
			continue;
		}
		if (s->d[i].n != 0 && s->d[i].n <= 16) {
			/* A small choice: the smallest value that fails. */
			for (uint64_t c = 1; c < v && budget_left(s); c++)
				if (try_lower(s, i, c)) {
					changed = true;
					break;
				}
		} else {
			/* 64 bits or a large n: halve while it fails. */
			while (s->d[i].chosen > 1 && budget_left(s) &&
			       try_lower(s, i, s->d[i].chosen / 2))
				changed = true;
		}
	}
	return changed;
}

int gobubble_shrink(gobubble_decision *d, size_t *n,
		    bool (*fails)(const gobubble_decision *list, size_t n, void *ctx), void *ctx,
		    uint64_t max_runs, uint64_t *runs)
{
	struct shrinker s = {.d = d,
			     .n = *n,
			     .fails = fails,
			     .ctx = ctx,
			     .max_runs = max_runs ? max_runs : 10000};

	if (runs)
		*runs = 0;
	if (!fails)
		return EINVAL;
	s.runs = 1;
	if (!fails(d, s.n, ctx)) {
		if (runs)
			*runs = s.runs;
		return EINVAL;
	}
	s.tmp = malloc((s.n ? s.n : 1) * sizeof *s.tmp);
	if (!s.tmp)
		return ENOMEM;
	cut_zeros(&s);
	for (;;) {
		bool changed = drop_pass(&s);

		changed |= lower_pass(&s);
		cut_zeros(&s);
		if (!changed || !budget_left(&s))
			break;
	}
	free(s.tmp);
	*n = s.n;
	if (runs)
		*runs = s.runs;
	return 0;
}

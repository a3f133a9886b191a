/*
 * search/eval/engines.c - PCRE2 (JIT, as the service runs it) and Hyperscan
 * (a linear-time automaton engine, Debian's libhyperscan-dev) side by side:
 * the same files, the same per-line semantics (a line matches if the
 * pattern matches inside it; each line its own subject), matching-line
 * counts and times.  An evaluation, not part of the service (the files in search/ are;
 * this subdirectory is not built by build.zig).
 *
 *   apt-get install libhyperscan-dev     (not in scripts/setup.sh: nothing built needs it)
 *   cc -O2 -std=c11 -D_GNU_SOURCE -o /tmp/engines search/eval/engines.c \
 *      -lpcre2-8 -lhs
 *   find TREE -type f -size -8M -print0 | /tmp/engines PATTERN
 *   (ENGINES_SKIP_PCRE2=1: Hyperscan only)
 *
 * Prints, per engine: matching lines, lines it failed on (PCRE2's match
 * limit; Hyperscan refuses the pattern at compile time instead), seconds.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <hs/hs.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int on_hs(unsigned id, unsigned long long from, unsigned long long to, unsigned flags,
		 void *ctx)
{
	(void)id, (void)from, (void)to, (void)flags;
	*(int *)ctx = 1;
	return 1; /* stop at the first match */
}

struct file {
	char *p;
	size_t n;
};

int main(int argc, char **argv)
{
	if (argc != 2) {
		fputs("usage: find ... -print0 | engines PATTERN\n", stderr);
		return 2;
	}
	const char *pat = argv[1];
	/* Read every file once (both engines then scan memory). */
	struct file *files = NULL;
	size_t nf = 0, cap = 0, bytes = 0;
	char path[8192];
	size_t pl = 0;
	int c;
	while ((c = getchar()) != EOF) {
		if (c && pl + 1 < sizeof path) {
			path[pl++] = (char)c;
			continue;
		}
		path[pl] = 0;
		pl = 0;
		FILE *f = fopen(path, "rb");
		if (!f)
			continue;
		struct file x = {0};
		size_t xc = 0;
		char buf[65536];
		size_t r;
		while ((r = fread(buf, 1, sizeof buf, f)) > 0) {
			if (x.n + r > xc) {
				xc = (x.n + r) * 2;
				x.p = realloc(x.p, xc);
			}
			memcpy(x.p + x.n, buf, r);
			x.n += r;
		}
		fclose(f);
		if (x.n && memchr(x.p, 0, x.n < 8192 ? x.n : 8192)) { /* binary, as the service */
			free(x.p);
			continue;
		}
		if (nf == cap)
			files = realloc(files, (cap = cap ? 2 * cap : 1024) * sizeof *files);
		files[nf++] = x;
		bytes += x.n;
	}
	fprintf(stderr, "%zu files, %zu bytes\n", nf, bytes);

	int err;
	PCRE2_SIZE off;
	/* ENGINES_SKIP_PCRE2=1: Hyperscan alone (PCRE2 may take hours on a
	 * backtracking pattern). */
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat, strlen(pat), 0, &err, &off, NULL);
	if (getenv("ENGINES_SKIP_PCRE2")) {
		printf("pcre2-jit   skipped\n");
	} else if (re) {
		pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
		pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
		pcre2_match_context *mc = pcre2_match_context_create(NULL);
		pcre2_jit_stack *js = pcre2_jit_stack_create(32 << 10, 4 << 20, NULL);
		pcre2_jit_stack_assign(mc, NULL, js);
		long long hits = 0, fails = 0;
		double t = now();
		for (size_t i = 0; i < nf; i++)
			for (char *p = files[i].p, *e = p + files[i].n; p < e;) {
				char *nl = memchr(p, '\n', (size_t)(e - p));
				size_t len = nl ? (size_t)(nl - p) : (size_t)(e - p);
				int rc = pcre2_match(re, (PCRE2_SPTR)p, len, 0, 0, md, mc);
				hits += rc >= 0;
				fails += rc < 0 && rc != PCRE2_ERROR_NOMATCH;
				p += len + 1;
			}
		printf("pcre2-jit   lines %lld  failed %lld  %.3f s\n", hits, fails, now() - t);
	} else {
		printf("pcre2-jit   refused (error %d at %zu)\n", err, (size_t)off);
	}

	hs_database_t *db;
	hs_compile_error_t *ce;
	if (hs_compile(pat, HS_FLAG_SINGLEMATCH | HS_FLAG_ALLOWEMPTY, HS_MODE_BLOCK, NULL, &db, &ce) !=
	    HS_SUCCESS) {
		printf("hyperscan   refused: %s\n", ce->message);
		return 0;
	}
	hs_scratch_t *sc = NULL;
	hs_alloc_scratch(db, &sc);
	long long hits = 0;
	double t = now();
	for (size_t i = 0; i < nf; i++)
		for (char *p = files[i].p, *e = p + files[i].n; p < e;) {
			char *nl = memchr(p, '\n', (size_t)(e - p));
			size_t len = nl ? (size_t)(nl - p) : (size_t)(e - p);
			int m = 0;
			hs_scan(db, p, (unsigned)len, 0, sc, on_hs, &m);
			hits += m;
			p += len + 1;
		}
	printf("hyperscan   lines %lld  failed 0  %.3f s\n", hits, now() - t);
	return 0;
}

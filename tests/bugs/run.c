/*
 * tests/bugs/run.c - the catalogue's runner.
 *
 *   bugs check [-n K] [--fibers]
 *       The test (zig build test runs it): every bug K times (default 1) in
 *       each checking mode: BUG_FORCE must manifest every time, BUG_FIX and
 *       BUG_FIX|BUG_FORCE never, the unforced buggy program must give a
 *       verdict (either).  Exit 1 on any other outcome.  Takes well under a
 *       second: the forced schedules are gates, not luck.
 *   bugs run NAME [-n N] [-t SECONDS] [--fixed] [--fibers]
 *       Up to N unforced runs of one bug in this process (stopping after
 *       SECONDS), under whatever GOCHAN_CHAOS says; prints
 *       "RESULT NAME runs=R failures=F first=K secs=S last=L" (K: the run that
 *       first manifested, 0 if none; L: 1 if the last run did).
 *   bugs table [-n N] [-t SECONDS] [-s SEEDS] [-r REPLAYS] [--fixed] [NAME...]
 *       The "plain threads" columns of issue 19's table: for each bug, one
 *       child process `bugs run` without GOCHAN_CHAOS (N runs, SECONDS), then
 *       SEEDS children with GOCHAN_CHAOS=1..SEEDS (N/SEEDS runs and
 *       SECONDS/SEEDS each); a markdown table of runs, failures, runs to the
 *       first failure, failures per 1,000 runs and per second.  Then the
 *       first failing seed is rerun REPLAYS times (default 100): a fresh
 *       process, the same seed, as many runs as it took; how often that
 *       last run fails again (issue 19 asks the bubble for 100 of 100).
 *   bugs explore [-s SEEDS] [-r REPLAYS] [--max-switches P] [--fixed] [NAME...]
 *       The bubble's columns (gochan/bubble.h): seeds 1..SEEDS (default
 *       1000), one bubble run each, with a seeded random schedule, then
 *       with switch points at channel operations, then with switch points
 *       and time jumps (gochan/bubble.h), then PCT (depth --pct D, default
 *       3) with both; seeds failing, the first
 *       failing seed and how often it fails again in REPLAYS reruns (a
 *       bubble replays: 100 of 100).  Replay one by hand with
 *       GOCHAN_SEED=N bugs run NAME --bubble [--switch|--jumps] [--pct D] -n 1.
 *   --bubble (or BUGS_RUNTIME=bubble) runs check and run in a bubble, run i
 *       with seed i (GOCHAN_SEED replaces it); --switch adds switch points.
 *   bugs shrink [-s SEEDS] [-r REPLAYS] [--switch|--jumps|--pct D] [-o DIR]
 *       [NAME...]
 *       For each bug, the first failing seed's decision log (gochan/bubble.h),
 *       shrunk by gobubble_shrink with the bug's oracle: its length before and
 *       after, and how often the shrunk list fails in REPLAYS replays (100 of
 *       100).  Replay one by hand with GOCHAN_REPLAY=DIR/NAME.decisions bugs
 *       run NAME --bubble [--switch|--jumps] -n 1.
 *   bugs list
 *
 * GOCHAN_CHAOS is read once when the library loads, hence one process per
 * seed.  Within a process the seed fixes each thread's perturbations, not
 * the OS scheduler: on threads a seed does not replay a run (that is what
 * the bubble of docs/design-bubble.md is for).
 */
#include "bugs.h"

#include <errno.h>
#include <inttypes.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static const struct bug_entry *find_bug(const char *name)
{
	for (unsigned i = 0; i < bug_catalogue_len; i++)
		if (strcmp(bug_catalogue[i].name, name) == 0)
			return &bug_catalogue[i];
	return NULL;
}

static const char *verdict_name(int v)
{
	return v == BUG_MANIFESTED ? "manifested" : v == BUG_CLEAN ? "clean" : "error";
}

struct opts {
	long n;
	double secs;
	int seeds;
	int replays; /* table: reruns of the first failing seed; -1: default */
	bool fixed;
	bool switches;       /* --switch: switch points in the bubble */
	bool jumps;          /* --jumps: and time jumps (implies --switch) */
	long pct_depth;      /* --pct D: PCT with depth D (explore: its depth) */
	long max_switches;   /* --max-switches P (0: no bound) */
	const char *out_dir; /* shrink -o DIR */
	enum bug_runtime rt;
	int first_arg; /* index of the first non-option argument */
};

static int parse_opts(int argc, char **argv, int from, struct opts *o)
{
	int i = from;
	for (; i < argc; i++) {
		if (strcmp(argv[i], "-n") == 0 && i + 1 < argc)
			o->n = atol(argv[++i]);
		else if (strcmp(argv[i], "-t") == 0 && i + 1 < argc)
			o->secs = atof(argv[++i]);
		else if (strcmp(argv[i], "-s") == 0 && i + 1 < argc)
			o->seeds = atoi(argv[++i]);
		else if (strcmp(argv[i], "-r") == 0 && i + 1 < argc)
			o->replays = atoi(argv[++i]);
		else if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
			o->out_dir = argv[++i];
		else if (strcmp(argv[i], "--fixed") == 0)
			o->fixed = true;
		else if (strcmp(argv[i], "--bubble") == 0)
			o->rt = BUG_BUBBLE;
		else if (strcmp(argv[i], "--switch") == 0)
			o->switches = true;
		else if (strcmp(argv[i], "--pct") == 0 && i + 1 < argc)
			o->pct_depth = atol(argv[++i]);
		else if (strcmp(argv[i], "--jumps") == 0)
			o->jumps = o->switches = true;
		else if (strcmp(argv[i], "--max-switches") == 0 && i + 1 < argc)
			o->max_switches = atol(argv[++i]);
		else if (strcmp(argv[i], "--fibers") == 0)
			o->rt = BUG_FIBERS;
		else if (argv[i][0] == '-') {
			fprintf(stderr, "bugs: unknown option %s\n", argv[i]);
			return -1;
		} else
			break;
	}
	o->first_arg = i;
	return 0;
}

/* ---- check ---- */

static int cmd_check(const struct opts *o)
{
	static const struct {
		int mode;
		const char *name;
		int want; /* BUG_MANIFESTED, BUG_CLEAN, or 2: either verdict */
	} modes[] = {
		{BUG_FORCE, "forced", BUG_MANIFESTED},
		{BUG_FIX, "fixed", BUG_CLEAN},
		{BUG_FIX | BUG_FORCE, "fixed+forced", BUG_CLEAN},
		{0, "natural", 2},
	};
	int bad = 0;
	long k = o->n > 0 ? o->n : 1;
	for (unsigned i = 0; i < bug_catalogue_len; i++) {
		const struct bug_entry *b = &bug_catalogue[i];
		printf("%-22s", b->name);
		for (unsigned m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
			long wrong = 0;
			int v = BUG_CLEAN;
			for (long j = 0; j < k; j++) {
				v = bugs_run_one(b, modes[m].mode, o->rt);
				if (v == BUG_ERROR || (modes[m].want != 2 && v != modes[m].want))
					wrong++;
			}
			printf(" %s:%s", modes[m].name, wrong ? "WRONG" : verdict_name(v));
			if (wrong) {
				printf("(%ld/%ld)", wrong, k);
				bad++;
			}
		}
		printf("\n");
		fflush(stdout);
	}
	printf("%s: %u bugs, %s\n", bad ? "FAIL" : "ok", bug_catalogue_len,
	       bad ? "an oracle or a fix is broken" : "every oracle sees its bug, every fix holds");
	return bad ? 1 : 0;
}

/* ---- run ---- */

static int cmd_run(const struct opts *o, const char *name)
{
	const struct bug_entry *b = find_bug(name);
	if (!b) {
		fprintf(stderr, "bugs: no bug named %s (bugs list)\n", name);
		return 2;
	}
	long n = o->n > 0 ? o->n : 1000;
	int64_t start = chan_now();
	int64_t stop = o->secs > 0 ? start + (int64_t)(o->secs * 1e9) : INT64_MAX;
	long runs = 0, failures = 0, first = 0;
	int last = 0;
	while (runs < n && chan_now() < stop) {
		/* In a bubble run i has seed i (GOCHAN_SEED, if set, replaces it:
		 * every run is then that one schedule). */
		bugs_bubble_opts.seed = (uint64_t)runs + 1;
		int v = bugs_run_one(b, o->fixed ? BUG_FIX : 0, o->rt);
		runs++;
		if (v == BUG_ERROR) {
			fprintf(stderr, "bugs: %s: run %ld failed\n", name, runs);
			return 1;
		}
		last = v == BUG_MANIFESTED;
		if (last && failures++ == 0)
			first = runs;
	}
	double secs = (double)(chan_now() - start) / 1e9;
	printf("RESULT %s runs=%ld failures=%ld first=%ld secs=%.3f last=%d\n", name, runs,
	       failures, first, secs, last);
	return 0;
}

/* ---- table ---- */

struct tally {
	long runs, failures, first; /* first: runs up to the first failure, 0 none */
	double secs;
	int seeds_failing;
};

/* Run `bugs run NAME -n N -t T [--fixed]` as a child with GOCHAN_CHAOS=
 * @seed (0: unset); add its RESULT to @t, and say in *@last whether its last
 * run manifested.  0 or -1. */
static int run_child(const char *name, long n, double secs, bool fixed, unsigned seed,
		     struct tally *t, int *last)
{
	char nbuf[32], tbuf[32], chaos[64];
	snprintf(nbuf, sizeof(nbuf), "%ld", n);
	snprintf(tbuf, sizeof(tbuf), "%.3f", secs);
	char *argv[] = {"bugs", "run", (char *)name, "-n", nbuf, "-t", tbuf, NULL, NULL};
	if (fixed)
		argv[7] = "--fixed";

	size_t ne = 0;
	while (environ[ne])
		ne++;
	char **envp = calloc(ne + 2, sizeof(char *));
	if (!envp)
		return -1;
	size_t k = 0;
	for (size_t i = 0; i < ne; i++)
		if (strncmp(environ[i], "GOCHAN_CHAOS=", 13) != 0)
			envp[k++] = environ[i];
	if (seed) {
		snprintf(chaos, sizeof(chaos), "GOCHAN_CHAOS=%u", seed);
		envp[k++] = chaos;
	}
	envp[k] = NULL;

	int pfd[2];
	if (pipe(pfd) != 0) {
		free(envp);
		return -1;
	}
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], 2);
	posix_spawn_file_actions_addclose(&fa, pfd[0]);
	pid_t pid;
	int err = posix_spawn(&pid, "/proc/self/exe", &fa, NULL, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	free(envp);
	close(pfd[1]);
	if (err) {
		close(pfd[0]);
		errno = err;
		return -1;
	}
	FILE *f = fdopen(pfd[0], "r");
	char line[512];
	bool got = false;
	while (f && fgets(line, sizeof(line), f)) {
		long runs, failures, first;
		double s;
		char bname[64];
		if (sscanf(line, "RESULT %63s runs=%ld failures=%ld first=%ld secs=%lf last=%d",
			   bname, &runs, &failures, &first, &s, last) == 6) {
			if (failures && !t->first)
				t->first = t->runs + first;
			t->runs += runs;
			t->failures += failures;
			t->secs += s;
			t->seeds_failing += failures > 0;
			got = true;
		} else if (strncmp(line, "gochan: chaos mode on", 21) != 0) {
			fputs(line, stderr);
		}
	}
	if (f)
		fclose(f);
	else
		close(pfd[0]);
	int status;
	waitpid(pid, &status, 0);
	return got && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static void print_tally(const struct tally *t)
{
	char first[32];
	if (t->first)
		snprintf(first, sizeof(first), "%ld", t->first);
	else
		snprintf(first, sizeof(first), "none in %ld", t->runs);
	printf(" %ld | %ld | %s | %.1f | %.1f |", t->runs, t->failures, first,
	       t->runs ? 1000.0 * (double)t->failures / (double)t->runs : 0.0,
	       t->secs > 0 ? (double)t->failures / t->secs : 0.0);
}

/* Whether the command line names @name (no names: every bug). */
static bool named(const struct opts *o, int argc, char **argv, const char *name)
{
	if (o->first_arg >= argc)
		return true;
	for (int a = o->first_arg; a < argc; a++)
		if (strcmp(argv[a], name) == 0)
			return true;
	return false;
}

static int cmd_table(const struct opts *o, int argc, char **argv)
{
	long n = o->n > 0 ? o->n : 2000;
	double secs = o->secs > 0 ? o->secs : 2.0;
	int seeds = o->seeds > 0 ? o->seeds : 20;
	int replays = o->replays >= 0 ? o->replays : 100;
	printf("| bug | runs | failures | runs to 1st | per 1000 runs | per s |"
	       " runs (chaos) | failures | runs to 1st | per 1000 runs | per s | seeds failing |"
	       " first failing seed rerun |\n");
	printf("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
	for (unsigned i = 0; i < bug_catalogue_len; i++) {
		const struct bug_entry *b = &bug_catalogue[i];
		if (!named(o, argc, argv, b->name))
			continue;
		struct tally plain = {0}, chaos = {0};
		int last;
		if (run_child(b->name, n, secs, o->fixed, 0, &plain, &last) != 0) {
			fprintf(stderr, "bugs: %s: the plain run failed\n", b->name);
			return 1;
		}
		unsigned fail_seed = 0;
		long fail_run = 0; /* the run of fail_seed's process that failed first */
		for (int s = 1; s <= seeds; s++) {
			long per = (n + seeds - 1) / seeds, before = chaos.runs;
			bool had = chaos.failures > 0;
			unsigned seed = (unsigned)s;
			if (run_child(b->name, per, secs / seeds, o->fixed, seed, &chaos, &last) !=
			    0) {
				fprintf(stderr, "bugs: %s: chaos seed %d failed\n", b->name, s);
				return 1;
			}
			if (!had && chaos.failures > 0) {
				fail_seed = seed;
				fail_run = chaos.first - before;
			}
		}
		/* Does the first failing seed fail again?  A fresh process with
		 * that seed, the same number of runs: does its last run fail? */
		int again = 0;
		for (int r = 0; fail_seed && r < replays; r++) {
			struct tally scratch = {0};
			if (run_child(b->name, fail_run, 0, o->fixed, fail_seed, &scratch, &last) !=
			    0) {
				fprintf(stderr, "bugs: %s: rerun of seed %u failed\n", b->name,
					fail_seed);
				return 1;
			}
			again += last;
		}
		printf("| %s |", b->name);
		print_tally(&plain);
		print_tally(&chaos);
		printf(" %d/%d |", chaos.seeds_failing, seeds);
		if (fail_seed && replays > 0)
			printf(" %d/%d (seed %u, run %ld) |\n", again, replays, fail_seed,
			       fail_run);
		else
			printf(" - |\n");
		fflush(stdout);
	}
	return 0;
}

/* ---- explore: the bubble's columns ---- */

static const char *pct_name(uint32_t d, uint32_t k)
{
	static char buf[96];
	snprintf(buf, sizeof(buf), "PCT d=%u k=%u + switch points", d ? d : 3, k);
	return buf;
}

/* One bubble run of @b with @seed (GOCHAN_SEED ignored): 1 manifested, 0
 * clean, -1 error. */
static int bubble_once(const struct bug_entry *b, bool fixed, uint64_t seed)
{
	bugs_bubble_opts.seed = seed;
	bugs_bubble_opts.ignore_env = true;
	int v = bugs_run_one(b, fixed ? BUG_FIX : 0, BUG_BUBBLE);
	bugs_bubble_opts.ignore_env = false;
	return v == BUG_ERROR ? -1 : v == BUG_MANIFESTED;
}

/*
 * bugs explore [-s SEEDS] [-r REPLAYS] [--fixed] [NAME...]: for each bug and
 * each strategy (seeded random schedule; the same with switch points at
 * channel operations, preemption bound --max-switches), seeds 1..SEEDS in a
 * bubble, one run each: how many fail, the first failing seed (what
 * GOCHAN_SEED=N bugs run NAME --bubble [--switch] -n 1 replays), and how
 * often that seed fails again in REPLAYS reruns (a replay must be 100%).
 */
static int cmd_explore(const struct opts *o, int argc, char **argv)
{
	int seeds = o->seeds > 0 ? o->seeds : 1000;
	int replays = o->replays >= 0 ? o->replays : 100;
	int bad = 0;
	printf("| bug | strategy | seeds tried | seeds failing | first failing seed |"
	       " replays failing | runs per s |\n");
	printf("|---|---|---|---|---|---|---|\n");
	for (unsigned i = 0; i < bug_catalogue_len; i++) {
		const struct bug_entry *b = &bug_catalogue[i];
		if (!named(o, argc, argv, b->name))
			continue;
		for (int strat = 0; strat < 4; strat++) {
			bugs_bubble_opts.switch_points = strat >= 1;
			bugs_bubble_opts.time_jumps = strat >= 2;
			bugs_bubble_opts.strategy = strat == 3 ? GOBUBBLE_PCT : GOBUBBLE_RANDOM;
			bugs_bubble_opts.pct_depth = (uint32_t)o->pct_depth;
			bugs_bubble_opts.pct_steps = 0;
			if (strat == 3) {
				/* PCT's k: the steps of one run (seed 1);
				 * replay with GOCHAN_PCT_STEPS set to it. */
				if (bubble_once(b, o->fixed, 1) < 0)
					return 1;
				bugs_bubble_opts.pct_steps = (uint32_t)bugs_bubble_report.points;
			}
			bugs_bubble_opts.max_switches = (uint32_t)o->max_switches;
			long failing = 0;
			uint64_t first = 0;
			int64_t t0 = gobubble_now() < 0 ? chan_now() : 0;
			for (int s = 1; s <= seeds; s++) {
				int v = bubble_once(b, o->fixed, (uint64_t)s);
				if (v < 0)
					return 1;
				if (v && failing++ == 0)
					first = (uint64_t)s;
			}
			double secs = (double)(chan_now() - t0) / 1e9;
			int again = 0;
			for (int r = 0; first && r < replays; r++) {
				int v = bubble_once(b, o->fixed, first);
				if (v < 0)
					return 1;
				again += v;
			}
			printf("| %s | %s | %d | %ld | ", b->name,
			       strat == 3   ? pct_name(bugs_bubble_opts.pct_depth,
						       bugs_bubble_opts.pct_steps)
			       : strat == 2 ? "random + switch points + time jumps"
			       : strat == 1 ? "random + switch points"
					    : "random",
			       seeds, failing);
			if (first)
				printf("%" PRIu64 " | %d/%d |", first, again, replays);
			else
				printf("none | - |");
			printf(" %.0f |\n", secs > 0 ? (double)seeds / secs : 0.0);
			fflush(stdout);
			if (first && again != replays) {
				fprintf(stderr, "bugs: %s: seed %" PRIu64 " replayed %d/%d\n",
					b->name, first, again, replays);
				bad = 1;
			}
		}
	}
	bugs_bubble_opts.switch_points = false;
	bugs_bubble_opts.time_jumps = false;
	bugs_bubble_opts.strategy = GOBUBBLE_RANDOM;
	return bad;
}

/* ---- shrink: the decision log of a failure, cut down ---- */

struct shrink_ctx {
	const struct bug_entry *b;
	bool fixed;
	bool error; /* a run gave BUG_ERROR */
};

/* One bubble run of the bug with @list as its decisions: manifested? */
static int replay_once(const struct bug_entry *b, bool fixed, const gobubble_decision *list,
		       size_t n, bool record)
{
	bugs_bubble_opts.replay = list;
	bugs_bubble_opts.replay_len = n;
	bugs_bubble_opts.record = record;
	bugs_bubble_opts.ignore_env = true;
	int v = bugs_run_one(b, fixed ? BUG_FIX : 0, BUG_BUBBLE);
	bugs_bubble_opts.ignore_env = false;
	bugs_bubble_opts.replay = NULL;
	bugs_bubble_opts.replay_len = 0;
	bugs_bubble_opts.record = false;
	return v == BUG_ERROR ? -1 : v == BUG_MANIFESTED;
}

/* The oracle of a shrink: the same verdict, the bug's own oracle saw it. */
static bool still_fails(const gobubble_decision *list, size_t n, void *p)
{
	struct shrink_ctx *c = p;
	int v = replay_once(c->b, c->fixed, list, n, false);
	if (v < 0)
		c->error = true;
	return v == 1;
}

static size_t nonzero(const gobubble_decision *d, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		k += d[i].chosen != 0;
	return k;
}

/* Set the strategy of explore's column @strat (0 random, 1 + switch
 * points, 2 + time jumps, 3 PCT) in bugs_bubble_opts. */
static void set_strategy(int strat, long pct_depth)
{
	bugs_bubble_opts.switch_points = strat >= 1;
	bugs_bubble_opts.time_jumps = strat >= 2;
	bugs_bubble_opts.strategy = strat == 3 ? GOBUBBLE_PCT : GOBUBBLE_RANDOM;
	bugs_bubble_opts.pct_depth = (uint32_t)pct_depth;
}

/*
 * bugs shrink [-s SEEDS] [-r REPLAYS] [--switch|--jumps|--pct D] [-o DIR]
 * [NAME...]: for each bug, the first failing seed of 1..SEEDS (default
 * 1000) under the strategy (default random + switch points + time jumps),
 * its decision log (recorded), then gobubble_shrink with the bug's oracle,
 * then the shrunk list replayed once with recording (the list with the
 * right kinds, trailing zeros cut): its length before and after, its
 * non-zero entries, the shrinker's runs, and how often the shrunk list
 * fails in REPLAYS replays (100 of 100).  -o DIR writes DIR/NAME.decisions,
 * replayed by GOCHAN_REPLAY=DIR/NAME.decisions bugs run NAME --bubble
 * [--switch|--jumps] -n 1.
 */
static int cmd_shrink(const struct opts *o, int argc, char **argv, const char *dir)
{
	int seeds = o->seeds > 0 ? o->seeds : 1000;
	int replays = o->replays >= 0 ? o->replays : 100;
	int strat = o->pct_depth > 0 ? 3 : o->jumps ? 2 : o->switches ? 1 : 2;
	int bad = 0;
	printf("| bug | strategy | first failing seed | decisions | recorded list fails |"
	       " shrunk | non-zero | shrink runs | shrunk fails |\n");
	printf("|---|---|---|---|---|---|---|---|---|\n");
	for (unsigned i = 0; i < bug_catalogue_len; i++) {
		const struct bug_entry *b = &bug_catalogue[i];
		if (!named(o, argc, argv, b->name))
			continue;
		set_strategy(strat, o->pct_depth);
		bugs_bubble_opts.pct_steps = 0;
		bugs_bubble_opts.max_switches = (uint32_t)o->max_switches;
		uint64_t first = 0;
		for (int s = 1; s <= seeds && !first; s++) {
			int v = bubble_once(b, o->fixed, (uint64_t)s);
			if (v < 0)
				return 1;
			if (v)
				first = (uint64_t)s;
		}
		const char *sname = strat == 3   ? "PCT + switch points"
				    : strat == 2 ? "random + switch points + time jumps"
						 : "random + switch points";
		if (!first) {
			printf("| %s | %s | none in %d | - | - | - | - | - | - |\n", b->name, sname,
			       seeds);
			continue;
		}
		/* The failing seed's log. */
		bugs_bubble_opts.record = true;
		int v = bubble_once(b, o->fixed, first);
		bugs_bubble_opts.record = false;
		gobubble_decision *log = bugs_bubble_report.log;
		size_t before = bugs_bubble_report.log_len, n = before;
		if (v != 1) {
			fprintf(stderr, "bugs: %s: seed %" PRIu64 " did not fail again\n", b->name,
				first);
			free(log);
			return 1;
		}
		/* The same schedule from the list alone (the strategy's own
		 * draws, PCT's priorities, are in it too): REPLAYS times. */
		int recorded = 0;
		for (int r = 0; r < replays; r++) {
			int w = replay_once(b, o->fixed, log, before, false);
			if (w < 0) {
				free(log);
				return 1;
			}
			recorded += w;
		}
		struct shrink_ctx c = {b, o->fixed, false};
		uint64_t runs = 0;
		int err = gobubble_shrink(log, &n, still_fails, &c, 0, &runs);
		if (err || c.error) {
			fprintf(stderr, "bugs: %s: shrink failed (%d%s)\n", b->name, err,
				c.error ? ", a run failed" : "");
			free(log);
			return 1;
		}
		/* Canonical: replay the shrunk list with recording. */
		if (replay_once(b, o->fixed, log, n, true) != 1) {
			fprintf(stderr, "bugs: %s: the shrunk list did not fail\n", b->name);
			free(log);
			return 1;
		}
		free(log);
		log = bugs_bubble_report.log;
		size_t after = bugs_bubble_report.log_len;
		while (after && log[after - 1].chosen == 0)
			after--;
		int again = 0;
		for (int r = 0; r < replays; r++) {
			int w = replay_once(b, o->fixed, log, after, false);
			if (w < 0) {
				free(log);
				return 1;
			}
			again += w;
		}
		printf("| %s | %s | %" PRIu64 " | %zu | %d/%d | %zu | %zu | %" PRIu64
		       " | %d/%d |\n",
		       b->name, sname, first, before, recorded, replays, after, nonzero(log, after),
		       runs, again, replays);
		fflush(stdout);
		if (again != replays || recorded != replays || after > before)
			bad = 1;
		if (dir) {
			char path[512];
			snprintf(path, sizeof path, "%s/%s.decisions", dir, b->name);
			FILE *f = fopen(path, "w");
			if (!f || gobubble_decisions_write(f, log, after) != 0) {
				fprintf(stderr, "bugs: cannot write %s\n", path);
				bad = 1;
			}
			if (f)
				fclose(f);
		}
		free(log);
	}
	set_strategy(0, 0);
	return bad;
}

int main(int argc, char **argv)
{
	struct opts o = {.replays = -1};
	const char *cmd = argc > 1 ? argv[1] : "check";
	if (parse_opts(argc, argv, argc > 1 ? 2 : 1, &o) != 0)
		return 2;
	if (getenv("BUGS_RUNTIME") && strcmp(getenv("BUGS_RUNTIME"), "fiber") == 0)
		o.rt = BUG_FIBERS;
	if (getenv("BUGS_RUNTIME") && strcmp(getenv("BUGS_RUNTIME"), "bubble") == 0)
		o.rt = BUG_BUBBLE;
	if (strcmp(cmd, "check") == 0)
		return cmd_check(&o);
	if (strcmp(cmd, "run") == 0) {
		if (o.first_arg >= argc) {
			fprintf(stderr, "usage: bugs run NAME [-n N] [-t SECONDS] [--fixed]\n");
			return 2;
		}
		/* The bug's name may come before the options. */
		const char *name = argv[o.first_arg];
		if (parse_opts(argc, argv, o.first_arg + 1, &o) != 0)
			return 2;
		bugs_bubble_opts.switch_points = o.switches;
		bugs_bubble_opts.time_jumps = o.jumps;
		if (o.pct_depth > 0) {
			bugs_bubble_opts.strategy = GOBUBBLE_PCT;
			bugs_bubble_opts.pct_depth = (uint32_t)o.pct_depth;
		}
		bugs_bubble_opts.max_switches = (uint32_t)o.max_switches;
		return cmd_run(&o, name);
	}
	if (strcmp(cmd, "explore") == 0)
		return cmd_explore(&o, argc, argv);
	if (strcmp(cmd, "shrink") == 0)
		return cmd_shrink(&o, argc, argv, o.out_dir);
	if (strcmp(cmd, "table") == 0)
		return cmd_table(&o, argc, argv);
	if (strcmp(cmd, "list") == 0) {
		for (unsigned i = 0; i < bug_catalogue_len; i++)
			printf("%-22s %s\n", bug_catalogue[i].name, bug_catalogue[i].what);
		return 0;
	}
	fprintf(stderr, "usage: bugs check|run|table|explore|list (see tests/bugs/run.c)\n");
	return 2;
}

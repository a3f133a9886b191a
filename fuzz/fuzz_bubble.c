/*
 * fuzz/fuzz_bubble.c - a fuzzer that drives the schedule (issue 19): the
 * input is the bubble's decision source (gochan/bubble.h, opts.fuzz_input),
 * so coverage guides the search over interleavings of the bug catalogue's
 * programs (tests/bugs/).  Linked with tests/bugs/ minus its runner (run.c):
 * fuzz/run.sh and zig build fuzz-replay add those sources.
 *
 * DECODING:
 *   without FUZZ_BUG:  byte 0 picks the bug (% the catalogue's length);
 *                      byte 1, bits 0-1: 0 the seeded schedule only, 1
 *                      switch points, 2 or 3 switch points and time jumps;
 *                      the rest are the decisions;
 *   FUZZ_BUG=NAME:     every byte is a decision; switch points and time
 *                      jumps on (what `bugs explore` calls its third
 *                      strategy).
 *   Decision i is byte i: byte % n for a choice among n, the byte in every
 *   byte of the word for 64 bits (a select's poll order); 0 past the end.
 *
 * CHECKS:
 *   default:        the FIXED program (BUG_FIX) must never manifest under any
 *                   schedule, the run must end cleanly (no deadlock or leak
 *                   verdict, nothing left blocked), and the run's recorded
 *                   decision log must replay to the same verdict, step count
 *                   and log (a replay is exact);
 *   FUZZ_BUGGY=1:   the buggy program; abort when the bug manifests: the
 *                   crash input is a schedule that exposes it (how many
 *                   executions that takes is the fuzzer's column of issue
 *                   19's table: fuzz/bubble_table.sh).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/bugs/bugs.h"

static const struct bug_entry *fixed_bug; /* FUZZ_BUG */
static bool buggy;                        /* FUZZ_BUGGY */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	const char *name = getenv("FUZZ_BUG");
	const char *b = getenv("FUZZ_BUGGY");

	buggy = b && *b && strcmp(b, "0") != 0;
	if (name && *name) {
		for (unsigned i = 0; i < bug_catalogue_len; i++)
			if (strcmp(bug_catalogue[i].name, name) == 0)
				fixed_bug = &bug_catalogue[i];
		if (!fixed_bug) {
			fprintf(stderr, "fuzz_bubble: no bug named %s\n", name);
			exit(2);
		}
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct bug_entry *b = fixed_bug;
	int how = 2;

	if (!b) {
		if (size < 2)
			return 0;
		b = &bug_catalogue[data[0] % bug_catalogue_len];
		how = data[1] & 3;
		data += 2;
		size -= 2;
	}
	bugs_bubble_opts = (gobubble_opts){.ignore_env = true,
					   .switch_points = how >= 1,
					   .time_jumps = how >= 2,
					   .fuzz_input = data,
					   .fuzz_len = size,
					   .record = !buggy};
	int v = bugs_run_one(b, buggy ? 0 : BUG_FIX, BUG_BUBBLE);
	gobubble_report first = bugs_bubble_report;

	if (v == BUG_ERROR) {
		fprintf(stderr, "fuzz_bubble: %s: the run failed (verdict %d)\n", b->name,
			(int)first.verdict);
		abort();
	}
	if (v == BUG_MANIFESTED) {
		fprintf(stderr, "fuzz_bubble: %s %s manifested (%zu decision bytes)\n", b->name,
			buggy ? "bug" : "FIXED program", size);
		abort();
	}
	if (buggy)
		return 0;
	/* The log replays the run exactly. */
	bugs_bubble_opts.fuzz_input = NULL;
	bugs_bubble_opts.fuzz_len = 0;
	bugs_bubble_opts.replay = first.log;
	bugs_bubble_opts.replay_len = first.log_len;
	v = bugs_run_one(b, BUG_FIX, BUG_BUBBLE);
	if (v != BUG_CLEAN || bugs_bubble_report.steps != first.steps ||
	    bugs_bubble_report.log_len != first.log_len || bugs_bubble_report.misfits != 0 ||
	    bugs_bubble_report.past_end != 0 ||
	    (first.log_len &&
	     memcmp(bugs_bubble_report.log, first.log, first.log_len * sizeof *first.log) != 0)) {
		fprintf(stderr,
			"fuzz_bubble: %s: the replay differs (verdict %d, steps %llu vs %llu, "
			"%zu vs %zu decisions)\n",
			b->name, v, (unsigned long long)bugs_bubble_report.steps,
			(unsigned long long)first.steps, bugs_bubble_report.log_len, first.log_len);
		abort();
	}
	free(bugs_bubble_report.log);
	free(first.log);
	bugs_bubble_report.log = NULL;
	bugs_bubble_opts = (gobubble_opts){0};
	return 0;
}

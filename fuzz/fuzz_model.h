/*
 * fuzz/fuzz_model.h - the single-thread model harness as a function, shared
 * by the libFuzzer entry point (fuzz_model.c) and the differential twin
 * (diff_model.c).
 */
#ifndef GOCHAN_FUZZ_MODEL_H
#define GOCHAN_FUZZ_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * fuzz_model_run - decode @data as a channel program (see fuzz_model.c), run
 * it against the library and the reference model, and abort() with a trace
 * on the first divergence.  @diff: make selects deterministic (see
 * fuzz_model.c) for the comparison with Go.  @out: if not NULL, every step's
 * canonical line is written there as it completes.
 */
void fuzz_model_run(const uint8_t *data, size_t size, bool diff, FILE *out);

#endif

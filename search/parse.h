/*
 * search/parse.h - the value syntaxes of flags and query parameters.
 * Pure functions: no allocation, no global state.
 */
#ifndef GOCHAN_SEARCH_PARSE_H
#define GOCHAN_SEARCH_PARSE_H

#include <stdint.h>

/* Go's time.ParseDuration: "300ms", "1.5h", "2h45m", "0".  Returns 0 and the
 * nanoseconds in *ns, or EINVAL (bad syntax, unknown unit) / ERANGE
 * (overflows int64 nanoseconds). */
int parse_duration(const char *s, int64_t *ns);

/* A decimal integer in [lo, hi] with nothing after it.  0, EINVAL, ERANGE. */
int parse_int(const char *s, int64_t lo, int64_t hi, int64_t *out);

/* A byte size: a decimal integer, optionally followed by K, M or G (powers
 * of 1024, either case, with an optional "iB" or "B": 10M, 512KiB, 1GB), in
 * [0, hi].  0, EINVAL, ERANGE. */
int parse_size(const char *s, int64_t hi, int64_t *out);

/* Whether @glob is a well-formed fnmatch(3) pattern in the sense of Go's
 * path.Match (every '[' closed, no trailing '\\').  0 or EINVAL. */
int parse_glob_check(const char *glob);

#endif

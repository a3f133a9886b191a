/*
 * search/match.h - the content matcher: a PCRE2 pattern compiled once per
 * request (JIT when available), or a plain byte string searched with
 * memfind (memfind.h) when the pattern has no metacharacter (the literal
 * fast path).  A regex with a required literal (3+ bytes) searches for it
 * first and runs PCRE2 only on the lines that contain it.
 *
 * Semantics are those of `grep -E` per line: a line matches when the pattern
 * matches somewhere inside it; ^ and $ anchor at line boundaries
 * (PCRE2_MULTILINE) and a match never spans a newline (a candidate that
 * crosses one is re-tried on its first line alone).  Byte mode: no UTF
 * checking, so files with any encoding are searched.
 */
#ifndef GOCHAN_SEARCH_MATCH_H
#define GOCHAN_SEARCH_MATCH_H

#include <stddef.h>

struct matcher;

/* Compile @pat (@len bytes).  Returns NULL on error with a message in
 * @err (at most @errlen bytes) and the offset of the error in @erroff.
 * The matcher is read-only after this and may be shared by threads; each
 * thread needs its own match_state. */
struct matcher *matcher_new(const char *pat, size_t len, char *err, size_t errlen, size_t *erroff);
/* matcher_new with options: MATCH_CASELESS (PCRE2_CASELESS: ASCII case, byte
 * mode), MATCH_FIXED (the pattern is a plain string: the literal path, or
 * PCRE2_LITERAL when caseless or holding a NUL; a newline in it is an
 * error, as no line holds one). */
#define MATCH_CASELESS 1u
#define MATCH_FIXED 2u
struct matcher *matcher_new_opts(const char *pat, size_t len, unsigned opts, char *err,
				 size_t errlen, size_t *erroff);
void matcher_free(struct matcher *m);
/* The message of a negative match_next() code, in @msg (@len bytes). */
void match_error_message(int rc, char *msg, size_t len);
/* Whether the literal fast path is in use (for logs and tests). */
int matcher_is_literal(const struct matcher *m);
/* The literal every matching line contains (the pattern itself on the
 * literal path; for a regex, a run of literal characters read from its top
 * level, searched before PCRE2 runs on the lines that hold it): its length
 * and *lit, or 0 when there is none.  Owned by the matcher. */
size_t matcher_required_literal(const struct matcher *m, const char **lit);

/* Per-thread scratch (PCRE2 match data).  NULL on ENOMEM. */
struct match_state *match_state_new(const struct matcher *m);
void match_state_free(struct match_state *st);

/*
 * Find the first matching line in buf[*pos, end): the search starts at *pos
 * (a line start) and @end is a line end (the byte after a '\n', or the end
 * of the data).  On a hit returns 1 and the line as [*ls, *le) (without its
 * '\n'), and sets *pos to the start of the next line.  Returns 0 when no
 * line in the range matches (*pos = end).  Returns a negative PCRE2 error
 * code (its match, depth or heap limit, the JIT stack) when the line
 * [*ls, *le) could not be checked; *pos is then the next line, and the
 * caller goes on from there: a failure on a multi-line subject is retried
 * line by line for the rest of the range, so only the lines that fail on
 * their own are lost, and each is reported.
 */
int match_next(const struct matcher *m, struct match_state *st, const char *buf, size_t end,
	       size_t *pos, size_t *ls, size_t *le);

/* The first match in the line of match_next()'s last hit: [*ms, *me) as
 * byte offsets from the line's start (PCRE2's leftmost match; empty for a
 * pattern such as ^). */
void match_span(const struct match_state *st, size_t *ms, size_t *me);

#endif

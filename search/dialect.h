/*
 * search/dialect.h - what of PCRE2's syntax a content pattern may use.
 *
 * The dialect is PCRE2's (10.42, byte mode, PCRE2_MULTILINE), applied to
 * each line as `grep -E` applies its own (API.md lists it).  A few
 * constructs mean something else in grep -E, or depend on how the service
 * cuts a file into subjects, and would give different results without a
 * word; they are refused with 400 and the offset, outside a character class
 * and outside \Q...\E:
 *   \< \>       grep's word start and end; PCRE2 reads a literal < or >
 *   \` \'       GNU's buffer anchors; PCRE2 reads a literal ` or '
 *   {,n}        grep's {0,n}; PCRE2 10.42 reads the literal text "{,n}"
 *   \A \z \Z \G anchors at the subject, which here is a 16 KiB slice of
 *               lines, not a line: use ^ and $, which anchor at lines
 */
#ifndef GOCHAN_SEARCH_DIALECT_H
#define GOCHAN_SEARCH_DIALECT_H

#include <stddef.h>

/* 0 if @pat (@len bytes) uses none of the refused constructs; else -1 with
 * the offset of the first in *@off and a message in *@msg (static). */
int dialect_check(const char *pat, size_t len, size_t *off, const char **msg);

#endif

/*
 * search/json.h - JSON text for the service: a growable byte buffer and
 * string escaping that always yields valid UTF-8.
 *
 * Escaping rule (SEARCH-API.md): a well-formed UTF-8 sequence is copied as
 * is; every byte that is not part of one (a stray continuation byte, an
 * overlong form, a surrogate, a code point past U+10FFFF, a truncated
 * sequence) is written as \u00XX, the byte's Latin-1 reading.  '"', '\\'
 * and the C0 controls are escaped.  So any byte string, including file names
 * that are not UTF-8, becomes a valid JSON string, and distinct byte strings
 * never escape to the same text except where the Latin-1 reading coincides
 * with a real UTF-8 character (unavoidable and documented in the API).
 */
#ifndef GOCHAN_SEARCH_JSON_H
#define GOCHAN_SEARCH_JSON_H

#include <stddef.h>
#include <stdint.h>

/* A growable buffer.  Zero-initialise it; free with jbuf_free().  On
 * allocation failure the buffer sets .oom and ignores further appends, so
 * callers check once at the end. */
struct jbuf {
	char *p;
	size_t len, cap;
	int oom;
};

void jbuf_free(struct jbuf *b);
void jbuf_put(struct jbuf *b, const void *s, size_t n);
void jbuf_puts(struct jbuf *b, const char *s);
void jbuf_printf(struct jbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append "..." : @s (@n bytes, any content) as a JSON string with quotes. */
void jbuf_str(struct jbuf *b, const void *s, size_t n);
/* Take the bytes (NUL-terminated, caller frees); the buffer is empty after.
 * NULL if it ran out of memory. */
char *jbuf_take(struct jbuf *b, size_t *len);

/* Length of the well-formed UTF-8 sequence at @s (at most @n bytes), or 0
 * if the byte at @s does not start one. */
size_t json_utf8_len(const unsigned char *s, size_t n);

/* The longest prefix of @s (@n bytes) of at most @max bytes that does not
 * end inside a well-formed UTF-8 sequence: a cut there splits no character. */
size_t json_utf8_cut(const char *s, size_t n, size_t max);

/* Append "@key":"@s" (jbuf_str) and, when @s is not all well-formed UTF-8
 * (the JSON string then reads its odd bytes as Latin-1, so two names can
 * read alike), also ,"@key_bytes":"BASE64 of the raw bytes": lossless, as
 * ripgrep's {"bytes":...}. */
void jbuf_field(struct jbuf *b, const char *key, const void *s, size_t n);

#endif

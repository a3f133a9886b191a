/* search/memfind.c - see memfind.h. */
#include "search/memfind.h"

#include <stdint.h>
#include <string.h>

#if defined(__SSE2__)
#include <immintrin.h>
#endif

/* How common a byte is in text and source code, higher = more common (a
 * rough ranking, not measured frequencies): the needle's two lowest-ranked
 * bytes are the ones compared first. */
static int byte_rank(unsigned char c)
{
	static const char lower[] = "etaoinsrhldcumfpgwybvkxjqz";
	if (c == ' ')
		return 1000;
	if (c == '\n')
		return 900;
	if (c >= 'a' && c <= 'z')
		return 800 - 20 * (int)(strchr(lower, c) - lower);
	if (c == '\t' || c == '_' || c == '(' || c == ')' || c == ',' || c == '.' || c == ';' ||
	    c == '=' || c == '"')
		return 300;
	if (c >= '0' && c <= '9')
		return 250;
	if (c >= 'A' && c <= 'Z')
		return 200 - 5 * (int)(strchr(lower, c - 'A' + 'a') - lower);
	if (c >= 0x21 && c < 0x7f)
		return 100;
	return 10; /* control bytes, bytes >= 0x80 */
}

void needle_init(struct needle *nd, const void *p, size_t len)
{
	nd->p = p;
	nd->len = len;
	size_t best = 0;
	for (size_t i = 1; i < len; i++)
		if (byte_rank(nd->p[i]) < byte_rank(nd->p[best]))
			best = i;
	size_t second = best;
	for (size_t i = 0; i < len; i++) {
		if (i == best)
			continue;
		/* Prefer a byte of another value: two equal bytes tell less. */
		int ri = byte_rank(nd->p[i]) + (nd->p[i] == nd->p[best] ? 2000 : 0);
		int rs = second == best ? INT32_MAX
					: byte_rank(nd->p[second]) +
						  (nd->p[second] == nd->p[best] ? 2000 : 0);
		if (ri < rs)
			second = i;
	}
	nd->i1 = best;
	nd->i2 = second;
}

/* Whether the needle starts at h + i (its two rare bytes already matched). */
static int at(const char *h, size_t i, const struct needle *nd)
{
	return memcmp(h + i, nd->p, nd->len) == 0;
}

const char *memfind(const char *h, size_t n, const struct needle *nd)
{
	if (nd->len == 1)
		return memchr(h, nd->p[0], n);
	if (n < nd->len)
		return NULL;
	/* Candidate starts are 0..last; every load below reads h[i + i1 or i2
	 * + 0..W-1] with i + W - 1 <= last, so i2 + last < n keeps it in. */
	const size_t last = n - nd->len;
	const unsigned char b1 = nd->p[nd->i1], b2 = nd->p[nd->i2];
	size_t i = 0;
#if defined(__AVX2__)
	{
		const __m256i v1 = _mm256_set1_epi8((char)b1), v2 = _mm256_set1_epi8((char)b2);
		for (; i + 32 <= last + 1; i += 32) {
			__m256i a =
				_mm256_loadu_si256((const __m256i *)(const void *)(h + i + nd->i1));
			__m256i b =
				_mm256_loadu_si256((const __m256i *)(const void *)(h + i + nd->i2));
			uint32_t mask = (uint32_t)_mm256_movemask_epi8(_mm256_and_si256(
				_mm256_cmpeq_epi8(a, v1), _mm256_cmpeq_epi8(b, v2)));
			while (mask) {
				size_t k = (size_t)__builtin_ctz(mask);
				if (at(h, i + k, nd))
					return h + i + k;
				mask &= mask - 1;
			}
		}
	}
#endif
#if defined(__SSE2__)
	{
		const __m128i v1 = _mm_set1_epi8((char)b1), v2 = _mm_set1_epi8((char)b2);
		for (; i + 16 <= last + 1; i += 16) {
			__m128i a =
				_mm_loadu_si128((const __m128i *)(const void *)(h + i + nd->i1));
			__m128i b =
				_mm_loadu_si128((const __m128i *)(const void *)(h + i + nd->i2));
			uint32_t mask = (uint32_t)_mm_movemask_epi8(
				_mm_and_si128(_mm_cmpeq_epi8(a, v1), _mm_cmpeq_epi8(b, v2)));
			while (mask) {
				size_t k = (size_t)__builtin_ctz(mask);
				if (at(h, i + k, nd))
					return h + i + k;
				mask &= mask - 1;
			}
		}
	}
#endif
	for (; i <= last; i++)
		if ((unsigned char)h[i + nd->i1] == b1 && (unsigned char)h[i + nd->i2] == b2 &&
		    at(h, i, nd))
			return h + i;
	return NULL;
}

size_t count_newlines(const char *p, size_t n)
{
	size_t c = 0, i = 0;
#if defined(__SSE2__)
	const __m128i nl = _mm_set1_epi8('\n');
	while (n - i >= 16) {
		/* Up to 255 blocks into byte counters (each compare adds 0 or -1
		 * as 0xff, subtracted), then summed with one SAD. */
		size_t blocks = (n - i) / 16;
		if (blocks > 255)
			blocks = 255;
		__m128i acc = _mm_setzero_si128();
		for (size_t b = 0; b < blocks; b++, i += 16)
			acc = _mm_sub_epi8(
				acc, _mm_cmpeq_epi8(_mm_loadu_si128(
							    (const __m128i *)(const void *)(p + i)),
						    nl));
		__m128i sums = _mm_sad_epu8(acc, _mm_setzero_si128());
		c += (size_t)_mm_cvtsi128_si32(sums) + (size_t)_mm_extract_epi16(sums, 4);
	}
#endif
	for (; i < n; i++)
		c += p[i] == '\n';
	return c;
}

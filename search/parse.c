/* search/parse.c - see parse.h. */
#include "search/parse.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

static const struct {
	const char *name;
	int64_t ns;
} units[] = {
	{"ns", 1},           {"us", 1000},      {"\xc2\xb5s", 1000}, /* U+00B5 micro sign */
	{"\xce\xbcs", 1000},                                         /* U+03BC Greek mu */
	{"ms", 1000000},     {"s", 1000000000}, {"m", 60000000000LL}, {"h", 3600000000000LL},
};

int parse_duration(const char *s, int64_t *ns)
{
	bool neg = false;
	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	if (strcmp(s, "0") == 0) {
		*ns = 0;
		return 0;
	}
	if (!*s)
		return EINVAL;
	/* Accumulate in unsigned 64 bits as Go does, then check the sign. */
	uint64_t total = 0;
	while (*s) {
		if (!(*s == '.' || (*s >= '0' && *s <= '9')))
			return EINVAL;
		uint64_t whole = 0, frac = 0, scale = 1;
		bool digits = false, overflow = false;
		for (; *s >= '0' && *s <= '9'; s++) {
			digits = true;
			if (whole > (UINT64_MAX - 9) / 10)
				overflow = true;
			else
				whole = whole * 10 + (uint64_t)(*s - '0');
		}
		if (overflow)
			return ERANGE;
		if (*s == '.') {
			s++;
			for (; *s >= '0' && *s <= '9'; s++) {
				digits = true;
				if (scale <= UINT64_MAX / 100) { /* extra digits are dropped */
					frac = frac * 10 + (uint64_t)(*s - '0');
					scale *= 10;
				}
			}
		}
		if (!digits)
			return EINVAL;
		size_t ulen = 0;
		while (s[ulen] && s[ulen] != '.' && !(s[ulen] >= '0' && s[ulen] <= '9'))
			ulen++;
		if (ulen == 0)
			return EINVAL; /* Go: "missing unit" */
		int64_t unit = 0;
		for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
			if (strlen(units[i].name) == ulen && memcmp(units[i].name, s, ulen) == 0)
				unit = units[i].ns;
		if (!unit)
			return EINVAL;
		s += ulen;
		uint64_t u = (uint64_t)unit;
		if (whole > (uint64_t)INT64_MAX / u)
			return ERANGE;
		uint64_t v = whole * u;
		if (frac) {
			/* frac/scale of a unit, in ns; scale <= 1e18 so this fits in
			 * long double's 64-bit mantissa closely enough, and Go
			 * rounds the same way (truncates). */
			v += (uint64_t)((long double)frac * (long double)u / (long double)scale);
		}
		if (v > (uint64_t)INT64_MAX || total > (uint64_t)INT64_MAX - v)
			return ERANGE;
		total += v;
	}
	*ns = neg ? -(int64_t)total : (int64_t)total;
	return 0;
}

int parse_int(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
	bool neg = false;
	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	if (!*s)
		return EINVAL;
	uint64_t v = 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return EINVAL;
		if (v > ((uint64_t)INT64_MAX + 1 - 9) / 10)
			return ERANGE;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (v > (uint64_t)INT64_MAX + (neg ? 1 : 0))
		return ERANGE;
	int64_t x = neg ? (int64_t)(0 - v) : (int64_t)v;
	if (x < lo || x > hi)
		return ERANGE;
	*out = x;
	return 0;
}

int parse_size(const char *s, int64_t hi, int64_t *out)
{
	char num[32];
	size_t n = strspn(s, "0123456789");
	if (n == 0 || n >= sizeof num)
		return n ? ERANGE : EINVAL;
	memcpy(num, s, n);
	num[n] = 0;
	const char *u = s + n;
	int shift = 0;
	switch (*u) {
	case 'k':
	case 'K':
		shift = 10;
		break;
	case 'm':
	case 'M':
		shift = 20;
		break;
	case 'g':
	case 'G':
		shift = 30;
		break;
	case 0:
		break;
	default:
		return EINVAL;
	}
	if (shift) {
		u++;
		if (strcmp(u, "") && strcmp(u, "B") && strcmp(u, "iB"))
			return EINVAL;
	}
	int64_t v;
	int e = parse_int(num, 0, hi >> shift, &v);
	if (e)
		return e;
	*out = v << shift;
	return *out <= hi ? 0 : ERANGE;
}

int parse_glob_check(const char *g)
{
	for (; *g; g++) {
		if (*g == '\\') {
			if (!*++g)
				return EINVAL;
		} else if (*g == '[') {
			g++;
			if (*g == '!' || *g == '^')
				g++;
			if (*g == ']')
				g++; /* a leading ']' is a member */
			for (; *g && *g != ']'; g++)
				if (*g == '\\' && !*++g)
					return EINVAL;
			if (!*g)
				return EINVAL;
		}
	}
	return 0;
}

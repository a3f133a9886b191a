/* search/host.c - see host.h. */
#include "search/host.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>

#include "search/config.h"

/* The address of @s (IPv4 or IPv6 text) in @a (16 bytes); its family or 0. */
static int addr_of(const char *s, unsigned char a[16])
{
	memset(a, 0, 16);
	if (inet_pton(AF_INET, s, a) == 1)
		return AF_INET;
	if (inet_pton(AF_INET6, s, a) == 1)
		return AF_INET6;
	return 0;
}

static bool is_zero(const unsigned char *a, int n)
{
	for (int i = 0; i < n; i++)
		if (a[i])
			return false;
	return true;
}

bool host_allowed(const char *host)
{
	if (!host)
		return false;
	/* The host part: "[v6]" or "name" / "a.b.c.d", without ":port". */
	char h[256];
	size_t n;
	if (host[0] == '[') {
		const char *e = strchr(host, ']');
		if (!e || (e[1] && e[1] != ':'))
			return false;
		n = (size_t)(e - host - 1);
		host++;
	} else {
		const char *c = strchr(host, ':');
		n = c ? (size_t)(c - host) : strlen(host);
	}
	if (n == 0 || n >= sizeof h)
		return false;
	memcpy(h, host, n);
	h[n] = 0;
	if (n > 1 && h[n - 1] == '.')
		h[n - 1] = 0; /* "localhost." is "localhost" */

	unsigned char la[16], ha[16];
	int lf = addr_of(cfg.listen, la), hf = addr_of(h, ha);
	bool wildcard = is_zero(la, lf == AF_INET ? 4 : 16);
	bool loopback = (lf == AF_INET && la[0] == 127) ||
			(lf == AF_INET6 && is_zero(la, 15) && la[15] == 1);
	if (hf)
		return wildcard || (hf == lf && memcmp(ha, la, 16) == 0);
	if (strcasecmp(h, "localhost") == 0 && (loopback || wildcard))
		return true;
	for (int i = 0; i < cfg.n_allowed_hosts; i++)
		if (strcasecmp(h, cfg.allowed_hosts[i]) == 0)
			return true;
	return false;
}

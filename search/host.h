/*
 * search/host.h - the Host header check against DNS rebinding.
 *
 * A web page whose name an attacker re-points at 127.0.0.1 makes the
 * browser send this service requests with the attacker's name in Host; the
 * same-origin policy then lets the page read the answers (the served tree).
 * A request is served only if its Host names this server:
 *   - an IP literal (a.b.c.d or [v6], any port) equal to --listen, or any IP
 *     literal when --listen is a wildcard (0.0.0.0, ::): a literal cannot be
 *     rebound;
 *   - "localhost" when --listen is a loopback or wildcard address;
 *   - a name given with --allowed-host (repeatable; compared without case
 *     and without the port).
 * Anything else, and a request without Host, gets 421 with a JSON error.
 */
#ifndef GOCHAN_SEARCH_HOST_H
#define GOCHAN_SEARCH_HOST_H

#include <stdbool.h>

/* Whether @host (the Host header's value, or NULL) names this server. */
bool host_allowed(const char *host);

#endif

/*
 * search/server.h - the HTTP server: libmicrohttpd with a thread per
 * connection (MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD;
 * README.md says why), bounded (--max-conns, --max-conns-per-ip) and timed
 * (--idle-timeout, and guard.h's deadlines); the Host check (host.h);
 * routes /, /search and, with --debug-vars, /debug/vars.
 */
#ifndef GOCHAN_SEARCH_SERVER_H
#define GOCHAN_SEARCH_SERVER_H

#include <stdint.h>

#include <gochan/context.h>

/* Start listening on cfg.listen:cfg.port; every request's context derives
 * from @server_ctx (which must outlive server_stop()).  Returns the bound
 * port, or -1 with a message on stderr. */
int server_start(ctx_t *server_ctx);

/* Stop accepting connections (the listening socket is closed); requests in
 * progress go on. */
void server_quiesce(void);

/* Wait until no request is in progress or the CLOCK_MONOTONIC time
 * @deadline_ns (chan_now() scale) passes; returns the requests left.
 * After the server context is cancelled every request ends on its own
 * (its writer sends the done line) unless its client stopped reading. */
long server_drain(int64_t deadline_ns);

/* Close every connection and join every connection thread.  Cancel the
 * server context first, or this waits for the requests to end by
 * themselves. */
void server_stop(void);

#endif

/*
 * search/guard.h - the time limits libmicrohttpd 0.9.75 does not enforce on
 * a connection, enforced by shutting its socket down.
 *
 * libmicrohttpd's own MHD_OPTION_CONNECTION_TIMEOUT is an inactivity timer:
 * any byte received resets it, so a client that sends half a header and then
 * one byte every few seconds (slowloris) is never timed out.  A guard gives
 * each connection two deadlines of its own:
 *   - headers: a request's headers must be complete within --header-timeout
 *     of the connection's start (or of the previous response's end, on a
 *     kept-alive connection);
 *   - response: a /search response must be delivered by its deadline plus a
 *     grace period (a client that stopped reading never gets its done line).
 * A deadline that passes shuts the socket down (shutdown(2), SHUT_RDWR):
 * libmicrohttpd's send or receive then fails, it closes the connection and
 * runs the request-completed callback, which releases the request's slot,
 * contexts and descriptors.  The guard never closes the descriptor: that is
 * libmicrohttpd's, which calls MHD_CONNECTION_NOTIFY_CLOSED (guard_close)
 * before it closes it, and a timer that fires after guard_close does
 * nothing, so a shutdown never reaches a reused descriptor.
 *
 * Each deadline is a gotime function timer (gotime_after_func_at: the
 * callback runs on the timer thread, with the timer heap unlocked; it only
 * takes the guard's mutex and calls shutdown(2)).  The guard is reference
 * counted: the connection holds one reference and each armed timer one,
 * dropped by the timer's callback or by whoever stops it before it starts.
 * Every field is under the guard's mutex.
 */
#ifndef GOCHAN_SEARCH_GUARD_H
#define GOCHAN_SEARCH_GUARD_H

#include <stdint.h>

struct guard;

enum guard_cut {
	GUARD_NONE,
	GUARD_HEADERS,  /* headers not complete by their deadline */
	GUARD_RESPONSE, /* response not delivered by its deadline */
};

/* A connection with socket @fd started: arm its headers deadline (@in_ns
 * from now).  NULL if out of memory (the connection is then unguarded). */
struct guard *guard_open(int fd, int64_t in_ns);

/* The request's headers are in: disarm the headers deadline. */
void guard_headers_done(struct guard *g);

/* Arm the response deadline at the chan_now() time @at. */
void guard_response_by(struct guard *g, int64_t at);

/* The response ended: disarm the response deadline and arm the headers
 * deadline of the next request on this connection (@in_ns from now). */
void guard_response_done(struct guard *g, int64_t in_ns);

/* Which deadline cut this connection (GUARD_NONE if none). */
enum guard_cut guard_cut(struct guard *g);

/* libmicrohttpd is about to close the socket: disarm, drop the reference. */
void guard_close(struct guard *g);

/* Connections open now (guards between guard_open and guard_close). */
long guard_open_count(void);

#endif

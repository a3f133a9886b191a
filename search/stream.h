/*
 * search/stream.h - one /search request from validation to its log line:
 * the contexts, the scan, and the response body, produced by the MHD
 * content reader as results arrive.
 *
 * Contexts (each counted in stats.contexts_alive):
 *   server ctx -> timeout ctx (ctx_with_timeout: the request's time limit)
 *             -> hangup ctx (gopoll_hangup_ctx on the connection's fd:
 *                cancelled when the client closes or resets)
 *             -> the scan's own contexts (scan.h).
 * The body writer runs on the connection's own thread (MHD's thread per
 * connection, where a content reader may block: the MHD manual, "Flow
 * control"), and waits in one chan_select on the results channel, a 250 ms
 * ticker and the hangup context's Done.  It never returns 0 (that would
 * busy-loop MHD).  The request-completed callback stops and joins the scan,
 * releases every context and writes the log line.
 */
#ifndef GOCHAN_SEARCH_STREAM_H
#define GOCHAN_SEARCH_STREAM_H

#include <microhttpd.h>

#include <gochan/context.h>

#include "search/guard.h"

/* The version of the stream's JSON schema (API.md), in the done line, the
 * X-Search-Schema header and --version: 2 added file_error lines, reason
 * "incomplete", path_bytes / text_bytes and this field. */
#define SEARCH_SCHEMA "2"

struct stream;

/* Answer a /search request on @conn (queues a response: 200 streaming, or
 * 400/503/500).  *@out is set to the stream to hand to stream_completed()
 * (NULL if none was started). */
enum MHD_Result stream_handle(struct MHD_Connection *conn, ctx_t *server_ctx, struct guard *g,
			      struct stream **out);

/* The request is over (MHD's completed callback): stop, join, release, log.
 * @why and @cut (which guard deadline cut the connection) tell a client
 * that stopped reading (end=stalled) from one that left (end=canceled). */
void stream_completed(struct stream *s, enum MHD_RequestTerminationCode why, enum guard_cut cut);

#endif

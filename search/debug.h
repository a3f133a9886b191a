/*
 * search/debug.h - the body of GET /debug/vars (SEARCH-API.md): the gauges
 * of stats.h, the library's thread count, the process's thread count, and
 * godiag's JSON dump of the threads blocked in gochan operations now.
 */
#ifndef GOCHAN_SEARCH_DEBUG_H
#define GOCHAN_SEARCH_DEBUG_H

#include "search/json.h"

/* Append the JSON object to @out.  requests_in_progress counts /search
 * requests only, so the /debug/vars request itself is not in it. */
void debug_vars(struct jbuf *out);

#endif

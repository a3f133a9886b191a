/*
 * search/handler.h - validation of a /search request's parameters
 * (SEARCH-API.md), before anything is scanned.
 */
#ifndef GOCHAN_SEARCH_HANDLER_H
#define GOCHAN_SEARCH_HANDLER_H

#include <stdbool.h>
#include <stdint.h>

#include "search/json.h"
#include "search/scan.h"

struct matcher;

/* A validated request.  Everything here is owned by it (search_req_clear). */
struct search_req {
	struct matcher *m;            /* content pattern, or NULL */
	char *glob;                   /* base-name glob, or NULL */
	int dir_fd;                   /* O_PATH fd of the directory to scan, or -1 */
	char *prefix;                 /* its path relative to the served root ("" = root) */
	struct scan_exclude *exclude; /* exclude= (repeatable): entries not met */
	int n_exclude;
	bool hidden;       /* hidden= (or all=): also names starting with '.' (default 0, as rg) */
	bool ignore;       /* ignore= (all=1 clears it): obey ignore files (default 1, as rg) */
	int before, after; /* context=, before=, after=: context lines (rg -C, -B, -A) */
	int max_depth;     /* depth=: files at most this many levels below root (0: any) */
	int64_t timeout_ns;
	long long max;
};

/* A parameter lookup: the value of @key, or NULL if absent; *@len its
 * length (a value may hold NUL bytes). */
typedef const char *(*param_fn)(void *cls, const char *key, size_t *len);
/* The @i-th (0, 1, ...) value of a parameter given more than once, or NULL. */
typedef const char *(*param_nth_fn)(void *cls, const char *key, int i, size_t *len);

/*
 * Validate the parameters read through @get (@nth for repeated ones).  Returns 0 with @r filled, or
 * the HTTP status (400) with the JSON body in @err, and then @r holds
 * nothing.  Opens the scan's directory (counted in stats.fds_held).
 */
int handler_parse(param_fn get, param_nth_fn nth, void *cls, struct search_req *r,
		  struct jbuf *err);

void search_req_clear(struct search_req *r);

/* Append {"error":@msg,"param":@param} (and "offset" when @offset >= 0). */
void handler_error_json(struct jbuf *out, const char *msg, const char *param, long long offset);

#endif

/*
 * search/handler.h - validation of a /search request's parameters
 * (SEARCH-API.md), before anything is scanned.
 */
#ifndef GOCHAN_SEARCH_HANDLER_H
#define GOCHAN_SEARCH_HANDLER_H

#include <stdbool.h>
#include <stdint.h>

#include "search/json.h"

struct matcher;

/* A validated request.  Everything here is owned by it (search_req_clear). */
struct search_req {
	struct matcher *m; /* content pattern, or NULL */
	char *glob;        /* base-name glob, or NULL */
	int dir_fd;        /* O_PATH fd of the directory to scan, or -1 */
	char *prefix;      /* its path relative to the served root ("" = root) */
	char *exclude; /* exclude=: a glob; files and directories whose base name matches are not met */
	bool hidden;   /* hidden=: also names starting with '.' (default 1) */
	int max_depth; /* depth=: files at most this many levels below root (0: any) */
	int64_t timeout_ns;
	long long max;
};

/* A parameter lookup: the value of @key, or NULL if absent; *@len its
 * length (a value may hold NUL bytes). */
typedef const char *(*param_fn)(void *cls, const char *key, size_t *len);

/*
 * Validate the parameters read through @get.  Returns 0 with @r filled, or
 * the HTTP status (400) with the JSON body in @err, and then @r holds
 * nothing.  Opens the scan's directory (counted in stats.fds_held).
 */
int handler_parse(param_fn get, void *cls, struct search_req *r, struct jbuf *err);

void search_req_clear(struct search_req *r);

/* Append {"error":@msg,"param":@param} (and "offset" when @offset >= 0). */
void handler_error_json(struct jbuf *out, const char *msg, const char *param, long long offset);

#endif

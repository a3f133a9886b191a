/*
 * search/config.h - the service's settings (SEARCH-API.md's flags), parsed
 * once by main.c and read-only afterwards.
 */
#ifndef GOCHAN_SEARCH_CONFIG_H
#define GOCHAN_SEARCH_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config {
	const char *root;           /* --root: the served tree */
	const char *listen;         /* --listen: address, default 127.0.0.1 */
	int port;                   /* --port: 0 picks a free one */
	int workers;                /* --workers: scan threads per request */
	int scan_threads;           /* --scan-threads: scan threads of all requests together */
	long max_scans;             /* --max-scans: concurrent scans; past it 503 */
	long max_results;           /* --max-results: upper bound of max= */
	int64_t max_file_size;      /* --max-file-size: larger files are skipped */
	int64_t max_timeout_ns;     /* --max-timeout: upper bound of timeout= */
	int64_t header_timeout_ns;  /* --header-timeout: a request's headers must be in by then */
	unsigned idle_timeout_s;    /* --idle-timeout: no byte sent or received for this long */
	unsigned max_conns;         /* --max-conns: open connections, in all */
	unsigned max_conns_per_ip;  /* --max-conns-per-ip: open connections from one address */
	const char **allowed_hosts; /* --allowed-host (repeatable): Host names served */
	int n_allowed_hosts;
	bool debug_vars; /* --debug-vars: serve /debug/vars (thread dumps) */
	int root_fd;     /* O_PATH|O_DIRECTORY fd of root, opened at start */
	char *root_real; /* realpath(root): reported paths are relative to it */
};

extern struct config cfg;

#endif

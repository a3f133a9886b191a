/*
 * search/main.c - gochan-search: flags, signals, start and clean shutdown.
 *
 * Signals: SIGINT and SIGTERM are blocked before any thread starts, so every
 * thread inherits the mask and only main's sigwait() receives them.  Then:
 * stop accepting (MHD_quiesce_daemon), cancel the server context (every
 * request's context derives from it: scans stop, writers send their done
 * line), drain (wait up to 2 s for the requests to end), MHD_stop_daemon (closes the connections, joins their threads),
 * godiag_verify_none (no library thread left, nothing blocked), exit 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gochan/context.h>
#include <gochan/diag.h>
#include <gochan/time.h>
#include <gochan/version.h>

#include "search/budget.h"
#include "search/config.h"
#include "search/parse.h"
#include "search/server.h"
#include "search/stats.h"
#include "search/stream.h"

struct config cfg = {
	.listen = "127.0.0.1",
	.port = 8080,
	.max_scans = 8,
	.max_results = 10000,
	.max_file_size = 8 << 20,
	.max_timeout_ns = 60 * GOTIME_SECOND,
	.header_timeout_ns = 10 * GOTIME_SECOND,
	.idle_timeout_s = 30,
	.max_conns = 512,
	.max_conns_per_ip = 128,
	.root_fd = -1,
};

static void usage(FILE *f)
{
	fputs("usage: gochan-search --root DIR [--listen ADDR] [--port N] [--workers N]\n"
	      "         [--max-scans N] [--max-results N] [--max-file-size BYTES] [--max-timeout DUR]\n"
	      "         [--header-timeout DUR] [--idle-timeout DUR] [--max-conns N]\n"
	      "         [--max-conns-per-ip N] [--allowed-host NAME]... [--debug-vars]\n"
	      "         [--scan-threads N] [--version]\n"
	      "Serves GET /search?q=PATTERN&name=GLOB&root=SUBDIR&timeout=DUR&max=N\n"
	      "  &case=sensitive|insensitive|smart&fixed=1&depth=N&hidden=1&ignore=0&all=1\n"
	      "  &exclude=GLOB...&context=N&before=N&after=N over DIR (hidden names and what\n"
	      "  .ignore/.gitignore exclude are left out unless hidden=1, ignore=0 or all=1),\n"
	      "GET / (a search page) and, with --debug-vars, GET /debug/vars.  --port 0 picks\n"
	      "a free port.  Requests whose Host is not --listen, localhost or an --allowed-host\n"
	      "get 421 (DNS rebinding).\n",
	      f);
}

static int64_t int_flag(const char *name, const char *v, int64_t lo, int64_t hi)
{
	int64_t x;
	if (parse_int(v, lo, hi, &x) != 0) {
		fprintf(stderr, "gochan-search: --%s %s: want an integer in %lld..%lld\n", name, v,
			(long long)lo, (long long)hi);
		exit(2);
	}
	return x;
}

static int64_t dur_flag(const char *name, const char *v)
{
	int64_t ns;
	if (parse_duration(v, &ns) != 0 || ns <= 0 || ns > 24 * GOTIME_HOUR) {
		fprintf(stderr,
			"gochan-search: --%s %s: want a positive Go duration (10s), <= 24h\n", name,
			v);
		exit(2);
	}
	return ns;
}

static void parse_flags(int argc, char **argv)
{
	static const struct option opts[] = {
		{"root", required_argument, NULL, 'r'},
		{"listen", required_argument, NULL, 'l'},
		{"port", required_argument, NULL, 'p'},
		{"workers", required_argument, NULL, 'w'},
		{"max-scans", required_argument, NULL, 's'},
		{"max-results", required_argument, NULL, 'n'},
		{"max-file-size", required_argument, NULL, 'f'},
		{"max-timeout", required_argument, NULL, 't'},
		{"header-timeout", required_argument, NULL, 'H'},
		{"idle-timeout", required_argument, NULL, 'I'},
		{"max-conns", required_argument, NULL, 'C'},
		{"max-conns-per-ip", required_argument, NULL, 'P'},
		{"allowed-host", required_argument, NULL, 'A'},
		{"debug-vars", no_argument, NULL, 'D'},
		{"scan-threads", required_argument, NULL, 'T'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	static const char *allowed[64];
	cfg.allowed_hosts = allowed;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	cfg.workers = cores > 0 ? (int)cores : 1;
	cfg.scan_threads = cfg.workers;
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			cfg.root = optarg;
			break;
		case 'l':
			/* localhost is the IPv4 loopback (as Go's net resolves it
			 * first); other names are not looked up. */
			cfg.listen = strcmp(optarg, "localhost") == 0 ? "127.0.0.1" : optarg;
			break;
		case 'p':
			cfg.port = (int)int_flag("port", optarg, 0, 65535);
			break;
		case 'w':
			cfg.workers = (int)int_flag("workers", optarg, 1, 1024);
			break;
		case 's':
			cfg.max_scans = (long)int_flag("max-scans", optarg, 1, 100000);
			break;
		case 'n':
			cfg.max_results = (long)int_flag("max-results", optarg, 1, 1000000000);
			break;
		case 'f':
			if (parse_size(optarg, INT64_MAX / 2, &cfg.max_file_size) != 0) {
				fprintf(stderr,
					"gochan-search: --max-file-size %s: want bytes, or a size such as 512K, 10M, 1G\n",
					optarg);
				exit(2);
			}
			break;
		case 't':
			cfg.max_timeout_ns = dur_flag("max-timeout", optarg);
			break;
		case 'H':
			cfg.header_timeout_ns = dur_flag("header-timeout", optarg);
			break;
		case 'I':
			/* libmicrohttpd counts whole seconds: round up. */
			cfg.idle_timeout_s =
				(unsigned)((dur_flag("idle-timeout", optarg) + GOTIME_SECOND - 1) /
					   GOTIME_SECOND);
			break;
		case 'C':
			cfg.max_conns = (unsigned)int_flag("max-conns", optarg, 1, 100000);
			break;
		case 'P':
			cfg.max_conns_per_ip =
				(unsigned)int_flag("max-conns-per-ip", optarg, 1, 100000);
			break;
		case 'A':
			/* argv outlives the server: the names are borrowed. */
			if (cfg.n_allowed_hosts == 64) {
				fputs("gochan-search: at most 64 --allowed-host\n", stderr);
				exit(2);
			}
			allowed[cfg.n_allowed_hosts++] = optarg;
			break;
		case 'T':
			cfg.scan_threads = (int)int_flag("scan-threads", optarg, 1, 100000);
			break;
		case 'D':
			cfg.debug_vars = true;
			break;
		case 'V':
			printf("gochan-search %s (stream schema %s)\n", gochan_version(),
			       SEARCH_SCHEMA);
			exit(0);
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			exit(2);
		}
	}
	if (optind < argc || !cfg.root) {
		if (!cfg.root)
			fputs("gochan-search: --root is required\n", stderr);
		usage(stderr);
		exit(2);
	}
}

int main(int argc, char **argv)
{
	parse_flags(argc, argv);
	cfg.root_fd = open(cfg.root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (cfg.root_fd < 0 || !(cfg.root_real = realpath(cfg.root, NULL))) {
		fprintf(stderr, "gochan-search: --root %s: %s\n", cfg.root, strerror(errno));
		return 2;
	}

	/* Before any thread exists: the mask is inherited by all of them. */
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN); /* MHD writes with MSG_NOSIGNAL; belt and braces */

	ctx_t *server_ctx = ctx_with_cancel(ctx_background());
	if (!server_ctx) {
		perror("gochan-search: server context");
		return 1;
	}
	if (budget_init(cfg.scan_threads) != 0) {
		perror("gochan-search: scan-thread budget");
		return 1;
	}
	int port = server_start(server_ctx);
	if (port < 0)
		return 1;
	if (strchr(cfg.listen, ':'))
		printf("listening on http://[%s]:%d\n", cfg.listen, port);
	else
		printf("listening on http://%s:%d\n", cfg.listen, port);
	fflush(stdout);

	int sig = 0;
	while (sigwait(&sigs, &sig) != 0)
		;
	fprintf(stderr, "gochan-search: %s: stop accepting, cancel %ld scan(s), drain\n",
		sig == SIGINT ? "SIGINT" : "SIGTERM", stat_get(&stats.scans_in_progress));
	server_quiesce();
	ctx_cancel(server_ctx);
	/* Drain: the writers send their done line ("canceled"); a client that
	 * stopped reading is cut off by server_stop() after 2 s. */
	long left = server_drain(chan_deadline_in(2 * GOTIME_SECOND));
	if (left)
		fprintf(stderr, "gochan-search: %ld request(s) not drained in 2 s: closing them\n",
			left);
	server_stop();
	ctx_release(server_ctx);
	budget_fini();
	int leak = godiag_verify_none(chan_deadline_in(5 * GOTIME_SECOND));
	long ctxs = stat_get(&stats.contexts_alive), fds = stat_get(&stats.fds_held),
	     workers = stat_get(&stats.workers_alive);
	close(cfg.root_fd);
	free(cfg.root_real);
	if (leak || ctxs || fds || workers) {
		fprintf(stderr,
			"gochan-search: NOT clean at exit: verify_none=%d contexts=%ld fds=%ld workers=%ld\n",
			leak, ctxs, fds, workers);
		return 1;
	}
	fprintf(stderr,
		"gochan-search: clean exit: no request, scan, worker or library thread left\n");
	return 0;
}

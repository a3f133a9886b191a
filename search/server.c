/* search/server.c - see server.h. */
#include "search/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "page_html.h" /* generated from search/page.html by the build */
#include "search/config.h"
#include "search/debug.h"
#include "search/guard.h"
#include "search/handler.h"
#include "search/host.h"
#include "search/json.h"
#include "search/stats.h"
#include "search/stream.h"

struct search_stats stats;

static struct MHD_Daemon *daemon_;
static MHD_socket listen_fd = MHD_INVALID_SOCKET;

/* Requests in progress, for server_drain(): on_completed signals `drained`
 * when the count reaches 0 (stats.requests_in_progress is the same figure,
 * relaxed, for /debug/vars; this one is under the mutex so that no wake-up is
 * lost). */
static pthread_mutex_t drain_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t drained;
static long in_progress;

enum route {
	R_OTHER,
	R_PAGE,
	R_SEARCH,
	R_DEBUG
};

/* Per request (MHD's con_cls), made by on_uri (libmicrohttpd's URI log
 * callback, called once the request line is in). */
struct request {
	struct stream *stream; /* /search only */
	bool search;           /* counted in stats.requests_in_progress */
	bool started;          /* on_request has seen it (counted in in_progress) */
	bool uri_too_long;     /* past URI_MAX: answered 414 (JSON) */
};

/*
 * The bounds of a request's head.  libmicrohttpd 0.9.75 answers a request
 * whose head does not fit in its per-connection memory pool itself (414 when
 * the request line does not, 431 when the headers do not), with a fixed HTML
 * body and no hook to replace it.  So the pool is made larger than the
 * service's own bounds, which are checked here and answered in JSON: only a
 * head past the pool (HEAD_POOL) still gets libmicrohttpd's HTML.
 */
#define URI_MAX ((size_t)16 << 10)     /* request target, query included */
#define HEADERS_MAX ((size_t)16 << 10) /* header names and values together */
#define HEAD_POOL ((size_t)64 << 10)   /* MHD_OPTION_CONNECTION_MEMORY_LIMIT */

static enum MHD_Result send_buf(struct MHD_Connection *conn, unsigned status, const char *type,
				const void *p, size_t n)
{
	struct MHD_Response *r =
		MHD_create_response_from_buffer(n, (void *)p, MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	enum MHD_Result ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result send_error(struct MHD_Connection *conn, unsigned status, const char *msg)
{
	char body[128];
	int n = snprintf(body, sizeof body, "{\"error\":\"%s\"}\n", msg);
	return send_buf(conn, status, "application/json", body, (size_t)n);
}

/* A refusal, as JSON, with its log line `refused status=N {...}`. */
static enum MHD_Result refuse(struct MHD_Connection *conn, unsigned status, const char *msg,
			      const char *param)
{
	struct jbuf b = {0};
	handler_error_json(&b, msg, param, -1);
	enum MHD_Result r = b.oom ? MHD_NO : send_buf(conn, status, "application/json", b.p, b.len);
	if (!b.oom)
		fprintf(stderr, "refused status=%u %.*s", status, (int)b.len, b.p);
	jbuf_free(&b);
	return r;
}

static enum MHD_Result add_len(void *cls, enum MHD_ValueKind kind, const char *key, size_t klen,
			       const char *value, size_t vlen)
{
	(void)kind;
	(void)key;
	(void)value;
	*(size_t *)cls += klen + vlen + 4; /* "K: V\r\n" */
	return MHD_YES;
}

/* 421 for a Host that does not name this server (host.h), logged. */
static enum MHD_Result refuse_host(struct MHD_Connection *conn, const char *host)
{
	struct jbuf b = {0};
	jbuf_puts(&b, "{\"error\":\"Host header does not name this server (DNS rebinding?); see "
		      "--allowed-host\",\"param\":\"Host\",\"host\":");
	if (host)
		jbuf_str(&b, host, strlen(host));
	else
		jbuf_puts(&b, "null");
	jbuf_puts(&b, "}\n");
	enum MHD_Result r = b.oom ? MHD_NO
				  : send_buf(conn, MHD_HTTP_MISDIRECTED_REQUEST, "application/json",
					     b.p, b.len);
	if (!b.oom)
		fprintf(stderr, "refused status=421 %.*s", (int)b.len, b.p);
	jbuf_free(&b);
	return r;
}

/* The connection's guard (guard.h), or NULL. */
static struct guard *conn_guard(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci ? ci->socket_context : NULL;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_size, void **con_cls)
{
	(void)version;
	(void)upload_data;
	ctx_t *server_ctx = cls;
	struct request *r = *con_cls;
	if (!r)
		return MHD_NO; /* on_uri ran out of memory */
	if (!r->started) {
		/* First call: the headers are in; wait for the (ignored) body. */
		guard_headers_done(conn_guard(conn));
		r->started = true;
		pthread_mutex_lock(&drain_mu);
		in_progress++;
		pthread_mutex_unlock(&drain_mu);
		/* requests_in_progress counts /search requests only (as the Go
		 * twin does): a /debug/vars reply is sent before its connection's
		 * completion callback runs, so counting it would let a client
		 * that reads /debug/vars twice see its own earlier request. */
		r->search = strcmp(url, "/search") == 0;
		if (r->search)
			stat_add(&stats.requests_in_progress, 1);
		stat_add(&stats.requests_total, 1);
		return MHD_YES;
	}
	if (*upload_size) {
		*upload_size = 0;
		return MHD_YES;
	}
	if (r->uri_too_long)
		return refuse(conn, MHD_HTTP_URI_TOO_LONG, "request target longer than 16 KiB",
			      "uri");
	size_t head_len = 0;
	MHD_get_connection_values_n(conn, MHD_HEADER_KIND, add_len, &head_len);
	if (head_len > HEADERS_MAX)
		return refuse(conn, MHD_HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE,
			      "request headers larger than 16 KiB", "headers");
	const char *host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Host");
	if (!host_allowed(host))
		return refuse_host(conn, host);
	enum route route = strcmp(url, "/") == 0                               ? R_PAGE
			   : strcmp(url, "/search") == 0                       ? R_SEARCH
			   : strcmp(url, "/debug/vars") == 0 && cfg.debug_vars ? R_DEBUG
									       : R_OTHER;
	if (route == R_OTHER)
		return send_error(conn, MHD_HTTP_NOT_FOUND, "not found");
	bool head = strcmp(method, "HEAD") == 0;
	if (strcmp(method, "GET") != 0 && !(head && route != R_SEARCH))
		return send_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed");
	switch (route) {
	case R_PAGE:
		return send_buf(conn, MHD_HTTP_OK, "text/html; charset=utf-8", page_html,
				sizeof page_html);
	case R_DEBUG: {
		struct jbuf b = {0};
		debug_vars(&b);
		enum MHD_Result ret =
			b.oom ? MHD_NO
			      : send_buf(conn, MHD_HTTP_OK, "application/json", b.p, b.len);
		jbuf_free(&b);
		return ret;
	}
	default:
		return stream_handle(conn, server_ctx, conn_guard(conn), &r->stream);
	}
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode why)
{
	(void)cls;
	struct request *r = *con_cls;
	if (!r)
		return;
	*con_cls = NULL;
	if (!r->started) {
		/* The request line was in, the rest never reached on_request:
		 * libmicrohttpd refused the head (431, 400; logged by on_mhd_log)
		 * or the client left. */
		free(r);
		return;
	}
	struct guard *g = conn_guard(conn);
	if (r->search)
		stat_add(&stats.requests_in_progress, -1);
	if (r->stream)
		stream_completed(r->stream, why, guard_cut(g)); /* writes the log line last */
	guard_response_done(g, cfg.header_timeout_ns);
	free(r);
	pthread_mutex_lock(&drain_mu);
	if (--in_progress == 0)
		pthread_cond_broadcast(&drained);
	pthread_mutex_unlock(&drain_mu);
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
			  enum MHD_ConnectionNotificationCode toe)
{
	(void)cls;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		*socket_context = ci ? guard_open(ci->connect_fd, cfg.header_timeout_ns) : NULL;
	} else {
		guard_close(*socket_context); /* before libmicrohttpd closes the fd */
		*socket_context = NULL;
	}
}

/* libmicrohttpd's URI log callback: the request line is in (the headers
 * not yet).  Its result is the request's con_cls. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	(void)cls;
	(void)conn;
	struct request *r = calloc(1, sizeof *r);
	if (r)
		r->uri_too_long = strlen(uri) > URI_MAX;
	return r;
}

/* libmicrohttpd's messages, one write(2) each: written as two stdio calls
 * ("mhd: ", then the message), another thread's log line could land between
 * them and read "mhd: search id=7 ...", which no log reader recognises (the
 * e2e tests' "no log line for request N" flake, issue 15).  A line is far
 * under PIPE_BUF, so one write is never interleaved with another. */
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	char line[1024] = "mhd: ";
	/* An error libmicrohttpd answers itself, with its own HTML body
	 * (API.md lists them): logged as the service's own refusals are. */
	static const char own[] = "Error processing request (HTTP response code is %u";
	if (strncmp(fmt, own, sizeof own - 1) == 0) {
		va_list aq;
		va_copy(aq, ap);
		unsigned status = va_arg(aq, unsigned);
		va_end(aq);
		const char *why = status == 414   ? "request line too long (libmicrohttpd)"
				  : status == 431 ? "request headers too large (libmicrohttpd)"
				  : status == 505 ? "HTTP version not supported (libmicrohttpd)"
						  : "malformed request (libmicrohttpd)";
		int n = snprintf(line, sizeof line,
				 "refused status=%u {\"error\":\"%s\",\"body\":\"html\"}\n", status,
				 why);
		if (n > 0)
			while (write(STDERR_FILENO, line, (size_t)n) < 0 && errno == EINTR)
				;
		return;
	}
	int n = vsnprintf(line + 5, sizeof line - 6, fmt, ap);
	size_t len = n < 0 ? 5 : strnlen(line, sizeof line - 1);
	if (len == 0 || line[len - 1] != '\n')
		line[len++] = '\n';
	while (write(STDERR_FILENO, line, len) < 0 && errno == EINTR)
		;
}

int server_start(ctx_t *server_ctx)
{
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&drained, &ca);
	pthread_condattr_destroy(&ca);
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
			 MHD_USE_POLL | MHD_USE_ITC | MHD_USE_ERROR_LOG;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, cfg.listen, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)cfg.port);
	} else if (inet_pton(AF_INET6, cfg.listen, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)cfg.port);
		flags |= MHD_USE_IPv6;
	} else {
		fprintf(stderr, "gochan-search: --listen %s: not an IPv4 or IPv6 address\n",
			cfg.listen);
		return -1;
	}
	daemon_ = MHD_start_daemon(
		flags, (uint16_t)cfg.port, NULL, NULL, on_request, server_ctx,
		MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL, MHD_OPTION_SOCK_ADDR,
		(struct sockaddr *)&ss, MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
		MHD_OPTION_NOTIFY_CONNECTION, on_connection, NULL, MHD_OPTION_CONNECTION_TIMEOUT,
		cfg.idle_timeout_s, MHD_OPTION_CONNECTION_LIMIT, cfg.max_conns,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, cfg.max_conns_per_ip,
		MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u, MHD_OPTION_URI_LOG_CALLBACK, on_uri, NULL,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, HEAD_POOL, MHD_OPTION_END);
	if (!daemon_) {
		fprintf(stderr, "gochan-search: cannot listen on %s port %d\n", cfg.listen,
			cfg.port);
		return -1;
	}
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT);
	return di ? di->port : cfg.port;
}

void server_quiesce(void)
{
	if (daemon_)
		listen_fd = MHD_quiesce_daemon(daemon_);
}

long server_drain(int64_t deadline_ns)
{
	struct timespec ts = {.tv_sec = deadline_ns / 1000000000,
			      .tv_nsec = deadline_ns % 1000000000};
	pthread_mutex_lock(&drain_mu);
	while (in_progress > 0 && pthread_cond_timedwait(&drained, &drain_mu, &ts) == 0)
		;
	long left = in_progress;
	pthread_mutex_unlock(&drain_mu);
	return left;
}

void server_stop(void)
{
	if (!daemon_)
		return;
	MHD_stop_daemon(daemon_);
	daemon_ = NULL;
	if (listen_fd != MHD_INVALID_SOCKET)
		close(listen_fd);
	listen_fd = MHD_INVALID_SOCKET;
}

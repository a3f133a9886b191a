/* search/stream.c - see stream.h. */
#include "search/stream.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gochan/poll.h>
#include <gochan/select.h>
#include <gochan/time.h>

#include "search/budget.h"
#include "search/config.h"
#include "search/handler.h"
#include "search/json.h"
#include "search/match.h"
#include "search/scan.h"
#include "search/stats.h"

#define PROGRESS_NS (250 * GOTIME_MILLISECOND)
#define TEXT_MAX 200             /* a match line is cut to this many bytes */
#define BATCH ((size_t)32 << 10) /* the writer gathers up to this much per call */
/* A client has this long past its deadline to take the rest of the response
 * (the done line "deadline"); then its connection is cut (guard.h). */
#define DEADLINE_GRACE_NS (200 * GOTIME_MILLISECOND)

enum phase {
	STREAMING, /* results flowing */
	FINISHED,  /* the done line is queued; then the end of the stream */
	ABORTED,   /* the client left: end the connection */
};

struct stream {
	long long id;
	int status; /* HTTP status sent */
	int64_t t_start;
	struct search_req req;
	ctx_t *timeout_ctx, *hangup_ctx;
	struct scan *scan;
	gotime_ticker_t *ticker;
	bool counted_scan; /* holds a slot of --max-scans */
	int threads;       /* scan-thread tokens taken (budget.h), handed to the scan */
	/* writer state (the connection's thread only) */
	struct jbuf out;
	size_t out_off;
	enum phase phase;
	const char *reason;
	long long sent;
	int64_t t_seen_hangup; /* when the server saw the client leave (0: not yet) */
};

static atomic_llong next_id;

static long long ms_since(int64_t t)
{
	return (long long)((chan_now() - t) / GOTIME_MILLISECOND);
}

static void put_counts(struct stream *s, struct jbuf *b)
{
	struct scan_totals *t = scan_totals(s->scan);
	jbuf_printf(b, "\"files\":%lld,\"bytes\":%lld",
		    atomic_load_explicit(&t->files, memory_order_relaxed),
		    atomic_load_explicit(&t->bytes, memory_order_relaxed));
}

/* Stop the scan (join its workers), queue the done line. */
static void finish(struct stream *s, const char *reason)
{
	scan_stop(s->scan, NULL);
	s->reason = reason;
	struct scan_totals *t = scan_totals(s->scan);
	jbuf_printf(&s->out, "{\"type\":\"done\",\"reason\":\"%s\",", reason);
	put_counts(s, &s->out);
	jbuf_printf(&s->out,
		    ",\"matches\":%lld,\"skipped\":%lld,\"errors\":%lld,\"elapsed_ms\":%lld,"
		    "\"schema\":" SEARCH_SCHEMA "}\n",
		    s->sent, atomic_load_explicit(&t->skipped, memory_order_relaxed),
		    atomic_load_explicit(&t->errors, memory_order_relaxed), ms_since(s->t_start));
	s->phase = FINISHED;
}

/* The request context is done: why? */
static void on_done(struct stream *s)
{
	int cause = ctx_cause(s->hangup_ctx, NULL);
	if (cause == GOPOLL_HANGUP) {
		if (!s->t_seen_hangup)
			s->t_seen_hangup = chan_now();
		s->reason = "canceled";
		s->phase = ABORTED;
		/* Join the workers now, on this thread, rather than after
		 * libmicrohttpd has closed the connection and called
		 * stream_completed (which finds them joined): the scan's
		 * descriptors and threads go as soon as the hang-up is seen. */
		scan_stop(s->scan, NULL);
	} else if (cause == CTX_DEADLINE_EXCEEDED) {
		finish(s, "deadline");
	} else {
		finish(s, "canceled"); /* server shutdown */
	}
}

/* A batch of result lines: all of it, or the lines up to max. */
static void take_item(struct stream *s, struct scan_item *it)
{
	long long room = s->req.max - s->sent;
	if (it->n <= room) {
		jbuf_put(&s->out, it->line, it->len);
		s->sent += it->n;
	} else if (room > 0) {
		/* The first @room results, and the context lines among and
		 * after them (they are not results: scan.h). */
		static const char ctx_line[] = "{\"type\":\"context\"";
		const char *p = it->line, *end = it->line + it->len;
		for (long long k = 0; p < end;) {
			bool context = (size_t)(end - p) > sizeof ctx_line - 1 &&
				       memcmp(p, ctx_line, sizeof ctx_line - 1) == 0;
			if (!context && k++ == room)
				break;
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			p = nl ? nl + 1 : end;
		}
		jbuf_put(&s->out, it->line, (size_t)(p - it->line));
		s->sent = s->req.max;
	}
	free(it->line);
	if (s->sent >= s->req.max && s->phase == STREAMING)
		finish(s, "limit");
}

/* Wait for the next thing to write (into s->out) or the end. */
static void next_event(struct stream *s)
{
	chan_t *results = scan_results(s->scan);
	struct scan_item it;
	bool ok;
	int64_t tick;
	switch (CHAN_SELECT(CHAN_FOREVER, CHAN_RECV(results, &it, &ok),
			    CHAN_RECV(gotime_ticker_chan(s->ticker), &tick, NULL),
			    CHAN_RECV(ctx_done(s->hangup_ctx), NULL, NULL))) {
	case 0:
		if (!ok) {
			/* The last worker closed the channel: the walk is over,
			 * either complete or given up because the context is done. */
			if (scan_complete(s->scan))
				/* Every file was met, but some not (wholly) searched:
				 * never "complete" (their file_error lines say why). */
				finish(s, atomic_load_explicit(&scan_totals(s->scan)->errors,
							       memory_order_relaxed)
						  ? "incomplete"
						  : "complete");
			else if (ctx_err(s->hangup_ctx))
				on_done(s);
			else
				finish(s, "canceled"); /* a worker failed (ENOMEM) */
			return;
		}
		take_item(s, &it);
		/* Batch what is already there, without blocking. */
		while (s->phase == STREAMING && s->out.len < BATCH &&
		       chan_try_recv(results, &it, &ok) == 0 && ok)
			take_item(s, &it);
		return;
	case 1:
		jbuf_puts(&s->out, "{\"type\":\"progress\",");
		put_counts(s, &s->out);
		jbuf_printf(&s->out, ",\"elapsed_ms\":%lld}\n", ms_since(s->t_start));
		return;
	case 2:
		on_done(s);
		return;
	default: /* -ENOMEM from the select: give up on this request */
		s->phase = ABORTED;
		s->reason = "error";
		return;
	}
}

/* MHD's content reader: blocks (thread per connection) until it has bytes. */
static ssize_t reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	(void)pos;
	struct stream *s = cls;
	for (;;) {
		if (s->out.oom)
			return MHD_CONTENT_READER_END_WITH_ERROR;
		if (s->out_off < s->out.len) {
			size_t n = s->out.len - s->out_off;
			if (n > max)
				n = max;
			memcpy(buf, s->out.p + s->out_off, n);
			s->out_off += n;
			return (ssize_t)n;
		}
		s->out.len = s->out_off = 0;
		if (s->phase == FINISHED)
			return MHD_CONTENT_READER_END_OF_STREAM;
		if (s->phase == ABORTED)
			return MHD_CONTENT_READER_END_WITH_ERROR;
		next_event(s);
	}
}

static const char *get_param(void *cls, const char *key, size_t *len)
{
	const char *v = NULL;
	if (MHD_lookup_connection_value_n(cls, MHD_GET_ARGUMENT_KIND, key, strlen(key), &v, len) !=
	    MHD_YES)
		return NULL;
	return v;
}

struct nth {
	const char *key;
	int want;
	const char *v;
	size_t len;
};

static enum MHD_Result nth_value(void *cls, enum MHD_ValueKind kind, const char *key,
				 size_t key_size, const char *value, size_t value_size)
{
	(void)kind;
	struct nth *n = cls;
	if (strlen(n->key) != key_size || memcmp(key, n->key, key_size) != 0)
		return MHD_YES;
	if (n->want-- > 0)
		return MHD_YES;
	n->v = value ? value : "";
	n->len = value ? value_size : 0;
	return MHD_NO; /* found: stop */
}

/* The @i-th value of a repeated parameter (exclude=a&exclude=b), in the
 * request's order. */
static const char *get_param_nth(void *cls, const char *key, int i, size_t *len)
{
	struct nth n = {.key = key, .want = i};
	MHD_get_connection_values_n(cls, MHD_GET_ARGUMENT_KIND, nth_value, &n);
	*len = n.len;
	return n.v;
}

static enum MHD_Result reply(struct MHD_Connection *conn, int status, struct jbuf *body)
{
	struct MHD_Response *r =
		MHD_create_response_from_buffer(body->len, body->p, MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", "application/json");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	enum MHD_Result ret = MHD_queue_response(conn, (unsigned)status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result fail(struct MHD_Connection *conn, struct stream *s, int status,
			    const char *msg)
{
	struct jbuf b = {0};
	jbuf_puts(&b, "{\"error\":");
	jbuf_str(&b, msg, strlen(msg));
	jbuf_puts(&b, "}\n");
	s->status = status;
	enum MHD_Result r = reply(conn, status, &b);
	jbuf_free(&b);
	return r;
}

enum MHD_Result stream_handle(struct MHD_Connection *conn, ctx_t *server_ctx, struct guard *g,
			      struct stream **out)
{
	struct stream *s = calloc(1, sizeof *s);
	if (!s)
		return MHD_NO;
	*out = s;
	s->id = atomic_fetch_add_explicit(&next_id, 1, memory_order_relaxed) + 1;
	s->t_start = chan_now();
	s->req.dir_fd = -1;

	struct jbuf err = {0};
	int st = handler_parse(get_param, get_param_nth, conn, &s->req, &err);
	if (st) {
		s->status = st;
		enum MHD_Result r = reply(conn, st, &err);
		jbuf_free(&err);
		return r;
	}
	jbuf_free(&err);

	/* A slot of --max-scans, or 503. */
	if (atomic_fetch_add_explicit(&stats.scans_in_progress, 1, memory_order_relaxed) >=
	    cfg.max_scans) {
		stat_add(&stats.scans_in_progress, -1);
		return fail(conn, s, 503, "too many concurrent scans");
	}
	s->counted_scan = true;

	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (!ci)
		return fail(conn, s, 500, "no connection fd");
	if (!(s->timeout_ctx = ctx_with_timeout(server_ctx, s->req.timeout_ns)))
		return fail(conn, s, 500, strerror(errno));
	stat_add(&stats.contexts_alive, 1);
	/* A client that stops reading never lets the writer send the done
	 * line: past the deadline and a grace period, the guard cuts it. */
	guard_response_by(g, chan_now() + s->req.timeout_ns + DEADLINE_GRACE_NS);
	if (!(s->hangup_ctx = gopoll_hangup_ctx(s->timeout_ctx, ci->connect_fd)))
		return fail(conn, s, 500, strerror(errno));
	stat_add(&stats.contexts_alive, 1);
	if (!(s->ticker = gotime_ticker_new(PROGRESS_NS)))
		return fail(conn, s, 500, strerror(errno));
	/* Threads for the workers: all scans together run at most
	 * --scan-threads; this one waits (until its deadline) for the first. */
	if (!(s->threads = budget_take(s->hangup_ctx, cfg.workers)))
		return fail(conn, s, 503,
			    ctx_cause(s->hangup_ctx, NULL) == CTX_DEADLINE_EXCEEDED
				    ? "no scan thread free before the deadline"
				    : "client left (or shutdown) while waiting for a scan thread");

	struct scan_params p = {
		.m = s->req.m,
		.glob = s->req.glob,
		.dir_fd = s->req.dir_fd,
		.prefix = s->req.prefix,
		.workers = s->threads,
		.max_depth = s->req.max_depth,
		.exclude = s->req.exclude,
		.n_exclude = s->req.n_exclude,
		.hidden = s->req.hidden,
		.ignore = s->req.ignore,
		.before = s->req.before,
		.after = s->req.after,
		.max_file_size = cfg.max_file_size,
		.text_max = TEXT_MAX,
	};
	s->req.dir_fd = -1; /* the scan owns it now, even if it fails to start */
	if (!(s->scan = scan_start(s->hangup_ctx, &p)))
		return fail(conn, s, 500, strerror(errno));

	struct MHD_Response *r =
		MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, BATCH, reader, s, NULL);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", "application/x-ndjson");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "X-Search-Schema", SEARCH_SCHEMA);
	s->status = 200;
	enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

void stream_completed(struct stream *s, enum MHD_RequestTerminationCode why, enum guard_cut cut)
{
	/* The client stopped reading: cut at its deadline (guard.h) or timed
	 * out by libmicrohttpd after --idle-timeout with no byte accepted.
	 * Otherwise the phase says more than @why (MHD reports a hang-up as an
	 * error or an abort). */
	const char *stalled = why == MHD_REQUEST_TERMINATED_COMPLETED_OK      ? NULL
			      : cut == GUARD_RESPONSE                         ? "deadline"
			      : why == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED ? "idle"
									      : NULL;
	int64_t joined = 0, joined_real = 0;
	long long files = 0, bytes = 0;
	if (s->scan) {
		if (stalled) {
			s->reason = "stalled";
		} else if (s->phase != FINISHED) {
			/* The writer did not finish: the client left (seen by the
			 * hangup context, or by MHD on a failed write), or the
			 * connection was closed at shutdown. */
			if (!s->t_seen_hangup)
				s->t_seen_hangup = chan_now();
			s->reason = "canceled";
		}
		joined = scan_stop(s->scan, &joined_real);
		/* The server saw the hang-up when its first thread did: a
		 * worker (checking the context) or the writer (woken by Done). */
		int64_t w = scan_first_seen(s->scan);
		if (w && s->t_seen_hangup && w < s->t_seen_hangup)
			s->t_seen_hangup = w;
		struct scan_totals *t = scan_totals(s->scan);
		files = atomic_load_explicit(&t->files, memory_order_relaxed);
		bytes = atomic_load_explicit(&t->bytes, memory_order_relaxed);
		scan_free(s->scan);
	}
	gotime_ticker_free(s->ticker);
	if (s->hangup_ctx) {
		ctx_cancel_release(s->hangup_ctx); /* unregisters the fd before it returns */
		stat_add(&stats.contexts_alive, -1);
	}
	if (s->timeout_ctx) {
		ctx_cancel_release(s->timeout_ctx);
		stat_add(&stats.contexts_alive, -1);
	}
	if (s->counted_scan)
		stat_add(&stats.scans_in_progress, -1);
	search_req_clear(&s->req);
	jbuf_free(&s->out);
	const char *end = s->scan && s->reason ? s->reason : "error";
	char tail[96] = "";
	if (s->scan && stalled)
		snprintf(tail, sizeof tail, " cut=%s", stalled);
	if (s->scan && strcmp(end, "canceled") == 0) {
		stat_add(&stats.scans_canceled, 1);
		if (s->t_seen_hangup)
			snprintf(tail, sizeof tail, " hangup_to_joined_ms=%.3f joined_unix_ns=%lld",
				 (double)(joined - s->t_seen_hangup) / 1e6, (long long)joined_real);
	}
	/* Last: a client that has read this line sees every gauge settled. */
	fprintf(stderr, "search id=%lld end=%s files=%lld bytes=%lld matches=%lld ms=%lld%s\n",
		s->id, end, files, bytes, s->sent, ms_since(s->t_start), tail);
	free(s);
}

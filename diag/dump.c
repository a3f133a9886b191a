/*
 * diag/dump.c - the text and JSON dumps of gochan/diag.h, the counts, and
 * the leak check.  The snapshot they format comes from diag/snapshot.c (over wait/record.c).
 */
#include <errno.h>
#include <execinfo.h>
#include <gochan/chan.h>
#include <gochan/diag.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "diag/snapshot.h"
#include "service/threads.h"
#include "wait/cond.h"

static const char *op_name(enum gowait__op op)
{
	switch (op) {
	case GOWAIT_OP_SEND:
		return "send";
	case GOWAIT_OP_RECV:
		return "receive";
	case GOWAIT_OP_SELECT:
		return "select";
	case GOWAIT_OP_SELECT_NONE:
		return "select_none";
	case GOWAIT_OP_FIBER_WAIT:
		return "fiber_group_wait";
	case GOWAIT_OP_WG_WAIT:
		return "waitgroup_wait";
	case GOWAIT_OP_LIB_WAIT:
		return "library_wait";
	}
	return "?";
}

unsigned godiag_threads(void)
{
	return gosvc__threads_alive(GODIAG_THREAD_KINDS);
}

static void print_threads_line(FILE *out)
{
	fprintf(out, "gochan library threads: %u (", gosvc__threads_alive(GODIAG_THREAD_KINDS));
	for (int k = 0; k < GODIAG_THREAD_KINDS; k++)
		fprintf(out, "%s%s %u", k ? ", " : "", gosvc__thread_kind_name(k),
			gosvc__threads_alive(k));
	fputs(")\n", out);
}

/* Symbolise @n addresses (backtrace_symbols: one malloc; NULL if it fails,
 * and then only the addresses are printed). */
static char **symbols(void *const *addrs, int n)
{
	return n > 0 ? backtrace_symbols(addrs, n) : NULL;
}

int godiag_dump(FILE *out)
{
	struct godiag__snap s;
	int err;

	if (!out)
		return EINVAL;
	if ((err = godiag__snapshot(&s)))
		return err;
	fprintf(out, "gochan: %zu thread%s blocked in gochan operations\n", s.nthreads,
		s.nthreads == 1 ? "" : "s");
	for (size_t i = 0; i < s.nthreads; i++) {
		const struct godiag__snap_thread *t = &s.threads[i];
		int64_t d = s.now - t->since;
		void *ra = (void *)t->ra;
		char **sym = symbols(&ra, 1);

		if (t->fiber)
			fprintf(out, "\nfiber %p [%s", t->fiber, op_name(t->op));
		else
			fprintf(out, "\nthread %d \"%s\" [%s", (int)t->tid, t->name,
				op_name(t->op));
		if (t->op == GOWAIT_OP_SELECT || t->op == GOWAIT_OP_SELECT_NONE)
			fprintf(out, " of %" PRIu32 " case%s", t->ncases,
				t->ncases == 1 ? "" : "s");
		fprintf(out, ", %" PRId64 ".%06" PRId64 " s]:\n", d / 1000000000,
			d % 1000000000 / 1000);
		for (size_t k = 0; k < t->nchans; k++) {
			const struct godiag__snap_chan *c = &s.chans[t->first_chan + k];

			fputs("    ", out);
			if (t->op == GOWAIT_OP_SELECT)
				fprintf(out, "case %" PRIu32 " %s ", c->case_index,
					c->send ? "send" : "receive");
			fprintf(out, "chan %p: elem %zu B, len %zu, cap %zu, %s\n", c->addr,
				c->elem_size, c->len, c->cap, c->closed ? "closed" : "open");
		}
		fprintf(out, "    called from %s\n", sym ? sym[0] : "?");
		free(sym);
		if (t->nbt > 0) {
			char **bt = symbols(t->bt, t->nbt);

			fputs("    backtrace:\n", out);
			for (int k = 0; k < t->nbt; k++) {
				if (bt)
					fprintf(out, "        %s\n", bt[k]);
				else
					fprintf(out, "        %p\n", t->bt[k]);
			}
			free(bt);
		}
	}
	print_threads_line(out);
	godiag__snap_free(&s);
	return fflush(out) || ferror(out) ? EIO : 0;
}

/* A JSON string: quotes, backslashes and control bytes escaped; other bytes
 * (UTF-8 included) as they are. */
static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static void json_syms(FILE *f, void *const *addrs, int n)
{
	char **sym = symbols(addrs, n);

	fputc('[', f);
	for (int k = 0; k < n; k++) {
		char buf[32];

		if (k)
			fputc(',', f);
		if (!sym)
			snprintf(buf, sizeof(buf), "%p", addrs[k]);
		json_str(f, sym ? sym[k] : buf);
	}
	fputc(']', f);
	free(sym);
}

static void json_sym(FILE *f, void *addr)
{
	char **sym = symbols(&addr, 1);
	char buf[32];

	snprintf(buf, sizeof(buf), "%p", addr);
	json_str(f, sym ? sym[0] : buf);
	free(sym);
}

char *godiag_dump_json(void)
{
	struct godiag__snap s;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int err;

	if ((err = godiag__snapshot(&s))) {
		errno = err;
		return NULL;
	}
	if (!(f = open_memstream(&buf, &len))) {
		godiag__snap_free(&s);
		errno = ENOMEM;
		return NULL;
	}
	fputs("{\"blocked\":[", f);
	for (size_t i = 0; i < s.nthreads; i++) {
		const struct godiag__snap_thread *t = &s.threads[i];
		void *ra = (void *)t->ra;

		fprintf(f, "%s{\"tid\":%d,\"name\":", i ? "," : "", (int)t->tid);
		json_str(f, t->name);
		if (t->fiber)
			fprintf(f, ",\"fiber\":\"%p\"", t->fiber);
		fprintf(f,
			",\"op\":\"%s\",\"ncases\":%" PRIu32 ",\"blocked_ns\":%" PRId64
			",\"since_ns\":%" PRId64 ",\"caller\":\"%p\",\"caller_symbol\":",
			op_name(t->op), t->ncases, s.now - t->since, t->since, t->ra);
		json_sym(f, ra);
		if (t->nbt > 0) {
			fputs(",\"backtrace\":", f);
			json_syms(f, t->bt, t->nbt);
		}
		fputs(",\"channels\":[", f);
		for (size_t k = 0; k < t->nchans; k++) {
			const struct godiag__snap_chan *c = &s.chans[t->first_chan + k];

			fprintf(f,
				"%s{\"case\":%" PRIu32 ",\"dir\":\"%s\",\"addr\":\"%p\","
				"\"elem_size\":%zu,\"len\":%zu,\"cap\":%zu,\"closed\":%s}",
				k ? "," : "", c->case_index, c->send ? "send" : "receive", c->addr,
				c->elem_size, c->len, c->cap, c->closed ? "true" : "false");
		}
		fputs("]}", f);
	}
	fprintf(f, "],\"count\":%zu,\"threads\":{", s.nthreads);
	for (int k = 0; k < GODIAG_THREAD_KINDS; k++)
		fprintf(f, "\"%s\":%u,", gosvc__thread_kind_name(k), gosvc__threads_alive(k));
	fprintf(f, "\"total\":%u}}", gosvc__threads_alive(GODIAG_THREAD_KINDS));
	godiag__snap_free(&s);
	if (fclose(f) != 0 || !buf) {
		free(buf);
		errno = ENOMEM;
		return NULL;
	}
	return buf;
}

int godiag_verify_none(int64_t deadline)
{
	int64_t pause = 1000; /* ns; doubles up to 10 ms */
	size_t blocked = 0;
	unsigned alive = 0;

	for (;;) {
		int err = gosvc__threads_wait(deadline);

		blocked = godiag_blocked();
		alive = gosvc__threads_alive(GODIAG_THREAD_KINDS);
		if (!err && blocked == 0 && alive == 0)
			return 0;
		int64_t now = chan_now();

		if (err || (deadline != CHAN_FOREVER && now >= deadline))
			break;
		if (deadline != CHAN_FOREVER && pause > deadline - now)
			pause = deadline - now;
		struct timespec ts = gowait__timespec(pause);

		nanosleep(&ts, NULL);
		pause = pause * 2 > 10000000 ? 10000000 : pause * 2;
	}
	fprintf(stderr,
		"godiag_verify_none: %zu thread%s blocked in gochan operations, %u library "
		"thread%s alive\n",
		blocked, blocked == 1 ? "" : "s", alive, alive == 1 ? "" : "s");
	(void)godiag_dump(stderr);
	return ETIMEDOUT;
}

/*
 * fiber/decisions.c - the decision log's text form and its wiring into a
 * run (gochan/bubble.h): which source a bubble's decide draws from (a
 * replay list, fuzz bytes, GOCHAN_REPLAY, the seed), and where its log
 * goes at the end (report->log, opts->decisions_out, GOCHAN_DECISIONS).
 */
#include "fiber/decisions.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_names[] = {"pick", "switch", "bits", "other", "timer"};

int gobubble_decisions_write(FILE *f, const gobubble_decision *d, size_t n)
{
	if (fprintf(f, "# gochan bubble decisions v1: KIND N CHOSEN\n") < 0)
		return EIO;
	for (size_t i = 0; i < n; i++) {
		const char *k = d[i].kind < sizeof kind_names / sizeof kind_names[0] ? kind_names[d[i].kind] : "other";
		int r = d[i].kind == GOBUBBLE_BITS ? fprintf(f, "%s %" PRIu32 " 0x%016" PRIx64 "\n",
							     k, d[i].n, d[i].chosen)
						   : fprintf(f, "%s %" PRIu32 " %" PRIu64 "\n", k,
							     d[i].n, d[i].chosen);
		if (r < 0)
			return EIO;
	}
	return fflush(f) == 0 ? 0 : EIO;
}

/* One line into *@d: 1 a decision, 0 nothing (comment, blank), -1 bad. */
static int parse_line(char *line, gobubble_decision *d)
{
	char *p = line + strspn(line, " \t\r\n");
	if (*p == '\0' || *p == '#')
		return 0;
	size_t klen = strcspn(p, " \t");
	int kind = -1;
	for (int k = 0; k < (int)(sizeof kind_names / sizeof kind_names[0]); k++)
		if (strlen(kind_names[k]) == klen && strncmp(p, kind_names[k], klen) == 0)
			kind = k;
	if (kind < 0)
		return -1;
	p += klen;
	char *end;
	errno = 0;
	unsigned long long n = strtoull(p, &end, 0);
	if (end == p || errno || n > UINT32_MAX)
		return -1;
	p = end;
	unsigned long long c = strtoull(p, &end, 0);
	if (end == p || errno)
		return -1;
	if (end[strspn(end, " \t\r\n")] != '\0')
		return -1;
	*d = (gobubble_decision){.kind = (uint32_t)kind, .n = (uint32_t)n, .chosen = c};
	return 1;
}

int gobubble_decisions_read(FILE *f, gobubble_decision **out, size_t *n)
{
	gobubble_decision *v = NULL;
	size_t len = 0, cap = 0;
	char line[256];

	while (fgets(line, sizeof line, f)) {
		gobubble_decision d;
		int r = parse_line(line, &d);

		if (r < 0) {
			free(v);
			return EINVAL;
		}
		if (r == 0)
			continue;
		if (len == cap) {
			cap = cap ? 2 * cap : 64;
			gobubble_decision *nv = realloc(v, cap * sizeof *nv);

			if (!nv) {
				free(v);
				return ENOMEM;
			}
			v = nv;
		}
		v[len++] = d;
	}
	if (ferror(f)) {
		free(v);
		return EIO;
	}
	*out = v;
	*n = len;
	return 0;
}

int gofiber__decisions_open(struct gofiber__decide *d, const gobubble_opts *o,
			    struct gofiber__decisions_io *io)
{
	const char *replay = o->ignore_env ? NULL : getenv("GOCHAN_REPLAY");
	const char *out = o->ignore_env ? NULL : getenv("GOCHAN_DECISIONS");

	*io = (struct gofiber__decisions_io){.out = o->decisions_out};
	if (replay && *replay) {
		FILE *f = fopen(replay, "r");

		if (!f)
			return errno ? errno : EINVAL;
		int err = gobubble_decisions_read(f, &io->replay, &io->replay_len);

		fclose(f);
		if (err)
			return err;
		d->list = io->replay;
		d->list_len = io->replay_len;
	} else if (o->replay) {
		d->list = o->replay;
		d->list_len = o->replay_len;
	} else if (o->fuzz_input) {
		d->bytes = o->fuzz_input;
		d->bytes_len = o->fuzz_len;
	}
	if (out && *out)
		io->out_path = out;
	d->record = o->record || io->out || io->out_path;
	/* A replay list that is empty still replaces the seed: every draw
	 * is past its end (0). */
	d->replaying = (replay && *replay) || o->replay;
	return 0;
}

void gofiber__decisions_close(struct gofiber__decide *d, const gobubble_opts *o,
			      struct gofiber__decisions_io *io, gobubble_report *report)
{
	if (io->out)
		(void)gobubble_decisions_write(io->out, d->log, d->log_len);
	if (io->out_path) {
		FILE *f = fopen(io->out_path, "w");

		if (f) {
			(void)gobubble_decisions_write(f, d->log, d->log_len);
			fclose(f);
		}
	}
	free(io->replay);
	if (report) {
		report->misfits = d->misfits;
		report->past_end = d->past_end;
		report->log_short = d->log_oom;
		if (o->record) {
			report->log = d->log;
			report->log_len = d->log_len;
			d->log = NULL; /* the caller's now */
		}
	}
	gofiber__decide_fini(d);
}

/*
 * fuzz/fuzz_model.c - model-based fuzzing of chan/ and select/ on one thread.
 *
 * The input bytes are a program of channel operations on four slots, each
 * holding a channel or nil.  The program runs on ONE thread against the
 * library and, step by step, against a small reference model of Go's
 * semantics (below: struct mchan).  After every step every live channel's
 * len, cap, elem size and closed flag are compared with the model.  On any
 * divergence the whole program trace is printed and the harness aborts.
 *
 * The decoding below is shared, byte for byte, with fuzz/go/replay.go (the
 * differential check against Go's runtime): change both or neither.  The
 * canonical text of each step (the trace line) is what fuzz/diff.sh compares.
 *
 * DECODING.  next() is the next input byte, or 0 once the input is used up.
 * The program is a sequence of steps (at most MAX_STEPS); a step starts only
 * while input remains.  A step's first byte b gives op = b & 15,
 * slot s = (b >> 4) & 3, aux = b >> 6.
 *   op 0  MAKE s: m = next(); size = {0,1,8,33}[m & 3];
 *         cap = {0,1,2,3,4,1,9,64}[(m >> 2) & 7].  Drops s's references
 *         first (see DROP), then s holds one reference to a new channel.
 *   op 1, 14  SEND s: the value is ++seq (see fill()).  aux: 0 try_send;
 *         1 send_until(CHAN_NOWAIT); 2 send_until(a passed deadline);
 *         3 "block": chan_send if the send can complete at once (closed, or
 *         buffer room) or s is nil; otherwise, while the timed budget lasts
 *         (MAX_TIMED per program), send_until(now + 20 us) ("timed"), then
 *         send_until(CHAN_NOWAIT) ("nowait").
 *   op 2, 15  RECV s: f = next(); f & 1: elem NULL (discard); f & 2: ok NULL.
 *         aux as for SEND (ready: buffered data, or closed).
 *   op 3  CLOSE s.      op 4  LEN s.       op 5  CAP s (cap and elem size).
 *   op 6  REF s: one more reference held by s (at most 8 per slot).
 *   op 7  UNREF s: drop one of s's references; s becomes nil at zero.
 *   op 8  SELECT, op 9 BIG SELECT: n = next(); base = n % 9 cases, each from
 *         one byte c: c & 1 send (value ++seq, in case order) else recv;
 *         channel slot (c >> 1) & 3, or a nil channel if c & 8; recv only:
 *         c & 16 elem NULL; c & 32 ok NULL (sends too).  BIG SELECT repeats
 *         the base cases cyclically up to 65 + ((n >> 4) & 7) cases (more than
 *         CHAN_SELECT_STACK_CASES) when base > 0.  aux is the deadline:
 *         0 CHAN_NOWAIT; 1 a passed deadline; 2 now + 20 us while the timed
 *         budget lasts, else CHAN_NOWAIT; 3 CHAN_FOREVER when some case is
 *         ready, else as 2.
 *   op 10 BADNEW: chan_new with impossible sizes (by aux); no effect on slots.
 *   op 11 MISUSE s: EINVAL paths (by aux); no effect on the model.
 *   op 12 DUP s: t = next() & 3; nil s: drop t; s == t: nothing; else drop
 *         t, then t holds one new reference (chan_ref) to s's channel.
 *   op 13 DROP s: drop every reference s holds; s becomes nil.
 *
 * In diff mode (fuzz_model_run(..., diff = true)), a select with several
 * ready cases is run with every ready case except the lowest-numbered one
 * replaced by a nil case, so that Go and C make the same choice; the set of
 * ready cases is printed, and that is what is compared.
 */
#include <errno.h>
#include <gochan/chan.h>
#include <gochan/select.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_model.h"
#include "fuzz_util.h"

#define NSLOT 4
#define MAXQ 64
#define MAX_STEPS 512
#define MAX_TIMED 16
#define TIMED_NS 20000
#define MAX_HELD 8
#define MAX_CASES (65 + 7)
#define MAX_ELEM 33
#define SENTINEL 0xA5

static const size_t k_sizes[4] = {0, 1, 8, 33};
static const size_t k_caps[8] = {0, 1, 2, 3, 4, 1, 9, 64};

/* The reference model of one channel: Go's hchan without waiters (one
 * thread never has a counterpart blocked). */
struct mchan {
	bool live;
	chan_t *c;
	size_t esize, cap;
	bool closed;
	uint32_t q[MAXQ]; /* values (seq numbers) in FIFO order */
	size_t head, count;
	int refs; /* references held over all slots */
};

struct slot {
	int mc; /* index into run.mc, or -1: nil */
	int held;
};

struct run {
	const uint8_t *d;
	size_t n, pos;
	struct mchan mc[NSLOT];
	struct slot slot[NSLOT];
	uint32_t seq;
	int timed;
	int step;
	bool diff;
	FILE *out;   /* diff mode: canonical lines go here as they happen */
	char *trace; /* fuzz mode: every line so far, for the failure report */
	size_t tlen, tcap;
	char line[8192];
	size_t llen;
};

static uint8_t next(struct run *r)
{
	return fz_next(r->d, r->n, &r->pos);
}

/* ---- trace ---------------------------------------------------------- */

static void lp(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void lp(struct run *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fz_vappendf(r->line, sizeof r->line, &r->llen, fmt, ap);
	va_end(ap);
}

static void trace_add(struct run *r, const char *s, size_t len)
{
	if (r->tlen + len + 1 > r->tcap) {
		size_t nc = r->tcap ? r->tcap * 2 : 16384;
		while (nc < r->tlen + len + 1)
			nc *= 2;
		char *nt = realloc(r->trace, nc);
		if (!nt)
			abort();
		r->trace = nt;
		r->tcap = nc;
	}
	memcpy(r->trace + r->tlen, s, len);
	r->tlen += len;
	r->trace[r->tlen] = '\0';
}

/* Ends the current step's line: out to the canonical stream, or the trace. */
static void endline(struct run *r)
{
	lp(r, "\n");
	if (r->out)
		fwrite(r->line, 1, r->llen, r->out);
	else
		trace_add(r, r->line, r->llen);
	r->llen = 0;
}

static void fail(struct run *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));
static void fail(struct run *r, const char *fmt, ...)
{
	if (r->out)
		fflush(r->out);
	fprintf(stderr, "\n==== fuzz_model: divergence from the Go model ====\n");
	fprintf(stderr, "program trace (step, op -> outcome):\n%s", r->trace ? r->trace : "");
	fprintf(stderr, "%d (in progress) %.*s\n", r->step, (int)r->llen, r->line);
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "DIVERGENCE at step %d: ", r->step);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	abort();
}

#define CHECK(r, cond, ...)                     \
	do {                                    \
		if (!(cond))                    \
			fail((r), __VA_ARGS__); \
	} while (0)

/* The canonical text of a result.  The two panics use chan_strerror()'s
 * wording, so the differential check also compares it with Go's messages. */
static const char *errname(int e)
{
	static char panic_text[2][128];
	switch (e) {
	case 0:
		return "ok";
	case EINVAL:
		return "EINVAL";
	case EPIPE:
	case EALREADY:
		snprintf(panic_text[e == EPIPE], sizeof panic_text[0], "panic: %s",
			 chan_strerror(e));
		return panic_text[e == EPIPE];
	case EAGAIN:
		return "EAGAIN";
	case ETIMEDOUT:
		return "ETIMEDOUT";
	case EBUSY:
		return "EBUSY";
	case ENOMEM:
		return "ENOMEM";
	default:
		return "E?";
	}
}

/* ---- values --------------------------------------------------------- */

/* The bytes of value @seq for an element of @size bytes (same in replay.go). */
static void fill(uint8_t *buf, size_t size, uint32_t seq)
{
	for (size_t i = 0; i < size; i++)
		buf[i] = (uint8_t)((uint8_t)(seq >> (8 * (i % 4))) ^ (uint8_t)(i * 0x35));
}

static void lp_hex(struct run *r, const uint8_t *buf, size_t size)
{
	static const char hx[] = "0123456789abcdef";
	for (size_t i = 0; i < size; i++)
		lp(r, "%c%c", hx[buf[i] >> 4], hx[buf[i] & 15]);
}

/* ---- model ---------------------------------------------------------- */

static struct mchan *slot_mc(struct run *r, int s)
{
	return r->slot[s].mc < 0 ? NULL : &r->mc[r->slot[s].mc];
}

static chan_t *slot_chan(struct run *r, int s)
{
	struct mchan *m = slot_mc(r, s);
	return m ? m->c : NULL;
}

static void m_push(struct run *r, struct mchan *m, uint32_t v)
{
	CHECK(r, m->count < m->cap && m->count < MAXQ, "model: push on a full buffer");
	m->q[(m->head + m->count) % MAXQ] = v;
	m->count++;
}

static uint32_t m_pop(struct mchan *m)
{
	uint32_t v = m->q[m->head];
	m->head = (m->head + 1) % MAXQ;
	m->count--;
	return v;
}

static bool m_send_ready(const struct mchan *m)
{
	return m && (m->closed || m->count < m->cap);
}

static bool m_recv_ready(const struct mchan *m)
{
	return m && (m->count > 0 || m->closed);
}

/* Every live channel agrees with its model. */
static void check_all(struct run *r)
{
	for (int i = 0; i < NSLOT; i++) {
		struct mchan *m = &r->mc[i];
		if (!m->live)
			continue;
		size_t len = chan_len(m->c), cap = chan_cap(m->c), es = chan_elem_size(m->c);
		bool cl = chan_is_closed(m->c);
		CHECK(r, len == m->count, "chan_len = %zu, model len = %zu", len, m->count);
		CHECK(r, cap == m->cap, "chan_cap = %zu, model cap = %zu", cap, m->cap);
		CHECK(r, es == m->esize, "chan_elem_size = %zu, model %zu", es, m->esize);
		CHECK(r, cl == m->closed, "chan_is_closed = %d, model %d", cl, m->closed);
	}
}

static void drop_slot(struct run *r, int s)
{
	struct mchan *m = slot_mc(r, s);
	if (!m)
		return;
	for (; r->slot[s].held > 0; r->slot[s].held--) {
		int e = chan_unref(m->c);
		CHECK(r, e == 0, "chan_unref = %s, want ok (no thread is blocked)", errname(e));
		m->refs--;
	}
	if (m->refs == 0)
		m->live = false;
	r->slot[s].mc = -1;
}

/* The deadline-mode names used in the canonical text. */
enum dmode {
	D_TRY,
	D_NOWAIT,
	D_PAST,
	D_BLOCK,
	D_TIMED,
	D_FOREVER
};
static const char *const dname[] = {"try", "nowait", "past", "block", "timed", "forever"};

static int64_t dl_of(enum dmode d)
{
	switch (d) {
	case D_PAST:
		return chan_now() - 1000;
	case D_TIMED:
		return chan_deadline_in(TIMED_NS);
	case D_FOREVER:
		return CHAN_FOREVER;
	default:
		return CHAN_NOWAIT;
	}
}

static enum dmode timed_or_nowait(struct run *r)
{
	if (r->timed < MAX_TIMED) {
		r->timed++;
		return D_TIMED;
	}
	return D_NOWAIT;
}

static enum dmode op_mode(struct run *r, int aux, bool ready_or_nil)
{
	switch (aux) {
	case 0:
		return D_TRY;
	case 1:
		return D_NOWAIT;
	case 2:
		return D_PAST;
	default:
		return ready_or_nil ? D_BLOCK : timed_or_nowait(r);
	}
}

/* ---- operations ------------------------------------------------------- */

static void op_make(struct run *r, int s)
{
	uint8_t m = next(r);
	size_t size = k_sizes[m & 3], cap = k_caps[(m >> 2) & 7];
	lp(r, "make s%d size=%zu cap=%zu", s, size, cap);
	drop_slot(r, s);
	int i = 0;
	while (r->mc[i].live)
		i++; /* at most NSLOT live channels: one is free after the drop */
	chan_t *c = chan_new(size, cap);
	CHECK(r, c != NULL, "chan_new(%zu, %zu) failed: %s", size, cap, strerror(errno));
	r->mc[i] = (struct mchan){.live = true, .c = c, .esize = size, .cap = cap, .refs = 1};
	r->slot[s] = (struct slot){.mc = i, .held = 1};
}

static void op_send(struct run *r, int s, int aux)
{
	struct mchan *m = slot_mc(r, s);
	uint32_t v = ++r->seq;
	uint8_t buf[MAX_ELEM];
	fill(buf, sizeof buf, v);
	enum dmode d = op_mode(r, aux, !m || m_send_ready(m));
	lp(r, "send s%d v=%u %s -> ", s, v, dname[d]);
	chan_t *c = m ? m->c : NULL;
	int e;
	if (d == D_TRY)
		e = chan_try_send(c, buf);
	else if (d == D_BLOCK)
		e = chan_send(c, buf);
	else
		e = chan_send_until(c, buf, dl_of(d));
	lp(r, "%s", errname(e));
	int want;
	if (!m)
		want = EINVAL;
	else if (m->closed)
		want = EPIPE;
	else if (m->count < m->cap)
		want = 0;
	else
		want = d == D_TRY ? EAGAIN : ETIMEDOUT;
	CHECK(r, e == want, "send returned %s, model says %s", errname(e), errname(want));
	if (e == 0)
		m_push(r, m, v);
}

/* Checks a completed receive of @m into @buf/@okv (either may be absent) and
 * updates the model; prints "ok v=..", "closed v=.." or "recv0 v=..". */
static void check_recv(struct run *r, struct mchan *m, const uint8_t *buf, const bool *okv)
{
	uint8_t want[MAX_ELEM];
	bool wok;
	if (m->count > 0) {
		fill(want, m->esize, m_pop(m));
		wok = true;
	} else {
		CHECK(r, m->closed, "a receive completed on an open, empty channel");
		memset(want, 0, sizeof want);
		wok = false;
	}
	lp(r, "%s v=", okv ? (*okv ? "ok" : "closed") : "recv0");
	if (buf)
		lp_hex(r, buf, m->esize);
	else
		lp(r, "_");
	if (okv)
		CHECK(r, *okv == wok, "ok = %d, model says %d", *okv, wok);
	if (buf) {
		CHECK(r, memcmp(buf, want, m->esize) == 0,
		      wok ? "received the wrong value (FIFO order or data)"
			  : "closed receive did not zero the element");
		for (size_t i = m->esize; i < MAX_ELEM; i++)
			CHECK(r, buf[i] == SENTINEL, "receive wrote past elem_size (byte %zu)", i);
	}
}

static void op_recv(struct run *r, int s, int aux)
{
	struct mchan *m = slot_mc(r, s);
	uint8_t f = next(r);
	bool discard = f & 1, nook = f & 2;
	enum dmode d = op_mode(r, aux, !m || m_recv_ready(m));
	lp(r, "recv s%d %s -> ", s, dname[d]);
	uint8_t buf[MAX_ELEM];
	memset(buf, SENTINEL, sizeof buf);
	bool okv = true; /* the opposite of what a closed receive writes */
	uint8_t *bp = discard ? NULL : buf;
	bool *op = nook ? NULL : &okv;
	chan_t *c = m ? m->c : NULL;
	int e;
	if (d == D_TRY)
		e = chan_try_recv(c, bp, op);
	else if (d == D_BLOCK)
		e = chan_recv(c, bp, op);
	else
		e = chan_recv_until(c, bp, op, dl_of(d));
	int want = !m ? EINVAL : m_recv_ready(m) ? 0 : d == D_TRY ? EAGAIN : ETIMEDOUT;
	if (e != 0)
		lp(r, "%s", errname(e));
	CHECK(r, e == want, "recv returned %s, model says %s", errname(e), errname(want));
	if (e == 0) {
		check_recv(r, m, bp, op);
	} else if (e == ETIMEDOUT) {
		for (size_t i = 0; i < MAX_ELEM; i++)
			CHECK(r, buf[i] == SENTINEL, "recv_until timed out but wrote elem");
		CHECK(r, okv, "recv_until timed out but wrote *ok");
	}
}

static void op_close(struct run *r, int s)
{
	struct mchan *m = slot_mc(r, s);
	int e = chan_close(m ? m->c : NULL);
	lp(r, "close s%d -> %s", s, !m && e == EINVAL ? "panic: close of nil channel" : errname(e));
	int want = !m ? EINVAL : m->closed ? EALREADY : 0;
	CHECK(r, e == want, "close returned %s, model says %s", errname(e), errname(want));
	if (e == 0)
		m->closed = true;
}

static void op_ref(struct run *r, int s)
{
	struct mchan *m = slot_mc(r, s);
	if (!m) {
		CHECK(r, chan_ref(NULL) == NULL, "chan_ref(NULL) != NULL");
		lp(r, "ref s%d -> nil", s);
		return;
	}
	if (r->slot[s].held < MAX_HELD) {
		CHECK(r, chan_ref(m->c) == m->c, "chan_ref returned another pointer");
		r->slot[s].held++;
		m->refs++;
	}
	lp(r, "ref s%d -> held=%d", s, r->slot[s].held);
}

static void op_unref(struct run *r, int s)
{
	struct mchan *m = slot_mc(r, s);
	if (!m) {
		int e = chan_unref(NULL);
		lp(r, "unref s%d -> %s", s, errname(e));
		CHECK(r, e == EINVAL, "chan_unref(NULL) = %s", errname(e));
		return;
	}
	int e = chan_unref(m->c);
	CHECK(r, e == 0, "chan_unref = %s", errname(e));
	m->refs--;
	if (--r->slot[s].held == 0) {
		r->slot[s].mc = -1;
		if (m->refs == 0)
			m->live = false;
	}
	lp(r, "unref s%d -> held=%d", s, r->slot[s].held);
}

static void op_select(struct run *r, int aux, bool big)
{
	uint8_t n = next(r);
	int base = n % 9;
	int total = base == 0 ? 0 : big ? 65 + ((n >> 4) & 7) : base;

	chan_case_t cs[MAX_CASES];
	struct mchan *cm[MAX_CASES];
	uint8_t cb[8];
	uint32_t sendseq[8];
	uint8_t sendv[8][MAX_ELEM];
	uint8_t rbuf[MAX_CASES][MAX_ELEM];
	bool oks[MAX_CASES];
	bool ready[MAX_CASES];
	int nready = 0, first_ready = -1;

	/* Decode (send values are numbered in case order), then build. */
	for (int i = 0; i < base; i++) {
		uint8_t c = cb[i] = next(r);
		int s = (c >> 1) & 3;
		struct mchan *m = (c & 8) ? NULL : slot_mc(r, s);
		cm[i] = m;
		bool *okp = (c & 32) ? NULL : &oks[i];
		if (c & 1) {
			sendseq[i] = ++r->seq;
			fill(sendv[i], MAX_ELEM, sendseq[i]);
			cs[i] = CHAN_SEND(m ? m->c : NULL, sendv[i], okp);
		} else {
			cs[i] = CHAN_RECV(m ? m->c : NULL, (c & 16) ? NULL : rbuf[i], okp);
		}
	}
	for (int i = base; i < total; i++) {
		cm[i] = cm[i % base];
		cs[i] = cs[i % base];
		if (cs[i].op == CHAN_OP_RECV && cs[i].elem)
			cs[i].elem = rbuf[i];
		if (cs[i].ok)
			cs[i].ok = &oks[i];
	}
	for (int i = 0; i < total; i++) {
		memset(rbuf[i], SENTINEL, MAX_ELEM);
		oks[i] = false; /* a case that does not fire must leave it false */
		ready[i] = cs[i].op == CHAN_OP_SEND ? m_send_ready(cm[i]) : m_recv_ready(cm[i]);
		if (ready[i] && nready++ == 0)
			first_ready = i;
	}
	enum dmode d;
	switch (aux) {
	case 0:
		d = D_NOWAIT;
		break;
	case 1:
		d = D_PAST;
		break;
	case 2:
		d = timed_or_nowait(r);
		break;
	default:
		d = nready ? D_FOREVER : timed_or_nowait(r);
		break;
	}

	lp(r, "select %s x%d [", dname[d], total);
	for (int i = 0; i < base; i++) {
		uint8_t c = cb[i];
		char ch = (c & 8) ? '-' : (char)('0' + ((c >> 1) & 3));
		if (c & 1)
			lp(r, "%ss%c=%u%s", i ? "," : "", ch, sendseq[i], (c & 32) ? "n" : "");
		else
			lp(r, "%sr%c%s%s", i ? "," : "", ch, (c & 16) ? "d" : "",
			   (c & 32) ? "n" : "");
	}
	lp(r, "] -> ready={");
	for (int i = 0, j = 0; i < total; i++)
		if (ready[i])
			lp(r, "%s%d", j++ ? "," : "", i);
	lp(r, "} ");
	if (r->diff) /* Go and C must choose alike: keep one ready case */
		for (int i = first_ready + 1; i < total; i++)
			if (ready[i])
				cs[i].chan = NULL;

	int k = chan_select(total ? cs : NULL, (size_t)total, dl_of(d));
	if (nready == 0) {
		int want = d == D_NOWAIT ? CHAN_DEFAULT : CHAN_TIMEOUT;
		lp(r, "%s", k == CHAN_DEFAULT ? "default" : k == CHAN_TIMEOUT ? "timeout" : "?");
		CHECK(r, k == want, "chan_select = %d with no case ready, want %s", k,
		      want == CHAN_DEFAULT ? "CHAN_DEFAULT" : "CHAN_TIMEOUT");
	} else {
		CHECK(r, k >= 0 && k < total && ready[k],
		      "chan_select = %d, not one of the ready cases", k);
		if (r->diff)
			CHECK(r, k == first_ready,
			      "diff mode: chan_select = %d, the only ready case is %d", k,
			      first_ready);
		lp(r, "fired=%d ", k);
		struct mchan *m = cm[k];
		if (cs[k].op == CHAN_OP_RECV) {
			check_recv(r, m, cs[k].elem, cs[k].ok);
		} else {
			bool wok = !m->closed;
			if (!cs[k].ok)
				lp(r, "sent0");
			else
				lp(r, "%s", oks[k] ? "ok" : errname(EPIPE));
			if (cs[k].ok)
				CHECK(r, oks[k] == wok, "send case ok = %d, model says %d", oks[k],
				      wok);
			if (wok)
				m_push(r, m, sendseq[base ? k % base : 0]);
		}
	}
	for (int i = 0; i < total; i++) {
		if (i == k)
			continue;
		CHECK(r, !oks[i], "case %d did not fire but its *ok was written", i);
		for (size_t j = 0; j < MAX_ELEM; j++)
			CHECK(r, rbuf[i][j] == SENTINEL,
			      "case %d did not fire but its elem was written", i);
	}
}

static void op_badnew(struct run *r, int aux)
{
	static const size_t es[4] = {CHAN_MAX_ELEM_SIZE + 1, 8, 33, 1};
	static const size_t cp[4] = {0, SIZE_MAX / 4, SIZE_MAX, SIZE_MAX - 8};
	lp(r, "badnew");
	errno = 0;
	chan_t *c = chan_new(es[aux], cp[aux]);
	int e = errno;
	CHECK(r, c == NULL, "chan_new(%zu, %zu) succeeded", es[aux], cp[aux]);
	if (aux < 3)
		CHECK(r, e == EINVAL, "chan_new(%zu, %zu): errno %d, want EINVAL", es[aux], cp[aux],
		      e);
	else
		CHECK(r, e == EINVAL || e == ENOMEM, "chan_new(1, SIZE_MAX-8): errno %d", e);
}

static void op_misuse(struct run *r, int s, int aux)
{
	struct mchan *m = slot_mc(r, s);
	chan_t *c = m ? m->c : NULL;
	lp(r, "misuse");
	int e;
	switch (aux) {
	case 0:
		if (!m || m->esize == 0)
			return;
		e = chan_try_send(c, NULL);
		CHECK(r, e == EINVAL, "chan_try_send(c, NULL) = %s", errname(e));
		e = chan_send_until(c, NULL, CHAN_NOWAIT);
		CHECK(r, e == EINVAL, "chan_send_until(c, NULL) = %s", errname(e));
		e = chan_send(c, NULL);
		CHECK(r, e == EINVAL, "chan_send(c, NULL) = %s", errname(e));
		return;
	case 1:
		e = chan_select(NULL, 1, CHAN_NOWAIT);
		CHECK(r, e == -EINVAL, "chan_select(NULL, 1) = %d", e);
		e = chan_select(NULL, 0, CHAN_NOWAIT);
		CHECK(r, e == CHAN_DEFAULT, "chan_select(NULL, 0, NOWAIT) = %d", e);
		return;
	case 2: {
		uint8_t b[MAX_ELEM];
		memset(b, 0, sizeof b);
		chan_case_t cs[2] = {CHAN_RECV(c, b, NULL), CHAN_RECV(c, b, NULL)};
		cs[1].op = (enum chan_op)3;
		e = chan_select(cs, 2, CHAN_NOWAIT);
		CHECK(r, e == -EINVAL, "chan_select with op 3 = %d", e);
		/* The one-case path too, with every deadline form. */
		e = chan_select(&cs[1], 1, CHAN_NOWAIT);
		CHECK(r, e == -EINVAL, "one-case chan_select with op 3 = %d", e);
		e = chan_select(&cs[1], 1, CHAN_FOREVER);
		CHECK(r, e == -EINVAL, "one-case chan_select(FOREVER) with op 3 = %d", e);
		return;
	}
	default: {
		if (!m || m->esize == 0)
			return;
		uint8_t b[MAX_ELEM];
		chan_case_t cs[2] = {CHAN_RECV(c, b, NULL), CHAN_SEND(c, NULL, NULL)};
		e = chan_select(cs, 2, CHAN_NOWAIT);
		CHECK(r, e == -EINVAL, "chan_select with a NULL send elem = %d", e);
		e = chan_select(&cs[1], 1, chan_now() - 1000);
		CHECK(r, e == -EINVAL, "one-case chan_select with a NULL send elem = %d", e);
		e = chan_select(&cs[1], 1, CHAN_FOREVER);
		CHECK(r, e == -EINVAL, "one-case chan_select(FOREVER) with a NULL send elem = %d",
		      e);
		return;
	}
	}
}

static void op_dup(struct run *r, int s)
{
	int t = next(r) & 3;
	lp(r, "dup s%d s%d", s, t);
	struct mchan *m = slot_mc(r, s);
	if (!m) {
		drop_slot(r, t);
		return;
	}
	if (s == t)
		return;
	drop_slot(r, t); /* s still holds a reference: m stays live */
	CHECK(r, chan_ref(m->c) == m->c, "chan_ref returned another pointer");
	m->refs++;
	r->slot[t] = (struct slot){.mc = r->slot[s].mc, .held = 1};
}

void fuzz_model_run(const uint8_t *data, size_t size, bool diff, FILE *out)
{
	struct run *r = calloc(1, sizeof *r);
	if (!r)
		abort();
	r->d = data;
	r->n = size;
	r->diff = diff;
	r->out = out;
	for (int i = 0; i < NSLOT; i++)
		r->slot[i].mc = -1;
	CHECK(r,
	      chan_len(NULL) == 0 && chan_cap(NULL) == 0 && chan_elem_size(NULL) == 0 &&
		      !chan_is_closed(NULL),
	      "observers on NULL are not 0/false");

	for (r->step = 0; r->step < MAX_STEPS && r->pos < r->n; r->step++) {
		uint8_t b = next(r);
		int op = b & 15, s = (b >> 4) & 3, aux = b >> 6;
		lp(r, "%d ", r->step);
		switch (op) {
		case 0:
			op_make(r, s);
			break;
		case 1:
		case 14:
			op_send(r, s, aux);
			break;
		case 2:
		case 15:
			op_recv(r, s, aux);
			break;
		case 3:
			op_close(r, s);
			break;
		case 4:
			lp(r, "len s%d -> %zu", s, chan_len(slot_chan(r, s)));
			break;
		case 5:
			lp(r, "cap s%d -> %zu size=%zu", s, chan_cap(slot_chan(r, s)),
			   chan_elem_size(slot_chan(r, s)));
			break;
		case 6:
			op_ref(r, s);
			break;
		case 7:
			op_unref(r, s);
			break;
		case 8:
			op_select(r, aux, false);
			break;
		case 9:
			op_select(r, aux, true);
			break;
		case 10:
			op_badnew(r, aux);
			break;
		case 11:
			op_misuse(r, s, aux);
			break;
		case 12:
			op_dup(r, s);
			break;
		default:
			lp(r, "drop s%d", s);
			drop_slot(r, s);
			break;
		}
		check_all(r);
		endline(r);
	}
	for (int s = 0; s < NSLOT; s++)
		drop_slot(r, s);
	for (int i = 0; i < NSLOT; i++)
		CHECK(r, !r->mc[i].live, "model: channel %d still live after every slot dropped",
		      i);
	free(r->trace);
	free(r);
}

#ifndef FUZZ_MODEL_NO_MAIN
/* Huge chan_new() sizes must come back as NULL/ENOMEM, not abort under ASan. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "allocator_may_return_null=1";
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_model_run(data, size, false, NULL);
	return 0;
}
#endif

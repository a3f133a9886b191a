/*
 * gochan/select.h - Go's select statement in C.
 *
 * chan_select() waits on any mix of send and receive cases and performs
 * exactly one of them.  Go's rules hold:
 *   - among the cases ready at the moment of the call, one is chosen
 *     uniformly at random;
 *   - with no ready case: CHAN_NOWAIT returns CHAN_DEFAULT (Go's default
 *     branch), a deadline returns CHAN_TIMEOUT when it passes, CHAN_FOREVER
 *     blocks until a case can proceed;
 *   - a case whose channel is NULL is never ready (Go's nil channel); a select
 *     with no cases, or only NULL ones, blocks forever with CHAN_FOREVER (so
 *     only ever use that with a deadline or default in real code);
 *   - a send case on a closed channel is ready: it is chosen like any other
 *     and reports ok == false (Go panics; the value is not sent);
 *   - a receive case on a closed, drained channel is ready and reports
 *     ok == false with the zero value;
 *   - one channel may appear in several cases, even as a send and a receive of
 *     the same select; a select never communicates with itself;
 *   - a blocked select is claimed by exactly one counterpart (one CAS on its
 *     state word): no value is received by two cases, none is lost; the waits
 *     registered on the other channels are removed before chan_select returns.
 *   - ordering: the case that fires gives exactly the happens-before edges of
 *     the matching plain operation (see gochan/chan.h).
 *
 * Evaluation order.  Go evaluates every channel and send value once, in
 * source order, on entry.  Here the caller builds the case array; a send
 * case's value is read from case.elem at the moment it is sent, so it must
 * stay unchanged until chan_select returns.
 *
 * Allocation.  None for up to CHAN_SELECT_STACK_CASES cases; a larger select
 * allocates its bookkeeping once per call (and may then return -ENOMEM).
 *
 * A select loop in Go and in C:
 *
 *     for {                                   for (;;) {
 *         select {                                int v; bool ok;
 *         case v, ok := <-jobs:                   switch (CHAN_SELECT(CHAN_FOREVER,
 *             if !ok { return }                       CHAN_RECV(jobs, &v, &ok),
 *             work(v)                                 CHAN_RECV(done, NULL, NULL),
 *         case <-done:                                CHAN_SEND(out, &last, NULL))) {
 *             return                              case 0: if (!ok) return; work(v); break;
 *         case out <- last:                       case 1: return;
 *             sent++                              case 2: sent++; break;
 *         }                                       }
 *     }                                       }
 *
 * `break` leaves the switch (Go's break in a select), `continue` goes on with
 * the enclosing loop, exactly as in Go.  A default branch is
 * `case CHAN_DEFAULT:` with CHAN_NOWAIT as the deadline; a timeout is
 * `case CHAN_TIMEOUT:` with a deadline.
 */
#ifndef GOCHAN_SELECT_H
#define GOCHAN_SELECT_H

#include <errno.h>
#include <gochan/chan.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The direction of a select case. */
enum chan_op {
	CHAN_OP_RECV = 1, /* v, ok := <-chan */
	CHAN_OP_SEND = 2, /* chan <- v */
};

/*
 * chan_case_t.size_check as CHAN_RECV/CHAN_SEND set it: a tag in the top
 * byte and sizeof *elem below it.  chan_select() returns -EINVAL for a
 * tagged case whose size is not the channel's element size.  Anything
 * without the tag is not checked: 0 (a case built with a designated
 * initializer or zeroed), an unknown size (void or char pointers, NULL),
 * an object of 16 MiB or more, and the field of a case built field by
 * field and never set (stack garbage almost never carries the tag: it is
 * neither a small number, nor -1, nor the top half of a pointer).
 */
#define CHAN__SIZE_TAG 0x5A000000u
#define CHAN__SIZE_MAX 0x00FFFFFFu
#define CHAN__SIZE_CHECK(n) \
	((n) != 0 && (n) <= CHAN__SIZE_MAX ? CHAN__SIZE_TAG | CHAN__CAST(uint32_t, n) : 0u)

/**
 * One case of a select.  (On LP64 targets @size_check sits in what was
 * padding: the struct is 32 bytes, as before the field existed.)
 */
typedef struct chan_case {
	chan_t *chan; /* in: the channel; NULL = a case that never fires */
	void *elem;   /* in: send: the value (elem_size bytes; never written
			 through); recv: where to store the value, or NULL to
			 discard */
	bool *ok;        /* in, optional: where to report the outcome when this
			    case fires: true = communicated, false = the channel
			    was closed (recv: zero value stored; send: not sent) */
	enum chan_op op;     /* in: CHAN_OP_RECV or CHAN_OP_SEND */
	uint32_t size_check; /* in: set by CHAN_RECV/CHAN_SEND (sizeof *elem,
				tagged); 0 = not checked (see above) */
} chan_case_t;

/* Header-only helpers: static inline in C; inline in C++, where an unused
 * static one is a warning (-Wunused-function). */
#ifdef __cplusplus
#define CHAN__INLINE inline
#else
#define CHAN__INLINE static inline
#endif

/* Whether a case sends. */
CHAN__INLINE bool chan__case_sends(const chan_case_t *cs)
{
	return cs->op == CHAN_OP_SEND;
}

/** chan_select() result when CHAN_NOWAIT finds nothing ready (Go's default). */
#define CHAN_DEFAULT (-EAGAIN)
/** chan_select() result when the deadline passes first. */
#define CHAN_TIMEOUT (-ETIMEDOUT)
/** Cases handled without any allocation. */
#define CHAN_SELECT_STACK_CASES 64

/**
 * chan_select - perform one of @n cases.
 * @cases: the cases; read on entry, *ok written for the case that fires.
 * @n: how many (0 allowed).
 * @deadline: CHAN_FOREVER, CHAN_NOWAIT (default branch), or an absolute
 *            chan_now() time.
 *
 * Returns the index of the case that fired, CHAN_DEFAULT, CHAN_TIMEOUT,
 * -EINVAL (NULL @cases with @n > 0, an unknown op, a NULL elem on a send of
 * a non-zero-size channel, or a case from CHAN_RECV/CHAN_SEND whose sizeof
 * *elem is not the channel's element size: see size_check), -EPERM (a send
 * case on a channel the library owns: a Done, timer or poll channel, which
 * users may only receive from) or -ENOMEM (more than CHAN_SELECT_STACK_CASES
 * cases and no memory).  Every case is checked before any channel is
 * touched: on an error nothing was communicated.
 */
int chan_select(chan_case_t *cases, size_t n, int64_t deadline);

/**
 * chan_select_try_recv, chan_select_try_send - the one-case select with a
 * default branch (Go's `select { case v, ok := <-c: default: }`, which Go
 * compiles to selectnbrecv / selectnbsend) as CHAN_SELECT(CHAN_NOWAIT, one
 * case) runs it: chan_try_recv(@c, @elem, @ok) / chan_try_send(@c, @elem)
 * (same results, same ordering, never blocks), after the checks a select
 * makes of its cases: @size, when not 0, must be the channel's element size
 * (else EINVAL; not checked on a zero-size channel), and a send on a
 * channel the library owns is EPERM (as chan_try_send).  Arguments in
 * registers and the operation's fast path inlined: as fast as the plain
 * call.  CHAN_SELECT's inline path maps the result to a select's
 * (chan__one_case_result); calling them directly is fine too.
 */
int chan_select_try_recv(chan_t *c, void *elem, bool *ok, size_t size);
int chan_select_try_send(chan_t *c, const void *elem, size_t size);

#ifndef __cplusplus
/*
 * CHAN__SIZEOF(p) - sizeof *p as the case builders record it, or 0 where
 * the pointer says nothing about the object's size: NULL, void pointers
 * and char pointers (raw bytes, also an array of bytes that decayed).  The
 * inner _Generic maps the void pointers to a char pointer so that the
 * dereference in the unselected branch is valid C.
 */
#define CHAN__SIZEOF(p)                                                             \
	_Generic((p), void *: 0u, const void *: 0u, char *: 0u, const char *: 0u,     \
		 signed char *: 0u, const signed char *: 0u, unsigned char *: 0u,       \
		 const unsigned char *: 0u, int: 0u, long: 0u,                          \
		 default: sizeof *_Generic((p), void *: (char *)0,             \
						     const void *: (char *)0,           \
						     int: (char *)0, long: (char *)0,   \
						     default: (p)))

/**
 * Build a receive case: value into @dst (or NULL), outcome into @okp (or
 * NULL).  sizeof *@dst is recorded: chan_select() returns -EINVAL if it is
 * not the channel's element size (a void or char @dst is not checked).
 */
#define CHAN_RECV(ch, dst, okp)                                                     \
	((chan_case_t){.chan = (ch), .elem = (dst), .ok = (okp),                     \
		       .op = CHAN_OP_RECV, .size_check = CHAN__SIZE_CHECK(CHAN__SIZEOF(dst))})
/**
 * Build a send case: the value at @val (may point to const), outcome into
 * @okp (or NULL); sizeof *@val is checked as for CHAN_RECV.  The library
 * only reads a send case's value: chan__send_value takes it as const void *
 * (an implicit conversion, which still rejects a non-pointer) and drops the
 * const through uintptr_t, which -Wcast-qual accepts.
 */
#define CHAN_SEND(ch, val, okp)                                                     \
	((chan_case_t){.chan = (ch), .elem = chan__send_value(val), .ok = (okp),     \
		       .op = CHAN_OP_SEND, .size_check = CHAN__SIZE_CHECK(CHAN__SIZEOF(val))})

static inline void *chan__send_value(const void *val)
{
	return (void *)(uintptr_t)val;
}

/**
 * CHAN_SELECT(deadline, case...) - a select statement over a temporary case
 * array; evaluates to chan_select()'s result, so it reads best as the
 * controlling expression of a switch (see the example above).  No allocation
 * for up to CHAN_SELECT_STACK_CASES cases.  (C++: the same statement, see
 * the end of this file.)
 */
#define CHAN_SELECT(deadline, ...)                                                  \
	chan__select_stmt((chan_case_t[]){__VA_ARGS__},                            \
			  sizeof((chan_case_t[]){__VA_ARGS__}) / sizeof(chan_case_t),  \
			  (deadline))

/*
 * The select result of the plain operation behind a one-case select (case
 * @index of the select): @err as the chan_send and chan_recv calls return
 * it (EPIPE: a send on a closed channel, which fires with ok == false), @ok
 * the receive's outcome.  Shared by CHAN_SELECT's inline path and select.c.
 */
static inline int chan__one_case_result(const chan_case_t *cs, int index, int err, bool ok)
{
	if (err == EPIPE && chan__case_sends(cs)) {
		ok = false;
		err = 0;
	}
	if (err == EAGAIN)
		return CHAN_DEFAULT;
	if (err == ETIMEDOUT)
		return CHAN_TIMEOUT;
	if (err)
		return -err;
	if (cs->ok)
		*cs->ok = ok;
	return index;
}

/*
 * CHAN_SELECT's call.  A select of one case with CHAN_NOWAIT is the plain
 * non-blocking operation (as Go compiles `select { case v := <-c: default: }`
 * to selectnbrecv), with chan_select()'s results and checks: the test folds
 * away when the case count and the deadline are compile-time constants, as
 * they are in the statement form, and so do the op and the size (the case
 * is a literal), leaving one call with its arguments in registers; anything
 * else is chan_select() itself.
 */
static inline int chan__select_stmt(chan_case_t *cases, size_t n, int64_t deadline)
{
	if (!(__builtin_constant_p(n) && n == 1 && __builtin_constant_p(deadline) &&
	      deadline == CHAN_NOWAIT))
		return chan_select(cases, n, deadline);

	chan_case_t *cs = &cases[0];
	bool ok = true;
	size_t size = (cs->size_check & ~CHAN__SIZE_MAX) == CHAN__SIZE_TAG
			      ? cs->size_check & CHAN__SIZE_MAX
			      : 0;

	if (cs->op != CHAN_OP_RECV && cs->op != CHAN_OP_SEND)
		return -EINVAL;
	if (!cs->chan)
		return CHAN_DEFAULT; /* a nil channel is never ready */
	/* The operation first, in a statement of its own: it writes @ok, and
	 * the order in which a call's arguments are evaluated is unspecified
	 * (gcc -O2 read @ok before the receive wrote it, so a receive from a
	 * closed channel reported ok == true). */
	int err = cs->op == CHAN_OP_RECV ? chan_select_try_recv(cs->chan, cs->elem, &ok, size)
					 : chan_select_try_send(cs->chan, cs->elem, size);

	return chan__one_case_result(cs, 0, err, ok);
}
#endif /* !__cplusplus */

/*
 * CHAN_RANGE's steps.  chan__range_start: whether @size (sizeof *dst, 0 if
 * unknown) fits channel @ch; if not, errno = EINVAL and the loop never runs.
 * chan__range_next: one receive; false (the loop ends) when the channel is
 * closed and drained, or on an error, which is left in errno.
 */
CHAN__INLINE bool chan__range_start(chan_t *ch, size_t size)
{
	size_t es = chan_elem_size(ch);

	if (size && es && size != es) {
		errno = EINVAL;
		return false;
	}
	return true;
}

CHAN__INLINE bool chan__range_next(chan_t *ch, void *dst, bool *ok)
{
	int err = chan_recv(ch, dst, ok);

	if (err) {
		errno = err;
		return false;
	}
	return *ok;
}

#define CHAN__CAT2(a, b) a##b
#define CHAN__CAT(a, b) CHAN__CAT2(a, b)

/**
 * CHAN_RANGE(ch, dst) - Go's `for v := range ch`: a loop whose body runs once
 * per value received into @dst, ending when @ch is closed and drained.
 * break and continue work as in any C loop.  Blocks like chan_recv().
 * sizeof *@dst is checked once, before the first receive: if it is not the
 * channel's element size (a void or char @dst is not checked) the loop
 * does not run and errno is EINVAL; an error of a receive (EINVAL for a
 * NULL @ch) also ends the loop with errno set.  A loop that ends because
 * the channel is closed leaves errno alone.  @ch is evaluated once per
 * iteration.  The loop's flag has a name of its own per use (__COUNTER__),
 * so nested loops do not shadow each other (-Wshadow).
 */
#define CHAN_RANGE(ch, dst) CHAN__RANGE((ch), (dst), CHAN__CAT(chan_range_ok_, __COUNTER__))
#define CHAN__RANGE(ch, dst, okv)                                                   \
	for (bool okv = chan__range_start(ch, CHAN__SIZEOF(dst));                    \
	     okv && chan__range_next(ch, dst, &okv);)

#ifdef __cplusplus
}

#include <type_traits>

/*
 * C++ (C++11 and later).  C++ has no compound literals, so the case builders
 * are an inline function and CHAN_SELECT hands its cases to a variadic
 * template that copies them into an array on its own stack frame: the same
 * statement form, the same single chan_select() call, still no allocation.
 *     switch (CHAN_SELECT(CHAN_FOREVER, CHAN_RECV(a, &v, &ok), CHAN_SEND(b, &w, NULL))) { ... }
 * As in C, the cases and send values are evaluated once, in no specified
 * order, before the select starts.
 */
inline chan_case_t chan__recv_case(chan_t *ch, void *elem, bool *ok, size_t size)
{
	chan_case_t c;
	c.chan = ch;
	c.elem = elem;
	c.ok = ok;
	c.op = CHAN_OP_RECV;
	c.size_check = CHAN__SIZE_CHECK(size);
	return c;
}

inline chan_case_t chan__send_case(chan_t *ch, const void *src, bool *ok, size_t size)
{
	chan_case_t c;
	c.chan = ch;
	c.elem = const_cast<void *>(src); /* only ever read (see CHAN_SEND) */
	c.ok = ok;
	c.op = CHAN_OP_SEND;
	c.size_check = CHAN__SIZE_CHECK(size);
	return c;
}

/* sizeof *p for the case builders: 0 for NULL, nullptr, void and char
 * pointers (unknown size), as CHAN__SIZEOF in C.  A trait over the decayed
 * type, not a function, so that g++'s NULL (__null, an integer) is never
 * passed as an argument (-Wconversion-null). */
template <typename T>
struct chan__pointee_size {
	static constexpr size_t value = 0;
};
template <typename T>
struct chan__pointee_size<T *> {
	static constexpr size_t value = sizeof(T);
};
#define CHAN__UNSIZED_POINTER(T)                                                    \
	template <>                                                                \
	struct chan__pointee_size<T *> {                                           \
		static constexpr size_t value = 0;                                 \
	};                                                                         \
	template <>                                                                \
	struct chan__pointee_size<const T *> {                                     \
		static constexpr size_t value = 0;                                 \
	};
CHAN__UNSIZED_POINTER(void)
CHAN__UNSIZED_POINTER(char)
CHAN__UNSIZED_POINTER(signed char)
CHAN__UNSIZED_POINTER(unsigned char)
#undef CHAN__UNSIZED_POINTER

template <typename... Cases>
inline int chan__select_cxx(int64_t deadline, Cases... cases)
{
	chan_case_t array[] = {cases...};
	return chan_select(array, sizeof...(cases), deadline);
}

#define CHAN__SIZEOF(p) (chan__pointee_size<std::decay<decltype(p)>::type>::value)
#define CHAN_RECV(ch, dst, okp) chan__recv_case((ch), (dst), (okp), CHAN__SIZEOF(dst))
#define CHAN_SEND(ch, val, okp) chan__send_case((ch), (val), (okp), CHAN__SIZEOF(val))
#define CHAN_SELECT(deadline, ...) chan__select_cxx(static_cast<int64_t>(deadline), __VA_ARGS__)
#endif /* __cplusplus */

#endif /* GOCHAN_SELECT_H */

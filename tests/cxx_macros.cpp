// tests/cxx_macros.cpp - every public macro from C++, built by cxx-check with
// g++ and clang++ under -Wall -Wextra -Werror plus -Wold-style-cast -Wshadow
// -Wcast-qual (what a C++ user's strict build turns on), then run: the
// statement forms behave as in C, including the element-size check (the C++
// case builders record sizeof *ptr through a type trait) and the EPERM of a
// library-owned channel.  Prints "cxx_macros: ok" and exits 0, or names the
// first check that failed and exits 1.
#include <gochan.h>

#include <cstdint>
#include <cstdio>

#define CHECK(cond)                                                                \
	do {                                                                       \
		if (!(cond)) {                                                     \
			std::fprintf(stderr, "cxx_macros: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
			return 1;                                                  \
		}                                                                  \
	} while (0)

int main()
{
	chan_t *a = chan_new(sizeof(int64_t), 4);
	chan_t *b = chan_new(sizeof(int64_t), 4);
	CHECK(a && b);
	const int64_t one = 1; // a const value: CHAN_SEND takes it without a cast
	bool ok = false;
	CHECK(CHAN_SELECT(CHAN_NOWAIT, CHAN_SEND(a, &one, &ok)) == 0 && ok);
	CHECK(CHAN_SELECT(CHAN_FOREVER, CHAN_SEND(b, &one, NULL), CHAN_RECV(a, NULL, NULL)) >= 0);

	// Element sizes: a 32-bit destination for a 64-bit channel is refused.
	int32_t small = 0;
	int64_t v = 0;
	CHECK(chan_send(a, &one) == 0);
	CHECK(CHAN_SELECT(CHAN_NOWAIT, CHAN_RECV(a, &small, NULL)) == -EINVAL);
	CHECK(CHAN_SELECT(CHAN_FOREVER, CHAN_RECV(a, &v, nullptr)) == 0 && v == 1);
	unsigned char bytes[8]; // raw bytes are not checked
	CHECK(chan_send(a, &one) == 0);
	CHECK(CHAN_SELECT(CHAN_NOWAIT, CHAN_RECV(a, bytes, NULL)) == 0);

	// Nested CHAN_RANGE under -Wshadow.
	CHECK(chan_close(a) == 0 && chan_close(b) == 0);
	int64_t x, y, n = 0;
	CHAN_RANGE(b, &x) {
		CHAN_RANGE(a, &y) n += 100;
		n += x;
	}
	// Either the select above sent to b (a kept its value: 100 + 1) or it
	// received from a (both empty: 0).
	CHECK(n == 101 || n == 0);

	// A library-owned channel refuses a send from C++ too.
	gotime_timer_t *t = gotime_timer_new(GOTIME_HOUR);
	CHECK(t);
	CHECK(CHAN_SELECT(CHAN_NOWAIT, CHAN_SEND(gotime_timer_chan(t), &one, NULL)) == -EPERM);
	CHECK(chan_close(gotime_timer_chan(t)) == EPERM);
	gotime_timer_free(t);

	{
		ctx_t *c CTX_SCOPED = ctx_with_timeout(ctx_background(), 10 * GOTIME_MILLISECOND);
		CHECK(c && ctx_recv(c, b, &v, &ok) == 0 && !ok); // b is closed and drained
	}
	CHECK(chan_cap(a) < CHAN_MAX_ELEM_SIZE && GOWG_MAX > 0 && GOPOLL_IDLE_LINGER_NS > 0);
	CHECK(chan_unref(a) == 0 && chan_unref(b) == 0);
	CHECK(godiag_verify_none(chan_deadline_in(5 * GOTIME_SECOND)) == 0);
	std::puts("cxx_macros: ok");
	return 0;
}

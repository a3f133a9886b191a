/*
 * tests/test_chan_basic.c - creation, sizes, plain and non-blocking send and
 * receive, len/cap, NULL arguments and chan_strerror (gochan/chan.h).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <gochan/chan.h>
#include <stdint.h>
#include <string.h>

#include "tests/leakcheck.h"
#include "testutil.h"

TU_LEAK_CHECKED_SUITE(chan_basic);

/* ---- chan_new ---------------------------------------------------------- */

Test(chan_basic, new_unbuffered, .timeout = 5)
{
	chan_t *c = chan_new(sizeof(int), 0);
	cr_assert_not_null(c);
	cr_assert_eq(chan_cap(c), 0);
	cr_assert_eq(chan_len(c), 0);
	cr_assert_eq(chan_elem_size(c), sizeof(int));
	cr_assert_not(chan_is_closed(c));
	cr_assert_eq(chan_unref(c), 0);
}

Test(chan_basic, new_buffered_caps, .timeout = 5)
{
	static const size_t caps[] = {1, 2, 7, 64, 1000};
	for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++) {
		chan_t *c = chan_new(sizeof(long), caps[i]);
		cr_assert_not_null(c, "cap %zu", caps[i]);
		cr_assert_eq(chan_cap(c), caps[i]);
		cr_assert_eq(chan_len(c), 0);
		cr_assert_eq(chan_elem_size(c), sizeof(long));
		cr_assert_eq(chan_unref(c), 0);
	}
}

/* Go's chan struct{}: no data, only counts (also test/chan/zerosize.go). */
Test(chan_basic, new_zero_elem, .timeout = 5)
{
	for (size_t cap = 0; cap < 4; cap++) {
		chan_t *c = chan_new(0, cap);
		cr_assert_not_null(c);
		cr_assert_eq(chan_elem_size(c), 0);
		cr_assert_eq(chan_cap(c), cap);
		cr_assert_eq(chan_unref(c), 0);
	}
}

Test(chan_basic, new_bad_sizes_einval, .timeout = 5)
{
	errno = 0;
	cr_assert_null(chan_new(CHAN_MAX_ELEM_SIZE + 1, 0));
	cr_assert_eq(errno, EINVAL);
	errno = 0;
	cr_assert_null(chan_new(SIZE_MAX, 0));
	cr_assert_eq(errno, EINVAL);
	errno = 0;
	cr_assert_null(chan_new(SIZE_MAX, 1));
	cr_assert_eq(errno, EINVAL);
	/* elem_size * cap overflows size_t */
	errno = 0;
	cr_assert_null(chan_new(8, SIZE_MAX / 4));
	cr_assert_eq(errno, EINVAL);
	errno = 0;
	cr_assert_null(chan_new((size_t)1 << 20, (size_t)1 << 50));
	cr_assert_eq(errno, EINVAL);
	errno = 0;
	cr_assert_null(chan_new(2, SIZE_MAX / 2 + 1));
	cr_assert_eq(errno, EINVAL);
}

/* A product that fits size_t but not in memory (or overflows once the header
 * is added): NULL with EINVAL or ENOMEM, never a crash. */
#if defined(__SANITIZE_ADDRESS__)
#define TU_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TU_ASAN 1
#endif
#endif
Test(chan_basic, new_huge_buffer_fails_cleanly, .timeout = 5)
{
#ifndef TU_ASAN /* ASan aborts on such a request instead of returning NULL */
	errno = 0;
	cr_assert_null(chan_new(1, SIZE_MAX / 2));
	cr_assert(errno == EINVAL || errno == ENOMEM, "errno %d", errno);
#endif
	errno = 0;
	cr_assert_null(chan_new(1, SIZE_MAX));
	cr_assert(errno == EINVAL || errno == ENOMEM, "errno %d", errno);
}

/* The largest element size is accepted; an unbuffered channel needs no buffer. */
Test(chan_basic, new_max_elem_unbuffered, .timeout = 5)
{
	chan_t *c = chan_new(CHAN_MAX_ELEM_SIZE, 0);
	cr_assert_not_null(c);
	cr_assert_eq(chan_elem_size(c), CHAN_MAX_ELEM_SIZE);
	cr_assert_eq(chan_unref(c), 0);
}

/* ---- send / recv --------------------------------------------------------- */

Test(chan_basic, send_recv_buffered, .timeout = 5)
{
	chan_t *c = chan_new(sizeof(int), 4);
	int v = 42, out = 0;
	bool ok = false;
	cr_assert_eq(chan_send(c, &v), 0);
	cr_assert_eq(chan_len(c), 1);
	cr_assert_eq(chan_recv(c, &out, &ok), 0);
	cr_assert(ok);
	cr_assert_eq(out, 42);
	cr_assert_eq(chan_len(c), 0);
	cr_assert_eq(chan_unref(c), 0);
}

/* The value is copied out of *elem before chan_send returns. */
Test(chan_basic, send_copies_value, .timeout = 5)
{
	chan_t *c = chan_new(sizeof(int), 2);
	int v = 1;
	cr_assert_eq(chan_send(c, &v), 0);
	v = 2;
	cr_assert_eq(chan_send(c, &v), 0);
	v = 99;
	int out;
	cr_assert_eq(chan_recv(c, &out, NULL), 0);
	cr_assert_eq(out, 1);
	cr_assert_eq(chan_recv(c, &out, NULL), 0);
	cr_assert_eq(out, 2);
	cr_assert_eq(chan_unref(c), 0);
}

/* elem == NULL discards the value; ok == NULL is allowed. */
Test(chan_basic, recv_discard_and_no_ok, .timeout = 5)
{
	chan_t *c = chan_new(sizeof(int), 2);
	int v = 7;
	cr_assert_eq(chan_send(c, &v), 0);
	cr_assert_eq(chan_send(c, &v), 0);
	bool ok = false;
	cr_assert_eq(chan_recv(c, NULL, &ok), 0);
	cr_assert(ok);
	cr_assert_eq(chan_recv(c, NULL, NULL), 0);
	cr_assert_eq(chan_len(c), 0);
	cr_assert_eq(chan_unref(c), 0);
}

/* Odd element sizes: exactly elem_size bytes are copied, no more. */
Test(chan_basic, odd_elem_sizes_exact_copy, .timeout = 5)
{
	static const size_t sizes[] = {1, 3, 7, 13, 100, 257};
	for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
		size_t n = sizes[s];
		chan_t *c = chan_new(n, 3);
		unsigned char in[300], out[300 + 16];
		for (size_t i = 0; i < n; i++)
			in[i] = (unsigned char)(i * 31 + n);
		cr_assert_eq(chan_send(c, in), 0);
		memset(out, 0xA5, sizeof out);
		cr_assert_eq(chan_recv(c, out, NULL), 0);
		cr_assert_arr_eq(out, in, n, "size %zu", n);
		for (size_t i = n; i < n + 16; i++)
			cr_assert_eq(out[i], 0xA5, "size %zu: byte %zu overwritten", n, i);
		cr_assert_eq(chan_unref(c), 0);
	}
}

/* Elements larger than Go's 64 KiB limit work (buffered and unbuffered). */
#define BIG (100 * 1024)
struct big_arg {
	chan_t *c;
	int rc;
};
static void *big_sender(void *p)
{
	struct big_arg *a = p;
	unsigned char *buf = malloc(BIG);
	for (size_t i = 0; i < BIG; i++)
		buf[i] = (unsigned char)(i * 7 + 1);
	a->rc = chan_send(a->c, buf);
	free(buf);
	return NULL;
}
Test(chan_basic, big_elements, .timeout = 10)
{
	unsigned char *exp = malloc(BIG), *out = malloc(BIG);
	for (size_t i = 0; i < BIG; i++)
		exp[i] = (unsigned char)(i * 7 + 1);
	for (size_t cap = 0; cap < 3; cap++) {
		chan_t *c = chan_new(BIG, cap);
		cr_assert_not_null(c);
		struct big_arg a = {c, -1};
		tu_go_t th = tu_spawn(big_sender, &a);
		memset(out, 0, BIG);
		bool ok = false;
		cr_assert_eq(chan_recv(c, out, &ok), 0);
		tu_join(th);
		cr_assert(ok);
		cr_assert_eq(a.rc, 0);
		cr_assert_eq(memcmp(out, exp, BIG), 0, "cap %zu: payload corrupted", cap);
		cr_assert_eq(chan_unref(c), 0);
	}
	free(exp);
	free(out);
}

/* Zero-size elements: NULL elem is fine, len counts, close reports ok=false. */
Test(chan_basic, zero_elem_counts, .timeout = 5)
{
	chan_t *c = chan_new(0, 3);
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(chan_try_send(c, NULL), 0);
		cr_assert_eq(chan_len(c), (size_t)i + 1);
	}
	cr_assert_eq(chan_try_send(c, NULL), EAGAIN);
	char dummy = 'x';
	cr_assert_eq(chan_send_until(c, &dummy, CHAN_NOWAIT), ETIMEDOUT);
	bool ok = false;
	cr_assert_eq(chan_recv(c, NULL, &ok), 0);
	cr_assert(ok);
	cr_assert_eq(chan_recv(c, &dummy, &ok), 0); /* elem ignored for size 0 */
	cr_assert(ok);
	cr_assert_eq(dummy, 'x');
	cr_assert_eq(chan_len(c), 1);
	cr_assert_eq(chan_close(c), 0);
	cr_assert_eq(chan_recv(c, NULL, &ok), 0);
	cr_assert(ok);
	cr_assert_eq(chan_recv(c, NULL, &ok), 0);
	cr_assert_not(ok);
	cr_assert_eq(chan_unref(c), 0);
}

/* A large capacity of zero-size elements needs no buffer memory. */
Test(chan_basic, zero_elem_large_cap, .timeout = 5)
{
	const size_t cap = (size_t)1 << 20;
	chan_t *c = chan_new(0, cap);
	cr_assert_not_null(c);
	cr_assert_eq(chan_cap(c), cap);
	for (size_t i = 0; i < 5000; i++)
		cr_assert_eq(chan_try_send(c, NULL), 0);
	cr_assert_eq(chan_len(c), 5000);
	cr_assert_eq(chan_unref(c), 0);
}

/* ---- len / cap ----------------------------------------------------------- */

Test(chan_basic, len_tracks_buffer, .timeout = 5)
{
	chan_t *c = chan_new(sizeof(int), 5);
	for (int i = 0; i < 5; i++) {
		cr_assert_eq(chan_send(c, &i), 0);
		cr_assert_eq(chan_len(c), (size_t)i + 1);
		cr_assert_eq(chan_cap(c), 5);
	}
	for (int i = 0; i < 5; i++) {
		int v;
		cr_assert_eq(chan_recv(c, &v, NULL), 0);
		cr_assert_eq(chan_len(c), (size_t)(4 - i));
	}
	/* Wrap the ring a few times. */
	for (int round = 0; round < 20; round++) {
		for (int i = 0; i < 3; i++)
			cr_assert_eq(chan_send(c, &i), 0);
		cr_assert_eq(chan_len(c), 3);
		for (int i = 0; i < 3; i++) {
			int v = -1;
			cr_assert_eq(chan_recv(c, &v, NULL), 0);
			cr_assert_eq(v, i);
		}
	}
	cr_assert_eq(chan_close(c), 0);
	cr_assert_eq(chan_cap(c), 5);
	cr_assert_eq(chan_unref(c), 0);
}

/* ---- non-blocking -------------------------------------------------------- */

Test(chan_basic, try_ops_unbuffered, .timeout = 5)
{
	chan_t *c = chan_new(sizeof(int), 0);
	int v = 1;
	bool ok = true;
	cr_assert_eq(chan_try_send(c, &v), EAGAIN);
	cr_assert_eq(chan_try_recv(c, &v, &ok), EAGAIN);
	cr_assert_eq(chan_len(c), 0);
	cr_assert_eq(chan_unref(c), 0);
}

Test(chan_basic, try_ops_buffered, .timeout = 5)
{
	chan_t *c = chan_new(sizeof(int), 2);
	int v = 0;
	bool ok;
	cr_assert_eq(chan_try_recv(c, &v, &ok), EAGAIN);
	v = 10;
	cr_assert_eq(chan_try_send(c, &v), 0);
	v = 11;
	cr_assert_eq(chan_try_send(c, &v), 0);
	v = 12;
	cr_assert_eq(chan_try_send(c, &v), EAGAIN);
	cr_assert_eq(chan_len(c), 2);
	cr_assert_eq(chan_try_recv(c, &v, &ok), 0);
	cr_assert(ok);
	cr_assert_eq(v, 10);
	cr_assert_eq(chan_try_recv(c, &v, &ok), 0);
	cr_assert_eq(v, 11);
	cr_assert_eq(chan_try_recv(c, &v, &ok), EAGAIN);
	cr_assert_eq(chan_unref(c), 0);
}

/* Go: a non-blocking receive on a closed, drained channel is ready (zero, false). */
Test(chan_basic, try_ops_closed, .timeout = 5)
{
	chan_t *c = chan_new(sizeof(int), 1);
	int v = 5;
	cr_assert_eq(chan_try_send(c, &v), 0);
	cr_assert_eq(chan_close(c), 0);
	cr_assert_eq(chan_try_send(c, &v), EPIPE);
	bool ok = false;
	v = 0;
	cr_assert_eq(chan_try_recv(c, &v, &ok), 0);
	cr_assert(ok);
	cr_assert_eq(v, 5);
	v = 77;
	cr_assert_eq(chan_try_recv(c, &v, &ok), 0);
	cr_assert_not(ok);
	cr_assert_eq(v, 0);
	cr_assert_eq(chan_unref(c), 0);
}

/* ---- NULL arguments ------------------------------------------------------ */

Test(chan_basic, null_channel_einval, .timeout = 5)
{
	int v = 0;
	bool ok;
	cr_assert_eq(chan_send(NULL, &v), EINVAL);
	cr_assert_eq(chan_try_send(NULL, &v), EINVAL);
	cr_assert_eq(chan_send_until(NULL, &v, CHAN_NOWAIT), EINVAL);
	cr_assert_eq(chan_send_until(NULL, &v, CHAN_FOREVER), EINVAL);
	cr_assert_eq(chan_recv(NULL, &v, &ok), EINVAL);
	cr_assert_eq(chan_try_recv(NULL, &v, &ok), EINVAL);
	cr_assert_eq(chan_recv_until(NULL, &v, &ok, CHAN_NOWAIT), EINVAL);
	cr_assert_eq(chan_recv_until(NULL, &v, &ok, CHAN_FOREVER), EINVAL);
	cr_assert_eq(chan_close(NULL), EINVAL);
	cr_assert_eq(chan_unref(NULL), EINVAL);
	cr_assert_null(chan_ref(NULL));
	cr_assert_eq(chan_len(NULL), 0);
	cr_assert_eq(chan_cap(NULL), 0);
	cr_assert_eq(chan_elem_size(NULL), 0);
}

Test(chan_basic, null_elem_einval, .timeout = 5)
{
	chan_t *c = chan_new(sizeof(int), 1);
	cr_assert_eq(chan_send(c, NULL), EINVAL);
	cr_assert_eq(chan_try_send(c, NULL), EINVAL);
	cr_assert_eq(chan_send_until(c, NULL, CHAN_NOWAIT), EINVAL);
	cr_assert_eq(chan_send_until(c, NULL, chan_deadline_in(1000000)), EINVAL);
	cr_assert_eq(chan_len(c), 0, "a rejected send must not enqueue");
	/* EINVAL wins over the closed state: bad input is reported as such.
	 * (Either order is defensible; what matters is no crash and no value.) */
	cr_assert_eq(chan_close(c), 0);
	int rc = chan_send(c, NULL);
	cr_assert(rc == EINVAL || rc == EPIPE, "rc %d", rc);
	cr_assert_eq(chan_len(c), 0);
	cr_assert_eq(chan_unref(c), 0);
}

/* ---- chan_strerror -------------------------------------------------------- */

Test(chan_basic, strerror_go_wording, .timeout = 5)
{
	static const int errs[] = {EINVAL, EPIPE, EALREADY, EAGAIN, ETIMEDOUT, EBUSY, ENOMEM};
	const size_t n = sizeof errs / sizeof errs[0];
	const char *s[sizeof errs / sizeof errs[0]];
	for (size_t i = 0; i < n; i++) {
		s[i] = chan_strerror(errs[i]);
		cr_assert_not_null(s[i], "err %d", errs[i]);
		cr_assert_neq(s[i][0], '\0', "err %d", errs[i]);
		for (size_t j = 0; j < i; j++)
			cr_assert_str_neq(s[i], s[j], "errors %d and %d share a message", errs[i],
					  errs[j]);
	}
	cr_assert_not_null(strstr(chan_strerror(EPIPE), "send on closed channel"));
	cr_assert_not_null(strstr(chan_strerror(EALREADY), "close of closed channel"));
	/* Success and unknown values still give a printable string. */
	cr_assert_not_null(chan_strerror(0));
	cr_assert_not_null(chan_strerror(123456));
	cr_assert_not_null(chan_strerror(-1));
	cr_assert_not_null(chan_strerror(-EINVAL));
}

/* ---- chan_now / chan_deadline_in ------------------------------------------ */

Test(chan_basic, now_monotonic, .timeout = 5)
{
	int64_t prev = chan_now();
	cr_assert_gt(prev, 0);
	for (int i = 0; i < 10000; i++) {
		int64_t t = chan_now();
		cr_assert_geq(t, prev);
		prev = t;
	}
	/* chan_now is CLOCK_MONOTONIC: it agrees with the clock read directly. */
	int64_t a = tu_now_ns(), b = chan_now(), d = tu_now_ns();
	cr_assert(a <= b && b <= d, "%lld %lld %lld", (long long)a, (long long)b, (long long)d);
}

Test(chan_basic, deadline_in, .timeout = 5)
{
	int64_t before = chan_now();
	int64_t d = chan_deadline_in(5000000);
	int64_t after = chan_now();
	cr_assert(d >= before + 5000000 && d <= after + 5000000);
	cr_assert_leq(chan_deadline_in(0), chan_now());
	int64_t past = chan_deadline_in(-1000);
	cr_assert_leq(past, chan_now());
	cr_assert_neq(past, CHAN_FOREVER, "a passed deadline must not read as forever");
	cr_assert_neq(chan_deadline_in(INT64_MIN), CHAN_FOREVER);
	cr_assert_leq(chan_deadline_in(INT64_MIN), chan_now());
	/* Saturates instead of overflowing into the past. */
	cr_assert_gt(chan_deadline_in(INT64_MAX), chan_now());
	cr_assert_gt(chan_deadline_in(INT64_MAX - 1), chan_now());
}

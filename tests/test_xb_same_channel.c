/*
 * tests/test_xb_same_channel.c - crossbeam-channel's tests/same_channel.rs
 * ported: Sender/Receiver::same_channel is pointer equality of chan_t *
 * (Go's `ch1 == ch2`), and clone() is chan_ref, which returns the same
 * channel.
 *
 * Mapping: bounded(n) -> chan_new(size, n); bounded(0) -> chan_new(size, 0);
 * after(d) -> gotime_after(d); tick(d) -> gotime_tick(d); never() -> NULL
 * (Go's nil channels compare equal, as crossbeam's never channels do).
 *
 * Ported: after_same_channel, array_same_channel, never_same_channel,
 * tick_same_channel, zero_same_channel, different_flavors_same_channel (6).
 * Skipped (1): list_same_channel: gochan has no unbounded channel (list
 * flavor).  different_flavors compares bounded(0) with a buffered channel
 * instead of with an unbounded one.
 */
#include <criterion/criterion.h>
#include <gochan/chan.h>
#include <gochan/time.h>

#include "test_xb_util.h"
#include "tests/leakcheck.h"

TU_LEAK_CHECKED_SUITE(xb_same_channel);

/* @r and its clone are one channel; @r3 and @r4 (if not NULL) are others. */
static void check_three(chan_t *r, chan_t *r3, chan_t *r4)
{
	chan_t *r2 = chan_ref(r); /* r.clone() */
	cr_assert_eq(r, r2);
	cr_assert_neq(r, r3);
	cr_assert_neq(r2, r3);
	if (r4) {
		cr_assert_neq(r, r4);
		cr_assert_neq(r2, r4);
	}
	cr_assert_eq(chan_unref(r2), 0);
}

Test(xb_same_channel, after_same_channel)
{
	chan_t *r = gotime_after(50 * XB_MS), *r3 = gotime_after(50 * XB_MS),
	       *r4 = gotime_after(100 * XB_MS);
	check_three(r, r3, r4);
	cr_assert_eq(chan_unref(r), 0);
	cr_assert_eq(chan_unref(r3), 0);
	cr_assert_eq(chan_unref(r4), 0);
}

Test(xb_same_channel, array_same_channel)
{
	chan_t *c = chan_new(sizeof(size_t), 1), *c3 = chan_new(sizeof(size_t), 1);
	check_three(c, c3, NULL);
	cr_assert_eq(chan_unref(c), 0);
	cr_assert_eq(chan_unref(c3), 0);
}

Test(xb_same_channel, never_same_channel)
{
	chan_t *r = NULL, *r2 = chan_ref(r), *r3 = NULL;
	cr_assert_eq(r, r2);
	cr_assert_eq(r, r3); /* never channels are all equal */
	cr_assert_eq(r2, r3);
}

Test(xb_same_channel, tick_same_channel)
{
	chan_t *r = gotime_tick(50 * XB_MS), *r3 = gotime_tick(50 * XB_MS),
	       *r4 = gotime_tick(100 * XB_MS);
	check_three(r, r3, r4);
	cr_assert_eq(chan_unref(r), 0);
	cr_assert_eq(chan_unref(r3), 0);
	cr_assert_eq(chan_unref(r4), 0);
}

Test(xb_same_channel, zero_same_channel)
{
	chan_t *c = chan_new(sizeof(size_t), 0), *c3 = chan_new(sizeof(size_t), 0);
	check_three(c, c3, NULL);
	cr_assert_eq(chan_unref(c), 0);
	cr_assert_eq(chan_unref(c3), 0);
}

Test(xb_same_channel, different_flavors_same_channel)
{
	chan_t *c1 = chan_new(sizeof(size_t), 0), *c2 = chan_new(sizeof(size_t), 64);
	cr_assert_neq(c1, c2);
	cr_assert_eq(chan_unref(c1), 0);
	cr_assert_eq(chan_unref(c2), 0);
}

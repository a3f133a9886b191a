/*
 * fiber/deadline.h - the deadlines of parked fibers: ONE min-heap for the
 * whole runtime, under its own lock (a leaf: nothing is taken under it),
 * so that every worker sees the earliest deadline and an idle worker can
 * sleep exactly until it.  Not installed.
 *
 * A fiber is in the heap exactly while it is parked with a deadline and
 * not yet made runnable by the heap's expiry: the commit of its park
 * (gofiber__dl_commit) pushes it under the lock in the same critical
 * section as the commit CAS, so that a completer's ready() cannot make it
 * run (and leave, gofiber__dl_forget) before it is in.
 */
#ifndef GOCHAN_FIBER_DEADLINE_H
#define GOCHAN_FIBER_DEADLINE_H

#include <stdbool.h>
#include <stdint.h>

struct gofiber;

/*
 * gofiber__dl_commit - the commit of @f's park (CAS of its parker's futex
 * 0 -> 2, acq_rel on success, acquire on failure, see fiber/sched.c), and,
 * if it succeeded and f->deadline >= 0, its entry into the heap.  Returns
 * whether the fiber is parked (false: already complete, run it again).
 */
bool gofiber__dl_commit(struct gofiber *f);

/* gofiber__dl_forget - @f runs again: out of the heap if still in it. */
void gofiber__dl_forget(struct gofiber *f);

/*
 * gofiber__dl_expire - time out the parked fibers whose deadline is <= @now:
 * each one whose timeout CAS (futex 2 -> 0) wins gets timed_out set and is
 * returned in a list linked by ->next, for the caller to make runnable.
 * The others are being readied by a completer and only leave the heap.
 */
struct gofiber *gofiber__dl_expire(int64_t now);

/* The earliest deadline in the heap, INT64_MAX if none (a racy hint). */
int64_t gofiber__dl_earliest(void);

#endif

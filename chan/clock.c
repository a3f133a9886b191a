/*
 * chan/clock.c - the monotonic clock that deadlines are measured on, and
 * the error strings.
 */
#include <errno.h>
#include <gochan/chan.h>
#include <stdint.h>
#include <time.h>

int64_t chan_now(void)
{
	struct timespec ts;

	/* CLOCK_MONOTONIC is answered by the vDSO (~20 ns, no system call). */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t chan_deadline_in(int64_t ns)
{
	int64_t now = chan_now();

	if (ns <= 0)
		return now;
	if (ns > INT64_MAX - now)
		return INT64_MAX;
	return now + ns;
}

const char *chan_strerror(int err)
{
	if (err < 0)
		err = -err;
	switch (err) {
	case 0:
		return "success";
	case EINVAL:
		return "invalid argument (nil channel or bad size)";
	case EPIPE:
		return "send on closed channel";
	case EALREADY:
		return "close of closed channel";
	case EAGAIN:
		return "operation would block";
	case ETIMEDOUT:
		return "deadline passed";
	case EBUSY:
		return "channel still has blocked waiters";
	case ENOMEM:
		return "out of memory";
	default:
		return "unknown error";
	}
}

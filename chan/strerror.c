/*
 * chan/strerror.c - chan_strerror: the library's error numbers in words.
 */
#include <errno.h>
#include <gochan/chan.h>

#include "chan/chan_internal.h"

const char *chan__strerror_known(int err)
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
	case EPERM:
		/* Go: a compile error, "send to receive-only channel" / "close of
		 * receive-only channel". */
		return "send, close or unref of a receive-only (library-owned) channel";
	default:
		return NULL;
	}
}

const char *chan_strerror(int err)
{
	const char *s = chan__strerror_known(err);

	return s ? s : "unknown error";
}

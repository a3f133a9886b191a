/*
 * chan/chan_internal.h - what other gochan modules (timer/, context/,
 * poll/) may use of a channel's insides.  Not installed; not for users.
 */
#ifndef GOCHAN_CHAN_INTERNAL_H
#define GOCHAN_CHAN_INTERNAL_H

#include <gochan/chan.h>
#include <gochan/select.h>

/*
 * chan__new_timer - a channel for Go 1.23 timer semantics: it buffers at most
 * one value internally (so the timer thread never blocks on it), but reports
 * len 0 and cap 0 like Go's timer channels.  One reference, as chan_new().
 */
chan_t *chan__new_timer(size_t elem_size);

/*
 * Channels the library owns (CHAN_F_OWNED, chan_impl.h): users may receive
 * from them and take and drop their own references (chan_ref/chan_unref);
 * chan_send*, chan_close, a select's send case and a chan_unref that would
 * drop the library's own reference return EPERM.
 *
 * chan__new_owned - chan_new() with the owner's reference (the only one).
 * chan__unref_owner - drop it (the library's chan_unref: 0 or EBUSY as
 *   chan_unref; the channel lives on while users hold references).
 * chan__try_send_owned - chan_try_send() for the owner.
 * chan__close_owned - chan_close() for the owner.
 * chan__new_timer (above) makes an owned channel too.
 */
chan_t *chan__new_owned(size_t elem_size, size_t cap);
int chan__unref_owner(chan_t *c);
int chan__try_send_owned(chan_t *c, const void *elem);
int chan__close_owned(chan_t *c);

/*
 * chan__clear - drop every buffered value (under the channel lock) and return
 * how many were dropped.  Timer Stop/Reset use it so that no value from an
 * earlier setting is received after they return.
 */
size_t chan__clear(chan_t *c);

/*
 * chan__refs - the channel's current reference count, the owner's reference
 * (CHAN_F_OWNED) counted as one (a relaxed read).  The
 * timer thread uses it to notice that only the timer itself still holds a
 * Tick/After channel (refs == 1): nobody can receive from it any more, so the
 * timer may stop.  Exact only in that sense: once it reads 1 while the timer
 * holds a reference, no other thread holds one, so it cannot grow again.
 */
size_t chan__refs(const chan_t *c);

/*
 * chan__strerror_known - chan_strerror()'s wording of @err (or -@err), or
 * NULL for a code the channel layer does not word.  ctx_strerror() words
 * every code of this list as chan_strerror() does, without a list of its
 * own to fall out of step.
 */
const char *chan__strerror_known(int err);

#endif

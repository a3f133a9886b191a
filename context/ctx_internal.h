/*
 * context/ctx_internal.h - queries into the context machinery, for tests
 * and stress programs only.  Not installed; not for users.
 */
#ifndef GOCHAN_CONTEXT_CTX_INTERNAL_H
#define GOCHAN_CONTEXT_CTX_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gochan/context.h>

/* Cancelable children registered with @c's nearest cancelable context (the
 * list a cancel walks).  Takes that context's lock.  0 for NULL/roots. */
size_t ctx__nchildren(ctx_t *c);

/* @c's reference count now (relaxed; exact only when quiescent); -1 for
 * NULL and the static roots. */
long ctx__refs(ctx_t *c);

/* Whether a deadline context still holds a pending timer. */
bool ctx__timer_pending(ctx_t *c);

/* Context objects (contexts and AfterFunc registrations) alive in the
 * process now: a relaxed counter, exact only when quiescent. */
long ctx__live(void);

/* ctx_after_func threads alive now, and started since the process began
 * (service/service.h: counted from before their start to their last access
 * to library state). */
unsigned ctx__after_threads_live(void);
uint64_t ctx__after_threads_started(void);

/* Block until no ctx_after_func thread is alive (each past its last access
 * to library state), or until @deadline (chan_now() time; CHAN_FOREVER: no
 * limit).  0 or ETIMEDOUT.  Synchronisation, not polling. */
int ctx__after_wait_threads(int64_t deadline);

#endif

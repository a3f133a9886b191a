/*
 * context/ctx_internal.h - queries into the context machinery, for tests
 * and stress programs only.  Not installed; not for users.
 */
#ifndef GOCHAN_CONTEXT_CTX_INTERNAL_H
#define GOCHAN_CONTEXT_CTX_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

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

#endif

/*
 * select/select_internal.h - what other gochan modules (context/) may use of
 * select beyond its public API.  Not installed; not for users.
 */
#ifndef GOCHAN_SELECT_INTERNAL_H
#define GOCHAN_SELECT_INTERNAL_H

#include <gochan/select.h>
#include <stddef.h>
#include <stdint.h>

/*
 * chan__select_ra - chan_select() for other modules' public entry points
 * (ctx_select, ctx_send, ctx_recv): @ra, their own return address, is what
 * the diagnostics dump shows as the call site if the select parks.
 * Otherwise exactly chan_select().
 */
int chan__select_ra(chan_case_t *cases, size_t n, int64_t deadline, const void *ra);

#endif

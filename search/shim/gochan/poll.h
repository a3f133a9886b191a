/* TEMPORARY stand-in for the poll module's header (see search/shim/README.md). */
#ifndef GOCHAN_POLL_H
#define GOCHAN_POLL_H
#include <gochan/context.h>
#define GOPOLL_HANGUP 0x48555000 /* stand-in value */
ctx_t *gopoll_hangup_ctx(ctx_t *parent, int fd);
#endif

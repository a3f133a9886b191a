/* TEMPORARY stand-in for the group module's header (see search/shim/README.md). */
#ifndef GOCHAN_GROUP_H
#define GOCHAN_GROUP_H
#include <gochan/context.h>
typedef struct gogroup gogroup_t;
gogroup_t *gogroup_with_context(ctx_t *parent, ctx_t **ctx_out);
int gogroup_go(gogroup_t *g, int (*fn)(void *arg), void *arg);
int gogroup_wait(gogroup_t *g);
int gogroup_free(gogroup_t *g);
#endif

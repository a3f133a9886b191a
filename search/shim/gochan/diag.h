/* TEMPORARY stand-in for the diag module's header (see search/shim/README.md). */
#ifndef GOCHAN_DIAG_H
#define GOCHAN_DIAG_H
#include <stddef.h>
#include <stdint.h>
char *godiag_dump_json(void);
unsigned godiag_threads(void);
int godiag_verify_none(int64_t deadline);
#endif

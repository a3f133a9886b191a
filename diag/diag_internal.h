/*
 * diag/diag_internal.h - what the tests may use of the diag module's
 * insides.  Not installed; not for users.
 */
#ifndef GOCHAN_DIAG_INTERNAL_H
#define GOCHAN_DIAG_INTERNAL_H

#include <stdint.h>

/* Dumps godiag_signal's thread has written since the process started. */
unsigned long godiag__signal_dumps(void);

/* Wait until at least @n such dumps are written, or the chan_now() time
 * @deadline.  0 or ETIMEDOUT. */
int godiag__signal_wait_dumps(unsigned long n, int64_t deadline);

#endif

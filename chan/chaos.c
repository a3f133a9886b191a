/*
 * chan/chaos.c - chaos mode (GOCHAN_CHAOS=<seed>).  Minimal version: the flag
 * stays off.  The full implementation belongs to fuzz work.
 */
#include "chaos.h"

#include <sched.h>

atomic_bool chan__chaos_on = false;

void chan__chaos_perturb(void)
{
	sched_yield();
}

uint64_t chan__chaos_rand(void)
{
	return 0;
}

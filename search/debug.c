/* search/debug.c - see debug.h. */
#include "search/debug.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gochan/diag.h>

#include "search/budget.h"
#include "search/guard.h"
#include "search/stats.h"

/* Threads of this process now (Linux: /proc/self/stat field 20). */
static long process_threads(void)
{
	FILE *f = fopen("/proc/self/stat", "r");
	if (!f)
		return -1;
	char buf[1024];
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = 0;
	char *p = strrchr(buf, ')'); /* the command name may hold spaces */
	if (!p)
		return -1;
	long v = -1;
	/* after ")": state(3) ppid pgrp session tty tpgid flags minflt cminflt
	 * majflt cmajflt utime stime cutime cstime priority nice num_threads(20) */
	if (sscanf(p + 1,
		   " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %ld",
		   &v) != 1)
		return -1;
	return v;
}

void debug_vars(struct jbuf *out)
{
	jbuf_printf(out,
		    "{\"requests_in_progress\":%ld,\"scans_in_progress\":%ld,\"workers_alive\":%ld,"
		    "\"fds_held\":%ld,\"contexts_alive\":%ld,\"requests_total\":%ld,"
		    "\"scans_canceled\":%ld,\"connections_open\":%ld,\"scan_threads_free\":%ld,"
		    "\"library_threads\":%u,"
		    "\"process_threads\":%ld,"
		    "\"blocked\":",
		    stat_get(&stats.requests_in_progress), stat_get(&stats.scans_in_progress),
		    stat_get(&stats.workers_alive), stat_get(&stats.fds_held),
		    stat_get(&stats.contexts_alive), stat_get(&stats.requests_total),
		    stat_get(&stats.scans_canceled), guard_open_count(), budget_free_now(),
		    godiag_threads(), process_threads());
	char *dump = godiag_dump_json();
	jbuf_puts(out, dump ? dump : "null");
	free(dump);
	jbuf_puts(out, "}\n");
}

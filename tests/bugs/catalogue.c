/*
 * tests/bugs/catalogue.c - the list of bugs, in the order of issue 19.
 */
#include "bugs.h"

const struct bug_entry bug_catalogue[] = {
	{"leak_early_return", "a goroutine leaked on an early return (unbuffered result)",
	 bug_leak_early_return},
	{"zombie_scan", "scan workers outlive a hung-up request (sends ignore ctx)",
	 bug_zombie_scan},
	{"missed_close", "the last producer closes, decided by check-then-act", bug_missed_close},
	{"lost_wakeup", "a hand-written condition drops its wake-up", bug_lost_wakeup},
	{"select_starve", "a priority receive before the select starves a case", bug_select_starve},
	{"wg_add_after_wait", "WaitGroup Add inside the goroutine, after the Wait",
	 bug_wg_add_after_wait},
	{"send_on_closed", "the receiver closes while a sender still sends", bug_send_on_closed},
	{"deadlock_two_chans", "two channel locks taken in opposite orders",
	 bug_deadlock_two_chans},
	{"timeout_before_reply", "the client times out, the server commits anyway",
	 bug_timeout_before_reply},
	{"double_close", "two cancel paths both close done (check-then-act)", bug_double_close},
};

const unsigned bug_catalogue_len = sizeof(bug_catalogue) / sizeof(bug_catalogue[0]);

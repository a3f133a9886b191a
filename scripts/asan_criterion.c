/*
 * scripts/asan_criterion.c - linked into the ASan build of the Criterion
 * runner only (zig build asan).
 *
 * Criterion's own runner process keeps some bookkeeping allocated until exit,
 * which LeakSanitizer would report as a leak.  The runner process runs none of
 * our code (every test runs in a "boxfort-worker" process), so leak checking
 * is turned off there and left on in the workers, where our leaks would be.
 */
#include <stdbool.h>
#include <string.h>

static bool is_criterion_worker;

/* glibc passes (argc, argv, envp) to ELF constructors. */
__attribute__((constructor)) static void note_process_kind(int argc, char **argv, char **envp)
{
	(void)envp;
	is_criterion_worker = argc > 0 && argv[0] && strcmp(argv[0], "boxfort-worker") == 0;
}

/* LeakSanitizer's hook, consulted once at exit: nonzero skips the leak check. */
int __lsan_is_turned_off(void);
int __lsan_is_turned_off(void)
{
	return !is_criterion_worker;
}

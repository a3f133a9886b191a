/*
 * scripts/criterion_timeout_scale.c - linked into the Criterion runner that
 * `zig build test-arm64` runs under qemu (and into no other program).
 *
 * Emulated, the suites run 5-20x slower than the native runs their .timeout
 * values were sized for, so this multiplies every test's and suite's
 * timeout by GOCHAN_TEST_TIMEOUT_SCALE (scripts/qemu-run.sh sets it) before
 * Criterion's main() reads them.  A deadlock still fails, only later.
 * (Criterion's --timeout option cannot do this: it only ever lowers a
 * test's own timeout.)  Criterion keeps a pointer to each test and suite in
 * the ELF sections cr_tst and cr_sts, whose bounds the linker provides.
 */
#include <criterion/criterion.h>
#include <stdlib.h>

extern struct criterion_test *__start_cr_tst[] __attribute__((weak));
extern struct criterion_test *__stop_cr_tst[] __attribute__((weak));
extern struct criterion_suite *__start_cr_sts[] __attribute__((weak));
extern struct criterion_suite *__stop_cr_sts[] __attribute__((weak));

__attribute__((constructor)) static void scale_timeouts(void)
{
	const char *env = getenv("GOCHAN_TEST_TIMEOUT_SCALE");
	double scale = env ? atof(env) : 1.0;

	if (!(scale > 1.0))
		return;
	for (struct criterion_test **t = __start_cr_tst; t && t < __stop_cr_tst; t++)
		if (*t && (*t)->data && (*t)->data->timeout > 0)
			(*t)->data->timeout *= scale;
	for (struct criterion_suite **s = __start_cr_sts; s && s < __stop_cr_sts; s++)
		if (*s && (*s)->data && (*s)->data->timeout > 0)
			(*s)->data->timeout *= scale;
}

/*
 * scripts/print_version.c - what scripts/check-version.sh compares: the
 * version of the libgochan.so this program runs with (gochan_version()) and
 * the one of the header it was compiled with (GOCHAN_VERSION and its parts).
 */
#include <gochan.h>
#include <stdio.h>

int main(void)
{
	printf("gochan_version() %s\n", gochan_version());
	printf("GOCHAN_VERSION %s\n", GOCHAN_VERSION);
	printf("GOCHAN_VERSION_MAJOR.MINOR.PATCH %d.%d.%d\n", GOCHAN_VERSION_MAJOR,
	       GOCHAN_VERSION_MINOR, GOCHAN_VERSION_PATCH);
	printf("GOCHAN_VERSION_NUMBER %d\n", GOCHAN_VERSION_NUMBER);
	return 0;
}

/*
 * version/version.c - gochan_version(): the version of the library that is
 * linked, to compare with GOCHAN_VERSION, the one the caller was compiled
 * against (gochan/version.h).
 */
#include <gochan/version.h>

const char *gochan_version(void)
{
	return GOCHAN_VERSION;
}

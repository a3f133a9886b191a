/*
 * gochan/version.h - which gochan this is.
 *
 * One version number, MAJOR.MINOR.PATCH (semantic versioning), everywhere:
 * build.zig.zon's .version is the source; this header, gochan_version(),
 * gochan.pc's Version and the shared library's SONAME (libgochan.so.MAJOR)
 * repeat it, and `zig build version-check` (part of test-all) fails if any
 * of them differs.  CHANGELOG.md says what changed in each version.
 *
 *     #if GOCHAN_VERSION_NUMBER < GOCHAN_VERSION_ENCODE(0, 2, 0)
 *     ... code for older versions ...
 *     #endif
 */
#ifndef GOCHAN_VERSION_H
#define GOCHAN_VERSION_H

#ifdef __cplusplus
extern "C" {
#endif

#define GOCHAN_VERSION_MAJOR 0
#define GOCHAN_VERSION_MINOR 2
#define GOCHAN_VERSION_PATCH 0
/** The version as a string literal, "MAJOR.MINOR.PATCH". */
#define GOCHAN_VERSION "0.2.0"

/** A version as one comparable integer (MAJOR * 10000 + MINOR * 100 + PATCH). */
#define GOCHAN_VERSION_ENCODE(major, minor, patch) ((major) * 10000 + (minor) * 100 + (patch))
/** This header's version as one integer. */
#define GOCHAN_VERSION_NUMBER \
	GOCHAN_VERSION_ENCODE(GOCHAN_VERSION_MAJOR, GOCHAN_VERSION_MINOR, GOCHAN_VERSION_PATCH)

/**
 * gochan_version - the version of the library linked into the program,
 * "MAJOR.MINOR.PATCH" (a static string: never free it).  It equals
 * GOCHAN_VERSION when the program was built against the same release; a
 * different MAJOR means an incompatible library (the SONAME changes with it).
 * Never fails, never blocks, any thread.
 */
const char *gochan_version(void);

#ifdef __cplusplus
}
#endif

#endif /* GOCHAN_VERSION_H */

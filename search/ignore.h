/*
 * search/ignore.h - ripgrep's ignore rules for a scan: .ignore, .gitignore
 * and .git/info/exclude, read once per directory and shared down the walk.
 *
 * A scan keeps one node per directory that holds an ignore file or a .git
 * entry; a directory without either shares its parent's node, so a tree
 * without ignore files costs three failed lookups per directory and nothing
 * per file.  A node is immutable once made and reference counted: the
 * directory stack (dirq.h) holds one reference per queued directory, so
 * workers on other threads read it without a lock (the stack's mutex orders
 * the node's making before its reading).
 *
 * The decision for an entry is rg 13's (ignore crate, Ignore::matched):
 *   - per kind of file, the deepest directory whose file has a matching
 *     rule decides (within one file the last matching rule wins; a rule
 *     with '!' re-includes);
 *   - .gitignore and .git/info/exclude count only when the directory or an
 *     ancestor within the served tree holds .git, and a nested repository
 *     ends the reach of the .gitignore files above it;
 *   - .ignore counts everywhere, and goes before .gitignore, which goes
 *     before .git/info/exclude.
 * Nothing above the served root is read (not its parents' ignore files, not
 * core.excludesFile, not $HOME): a server answers for its tree only.
 *
 * Patterns are gitignore(5)'s: blank lines and '#' comments, '!' negation,
 * a trailing '/' for directories only, a '/' at the start or inside anchors
 * the pattern at the file's directory (else it matches the base name at any
 * depth), `*` `?` `[...]` never match '/', and a whole `**` component
 * matches any number of directories.
 */
#ifndef GOCHAN_SEARCH_IGNORE_H
#define GOCHAN_SEARCH_IGNORE_H

#include <stdbool.h>
#include <stddef.h>

struct ign_node;

enum ign_verdict {
	IGN_NONE,      /* no rule matched */
	IGN_IGNORE,    /* left out */
	IGN_WHITELIST, /* a '!' rule matched: kept (even if hidden, as rg) */
};

/* What went wrong reading one ignore file (not ENOENT): its name relative to
 * the directory and errno; ign_dir() reports at most this many. */
struct ign_errors {
	int n;
	struct {
		const char *name;
		int err;
	} e[3];
};

/*
 * The node for the directory @dirfd (its path from the served root: @path,
 * @plen bytes, "" for the root) under @parent (NULL at the served root):
 * a new node if the directory holds .ignore, .gitignore or .git, else
 * @parent with one more reference.  Ignore files that cannot be read are
 * listed in @errs and left out.  NULL when @parent is NULL and there is
 * nothing to read (errno 0), or when memory ran out (errno ENOMEM; then
 * @parent is still the caller's).
 */
struct ign_node *ign_dir(struct ign_node *parent, int dirfd, const char *path, size_t plen,
			 struct ign_errors *errs);

/* One more reference (relaxed: the caller already holds one). */
struct ign_node *ign_ref(struct ign_node *n);
/* Drop a reference; the last frees the node and drops its parent's. NULL: no-op. */
void ign_release(struct ign_node *n);

/*
 * The verdict on the entry @path (@len bytes from the served root, its base
 * name starting at @base) of the directory whose node is @n, a directory
 * if @is_dir.  @n NULL: IGN_NONE.
 */
enum ign_verdict ign_match(const struct ign_node *n, const char *path, size_t len, size_t base,
			   bool is_dir);

/* Version control directories skipped while ignore rules are on (rg skips
 * them as hidden; here also with hidden=1): .git, .hg, .svn. */
bool ign_is_vcs(const char *name);

/* gitignore's glob: `*` `?` `[...]` never match '/', a whole `**`
 * component matches any number of them (exposed for the tests' sake). */
bool ign_glob(const char *pat, const char *s);

#endif

/* search/ignore.c - see ignore.h. */
#include "search/ignore.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "search/stats.h"

/* An ignore file larger than this is read up to here (rg reads any size;
 * a 1 MiB .gitignore is not a real one). */
#define IGN_FILE_MAX ((size_t)1 << 20)

enum {
	R_NEG = 1, /* '!': re-include */
	R_DIR = 2, /* trailing '/': directories only */
	R_ANCHOR =
		4, /* a '/' at the start or inside: matched against the path from the file's dir */
};

struct rule {
	const char *pat; /* NUL-terminated, inside the list's text */
	unsigned flags;
};

struct rules {
	char *text; /* the file's bytes, cut into patterns in place */
	struct rule *r;
	size_t n;
};

struct ign_node {
	atomic_long refs;
	struct ign_node *parent; /* one reference held */
	size_t plen;             /* length of this directory's path from the served root */
	bool has_git;            /* this directory holds .git: a repository's top */
	bool in_git;             /* it or an ancestor in the served tree does (rg's any_git) */
	struct rules ignore, gitignore, exclude;
};

/* ---- gitignore's glob (git's wildmatch with WM_PATHNAME) ---- */

/* A class at *pp ('['), against @c (the C locale's classes).  1 or 0; -1
 * when malformed (then no match, as git).  *pp is left on the closing ']'. */
static int class_match(const char **pp, unsigned char c)
{
	static const struct {
		const char *name;
		int (*is)(int);
	} named[] = {
		{"alnum", isalnum}, {"alpha", isalpha}, {"blank", isblank}, {"cntrl", iscntrl},
		{"digit", isdigit}, {"graph", isgraph}, {"lower", islower}, {"print", isprint},
		{"punct", ispunct}, {"space", isspace}, {"upper", isupper}, {"xdigit", isxdigit},
	};
	const char *p = *pp + 1;
	bool neg = *p == '!' || *p == '^', hit = false;
	if (neg)
		p++;
	for (bool first = true; *p && (first || *p != ']'); first = false) {
		if (p[0] == '[' && p[1] == ':') {
			const char *e = strstr(p + 2, ":]");
			if (!e)
				return -1;
			size_t n = (size_t)(e - p - 2);
			size_t k = 0;
			for (; k < sizeof named / sizeof named[0]; k++)
				if (strlen(named[k].name) == n && !memcmp(named[k].name, p + 2, n))
					break;
			if (k == sizeof named / sizeof named[0])
				return -1;
			hit |= named[k].is(c) != 0;
			p = e + 2;
			continue;
		}
		if (*p == '\\' && p[1])
			p++;
		unsigned char lo = (unsigned char)*p++;
		if (p[0] == '-' && p[1] && p[1] != ']') {
			p++;
			if (*p == '\\' && p[1])
				p++;
			unsigned char hi = (unsigned char)*p++;
			hit |= lo <= c && c <= hi;
		} else {
			hit |= lo == c;
		}
	}
	if (*p != ']')
		return -1;
	*pp = p;
	return hit != neg;
}

/* @p against @s from @start (the pattern's first byte, so that a `**`
 * component is known by the '/' or the start before it). */
static bool wm(const char *start, const char *p, const char *s)
{
	for (; *p; p++, s++) {
		switch (*p) {
		case '?':
			if (!*s || *s == '/')
				return false;
			break;
		case '\\':
			if (!*++p || *s != *p)
				return false;
			break;
		case '[':
			if (!*s || *s == '/' || class_match(&p, (unsigned char)*s) != 1)
				return false;
			break;
		case '*': {
			const char *q = p;
			while (*q == '*')
				q++;
			if (q - p >= 2 && (p == start || p[-1] == '/') && (!*q || *q == '/')) {
				/* A whole `**` component: "x/" + "**" takes everything
				 * below x; "**" + "/" zero or more directories. */
				if (!*q)
					return true;
				for (q++;; s++) {
					if (wm(start, q, s))
						return true;
					if (!(s = strchr(s, '/')))
						return false;
				}
			}
			/* `*` (or a `**` that is not a whole component): any run
			 * without '/'. */
			if (!*q)
				return !strchr(s, '/');
			for (;; s++) {
				if (wm(start, q, s))
					return true;
				if (!*s || *s == '/')
					return false;
			}
		}
		default:
			if (*s != *p)
				return false;
		}
	}
	return !*s;
}

bool ign_glob(const char *pat, const char *s)
{
	return wm(pat, pat, s);
}

/* ---- ignore files ---- */

/* Cut @r->text (NUL-terminated) into rules, gitignore(5)'s syntax. */
static int parse_rules(struct rules *r)
{
	size_t cap = 0;
	for (char *line = r->text; line;) {
		char *nl = strchr(line, '\n'), *next = nl ? nl + 1 : NULL;
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		if (len && line[len - 1] == '\r')
			len--;
		/* Trailing spaces go unless escaped ("\ "). */
		while (len && line[len - 1] == ' ' && !(len >= 2 && line[len - 2] == '\\'))
			len--;
		line[len] = 0;
		char *p = line;
		line = next;
		unsigned flags = 0;
		if (!*p || *p == '#')
			continue;
		if (*p == '!') {
			flags |= R_NEG;
			p++;
			len--;
		}
		if (len && p[len - 1] == '/') {
			flags |= R_DIR;
			p[--len] = 0;
		}
		if (memchr(p, '/', len))
			flags |= R_ANCHOR;
		if (*p == '/')
			p++;
		if (!*p)
			continue;
		if (r->n == cap) {
			cap = cap ? 2 * cap : 16;
			struct rule *nr = realloc(r->r, cap * sizeof *nr);
			if (!nr)
				return ENOMEM;
			r->r = nr;
		}
		r->r[r->n++] = (struct rule){.pat = p, .flags = flags};
	}
	return 0;
}

static void rules_free(struct rules *r)
{
	free(r->text);
	free(r->r);
}

/* Read the ignore file @name of @dirfd (no symlink followed, beneath
 * @dirfd) into @r.  0, ENOENT (none: not an error) or an errno. */
static int read_rules(int dirfd, const char *name, struct rules *r)
{
	struct open_how how = {
		.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	int fd = (int)syscall(SYS_openat2, dirfd, name, &how, sizeof how);
	if (fd < 0)
		return errno == ELOOP || errno == ENOTDIR ? ENOENT : errno;
	stat_add(&stats.fds_held, 1);
	struct stat st;
	int err = 0;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		err = ENOENT; /* a directory or a FIFO named .gitignore: none */
		goto out;
	}
	size_t want = (size_t)st.st_size < IGN_FILE_MAX ? (size_t)st.st_size : IGN_FILE_MAX;
	if (!(r->text = malloc(want + 1))) {
		err = ENOMEM;
		goto out;
	}
	size_t have = 0;
	while (have < want) {
		ssize_t n = read(fd, r->text + have, want - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = errno;
			goto out;
		}
		if (n == 0)
			break;
		have += (size_t)n;
	}
	/* A NUL ends the text (git reads such a file as binary garbage too). */
	r->text[have] = 0;
	err = parse_rules(r);
out:
	close(fd);
	stat_add(&stats.fds_held, -1);
	if (err) {
		rules_free(r);
		memset(r, 0, sizeof *r);
	}
	return err;
}

static void note(struct ign_errors *errs, const char *name, int err)
{
	if (errs && errs->n < (int)(sizeof errs->e / sizeof errs->e[0])) {
		errs->e[errs->n].name = name;
		errs->e[errs->n].err = err;
		errs->n++;
	}
}

struct ign_node *ign_dir(struct ign_node *parent, int dirfd, const char *path, size_t plen,
			 struct ign_errors *errs)
{
	(void)path;
	struct ign_node n = {.plen = plen};
	struct stat st;
	n.has_git = fstatat(dirfd, ".git", &st, AT_SYMLINK_NOFOLLOW) == 0;
	int e;
	static const char *const names[] = {".ignore", ".gitignore", ".git/info/exclude"};
	struct rules *lists[] = {&n.ignore, &n.gitignore, &n.exclude};
	for (int i = 0; i < 3; i++) {
		if (i == 2 && !(n.has_git && S_ISDIR(st.st_mode)))
			break; /* a .git file (a worktree's link) points outside: not read */
		if ((e = read_rules(dirfd, names[i], lists[i])) == ENOMEM)
			goto oom;
		if (e && e != ENOENT)
			note(errs, names[i], e);
	}
	if (!n.has_git && !n.ignore.n && !n.gitignore.n && !n.exclude.n) {
		rules_free(&n.ignore); /* files of comments only */
		rules_free(&n.gitignore);
		errno = 0;
		return parent ? ign_ref(parent) : NULL; /* nothing here: share the parent's */
	}
	struct ign_node *m = malloc(sizeof *m);
	if (!m)
		goto oom;
	*m = n;
	atomic_init(&m->refs, 1);
	m->parent = parent ? ign_ref(parent) : NULL;
	m->in_git = n.has_git || (parent && parent->in_git);
	return m;
oom:
	rules_free(&n.ignore);
	rules_free(&n.gitignore);
	rules_free(&n.exclude);
	errno = ENOMEM;
	return NULL;
}

struct ign_node *ign_ref(struct ign_node *n)
{
	/* Relaxed: the caller holds a reference, so the count is > 0 and the
	 * node stays; the release that frees it is ordered by acq_rel. */
	atomic_fetch_add_explicit(&n->refs, 1, memory_order_relaxed);
	return n;
}

void ign_release(struct ign_node *n)
{
	while (n) {
		/* acq_rel, partner: every other release of this node; the last
		 * one sees all reads done before the others' releases. */
		if (atomic_fetch_sub_explicit(&n->refs, 1, memory_order_acq_rel) != 1)
			return;
		struct ign_node *up = n->parent;
		rules_free(&n->ignore);
		rules_free(&n->gitignore);
		rules_free(&n->exclude);
		free(n);
		n = up;
	}
}

/* The last rule of @r that matches: the file's verdict. */
static enum ign_verdict rules_match(const struct rules *r, const char *rel, const char *base,
				    bool is_dir)
{
	for (size_t i = r->n; i-- > 0;) {
		const struct rule *x = &r->r[i];
		if ((x->flags & R_DIR) && !is_dir)
			continue;
		if (ign_glob(x->pat, (x->flags & R_ANCHOR) ? rel : base))
			return (x->flags & R_NEG) ? IGN_WHITELIST : IGN_IGNORE;
	}
	return IGN_NONE;
}

enum ign_verdict ign_match(const struct ign_node *n, const char *path, size_t len, size_t base,
			   bool is_dir)
{
	(void)len;
	if (!n)
		return IGN_NONE;
	enum ign_verdict vi = IGN_NONE, vg = IGN_NONE, vx = IGN_NONE;
	bool any_git = n->in_git, saw_git = false;
	for (; n; n = n->parent) {
		/* The entry's path from this node's directory. */
		const char *rel = path + (n->plen ? n->plen + 1 : 0);
		if (vi == IGN_NONE)
			vi = rules_match(&n->ignore, rel, path + base, is_dir);
		if (any_git && !saw_git) {
			if (vg == IGN_NONE)
				vg = rules_match(&n->gitignore, rel, path + base, is_dir);
			if (vx == IGN_NONE)
				vx = rules_match(&n->exclude, rel, path + base, is_dir);
		}
		saw_git |= n->has_git;
	}
	return vi != IGN_NONE ? vi : vg != IGN_NONE ? vg : vx;
}

bool ign_is_vcs(const char *name)
{
	return !strcmp(name, ".git") || !strcmp(name, ".hg") || !strcmp(name, ".svn");
}

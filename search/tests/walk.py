#!/usr/bin/env python3
"""search/tests/walk.py BINARY - which files a search meets, against rg and fd.

A generated tree with .ignore and .gitignore files (negations, directory-only
rules, anchored and `**` patterns, escapes), a git repository holding a nested
one, .git/info/exclude, a .gitignore outside any repository (not obeyed),
hidden files and directories, and .git/.hg/.svn directories.  Every file
holds the word "needle", so the files a content search lists are the files it
met; compared with:
  - defaults (hidden=0, ignore=1)      = rg -l needle            = fdfind -t f
  - hidden=1                           = rg --hidden -g '!{.git,.hg,.svn}'
                                         (rg --hidden enters .git; ignore=1 here does not)
  - ignore=0                           = rg --no-ignore
  - all=1                              = rg -uu (everything)
  - root=SUB                           = rg -l needle, the files under SUB (the rules of
                                         SUB's parents apply; `rg needle SUB` drops some: t_root)
  - exclude= (repeated, with '/')      = rg -g '!GLOB' -g '!GLOB'
  - name=* with the defaults           = the same files (names walk the same way)
Prints `N passed, N failed` last; exit status 1 if anything failed.
"""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from harness import Server, check, check_stopped, expect, finish  # noqa: E402
from e2e import search, write  # noqa: E402

FILES = {
    # The served root is no repository: its .gitignore is not obeyed (rg's
    # require_git), its .ignore is.
    ".gitignore": "*.txt\n",
    ".ignore": "# comment\n*.log\n!keep.log\nbuilt/\n\\#hash.c\n[ab]*.c\n",
    "a.txt": "", "b.log": "", "keep.log": "", "built/x.txt": "", "built.txt": "",
    "src/built": "",                                   # a file: built/ is for directories
    "#hash.c": "", "abc.c": "", "cab.c": "", "space .c": "",
    ".dot.txt": "", ".hid/y.txt": "", ".hid/.ignore": "!y.txt\n",
    ".github/w.yml": "",
    "repo/.git/HEAD": "", "repo/.git/info/exclude": "excluded.txt\n",
    "repo/.gitignore": "*.tmp\n/top-only.txt\nsub/deep/\n!important.tmp\ndocs/**/gen/\n!.github/\n",
    "repo/x.tmp": "", "repo/important.tmp": "", "repo/top-only.txt": "", "repo/excluded.txt": "",
    "repo/sub/top-only.txt": "", "repo/sub/deep/f.txt": "", "repo/sub/deep2/f.txt": "",
    "repo/sub/x.tmp": "", "repo/sub/r.md": "", "repo/sub/.gitignore": "!x.tmp\n*.md\n",
    "repo/docs/a/b/gen/f.txt": "", "repo/docs/gen/f.txt": "", "repo/docs/gen.txt": "",
    "repo/.github/ci.yml": "", "repo/.env": "",
    # A nested repository: the outer .gitignore (*.tmp) stops at it.
    "repo/nested/.git/HEAD": "", "repo/nested/n.tmp": "", "repo/nested/sub/excluded.txt": "",
    "repo/nested/.gitignore": "/only-here.md\n", "repo/nested/only-here.md": "", "repo/nested/d/only-here.md": "",
    "notrepo/.gitignore": "*.txt\n", "notrepo/t.txt": "",
    "notrepo/c/.ignore": "# comments only\n", "notrepo/c/f.txt": "",
    ".hg/store": "", ".svn/entries": "", "lib/.svn/entries": "",
}


def make_tree(root):
    for rel, rules in FILES.items():
        body = rules if rules else "needle here\n"
        if rules:   # an ignore file: also holds the word (as a comment) so that it is met
            body = rules + "# needle\n"
        write(os.path.join(root, rel), body.encode())


# rg and fd read global ignore files from $HOME and $XDG_CONFIG_HOME (the
# service never does): both point at an empty directory here.
TOOL_ENV = dict(os.environ, LC_ALL="C")


def rg(root, *args):
    p = subprocess.run(["rg", "-l", "-0", "--no-messages", "--no-config", "--no-ignore-global", *args, "needle"],
                       cwd=root, stdout=subprocess.PIPE, env=TOOL_ENV)
    return sorted(x.decode() for x in p.stdout.split(b"\0") if x)


def paths(srv, **params):
    objs, done = search(srv, q="needle", **params)
    expect(done["reason"] == "complete", done)
    return sorted(set(o["path"] for o in objs if o["type"] == "match"))


def same(got, want, what):
    expect(got == want, "%s: %d files, rg %d; only here %r, only rg %r" % (
        what, len(got), len(want), sorted(set(got) - set(want))[:6], sorted(set(want) - set(got))[:6]))


VCS = ["-g", "!.git", "-g", "!.hg", "-g", "!.svn"]


def t_defaults(srv, root):
    got = paths(srv)
    same(got, rg(root), "defaults vs rg")
    # Spot checks, so that a shared misreading with rg would still show.
    for p in ("a.txt", "keep.log", "src/built", "space .c", "cab.c", "built.txt", "repo/important.tmp", "repo/sub/x.tmp",
              "repo/sub/top-only.txt", "repo/docs/gen.txt", "repo/nested/n.tmp", "repo/nested/d/only-here.md",
              "notrepo/t.txt", "repo/sub/deep2/f.txt"):
        expect(p in got, "%s not met" % p)
    for p in ("b.log", "built/x.txt", "#hash.c", "abc.c", "repo/x.tmp", "repo/top-only.txt",
              "repo/excluded.txt", "repo/sub/deep/f.txt", "repo/sub/r.md", "repo/docs/a/b/gen/f.txt",
              "repo/docs/gen/f.txt", "repo/nested/only-here.md", ".dot.txt", "repo/.env"):
        expect(p not in got, "%s met" % p)
    # rg re-includes a hidden directory that a '!' rule names: .github in repo/.
    expect("repo/.github/ci.yml" in got, "a '!' rule does not re-include a hidden directory")


def t_switches(srv, root):
    same(paths(srv, hidden="1"), rg(root, "--hidden", *VCS), "hidden=1 vs rg --hidden -g '!.git' ...")
    same(paths(srv, ignore="0"), rg(root, "--no-ignore"), "ignore=0 vs rg --no-ignore")
    same(paths(srv, all="1"), rg(root, "-uu"), "all=1 vs rg -uu")
    same(paths(srv, hidden="1", ignore="0"), rg(root, "-uu"), "hidden=1&ignore=0 vs rg -uu")
    expect("repo/.git/HEAD" in paths(srv, all="1"), "all=1 does not enter .git")


def t_root(srv, root):
    # The reference is rg run from the served root, its files under SUB:
    # `rg needle SUB` itself (rg 13) drops the anchored patterns of SUB's
    # parents' .gitignore files (repo/.gitignore's sub/deep/ for
    # root=repo/sub; BurntSushi/ripgrep#1757, #2770), which git obeys.
    for sub in ("repo", "repo/sub", "repo/nested", "notrepo", ".hid"):
        extra = ("--hidden",) + tuple(VCS) if sub.startswith(".") else ()
        same(paths(srv, root=sub, hidden="1" if extra else None),
             [p for p in rg(root, *extra) if p.startswith(sub + "/")], "root=%s" % sub)


def t_exclude(srv, root):
    for globs in (["*.c"], ["*.c", "repo"], ["repo/sub/*", "*.txt"], ["**/gen.txt", "notrepo/"], ["/repo/docs"],
                  ["sub/"]):
        args = []
        for g in globs:
            args += ["-g", "!" + g]
        same(paths(srv, exclude=globs), rg(root, *args), "exclude=%r" % globs)


def t_names(srv, root):
    objs, done = search(srv, name="*")
    got = sorted(o["path"] for o in objs)
    same(got, rg(root), "name=* vs rg's files")
    fd = subprocess.run(["fdfind", "-t", "f", "-0", "."], cwd=root, stdout=subprocess.PIPE, env=TOOL_ENV).stdout
    fd = sorted(x.decode()[2:] if x.startswith(b"./") else x.decode() for x in fd.split(b"\0") if x)
    same(got, fd, "name=* vs fdfind -t f")


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: walk.py PATH/TO/gochan-search")
    binary = os.path.abspath(sys.argv[1])
    for tool in ("rg", "fdfind"):
        if not shutil.which(tool):
            sys.exit("walk.py: %s missing (apt-get install ripgrep fd-find)" % tool)
    tmp = tempfile.mkdtemp(prefix="gochan-search-walk-")
    try:
        root = os.path.join(tmp, "tree")
        make_tree(root)
        os.makedirs(os.path.join(tmp, "home", "xdg"))
        TOOL_ENV.update(HOME=os.path.join(tmp, "home"), XDG_CONFIG_HOME=os.path.join(tmp, "home", "xdg"))
        # rg reads the ignore files of the tree's parents; the service reads
        # nothing above its root.  Only comparable where there are none.
        d = tmp
        while d != "/":
            for f in (".ignore", ".gitignore", ".rgignore", ".git"):
                if os.path.exists(os.path.join(d, f)):
                    sys.exit("walk.py: %s above the test tree: rg would read it" % os.path.join(d, f))
            d = os.path.dirname(d)
        srv = Server(binary, root)
        try:
            check("defaults (hidden=0, ignore=1) = rg", lambda: t_defaults(srv, root))
            check("hidden=1, ignore=0, all=1 = rg --hidden, --no-ignore, -uu", lambda: t_switches(srv, root))
            check("root=SUB = rg's files under SUB (rules above it apply)", lambda: t_root(srv, root))
            check("exclude= repeated, with '/' = rg -g '!GLOB'", lambda: t_exclude(srv, root))
            check("name=* = rg's files = fdfind -t f", lambda: t_names(srv, root))
        finally:
            rc = srv.stop()
        check_stopped(rc)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    finish()


if __name__ == "__main__":
    main()

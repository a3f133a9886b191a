#!/usr/bin/env python3
"""Check that a document's citations of the tree are true.

Every `backticked` span of the document (fenced code blocks excepted) that
looks like a file path or a C identifier must be found in the repository:

  - a path (it contains a '/' or ends in a source extension): the file or
    directory exists (from the root, or under include/ for a public header
    as users name it); `dir/name.{h,c}` is expanded and `dir/*.h` must
    match something; a bare file name or pattern (`chan.c`, `*_impl.h`)
    must name some file of the tree; a trailing ':line' is ignored;
  - an identifier (`name`, `name()`, `struct name`, `enum name`, `a->b`,
    `a.b`): each name occurs as a whole word in a source file of the tree
    (*.c, *.h, *.zig, *.py, *.sh, *.go, *.rs, *.zon, *.map), outside
    docs/;
  - anything else (`futex == 1`, `select {}`, `-DGOCHAN_DEBUG`) is prose and
    not checked.

Names that are not this tree's (Go's hchan, crossbeam's SelectHandle, ...)
are declared in the document itself, in a comment
    <!-- doc-refs: foreign: name name ... -->
so that the reader sees them and the list cannot grow unnoticed.

Usage: check-doc-refs.py DOC...   (run from the repository root)
Exit 1, listing each unfound citation with its line, if any is unfound.
"""
import fnmatch
import glob
import os
import re
import subprocess
import sys

SRC_EXT = (".c", ".h", ".zig", ".py", ".sh", ".go", ".rs", ".zon", ".map")
PATH_EXT = SRC_EXT + (".md", ".txt", ".json", ".png", ".toml")
IDENT = r"[A-Za-z_][A-Za-z0-9_]*"


def tree_files():
    return [f for f in subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"],
                                      capture_output=True, text=True, check=True).stdout.split("\n")
            if f and os.path.isfile(f)]


def tree_words(files):
    words = set()
    for f in files:
        if not f.endswith(SRC_EXT) or f.startswith("docs/") or not os.path.isfile(f):
            continue
        with open(f, encoding="utf-8", errors="replace") as fh:
            words.update(re.findall(IDENT, fh.read()))
    return words


def expand(path):
    m = re.match(r"^(.*)\{([^}]*)\}(.*)$", path)
    if not m:
        return [path]
    return [m.group(1) + alt + m.group(3) for alt in m.group(2).split(",")]


def path_ok(path, names):
    """@path exists: from the root, under include/ (a public header named as
    users include it, `gochan/chan.h`), or, for a bare file name or
    pattern without a directory (`chan_impl.h`, `*_internal.h`), as the name
    of some file of the tree."""
    for p in expand(path):
        if p.endswith("/"):
            if not os.path.isdir(p) and not os.path.isdir("include/" + p):
                return False
        elif "/" not in p:
            if not fnmatch.filter(names, p):
                return False
        elif any(ch in p for ch in "*?["):
            if not glob.glob(p) and not glob.glob("include/" + p):
                return False
        elif not os.path.exists(p) and not os.path.exists("include/" + p):
            return False
    return True


def spans(text):
    """(line, span) of every inline code span outside fenced blocks."""
    out, fenced = [], False
    for n, line in enumerate(text.split("\n"), 1):
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if fenced:
            continue
        for m in re.finditer(r"`([^`]+)`", line):
            out.append((n, m.group(1).strip()))
    return out


def classify(span):
    """('path', p) / ('idents', [names]) / None."""
    s = re.sub(r"\(\)$", "", span)
    if re.fullmatch(r"[\w./{},*-]+(:\d+(-\d+)?)?", s) and ("/" in s or s.endswith(PATH_EXT)):
        if s.startswith(("-", "http")) or s.startswith("<"):
            return None
        return ("path", re.sub(r":\d+(-\d+)?$", "", s))
    m = re.fullmatch(r"(?:struct|enum|union)\s+(" + IDENT + r")", s)
    if m:
        return ("idents", [m.group(1)])
    if re.fullmatch(IDENT + r"(?:(?:->|\.)" + IDENT + r")*", s):
        return ("idents", re.split(r"->|\.", s))
    return None


def main(docs):
    files = tree_files()
    words = tree_words(files)
    names = sorted({os.path.basename(f) for f in files})
    bad = 0
    for doc in docs:
        with open(doc, encoding="utf-8") as f:
            text = f.read()
        foreign = set()
        for m in re.finditer(r"<!--\s*doc-refs:\s*foreign:(.*?)-->", text, re.S):
            foreign.update(m.group(1).split())
        checked = 0
        for line, span in spans(text):
            c = classify(span)
            if c is None:
                continue
            checked += 1
            kind, what = c
            if kind == "path":
                if not path_ok(what, names):
                    print(f"{doc}:{line}: `{span}`: no such file or directory")
                    bad += 1
            else:
                missing = [w for w in what if w not in words and w not in foreign]
                if missing:
                    print(f"{doc}:{line}: `{span}`: {', '.join(missing)} not found in the tree")
                    bad += 1
        print(f"check-doc-refs: {doc}: {checked} citations checked, {bad} not found")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["docs/design.md"]))

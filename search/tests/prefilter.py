#!/usr/bin/env python3
"""search/tests/prefilter.py BINARY - the required-literal prefilter of a
regex (match.c: a literal every match contains is searched first, PCRE2
runs only on the lines that hold it) never drops a matching line.

Patterns whose required literal comes from a group of literal alternatives
("(RLock|RUnlock|Lock|Unlock)\\(\\)" needs "ock()"), with anchors, escaped
punctuation, an empty alternative, a group of one string, groups this
reader must leave alone (quantified, non-capturing, top-level '|'), each
also case-insensitively and as a fixed string; over generated files whose
lines hold the pattern's pieces, near misses (the literal without the rest,
the rest without the literal) and hits on both sides of every 16 KiB slice
and 64 KiB read, a line longer than a read, no final newline and CRLF.
Every (file, line, text) must be `LC_ALL=C grep -a -n` (-E, -i, -F)'s.
Prints `N passed, N failed` last; exit status 1 if anything failed.
"""
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from harness import Server, check, check_stopped, expect, finish  # noqa: E402
from e2e import curl, write  # noqa: E402

PATTERNS = [
    r"(RLock|RUnlock|Lock|Unlock)\(\)",
    r"(kmalloc|kzalloc|kcalloc)\(",
    r"^(RLock|Lock)\(\)$",
    "\t(RLock|Unlock)\\(\\)",  # a real tab: grep -E reads \t as t
    r"mu\.(RLock|RUnlock)\(\) *$",
    r"x(ock|ock)\(\)",
    r"(ab|)ock\(\)",
    r"(foo|foobar)baz",
    r"pre(ab|cb)post",
    r"(a\.b|c\.b)\.c",
    r"(Lock|Unlock)+\(\)",
    (r"(?:Lock|Unlock)\(\)", r"(Lock|Unlock)\(\)"),  # PCRE2's groups; ERE has none
    (r"ab(?:c)de(?:kmalloc|kcalloc)\(", r"ab(c)de(kmalloc|kcalloc)\("),
    (r"(?:(?i)lock)\(\)", r"[lL][oO][cC][kK]\(\)"),
    r"(x|y)|ock\(\)",
    r"(RLock|Lock)\(\)|kzalloc",
    r"(Lock|Unlock)\(\)(RLock|Lock)\(\)",
]

PIECES = ["RLock()", "RUnlock()", "Lock()", "Unlock()", "ock()", "XLock()", "Lock ()", "rlock()",
          "LOCK()", "kmalloc(", "kzalloc (", "kcalloc(", "alloc(", "KMALLOC(", "foobaz", "foobarbaz",
          "fobaz", "preabpost", "precbpost", "prebpost", "a.b.c", "c.b.c", "axb.c", "xock()",
          "abock()", "mu.RLock()", "mu.RUnlock()  ", "\tRLock()", "\tUnlock()", "Lock()RLock()",
          "Unlock()Lock()", "(RLock|Lock)()", "x", "y", "abcdekmalloc(", "abcdekcalloc(", "LoCk()"]


def text_line(rng, width):
    parts, n = [], 0
    while n < width:
        p = rng.choice(PIECES) if rng.random() < 0.3 else "".join(
            rng.choice("abcdeLock() ") for _ in range(rng.randint(1, 8)))
        parts.append(p)
        n += len(p)
    return "".join(parts)


def boundary_file(rng, edge, width):
    """Lines of about `width` bytes; whole-piece lines (anchored patterns)
    and pieces just before and after every multiple of `edge` bytes."""
    lines, size = [], 0
    while size < 5 * edge:
        at_edge = any(abs(size - k * edge) < 3 * width for k in range(1, 6))
        if at_edge and rng.random() < 0.5:
            text = rng.choice(PIECES)
        elif rng.random() < 0.05:
            text = rng.choice(PIECES) + rng.choice(PIECES)
        else:
            text = "".join(rng.choice("abcdefgh ") for _ in range(width))
        lines.append(text)
        size += len(text) + 1
    return "\n".join(lines) + "\n"


def files(rng):
    f = {
        "pieces.txt": "\n".join(PIECES) + "\n",
        "no_final_nl.txt": "a\nRLock()\nb\nUnlock()",
        "crlf.txt": "RLock()\r\nLock()\r\nkmalloc(\r\n",
        "empty.txt": "",
        "long_line.txt": "a\n" + "b" * 70000 + "Lock()\n" + "c" * 70000 + "\nRLock()\n",
        "mixed.txt": "\n".join(text_line(rng, rng.randint(0, 120)) for _ in range(4000)) + "\n",
    }
    for edge, name in ((16 << 10, "slice"), (64 << 10, "chunk")):
        for width in (7, 40, 500):
            f["%s_%d.txt" % (name, width)] = boundary_file(rng, edge, width)
    return f


def grep(root, flags, pat):
    p = subprocess.run(["grep", "-r", "-a", "-n", *flags, "-e", pat, "."], cwd=root,
                       stdout=subprocess.PIPE, env=dict(os.environ, LC_ALL="C"))
    out = set()
    for line in p.stdout.split(b"\n")[:-1]:
        name, _, rest = line.partition(b":")
        num, _, text = rest.partition(b":")
        out.add((name[2:].decode(), int(num), text[:200].decode("latin-1")))
    return out


def service(srv, pat, **extra):
    code, body = curl(srv, srv.url("/search", q=pat, **extra))
    expect(code == 200, "status %d %r" % (code, body[:200]))
    objs = [json.loads(l) for l in body.split(b"\n") if l]
    expect(objs[-1]["type"] == "done" and objs[-1]["reason"] == "complete", objs[-1])
    return {(o["path"], o["line"], o["text"]) for o in objs if o["type"] == "match"}


def t_against_grep(srv, root):
    for pat in PATTERNS:
        pat, gpat = pat if isinstance(pat, tuple) else (pat, pat)
        for flags, extra in ((["-E"], {}), (["-E", "-i"], {"case": "insensitive"}),
                             (["-F"], {"fixed": "1"})):
            want = grep(root, flags, pat if "-F" in flags else gpat)
            got = service(srv, pat, **extra)
            if got != want:
                raise AssertionError("%r %s: %d lines, grep %d; only service: %r; only grep: %r" % (
                    pat, " ".join(flags), len(got), len(want), sorted(got - want)[:3],
                    sorted(want - got)[:3]))
    # The tree is not trivial: the patterns do hit, and miss.
    expect(len(grep(root, ["-E"], PATTERNS[0])) > 100, "too few hits to mean anything")


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: prefilter.py PATH/TO/gochan-search")
    binary = os.path.abspath(sys.argv[1])
    tmp = tempfile.mkdtemp(prefix="gochan-search-prefilter-")
    try:
        root = os.path.join(tmp, "pf")
        for name, text in files(random.Random(11)).items():
            write(os.path.join(root, name), text.encode())
        srv = Server(binary, root, "--workers", "2")
        try:
            check("regexes with group-derived required literals = grep (-E, -i, -F)",
                  lambda: t_against_grep(srv, root))
        finally:
            rc = srv.stop()
        check_stopped(rc)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    finish()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""search/tests/context.py BINARY - context lines (context=, before=, after=)
against `LC_ALL=C grep -a -n -E -B B -A A`.

Generated files put matches where the scanner's edges are: the first and
last line (with and without a final newline), adjacent and overlapping
windows, lines on both sides of every 16 KiB slice and 64 KiB read boundary,
a line longer than a read, a window wider than the file, empty lines and
CRLF.  For each file and each (before, after), the service's match and
context lines must be grep's, each line once, in order; context lines count
in neither max= nor "matches".
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

PAT = "hit[0-9]"


def filler(rng, n):
    return "".join(rng.choice("abcdefgh ") for _ in range(n))


def boundary_file(rng, edge, width):
    """Lines of `width` bytes, with matches just before and after every
    multiple of `edge` bytes (the slice or the read)."""
    lines, size = [], 0
    while size < 5 * edge:
        at_edge = any(abs(size - k * edge) < 3 * width for k in range(1, 6))
        text = filler(rng, width - 6)
        if at_edge and rng.random() < 0.5:
            text = "hit%d " % rng.randint(0, 9) + text
        lines.append(text)
        size += len(text) + 1
    return "\n".join(lines) + "\n"


def files(rng):
    f = {
        "first_last.txt": "hit1 first\na\nb\nc\nd\ne\nhit2 last\n",
        "no_final_nl.txt": "a\nb\nhit3\nc\nd\nhit4 end",
        "adjacent.txt": "x\nhit1\nhit2\nhit3\ny\nz\n",
        "overlap.txt": "\n".join(["hit1", "a", "b", "hit2", "c", "d", "e", "f", "g", "hit3", "h"]) + "\n",
        "all.txt": "hit1\nhit2\nhit3\n",
        "one.txt": "hit9",
        "empty_lines.txt": "\n\n\nhit1\n\n\n\n\nhit2\n\n",
        "crlf.txt": "a\r\nb\r\nhit1\r\nc\r\nd\r\n",
        "nohit.txt": "a\nb\nc\n",
        "long_line.txt": "a\n" + "b" * 70000 + "\nhit1\n" + "c" * 70000 + "\nd\nhit2\n",
    }
    for edge, name in ((16 << 10, "slice"), (64 << 10, "chunk")):
        for width in (20, 81, 700):
            f["%s_%d.txt" % (name, width)] = boundary_file(rng, edge, width)
    # A dense file: matches everywhere, windows always touching.
    f["dense.txt"] = "\n".join(("hit%d" % (i % 10)) if rng.random() < 0.2 else filler(rng, 30)
                               for i in range(20000)) + "\n"
    return f


def grep(root, name, b, a):
    p = subprocess.run(["grep", "-a", "-n", "-E", "-B", str(b), "-A", str(a), "-e", PAT, name], cwd=root,
                       stdout=subprocess.PIPE, env=dict(os.environ, LC_ALL="C"))
    out = []
    for line in p.stdout.split(b"\n")[:-1]:
        if line == b"--":
            continue
        i = 0
        while line[i:i + 1].isdigit():
            i += 1
        kind = "match" if line[i:i + 1] == b":" else "context"
        out.append((kind, int(line[:i]), line[i + 1:][:200].decode("latin-1")))
    return out


def service(srv, b, a, **extra):
    code, body = curl(srv, srv.url("/search", q=PAT, before=str(b), after=str(a), **extra))
    expect(code == 200, "status %d %r" % (code, body[:200]))
    objs = [json.loads(l) for l in body.split(b"\n") if l]
    per = {}
    for o in objs:
        if o["type"] in ("match", "context"):
            per.setdefault(o["path"], []).append((o["type"], o["line"], o["text"]))
    return per, objs[-1]


def t_against_grep(srv, root, names):
    for b, a in ((1, 1), (0, 2), (3, 0), (2, 5), (10, 10), (100, 100), (0, 0)):
        per, done = service(srv, b, a)
        expect(done["reason"] == "complete", done)
        for name in names:
            want = grep(root, name, b, a)
            got = per.get(name, [])
            # ASCII files: the Latin-1 reading of grep's bytes is the text.
            if got != want:
                k = next((i for i, (x, y) in enumerate(zip(got, want)) if x != y), min(len(got), len(want)))
                raise AssertionError("B=%d A=%d %s: %d lines, grep %d; first difference at %d: %r vs %r" % (
                    b, a, name, len(got), len(want), k, got[k:k + 2], want[k:k + 2]))
        matches = sum(1 for v in per.values() for x in v if x[0] == "match")
        expect(done["matches"] == matches, "matches %d counts context lines? (%d match lines)" % (
            done["matches"], matches))


def t_context_param(srv, root):
    p1, _ = service(srv, 2, 2)
    code, body = curl(srv, srv.url("/search", q=PAT, context="2"))
    objs = [json.loads(l) for l in body.split(b"\n") if l]
    p2 = {}
    for o in objs:
        if o["type"] in ("match", "context"):
            p2.setdefault(o["path"], []).append((o["type"], o["line"], o["text"]))
    expect(p1 == p2, "context=2 differs from before=2&after=2")
    # before= overrides context= for its side.
    p3, _ = service(srv, 0, 2, context="5")
    expect(p3 == service(srv, 0, 2)[0], "before=0 does not override context=5")


def t_max(srv):
    code, body = curl(srv, srv.url("/search", q=PAT, context="3", max="4", root="."))
    objs = [json.loads(l) for l in body.split(b"\n") if l]
    ms = [o for o in objs if o["type"] == "match"]
    expect(len(ms) == 4 and objs[-1]["reason"] == "limit" and objs[-1]["matches"] == 4,
           "max=4 with context: %d match lines, %r" % (len(ms), objs[-1]))
    expect(any(o["type"] == "context" for o in objs), "no context line")


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: context.py PATH/TO/gochan-search")
    binary = os.path.abspath(sys.argv[1])
    tmp = tempfile.mkdtemp(prefix="gochan-search-context-")
    try:
        root = os.path.join(tmp, "ctx")
        fs = files(random.Random(5))
        for name, text in fs.items():
            write(os.path.join(root, name), text.encode())
        srv = Server(binary, root, "--workers", "2")
        try:
            check("context lines = grep -B/-A at slice, read and file edges",
                  lambda: t_against_grep(srv, root, sorted(fs)))
            check("context=N = before=N&after=N; before= overrides", lambda: t_context_param(srv, root))
            check("max= counts matches only", lambda: t_max(srv))
        finally:
            rc = srv.stop()
        check_stopped(rc)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    finish()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""search/tests/features.py BINARY - what rg and fd users expect.

  - case=insensitive (rg -i) equals `grep -i`, case=smart (rg -S) is
    insensitive for an all-lower-case pattern only;
  - fixed=1 (rg -F) equals `grep -F`, metacharacters and all, also caseless;
  - depth=N (fd --max-depth N) equals `find -maxdepth N -type f`;
  - hidden=0 (now the default, as rg/fd), hidden=1, all=1 and exclude=GLOB
    (repeatable; a glob with '/' matched against the path) leave out exactly
    the names find lists under such a component (this tree has no ignore
    file: tests/walk.py compares ignore files with rg and fd);
  - bad values of case, fixed and depth: 400 with the parameter named;
  - a match's column and submatch are the leftmost match's byte offsets;
  - --version names the library version and the stream schema;
  - --max-file-size takes sizes such as 1K, 10M; --listen localhost.
Prints `N passed, N failed` last; exit status 1 if anything failed.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from harness import Server, check, expect, finish  # noqa: E402
from e2e import GREP_DIFFERS, MAX_FILE, curl, grep_lines, search, small_tree, write  # noqa: E402


def lines_of(objs):
    return sorted((o["path"], o["line"], o["text"]) for o in objs
                  if o["type"] == "match" and o["path"].encode() not in GREP_DIFFERS)


def t_case(srv, root):
    for pat in ("hello", "HeLLo wor", "fo+ba[rz]"):
        objs, done = search(srv, q=pat, case="insensitive")
        expect(lines_of(objs) == grep_lines(root, pat, "-E", "-i"), "case=insensitive q=%r differs from grep -i" % pat)
        expect(done["reason"] == "complete", done)
    objs, _ = search(srv, q="hello", case="smart")
    expect(lines_of(objs) == grep_lines(root, "hello", "-E", "-i"), "smart, lower case: not caseless")
    objs, _ = search(srv, q="Hello", case="smart")
    expect(lines_of(objs) == grep_lines(root, "Hello", "-E") and objs, "smart, upper case: not case-sensitive")
    objs, _ = search(srv, q="Hello", case="sensitive")
    expect(lines_of(objs) == grep_lines(root, "Hello", "-E"), "case=sensitive")


def t_fixed(srv, root):
    for pat, flags in (("fo+ba[rz]", ("-F",)), ("a.c (x)", ("-F",)), ("HELLO", ("-F", "-i")), ("\\bworld", ("-F",))):
        params = {"q": pat, "fixed": "1"}
        if "-i" in flags:
            params["case"] = "insensitive"
        objs, done = search(srv, **params)
        expect(lines_of(objs) == grep_lines(root, pat, *flags), "fixed q=%r differs from grep %s" % (pat, flags))
        expect(done["reason"] == "complete", done)
    expect(lines_of(search(srv, q="fo+ba[rz]", fixed="1")[0]), "fixed: the metacharacter line not found")


def t_depth(srv, root):
    for d in (1, 2, 3):
        objs, _ = search(srv, name="*", depth=str(d))
        got = sorted(o["path"] for o in objs)
        want = find_names_depth(root, d)
        expect(got == want, "depth=%d: %d names, find %d: %r" % (d, len(got), len(want), sorted(set(got) ^ set(want))[:4]))
    objs, _ = search(srv, q="hello", root="a", depth="1")
    expect(objs and all(o["path"].count("/") == 1 for o in objs), "root=a depth=1: %r" % objs[:3])


def t_hidden_exclude(srv, root):
    import fnmatch
    allnames = find_names_depth(root, 1000, hidden=True)

    def keep(path, pred):
        return not any(pred(c) for c in path.split("/"))

    hidden = lambda c: c.startswith(".")  # noqa: E731
    md = lambda c: fnmatch.fnmatchcase(c, "*.md")  # noqa: E731
    ab = lambda c: c in ("a", "b")  # noqa: E731
    for params, pred in (({}, hidden), ({"hidden": "0"}, hidden), ({"hidden": "1"}, lambda c: False),
                         ({"all": "1"}, lambda c: False), ({"ignore": "0"}, hidden),
                         ({"exclude": "*.md", "hidden": "1"}, md),
                         ({"exclude": "[ab]", "hidden": "false"}, lambda c: hidden(c) or ab(c)),
                         ({"exclude": ["*.md", "[ab]"], "hidden": "true"}, lambda c: md(c) or ab(c))):
        objs, _ = search(srv, name="*", **params)
        got = sorted(o["path"] for o in objs)
        want = sorted(p for p in allnames if keep(p, pred))
        expect(got == want and (len(got) < len(allnames) or not params or "exclude" not in params),
               "%r: %d names, want %d" % (params, len(got), len(want)))
    # A glob with '/' is matched against the whole path from the served root.
    for glob, pred in (("a/*", lambda p: p.startswith("a/")), ("a/b/", lambda p: p.startswith("a/b/")),
                       ("/a/b/*.md", lambda p: p.startswith("a/b/") and p.count("/") == 2 and p.endswith(".md")),
                       ("**/c/*", lambda p: "/c/" in "/" + p)):
        objs, _ = search(srv, name="*", exclude=glob, hidden="1")
        got = sorted(o["path"] for o in objs)
        want = sorted(p for p in allnames if not pred(p))
        expect(got == want and len(got) < len(allnames), "exclude=%r: %d names, want %d: %r" % (
            glob, len(got), len(want), sorted(set(got) ^ set(want))[:4]))
    objs, _ = search(srv, q="hello", hidden="0")
    want = [x for x in grep_lines(root, "hello", hidden=True) if keep(x[0], hidden)]
    expect(lines_of(objs) == want, "q=hello hidden=0 differs from grep minus hidden files")
    objs, _ = search(srv, q="hello", hidden="1")
    expect(lines_of(objs) == grep_lines(root, "hello", hidden=True), "q=hello hidden=1 differs from grep -r")
    objs, _ = search(srv, name="*")
    expect(not any(o["path"].startswith(".") or "/." in o["path"] for o in objs), "hidden files met by default")


def find_names_depth(root, d, hidden=False):
    from e2e import api_string, run0, strip_dot, visible
    return sorted(api_string(strip_dot(p)) for p in
                  run0(["find", ".", "-maxdepth", str(d), "-type", "f", "-print0"], root)
                  if hidden or visible(strip_dot(p)))


def t_columns(srv):
    import re
    for pat in ("hello", "fo+ba[rz]", "wor(ld)?", "b[a-z]z$", "HELLO"):
        objs, _ = search(srv, q=pat, case="insensitive" if pat.isupper() else None)
        ms = [o for o in objs if o["type"] == "match" and "text_bytes" not in o and len(o["text"].encode()) < 200]
        expect(ms, "q=%r: no match to check" % pat)
        rx = re.compile(pat.encode(), re.I if pat.isupper() else 0)
        for o in ms:
            b = o["text"].encode()
            m = rx.search(b)
            expect(m and o["submatch"] == [m.start(), m.end()] and o["column"] == m.start() + 1,
                   "q=%r %r: column %r submatch %r, re %r" % (pat, b[:60], o.get("column"), o.get("submatch"),
                                                            m and m.span()))


def t_bad(srv):
    for params, param in (({"q": "a", "case": "upper"}, "case"), ({"q": "a", "fixed": "yes"}, "fixed"),
                          ({"q": "a", "depth": "0"}, "depth"), ({"q": "a", "depth": "x"}, "depth"),
                          ({"q": "a\nb", "fixed": "1"}, "q"), ({"q": "a", "hidden": "2"}, "hidden"),
                          ({"q": "a", "exclude": "/"}, "exclude"), ({"q": "a", "exclude": "["}, "exclude"),
                          ({"q": "a", "exclude": ["x", "a/["]}, "exclude"), ({"q": "a", "ignore": "no"}, "ignore"),
                          ({"q": "a", "all": "2"}, "all"), ({"q": "a", "context": "101"}, "context"),
                          ({"q": "a", "before": "-1"}, "before"), ({"q": "a", "after": "x"}, "after"),
                          ({"q": "a", "exclude": ["*"] * 65}, "exclude")):
        code, body = curl(srv, srv.url("/search", **params))
        e = json.loads(body)
        expect(code == 400 and e["param"] == param and e["error"], "%r: %d %r" % (params, code, e))


def t_size_listen(binary, tmp):
    root = os.path.join(tmp, "sizes")
    write(os.path.join(root, "small.txt"), b"needle\n" + b"x" * 500 + b"\n")
    write(os.path.join(root, "big.txt"), b"needle\n" + b"x" * 2000 + b"\n")
    srv = Server(binary, root, "--max-file-size", "1K", "--listen", "localhost")  # 127.0.0.1
    try:
        objs, done = search(srv, q="needle")
        expect([o["path"] for o in objs] == ["small.txt"] and done["skipped"] == 1, (objs, done))
    finally:
        expect(srv.stop() == 0, "exit status")
    for bad in ("10X", "1.5M", "M", "-1K", "10MBB"):
        p = subprocess.run([binary, "--root", root, "--max-file-size", bad], stderr=subprocess.PIPE)
        expect(p.returncode == 2 and b"max-file-size" in p.stderr, "%r: %d %r" % (bad, p.returncode, p.stderr))


def t_version(binary):
    out = subprocess.run([binary, "--version"], stdout=subprocess.PIPE, check=True).stdout.decode()
    expect(out.startswith("gochan-search ") and "schema 2" in out, out)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: features.py PATH/TO/gochan-search")
    binary = os.path.abspath(sys.argv[1])
    tmp = tempfile.mkdtemp(prefix="gochan-search-features-")
    try:
        root = os.path.join(tmp, "small").encode()
        small_tree(root)
        root = root.decode()
        write(os.path.join(root, "a/b/cases.txt"), b"HELLO WORLD\nHello there\nhello\nfo+ba[rz] and a.c (x)\n"
              b"\\bworld\n")
        srv = Server(binary, root, "--max-file-size", str(MAX_FILE))
        try:
            check("case=insensitive|smart = grep -i", lambda: t_case(srv, root))
            check("fixed=1 = grep -F", lambda: t_fixed(srv, root))
            check("depth=N = find -maxdepth N", lambda: t_depth(srv, root))
            check("bad case, fixed, depth: 400", lambda: t_bad(srv))
            check("column and submatch = Python re's leftmost match", lambda: t_columns(srv))
            check("hidden=0|1, all=1, exclude=GLOB (repeated, path) leave out what find would", lambda: t_hidden_exclude(srv, root))
        finally:
            rc = srv.stop()
        check("exit 0", lambda: expect(rc == 0, rc))
        check("--version", lambda: t_version(binary))
        check("--max-file-size 1K, --listen localhost", lambda: t_size_listen(binary, tmp))
        check("no sanitizer report (sanitized builds)",
              lambda: expect(not Server.sanitizer_reports(), Server.sanitizer_reports()[:5]))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    finish()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""search/tests/integrity.py BINARY - no silently wrong or missing result.

  - PCRE2's match limit: a file whose lines make the pattern backtrack past
    the limit.  The other lines of the file are still searched (the results
    equal grep's), the failing lines are reported in one "file_error" line
    (lines_unchecked, first_line, why), and the done line says "incomplete"
    with errors=1, never "complete";
  - a match's text cut at 200 bytes never ends inside a UTF-8 character;
  - names and lines that are not UTF-8 carry path_bytes / text_bytes
    (base64 of the raw bytes): x\xe9.txt and x\u00e9.txt stay distinct;
  - a file whose path is longer than PATH_MAX is searched and named;
  - grep -E constructs that PCRE2 reads otherwise (\< \> {,n}) and subject
    anchors (\A \z \Z \G) get 400 with the offset.
Prints `N passed, N failed` last; exit status 1 if anything failed.
"""
import base64
import json
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from harness import Server, check, check_stopped, expect, finish  # noqa: E402
from e2e import curl, grep_lines, last_id, search, settled, wait_id, write  # noqa: E402


def t_match_limit(srv, root):
    pat = "(a+)+$"
    objs, done = search(srv, q=pat)
    errs = [o for o in objs if o["type"] == "file_error"]
    lines = sorted((o["path"], o["line"], o["text"]) for o in objs if o["type"] == "match")
    expect(lines == grep_lines(root, pat), "match lines differ from grep: %d vs %d" % (
        len(lines), len(grep_lines(root, pat))))
    expect(len(errs) == 1 and errs[0]["path"] == "sub/x.txt" and errs[0]["lines_unchecked"] == 2
           and errs[0]["first_line"] == 51 and "limit" in errs[0]["error"], "file_error %r" % errs)
    expect(done["reason"] == "incomplete" and done["errors"] == 1 and done["schema"] == 2, done)
    expect(done["matches"] == len(lines), "matches %d, %d lines" % (done["matches"], len(lines)))
    # A pattern that fails nowhere: complete.
    _, done = search(srv, q="a+b$")
    expect(done["reason"] == "complete" and done["errors"] == 0, done)
    # The log says incomplete too.
    rec = srv.wait_log(lambda r: r["end"] == "incomplete", 30)
    expect(rec is not None, "no end=incomplete log line")
    # The gauges are settled once the last request's log line is written
    # (stream_completed writes it last); the client can read the end of a
    # response before the server has run that callback.
    wait_id(srv, last_id(srv))
    settled(srv, None)


def deep_tree(root, levels=45):
    """levels directories of 100-byte names (a path past PATH_MAX, 4096),
    made through directory descriptors; returns the file's relative path."""
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    names = []
    for i in range(levels):
        name = "d%02d" % i + "x" * 97
        os.mkdir(name, dir_fd=fd)
        nfd = os.open(name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
        os.close(fd)
        fd = nfd
        names.append(name)
    f = os.open("deep.txt", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
    os.write(f, b"needle at the bottom\n")
    os.close(f)
    os.close(fd)
    return "/".join(names + ["deep.txt"])


def t_deep(srv, want):
    expect(len(want) > 4096, len(want))
    objs, done = search(srv, q="needle at the bottom")
    expect([o["path"] for o in objs] == [want] and done["reason"] == "complete", (len(objs), done))
    objs, done = search(srv, name="deep.txt")
    expect([o["path"] for o in objs] == [want] and done["errors"] == 0, (len(objs), done))
    wait_id(srv, last_id(srv))  # the gauges settle before the log line, not before the reply ends
    settled(srv, None)


def t_utf8_cut(srv):
    objs, done = search(srv, q="hello", name="cut.txt")
    texts = [o["text"] for o in objs if o["type"] == "match"]
    expect(texts == ["x" * 199, "y" * 198 + "\u00e9"], "cut texts %r" % [t[-3:] for t in texts])
    expect(all("text_bytes" not in o for o in objs), "text_bytes on UTF-8 text")


def t_lossless_names(srv):
    objs, done = search(srv, q="lossless")
    ms = [o for o in objs if o["type"] == "match"]
    raw = sorted(base64.b64decode(o["path_bytes"]) if "path_bytes" in o else o["path"].encode() for o in ms)
    expect(raw == sorted([b"names/x\xe9.txt", "names/x\u00e9.txt".encode(), b"latin.txt"]), "raw paths %r" % raw)
    by = {o["path"]: o for o in ms if "path_bytes" not in o}
    expect("names/x\u00e9.txt" in by, "no plain UTF-8 path: %r" % ms)
    lat = by["latin.txt"]
    expect(base64.b64decode(lat["text_bytes"]) == b"caf\xe9 lossless", "text_bytes %r" % lat)
    objs, _ = search(srv, name="x*.txt", root="names")
    raw = sorted(base64.b64decode(o["path_bytes"]) if "path_bytes" in o else o["path"].encode() for o in objs)
    expect(raw == sorted([b"names/x\xe9.txt", "names/x\u00e9.txt".encode()]), "name results %r" % raw)


def t_dialect(srv):
    for pat, off in ((r"\<static\>", 0), ("ab{,2}c", 2), (r"a\z", 1), (r"\Aabc", 0), (r"x\'", 1),
                     (r"(a|b\>)", 4), (r"a\Z", 1), (r"\Ga", 0)):
        code, body = curl(srv, srv.url("/search", q=pat))
        e = json.loads(body)
        expect(code == 400 and e["param"] == "q" and e["offset"] == off and "unsupported" in e["error"],
               "q=%r: %d %r" % (pat, code, e))
    for pat in (r"[\<]", r"\Q\<{,2}\E", "a{0,2}b", "[]{,2}]", r"\bstatic\b", r"[[:alpha:]\<]"):
        code, body = curl(srv, srv.url("/search", q=pat))
        expect(code == 200, "q=%r refused: %d %r" % (pat, code, body[:200]))


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: integrity.py PATH/TO/gochan-search")
    binary = os.path.abspath(sys.argv[1])
    tmp = tempfile.mkdtemp(prefix="gochan-search-integrity-")
    try:
        root = os.path.join(tmp, "t")
        # 40 'a's then 'b': (a+)+$ backtracks 2^40 ways and hits the match
        # limit; the short lines around match at once.
        bad = "a" * 40 + "b"
        write(os.path.join(root, "sub/x.txt"),
              ("\n".join(["aaaa"] * 50 + [bad] + ["aaaa"] * 50 + [bad] + ["ab", "aaaa"]) + "\n").encode())
        write(os.path.join(root, "ok.txt"), b"aaa\nbbb\nxab\n")
        # text cut at 200 bytes: the first line's "é" would straddle it
        write(os.path.join(root, "cut.txt"), ("x" * 199 + "\u00e9 tail hello\n" + "y" * 198 + "\u00e9hello\n").encode())
        # two names that read alike in JSON strings, and a Latin-1 line
        write(os.path.join(root, "names").encode() + b"/x\xe9.txt", b"lossless\n")
        write(os.path.join(root, "names", "x\u00e9.txt"), b"lossless\n")
        write(os.path.join(root, "latin.txt"), b"caf\xe9 lossless\n")
        deep = deep_tree(os.path.join(root, "names"))
        srv = Server(binary, root, "--workers", "2")
        try:
            check("match limit: file_error, other lines searched, done incomplete",
                  lambda: t_match_limit(srv, root))
            check("text cut at 200 bytes never splits a UTF-8 character", lambda: t_utf8_cut(srv))
            check("a file deeper than PATH_MAX is searched", lambda: t_deep(srv, "names/" + deep))
            check("non-UTF-8 names and lines: path_bytes / text_bytes, lossless", lambda: t_lossless_names(srv))
            check("grep -E constructs PCRE2 reads otherwise: 400 + offset", lambda: t_dialect(srv))
        finally:
            rc = srv.stop()
        check_stopped(rc)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    finish()


if __name__ == "__main__":
    main()

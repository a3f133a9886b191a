#!/usr/bin/env python3
"""search/tests/integrity.py BINARY - no silently wrong or missing result.

  - PCRE2's match limit: a file whose lines make the pattern backtrack past
    the limit.  The other lines of the file are still searched (the results
    equal grep's), the failing lines are reported in one "file_error" line
    (lines_unchecked, first_line, why), and the done line says "incomplete"
    with errors=1, never "complete".
Prints `N passed, N failed` last; exit status 1 if anything failed.
"""
import json
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from harness import Server, check, expect, finish  # noqa: E402
from e2e import grep_lines, search, settled, write  # noqa: E402


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
    settled(srv, None)


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
        srv = Server(binary, root, "--workers", "2")
        try:
            check("match limit: file_error, other lines searched, done incomplete",
                  lambda: t_match_limit(srv, root))
        finally:
            rc = srv.stop()
        check("exit 0", lambda: expect(rc == 0, rc))
        check("no sanitizer report (sanitized builds)",
              lambda: expect(not Server.sanitizer_reports(), Server.sanitizer_reports()[:5]))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    finish()


if __name__ == "__main__":
    main()

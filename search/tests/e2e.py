#!/usr/bin/env python3
"""search/tests/e2e.py BINARY - end-to-end tests of gochan-search.

Runs the real binary on free loopback ports against trees generated in a
temporary directory, and checks (curl for the plain requests, raw sockets
where a test must decide when a client closes):
  - complete results equal `grep -rlEI` / `grep -rnEI` / `find -type f -name`
    less the hidden names (the default hidden=0; no ignore file here) (names with spaces, newlines, quotes, non-UTF-8 bytes; symlinks in and out
    of the tree are not followed; binaries and files over --max-file-size are
    skipped);
  - a client that stops reading and then hangs up, and one that hangs up while
    the workers are busy: the scan is cancelled (log end=canceled) and
    /debug/vars returns to zero;
  - every bad input gets its 400 with a JSON error, nothing is scanned, and the
    server keeps serving; 503 past --max-scans; deadline and limit endings;
  - 50 concurrent clients of which half hang up: correct results for the
    others, nothing left behind;
  - SIGTERM during scans: the scans end "canceled" and the server exits 0;
  - an unreadable directory is counted as an error, reported in a file_error
    line, and the done line says "incomplete" (run as nobody, since root
    reads a mode-000 directory).
No sleeps as synchronisation: a test waits for the server's log line of a
request (written after every worker was joined and every gauge it moved is
back), or for a response line.  The one bounded poll is for the process's
thread count, since a connection's thread ends just after its log line.
Prints `N passed, N failed` last; exit status 1 if anything failed.
"""
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from harness import Server, check, expect, finish  # noqa: E402

BIN = None
MAX_FILE = 200000
# A cancelled scan must be joined within this bound of the close().  Generous
# on purpose (other jobs share the CI machine): the tests prove that the scan
# stops, the demo and the benchmark measure how fast.
STOP_BOUND_MS = 2000
SLOW_RE = r"\b(\w+)\s+\1\b"
# ---- JSON escaping of names, as SEARCH-API.md defines it --------------------

def api_string(b):
    """The str a client decodes from the service's JSON for the bytes b:
    well-formed UTF-8 as is, any other byte as its Latin-1 character."""
    out = []
    i = 0
    while i < len(b):
        for k in (1, 2, 3, 4):
            try:
                out.append(b[i:i + k].decode("utf-8"))
                i += k
                break
            except UnicodeDecodeError:
                continue
        else:
            out.append(chr(b[i]))
            i += 1
    return "".join(out)


# ---- trees -------------------------------------------------------------------

def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def small_tree(root):
    rng = random.Random(7)
    words = b"alpha beta gamma hello world foo bar baz foobar fooobaz start end the cat ab12 cd7".split()
    names = [b"plain.txt", b"space name.txt", b"new\nline.txt", b"caf\xe9.txt", "café.txt".encode(),
             b'q"uote\\back.md', b"tab\there.md", b"file1.md", b"file2.md", b"-dash.c", b".hidden.txt",
             b"bad\xff\xfe.c", b"ctl\x01.txt"]
    dirs = [b"", b"a", b"a/b", b"a/b/c", b"dir with space", b"d\xe9j\xe0", b"x/y/z/w"]
    for d in dirs:
        for n in names:
            lines = []
            for _ in range(rng.randint(0, 40)):
                ws = [rng.choice(words) for _ in range(rng.randint(1, 9))]
                if rng.random() < 0.05:
                    ws.insert(1, ws[0])  # doubled word
                lines.append(b" ".join(ws))
            if rng.random() < 0.2:
                lines.append(b"x" * 300 + b" hello long line")
            data = b"\n".join(lines) + (b"\n" if rng.random() < 0.8 else b"")
            if rng.random() < 0.1:
                data = data.replace(b"\n", b"\r\n")
            write(os.path.join(root, d, n), data)
    write(os.path.join(root, b"bin/blob.bin"), b"hello\0world hello\n" * 10)
    write(os.path.join(root, b"bin/late.bin"), b"hello " * 2000 + b"\0")  # NUL after 8 KiB: text
    write(os.path.join(root, b"big/over.txt"), b"hello over the limit\n" * (MAX_FILE // 20))
    write(os.path.join(root, b"empty.txt"), b"")
    os.symlink(b"/etc", os.path.join(root, b"out"))
    os.symlink(b"/etc/passwd", os.path.join(root, b"a/passwd.txt"))
    os.symlink(b"b", os.path.join(root, b"a/loop"))
    os.symlink(b"../plain.txt", os.path.join(root, b"a/in.txt"))
    os.mkfifo(os.path.join(root, b"a/fifo.txt"))


def big_tree(root):
    """~64 MB: every line has 'zz' (a match per line for back-pressure tests);
    files over 64 KiB so cancellation inside a file is exercised."""
    rng = random.Random(11)
    words = "zz omega kappa river stream channel buffer select worker thread socket".split()
    pool = []
    for i in range(4000):
        ws = [rng.choice(words) for _ in range(rng.randint(5, 12))]
        ws.append("zz")
        pool.append(" ".join(ws))
    for d in range(16):
        for f in range(40):
            text = "\n".join(rng.choices(pool, k=1500)) + "\n"
            write(os.path.join(root, "d%02d" % d, "f%03d.txt" % f), text.encode())


# ---- reference results ----------------------------------------------------------

def run0(args, cwd):
    p = subprocess.run(args, cwd=cwd, stdout=subprocess.PIPE, env=dict(os.environ, LC_ALL="C"))
    return [x for x in p.stdout.split(b"\0") if x]


def strip_dot(p):
    return p[2:] if p.startswith(b"./") else p


def too_big(root, rel):
    return os.lstat(os.path.join(os.fsencode(root), rel)).st_size > MAX_FILE


# The one file where the service's binary probe (a NUL in the first 8 KiB)
# and grep's (a NUL in its first buffer, 32 KiB or more) disagree on purpose;
# t_skips checks it is searched.
GREP_DIFFERS = (b"bin/late.bin",)


def visible(p):
    """Whether a path (bytes) has no component starting with '.': the
    service leaves hidden names out by default (hidden=0, as rg and fd),
    grep -r and find do not, so the references drop them.  The trees here
    hold no ignore file, so nothing else differs."""
    return not any(c.startswith(b".") for c in p.split(b"/"))


def grep_files(root, pat):
    return sorted(api_string(strip_dot(p)) for p in run0(["grep", "-rlEIZ", "-e", pat, "."], root)
                  if not too_big(root, strip_dot(p)) and visible(strip_dot(p)))


def grep_lines(root, pat, *flags, hidden=False):
    """grep -rnIZ -E (or FLAGS, e.g. "-F", "-i") PAT: sorted (path, line, text),
    without hidden paths unless hidden."""
    p = subprocess.run(["grep", "-rnIZ", *(flags or ("-E",)), "-e", pat, "."], cwd=root,
                       stdout=subprocess.PIPE, env=dict(os.environ, LC_ALL="C"))
    out, b = [], p.stdout
    while b:
        i = b.index(b"\0")
        path, b = strip_dot(b[:i]), b[i + 1:]
        j = b.index(b":")
        n, b = int(b[:j]), b[j + 1:]
        k = b.index(b"\n")
        text, b = b[:k], b[k + 1:]
        if not too_big(root, path) and (hidden or visible(path)):
            out.append((api_string(path), n, api_string(text[:200])))
    return sorted(out)


def find_names(root, glob):
    return sorted(api_string(strip_dot(p)) for p in
                  run0(["find", ".", "-type", "f", "-name", glob, "-print0"], root) if visible(strip_dot(p)))


def curl(srv, target):
    srv._count(target)
    p = subprocess.run(["curl", "-sS", "--max-time", "120", "http://127.0.0.1:%d%s" % (srv.port, target),
                        "-w", "\n%{http_code}"], stdout=subprocess.PIPE)
    body, _, code = p.stdout.rpartition(b"\n")
    return int(code), body


def search(srv, **params):
    code, body = curl(srv, srv.url("/search", **params))
    expect(code == 200, "status %d: %r" % (code, body[:200]))
    objs = [json.loads(l) for l in body.split(b"\n") if l]
    expect(objs and objs[-1]["type"] == "done", "no done line: %r" % body[-200:])
    # A progress line comes every 250 ms whatever the machine's speed (a
    # slow or sanitized build meets them on the small tree too): checked
    # for its shape here, then left out of the results.
    for o in objs:
        if o["type"] == "progress":
            expect(isinstance(o.get("files"), int) and isinstance(o.get("elapsed_ms"), int), o)
    return [o for o in objs[:-1] if o["type"] != "progress"], objs[-1]


def settled(srv, idle_threads):
    v = srv.vars()
    for k in ("scans_in_progress", "workers_alive", "fds_held", "contexts_alive", "requests_in_progress"):
        expect(v[k] == 0, "/debug/vars %s = %d, want 0 (%r)" % (k, v[k], v))
    if idle_threads is None:  # not in SEARCH-API.md (the C service's extra): no thread check
        return v
    end = time.monotonic() + 5
    while v["process_threads"] > idle_threads and time.monotonic() < end:
        time.sleep(0.01)  # a bounded poll: a connection thread ends after its log line
        v = srv.vars()
    expect(v["process_threads"] <= idle_threads,
           "threads %d, idle %d" % (v["process_threads"], idle_threads))
    return v


def last_id(srv):
    """The id of the last /search request sent (the server numbers them in
    order of arrival; this is exact whenever requests are sent one by one)."""
    with srv.count_lock:
        return srv.searches


def wait_id(srv, rid, timeout=60):
    rec = srv.wait_log(lambda r: r["id"] == rid, timeout)
    if rec is None:
        # For the open bug in README.md: what the server's threads wait on.
        try:
            print("     /debug/vars when request %d had no log line: %s" % (rid, json.dumps(srv.vars())))
        except Exception as e:  # noqa: BLE001
            print("     /debug/vars unreadable: %r" % e)
    expect(rec is not None, "no log line for request %d within %d s" % (rid, timeout))
    return rec


# ---- tests -------------------------------------------------------------------------

def t_content(srv, root):
    # the literal path, PCRE2 alone, and PCRE2 behind a required literal
    # ("hell", "o wor", "baz", "ar b", "world", "long line")
    for pat in ["hello", "fo+ba[rz]", "^start", "end$", "(ab|cd)[0-9]+", r"(\w+) \1", "x{300}", "ca[t]$",
                "hello?", "hel+o wor", "fo(o)+baz", "foo[b]ar b", r"\bworld\b", "x{2,} hello long line$"]:
        objs, done = search(srv, q=pat)
        objs = [o for o in objs if o["path"].encode() not in GREP_DIFFERS]
        got = sorted(set(o["path"] for o in objs))
        want = grep_files(root, pat)
        # grep lists a file once; two distinct names may escape alike (café)
        expect(got == sorted(set(want)), "q=%r: got %d files, grep %d: %r" % (
            pat, len(got), len(set(want)), sorted(set(got) ^ set(want))[:5]))
        expect(done["reason"] == "complete", done)
        lines = sorted((o["path"], o["line"], o["text"]) for o in objs)
        expect(lines == grep_lines(root, pat), "q=%r: match lines differ from grep -n" % pat)
        expect(done["matches"] >= len(objs), "matches %d < %d lines" % (done["matches"], len(objs)))


def t_names(srv, root):
    # fnmatch, and the shapes that skip it: "*" (any), "*.md" (suffix), "plain.txt" (exact)
    for glob in ["*.txt", "file?.md", "[a-c]*", "*e*", "caf*", "*\n*", "[!p]*.txt", "*", "*.md", "plain.txt", "*txt"]:
        objs, done = search(srv, name=glob)
        got = sorted(o["path"] for o in objs)
        expect(all(o["type"] == "name" for o in objs), "types")
        expect(got == find_names(root, glob), "name=%r: %r vs find %r" % (glob, got[:5], find_names(root, glob)[:5]))


def t_both_and_root(srv, root):
    objs, _ = search(srv, q="hello", name="*.md")
    got = sorted(set(o["path"] for o in objs))
    want = sorted(set(p for p in grep_files(root, "hello") if p.endswith(".md")))
    expect(got == want, "q+name: %r vs %r" % (got[:4], want[:4]))
    objs, _ = search(srv, q="hello", root="a/b")
    got = sorted(set(o["path"] for o in objs))
    want = sorted(set("a/b/" + p for p in grep_files(os.path.join(root, "a/b"), "hello")))
    expect(got == want and got, "root=a/b: %r vs %r" % (got[:4], want[:4]))
    objs, _ = search(srv, q="hello", root="a/b/")
    expect(sorted(set(o["path"] for o in objs)) == want, "root=a/b/")


def t_skips(srv, root):
    objs, done = search(srv, q="hello", root="bin")
    got = sorted(set(o["path"] for o in objs))
    expect(got == ["bin/late.bin"], "binary with NUL in the first 8 KiB not skipped: %r" % got)
    expect(done["skipped"] == 1, done)
    objs, done = search(srv, q="hello", root="big")
    expect(objs == [] and done["skipped"] == 1, "file over --max-file-size not skipped: %r" % done)
    objs, done = search(srv, q="root:", root="a")  # /etc/passwd through a symlink
    expect(objs == [], "followed a symlink out of the tree: %r" % objs[:2])


def t_bad_inputs(srv, root):
    cases = [
        ({}, "q"), ({"q": ""}, "q"), ({"q": "("}, "q"), ({"q": "a{2,1}"}, "q"), ({"q": "[z-a]"}, "q"),
        ({"q": "(?<n"}, "q"), ({"name": "["}, "name"), ({"name": "a/b"}, "name"), ({"name": "x\\"}, "name"),
        ({"q": "a", "root": "../"}, "root"), ({"q": "a", "root": "a/../.."}, "root"),
        ({"q": "a", "root": "/etc"}, "root"), ({"q": "a", "root": "out"}, "root"),
        ({"q": "a", "root": "nope"}, "root"), ({"q": "a", "root": "plain.txt"}, "root"),
        ({"q": "a", "timeout": "xx"}, "timeout"), ({"q": "a", "timeout": "10"}, "timeout"),
        ({"q": "a", "timeout": "-1s"}, "timeout"), ({"q": "a", "timeout": "0"}, "timeout"),
        ({"q": "a", "timeout": "1e3s"}, "timeout"), ({"q": "a", "timeout": "99999999999h"}, "timeout"),
        ({"q": "a", "max": "0"}, "max"), ({"q": "a", "max": "abc"}, "max"), ({"q": "a", "max": "-3"}, "max"),
        ({"q": "a", "max": "10001"}, "max"), ({"q": "a", "max": "99999999999999999999999"}, "max"),
    ]
    before = last_id(srv)
    for params, param in cases:
        code, body = curl(srv, srv.url("/search", **params))
        expect(code == 400, "%r: status %d %r" % (params, code, body))
        e = json.loads(body)
        expect(e.get("param") == param and e.get("error"), "%r: %r" % (params, e))
        if params.get("q") == "(":
            expect(e.get("offset") == 1, "no PCRE2 offset: %r" % e)
    for i in range(before + 1, before + len(cases) + 1):
        r = wait_id(srv, i)
        expect(r["end"] == "error" and r["files"] == 0, "bad input scanned: %r" % r)
    expect(srv.vars()["scans_in_progress"] == 0, "scans after bad input")
    code, _ = curl(srv, "/nope")
    expect(code == 404, "404: %d" % code)
    code, body = curl(srv, "/")
    expect(code == 200 and b"<title>gochan-search</title>" in body, "page")
    search(srv, q="hello")  # still serving
    for t in ("1.5s", "250ms", "2h45m", "90s", "1m0.5s", "100000\u00b5s", "3000000us", "1h"):
        _, done = search(srv, q="hello", timeout=t)
        expect(done["reason"] in ("complete", "deadline"), "timeout=%r: %r" % (t, done))


def t_limit_deadline(srv, big):
    objs, done = search(srv, q="hello", max="3")
    expect(len(objs) == 3 and done["reason"] == "limit", "max=3: %d %r" % (len(objs), done))
    # The deadline must come part-way through the scan on any machine: a
    # fixed 150 ms cut a 64 MB scan on a slow machine but not on one that
    # scans it in 160 ms (issue 15's audit).  So the full scan is timed
    # first, here and now, and the deadline is a quarter of it.
    objs, done = search(big, q=SLOW_RE)
    expect(done["reason"] == "complete", "full scan: %r" % done)
    cut = max(1, done["elapsed_ms"] // 4)
    objs, done = search(big, q=SLOW_RE, timeout="%dms" % cut)
    expect(done["reason"] == "deadline", "timeout=%dms (full scan %d ms): %r" % (cut, done["elapsed_ms"], done))
    expect(wait_id(big, last_id(big))["end"] == "deadline", "log end")


def open_stream(srv, **params):
    s, r = srv.stream(srv.url("/search", **params))
    expect(r.status == 200, "status %d" % r.status)
    first = r.line()
    expect(first is not None, "no first line")
    return s, r


def t_hangup_backpressure(big, idle):
    # The client reads one line, then stops reading: the results fill the
    # socket and the channel, so the workers block in ctx_send; the hang-up
    # must unblock them.
    rid = last_id(big) + 1
    s, r = open_stream(big, q="zz", max="10000000")
    v = big.vars()
    # The first line is out, so the scan runs; its second worker may not have
    # been scheduled yet (CI saw workers_alive == 1 here once): >= 1, <= 2.
    expect(v["scans_in_progress"] == 1 and 1 <= v["workers_alive"] <= 2, "scan not running: %r" % v)
    t_close = time.time_ns()
    s.close()
    rec = wait_id(big, rid)
    expect(rec["end"] == "canceled", rec)
    ms = (rec["joined_unix_ns"] - t_close) / 1e6
    expect(ms < STOP_BOUND_MS, "stopped %.1f ms after the close" % ms)
    print("     back-pressured scan: close() -> joined %.2f ms, %d files scanned" % (ms, rec["files"]))
    settled(big, idle)


def t_hangup_busy(big, idle):
    # Workers busy matching (few results): hang up right after the first line.
    times = []
    for _ in range(5):
        rid = last_id(big) + 1
        s, r = open_stream(big, q=SLOW_RE + "|omega kappa river", max="10000000")
        t_close = time.time_ns()
        s.close()
        rec = wait_id(big, rid)
        expect(rec["end"] == "canceled", "ended %r: the scan finished before the hang-up?" % rec["end"])
        times.append((rec["joined_unix_ns"] - t_close) / 1e6)
        settled(big, idle)
    expect(max(times) < STOP_BOUND_MS, "stop times %r" % times)
    print("     busy scans: close() -> joined ms: %s" % ", ".join("%.2f" % t for t in times))


def t_many_clients(big, idle):
    # 50 clients at once: the even ones run a name search whose answer is
    # known to the end; the odd ones start slow content scans and hang up
    # once all of them are running.
    want = sorted("d%02d/f%03d.txt" % (d, f) for d in range(16) for f in range(40) if f % 10 == 7)
    results, errors = {}, []
    start = threading.Barrier(50)
    first = threading.Barrier(25 + 1)
    checked = threading.Event()

    def full(i):
        try:
            start.wait(30)
            code, body = curl(big, big.url("/search", name="f??7.txt", max="100000"))
            objs = [json.loads(l) for l in body.split(b"\n") if l]
            results[i] = (code, sorted(o["path"] for o in objs if o["type"] == "name"), objs[-1])
        except Exception as e:  # noqa: BLE001
            errors.append(repr(e))

    def quitter(i):
        try:
            start.wait(30)
            s, r = open_stream(big, q=SLOW_RE, max="10000000")
            first.wait(60)  # every quitter's scan is running now
            checked.wait(60)  # ... and the main thread has seen them
            s.close()
        except Exception as e:  # noqa: BLE001
            errors.append(repr(e))
            first.abort()

    before = last_id(big)
    ts = [threading.Thread(target=full if i % 2 == 0 else quitter, args=(i,)) for i in range(50)]
    for t in ts:
        t.start()
    try:
        first.wait(60)
        v = big.vars()
        expect(v["scans_in_progress"] >= 25, "only %d scans running; ended: %r" % (
            v["scans_in_progress"], [big.logs[i] for i in sorted(big.logs) if i > before][:5]))
    finally:
        checked.set()
        for t in ts:
            t.join(120)
    expect(not errors, errors[:3])
    for i, (code, got, done) in results.items():
        expect(code == 200 and got == want and done["reason"] == "complete", "client %d: %d %d names %r" % (
            i, code, len(got), done))
    expect(len(results) == 25, "%d full results" % len(results))
    ends = [wait_id(big, i)["end"] for i in range(before + 1, before + 51)]  # any order
    expect(ends.count("canceled") == 25 and ends.count("complete") == 25, "ends %r" % ends)
    settled(big, idle)


def t_503(binary, bigroot):
    srv = Server(binary, bigroot, "--max-scans", "2", "--workers", "2", "--scan-threads", "4",
                 "--max-results", "10000000")
    try:
        # two clients that do not read: their scans stay blocked on back-pressure
        a = open_stream(srv, q="zz", max="10000000")
        b = open_stream(srv, q="zz", max="10000000")
        code, body = curl(srv, srv.url("/search", q="zz"))
        expect(code == 503 and json.loads(body)["error"] == "too many concurrent scans", "%d %r" % (code, body[:200]))
        for s, _ in (a, b):
            s.close()
        srv.wait_log(lambda r: r["id"] == 2)
        srv.wait_log(lambda r: r["id"] == 1)
        objs, done = search(srv, q="zz", max="5")
        expect(done["reason"] == "limit", "after 503: %r" % done)
    finally:
        expect(srv.stop() == 0, "exit status")


def t_sigterm(binary, bigroot):
    srv = Server(binary, bigroot, "--workers", "2", "--scan-threads", "8", "--max-results", "10000000")
    streams = [open_stream(srv, q=SLOW_RE, max="100000") for _ in range(3)]
    stuck = open_stream(srv, q="zz", max="10000000")  # not reading: back-pressured
    v = srv.vars()
    expect(v["scans_in_progress"] == 4, v)
    srv.proc.send_signal(signal.SIGTERM)
    reasons = []
    for s, r in streams:
        done = None
        try:
            for o in r.objects():
                if o["type"] == "done":
                    done = o
        except (EOFError, OSError):
            pass
        reasons.append(done and done["reason"])
        s.close()
    rc = srv.proc.wait(30)
    stuck[0].close()
    srv.reader.join(5)
    expect(rc == 0, "exit %d: %s" % (rc, "\n".join(srv.stderr_text[-5:])))
    expect(reasons == ["canceled"] * 3, "done reasons %r" % reasons)
    ends = [srv.logs[i]["end"] for i in sorted(srv.logs)]
    expect(ends == ["canceled"] * 4, "log ends %r" % ends)
    expect("clean exit" in srv.stderr_text[-1], srv.stderr_text[-1])


def t_unreadable(binary, tmp):
    if os.geteuid() == 0 and not shutil.which("setpriv"):
        raise AssertionError("setpriv (util-linux) missing")
    root = os.path.join(tmp, "perm")
    for d in ("ok", "locked/inner"):
        write(os.path.join(root, d, "f.txt"), b"hello\n")
    os.chmod(os.path.join(root, "locked"), 0)
    exe = os.path.join(tmp, "gochan-search")
    shutil.copy(binary, exe)
    os.chmod(exe, 0o755)
    for d, _, _ in os.walk(tmp):
        if "locked" not in d:
            os.chmod(d, 0o755)
    os.chmod(tmp, 0o755)
    run = exe
    if os.geteuid() == 0:
        # root reads a mode-000 directory: run the server as nobody.
        run = os.path.join(tmp, "as-nobody.sh")
        with open(run, "w") as f:
            f.write("#!/bin/sh\nexec setpriv --reuid=65534 --regid=65534 --clear-groups %s \"$@\"\n" % exe)
        os.chmod(run, 0o755)
    srv = Server(run, root)
    try:
        objs, done = search(srv, q="hello")
        expect([o["path"] for o in objs if o["type"] == "match"] == ["ok/f.txt"], objs)
        errs = [o for o in objs if o["type"] == "file_error"]
        expect(len(errs) == 1 and errs[0]["path"] == "locked" and "denied" in errs[0]["error"], errs)
        expect(done["errors"] == 1 and done["reason"] == "incomplete", "unreadable dir not counted: %r" % done)
    finally:
        srv.stop()
        os.chmod(os.path.join(root, "locked"), 0o755)


def main():
    global BIN
    if len(sys.argv) != 2:
        sys.exit("usage: e2e.py PATH/TO/gochan-search")
    BIN = os.path.abspath(sys.argv[1])
    tmp = tempfile.mkdtemp(prefix="gochan-search-e2e-")
    try:
        small = os.path.join(tmp, "small").encode()
        small_tree(small)
        small = small.decode()
        bigroot = os.path.join(tmp, "big")
        big_tree(bigroot)
        srv = Server(BIN, small, "--max-file-size", str(MAX_FILE), "--workers", "3")
        big = Server(BIN, bigroot, "--workers", "2", "--max-scans", "64", "--scan-threads", "128",
                     "--max-results", "10000000")
        idle_small = srv.vars().get("process_threads")
        idle_big = big.vars().get("process_threads")
        try:
            check("content results = grep -rlEI / grep -rnEI", lambda: t_content(srv, small))
            check("name results = find -type f -name", lambda: t_names(srv, small))
            check("q+name, root=", lambda: t_both_and_root(srv, small))
            check("binary, oversize, symlinks skipped", lambda: t_skips(srv, small))
            check("bad inputs: 400 + JSON, nothing scanned, still serving", lambda: t_bad_inputs(srv, small))
            check("max -> limit, timeout -> deadline", lambda: t_limit_deadline(srv, big))
            check("hang-up of a back-pressured scan", lambda: t_hangup_backpressure(big, idle_big))
            check("hang-up of busy scans (x5)", lambda: t_hangup_busy(big, idle_big))
            check("50 clients, half hang up", lambda: t_many_clients(big, idle_big))
            check("idle after all (small server)", lambda: settled(srv, idle_small))
        finally:
            rc1, rc2 = srv.stop(), big.stop()
        check("SIGTERM exit 0 (both servers)", lambda: expect(rc1 == 0 and rc2 == 0, (rc1, rc2)))
        check("503 past --max-scans", lambda: t_503(BIN, bigroot))
        check("SIGTERM during scans", lambda: t_sigterm(BIN, bigroot))
        check("unreadable directory counted (as nobody)", lambda: t_unreadable(BIN, tmp))
        check("no sanitizer report (sanitized builds)",
              lambda: expect(not Server.sanitizer_reports(), Server.sanitizer_reports()[:5]))
    finally:
        for d, subdirs, _ in os.walk(tmp):
            for s in subdirs:
                try:
                    os.chmod(os.path.join(d, s), 0o755)
                except OSError:
                    pass
        shutil.rmtree(tmp, ignore_errors=True)
    finish()


if __name__ == "__main__":
    main()

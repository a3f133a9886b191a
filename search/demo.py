#!/usr/bin/env python3
"""search/demo.py BINARY - the zombie-scan story, end to end, on the real service.

0. Sizes the corpus from this machine's measured scan rate.  The base tree
   (search/corpus.py: ~600 MB, ~25,000 files, generated deterministically
   under ~/.cache/gochan-search) is searched once in full; if that took less
   than TARGET_S, the demo uses the tree 2, 4 or 8 times as large (the
   smallest that should take TARGET_S; made once, cached), so that the
   search a client gives up on would go on for seconds on a fast idle
   machine as on a slow loaded one.
1. Starts gochan-search on a free loopback port.
2. A client starts a content search and reads its results until the
   server's progress lines say HANGUP_FRACTION of the tree's files have been
   scanned; then it hangs up (close()).  The hang-up is decided by the
   scan's own progress, never by the wall clock, so it comes part-way on any
   machine.  The demo prints how many files had been scanned, how long
   after the close() the last scan worker was joined (the server's log line
   carries the wall-clock time of that join), and /debug/vars before,
   during and after: descriptors, workers, contexts and threads must be
   back to idle.
3. The same search run to completion: its count, time and files/s, and how
   long the rest of the scan took, that is what the hung-up search would
   have burnt for nobody.
4. SIGTERM: the server must exit 0 with nothing left.

Exits non-zero, loudly, if the cancelled scan did not end 'canceled', went
on to the end of the tree, or was stopped later than STOP_SHARE of the time
the rest of the scan takes (a ratio of two times measured in the same run,
so it holds on a fast or slow, idle or loaded machine: a scan that was not
cancelled takes all of it), or if anything was left behind.
GOCHAN_SEARCH_STOP_BOUND_MS=N adds an absolute bound in milliseconds.
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus  # noqa: E402
from harness import Server  # noqa: E402

PATTERN = r"\b(\w+)\s+\1\b"  # doubled words: a back-reference, no literal fast path
TARGET_S = 6.0          # what a full search of the demo's tree should take here
HANGUP_FRACTION = 0.25  # the client hangs up once this share of the files is scanned
STOP_SHARE = 0.05       # the stop must take under this share of the rest of the scan
LINE_PATIENCE_S = 60    # a progress line comes every 250 ms: this much silence is a hang
STOP_BOUND_MS = os.environ.get("GOCHAN_SEARCH_STOP_BOUND_MS")
WORKERS = 2


def fail(msg):
    print("\nDEMO FAILED: " + msg, flush=True)
    sys.exit(1)


def idle_view(v):
    return "scans %d, workers %d, fds %d, contexts %d, threads %d" % (
        v["scans_in_progress"], v["workers_alive"], v["fds_held"], v["contexts_alive"],
        v["process_threads"])


def load():
    return "load average %.2f" % os.getloadavg()[0]


def full_search(srv, m):
    """The search run to completion over the whole tree: its done line and match count."""
    sock, resp = srv.stream(srv.url("/search", q=PATTERN, max="1000000"), timeout=LINE_PATIENCE_S)
    n = 0
    done = None
    for o in resp.objects():
        if o["type"] == "match":
            n += 1
        elif o["type"] == "done":
            done = o
    sock.close()
    if not done or done["reason"] != "complete" or done["matches"] != n:
        fail("the full search did not complete: %r (%d matches read)" % (done, n))
    if done["files"] != m["files"] or done["bytes"] != m["bytes"]:
        fail("the full search scanned %d files, %d bytes; the tree has %d files, %d bytes"
             % (done["files"], done["bytes"], m["files"], m["bytes"]))
    return done, n


def start_server(binary, root):
    # Two workers whatever the machine: the tree is sized for them.
    return Server(binary, root, "--max-results", "1000000", "--workers", str(WORKERS))


def size_corpus(binary):
    """The tree this machine needs: the base tree's full search, timed, picks
    the scale (1, 2, 4 or 8) whose search should take TARGET_S."""
    t0 = time.monotonic()
    root, m = corpus.ensure()
    print("corpus   %s: %d files, %.0f MB (%s)" % (
        root, m["files"], m["bytes"] / 1e6,
        "made now" if time.monotonic() - t0 > 1 else "reused"), flush=True)
    srv = start_server(binary, root)
    try:
        done, _ = full_search(srv, m)
    finally:
        srv.stop()
    secs = done["elapsed_ms"] / 1e3
    scale = 1
    while scale < 8 and scale * secs < TARGET_S:
        scale *= 2
    print("sizing   a full search of it takes %.2f s here (%s): the demo searches the tree x%d"
          % (secs, load(), scale), flush=True)
    if scale == 1:
        return root, m
    t0 = time.monotonic()
    root, m = corpus.ensure(scale)
    print("corpus   %s: %d files, %.0f MB (%s)" % (
        root, m["files"], m["bytes"] / 1e6,
        "made now" if time.monotonic() - t0 > 1 else "reused"), flush=True)
    return root, m


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: demo.py PATH/TO/gochan-search")
    binary = sys.argv[1]
    root, m = size_corpus(binary)

    srv = start_server(binary, root)
    print("server   gochan-search on 127.0.0.1:%d, %d scan workers per request (%d cores, %s)"
          % (srv.port, WORKERS, os.cpu_count(), load()), flush=True)
    try:
        idle = srv.vars()
        print("idle     /debug/vars: %s" % idle_view(idle), flush=True)

        # ---- a client that gives up part-way
        want = int(m["files"] * HANGUP_FRACTION)
        print("\n1) search q=%s; the client hangs up once %d of the %d files (%.0f%%) are scanned"
              % (PATTERN, want, m["files"], HANGUP_FRACTION * 100), flush=True)
        sock, resp = srv.stream(srv.url("/search", q=PATTERN, max="1000000"), timeout=LINE_PATIENCE_S)
        if resp.status != 200:
            fail("status %d" % resp.status)
        files = matches = 0
        elapsed_ms = 0
        while files < want:
            try:
                line = resp.line()
            except OSError:  # socket.timeout
                fail("no line from the server for %d s" % LINE_PATIENCE_S)
            if line is None:
                fail("the stream ended before the hang-up, with no done line")
            o = json.loads(line)
            if o["type"] == "match":
                matches += 1
            elif o["type"] == "progress":
                files, elapsed_ms = o["files"], o["elapsed_ms"]
            elif o["type"] == "done":
                fail("the scan ended (%s) after %d files, before the client's hang-up at %d"
                     % (o["reason"], o["files"], want))
        during = srv.vars()
        t_close = time.time_ns()
        sock.close()
        print("   at the hang-up: %d of %d files scanned in %.2f s, %d matches received"
              % (files, m["files"], elapsed_ms / 1e3, matches))
        print("   during:  /debug/vars: %s" % idle_view(during))
        rec = srv.wait_log(lambda r: r["end"] != "error", timeout=LINE_PATIENCE_S)
        if rec is None:
            fail("no log line for the cancelled search within %d s: the scan did not stop"
                 % LINE_PATIENCE_S)
        if rec["end"] != "canceled":
            fail("the search ended %r, not 'canceled'" % rec["end"])
        if rec["files"] >= m["files"]:
            fail("the cancelled search scanned all %d files: the hang-up did not stop it" % m["files"])
        client_ms = (rec["joined_unix_ns"] - t_close) / 1e6
        print("   server log: %s" % next(l for l in srv.stderr_text if l.startswith("search id=%d " % rec["id"])))
        print("   close() -> last worker joined: %.2f ms (client clock); hang-up seen -> joined: %.2f ms (server)"
              % (client_ms, rec["hangup_to_joined_ms"]))
        # The connection's own thread and the timer thread end just after the
        # log line is written: wait (bounded) for them to be gone.
        t_wait = time.monotonic()
        after = srv.vars()
        while after["process_threads"] > idle["process_threads"] and time.monotonic() - t_wait < LINE_PATIENCE_S:
            time.sleep(0.01)
            after = srv.vars()
        print("   after:   /debug/vars: %s" % idle_view(after))
        for k in ("scans_in_progress", "workers_alive", "fds_held", "contexts_alive"):
            if after[k] != 0:
                fail("%s = %d after the cancelled scan was joined" % (k, after[k]))
        if after["process_threads"] > idle["process_threads"]:
            fail("threads %d after, %d idle" % (after["process_threads"], idle["process_threads"]))

        # ---- the same search, to the end
        print("\n2) the same search, run to completion", flush=True)
        done, n = full_search(srv, m)
        secs = done["elapsed_ms"] / 1e3
        rest = max(secs - elapsed_ms / 1e3, 0)
        print("   %d matching lines in %d files (%.0f MB) in %.2f s: %.0f files/s, %.0f MB/s (%s)"
              % (n, done["files"], done["bytes"] / 1e6, secs, done["files"] / secs,
                 done["bytes"] / 1e6 / secs, load()))
        print("   so the hung-up search would have burnt %.2f s more on %d workers, for nobody;"
              % (rest, WORKERS))
        print("   it was stopped %.2f ms after the client left (%.3f%% of that)"
              % (client_ms, 100 * client_ms / 1e3 / rest if rest > 0 else 0), flush=True)
        if client_ms / 1e3 > STOP_SHARE * rest:
            fail("the scan stopped %.1f ms after the hang-up: over %.0f%% of the %.2f s the rest of"
                 " the scan takes" % (client_ms, STOP_SHARE * 100, rest))
        if STOP_BOUND_MS is not None and client_ms > float(STOP_BOUND_MS):
            fail("the scan stopped %.1f ms after the hang-up (bound %s ms)" % (client_ms, STOP_BOUND_MS))
        print("   OK: the scan stopped at once; nothing left behind", flush=True)
    except BaseException:
        srv.stop()
        raise

    # ---- clean shutdown
    rc = srv.stop()
    last = srv.stderr_text[-1] if srv.stderr_text else ""
    print("\n3) SIGTERM: exit %d: %s" % (rc, last))
    if rc != 0:
        fail("the server did not exit cleanly:\n" + "\n".join(srv.stderr_text[-20:]))
    print("\ndemo OK", flush=True)


if __name__ == "__main__":
    main()

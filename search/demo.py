#!/usr/bin/env python3
"""search/demo.py BINARY - the zombie-scan story, end to end, on the real service.

1. Makes (once) or reuses the default corpus (search/corpus.py: ~600 MB, ~25,000
   files, generated deterministically under ~/.cache/gochan-search).
2. Starts gochan-search on a free loopback port.
3. A client starts a content search whose full scan takes several seconds,
   reads results for 2 s, then hangs up (close()).  The demo prints how many
   files had been scanned, how long after the close() the last scan worker
   was joined (the server's log line carries the wall-clock time of that
   join), and /debug/vars before, during and after: descriptors, workers,
   contexts and threads must be back to idle.
4. The same search run to completion: its count, time and files/s.
5. SIGTERM: the server must exit 0 with nothing left.

Exits non-zero, loudly, if the cancelled scan was not stopped within
STOP_BOUND_MS of the hang-up or anything was left behind.
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus  # noqa: E402
from harness import Server  # noqa: E402

PATTERN = r"\b(\w+)\s+\1\b"  # doubled words: a back-reference, no literal fast path
HANGUP_AFTER_S = 2.0
STOP_BOUND_MS = float(os.environ.get("GOCHAN_SEARCH_STOP_BOUND_MS", "100"))
WORKERS = 2


def fail(msg):
    print("\nDEMO FAILED: " + msg, flush=True)
    sys.exit(1)


def idle_view(v):
    return "scans %d, workers %d, fds %d, contexts %d, threads %d" % (
        v["scans_in_progress"], v["workers_alive"], v["fds_held"], v["contexts_alive"],
        v["process_threads"])


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: demo.py PATH/TO/gochan-search")
    binary = sys.argv[1]
    t0 = time.monotonic()
    root, m = corpus.ensure()
    print("corpus   %s: %d files, %.0f MB (%s)" % (
        root, m["files"], m["bytes"] / 1e6,
        "made now" if time.monotonic() - t0 > 1 else "reused"), flush=True)

    # Two workers whatever the machine: the corpus is sized so that a full
    # scan takes several seconds on 2 cores, and the hang-up must come first.
    srv = Server(binary, root, "--max-results", "1000000", "--workers", str(WORKERS))
    print("server   gochan-search on 127.0.0.1:%d, %d scan workers per request (%d cores)"
          % (srv.port, WORKERS, os.cpu_count()), flush=True)
    try:
        idle = srv.vars()
        print("idle     /debug/vars: %s" % idle_view(idle), flush=True)

        # ---- 3. a client that gives up after 2 s
        print("\n1) search q=%s, the client hangs up after %.0f s" % (PATTERN, HANGUP_AFTER_S), flush=True)
        sock, resp = srv.stream(srv.url("/search", q=PATTERN, max="1000000"))
        if resp.status != 200:
            fail("status %d" % resp.status)
        start = time.monotonic()
        files = matches = 0
        sock.settimeout(0.1)
        while time.monotonic() - start < HANGUP_AFTER_S:
            try:
                line = resp.line()
            except OSError:  # socket.timeout: nothing new within 0.1 s
                continue
            if line is None:
                fail("the scan ended before the hang-up: the corpus is too small for this machine")
            o = json.loads(line)
            if o["type"] == "match":
                matches += 1
            elif o["type"] == "progress":
                files = o["files"]
            elif o["type"] == "done":
                fail("the scan ended before the hang-up (%s)" % o["reason"])
        during = srv.vars()
        t_close = time.time_ns()
        sock.close()
        print("   at the hang-up: %d of %d files scanned, %d matches received" % (files, m["files"], matches))
        print("   during:  /debug/vars: %s" % idle_view(during))
        rec = srv.wait_log(lambda r: r["end"] != "error", timeout=30)
        if rec is None:
            fail("no log line for the cancelled search within 30 s: the scan did not stop")
        if rec["end"] != "canceled":
            fail("the search ended %r, not 'canceled'" % rec["end"])
        client_ms = (rec["joined_unix_ns"] - t_close) / 1e6
        print("   server log: %s" % next(l for l in srv.stderr_text if l.startswith("search id=%d " % rec["id"])))
        print("   close() -> last worker joined: %.2f ms (client clock); hang-up seen -> joined: %.2f ms (server)"
              % (client_ms, rec["hangup_to_joined_ms"]))
        # The connection's own thread and the timer thread end just after the
        # log line is written: allow them a moment (bounded) to be gone.
        t_wait = time.monotonic()
        after = srv.vars()
        while after["process_threads"] > idle["process_threads"] and time.monotonic() - t_wait < 2:
            time.sleep(0.01)
            after = srv.vars()
        print("   after:   /debug/vars: %s" % idle_view(after))
        for k in ("scans_in_progress", "workers_alive", "fds_held", "contexts_alive"):
            if after[k] != 0:
                fail("%s = %d after the cancelled scan was joined" % (k, after[k]))
        if after["process_threads"] > idle["process_threads"]:
            fail("threads %d after, %d idle" % (after["process_threads"], idle["process_threads"]))
        if client_ms > STOP_BOUND_MS:
            fail("the scan stopped %.1f ms after the hang-up (bound %.0f ms)" % (client_ms, STOP_BOUND_MS))
        print("   OK: the scan stopped %.2f ms after the client left; nothing left behind" % client_ms, flush=True)

        # ---- 4. the same search, to the end
        print("\n2) the same search, run to completion", flush=True)
        sock, resp = srv.stream(srv.url("/search", q=PATTERN, max="1000000"))
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
        secs = done["elapsed_ms"] / 1e3
        print("   %d matching lines in %d files (%.0f MB) in %.2f s: %.0f files/s, %.0f MB/s"
              % (n, done["files"], done["bytes"] / 1e6, secs, done["files"] / secs, done["bytes"] / 1e6 / secs))
        print("   (so the hung-up search would have burnt ~%.1f s more on %d workers)"
              % (max(secs - HANGUP_AFTER_S, 0), WORKERS), flush=True)
    except BaseException:
        srv.stop()
        raise

    # ---- 5. clean shutdown
    rc = srv.stop()
    last = srv.stderr_text[-1] if srv.stderr_text else ""
    print("\n3) SIGTERM: exit %d: %s" % (rc, last))
    if rc != 0:
        fail("the server did not exit cleanly:\n" + "\n".join(srv.stderr_text[-20:]))
    print("\ndemo OK", flush=True)


if __name__ == "__main__":
    main()

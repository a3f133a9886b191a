#!/usr/bin/env python3
"""search/stopbench.py BINARY [ROUNDS] - hang-up-to-stop of a scan on a busy server.

Two servers on the same generated tree (tests/e2e.py's 64 MB one), --workers
2, differing only in --scan-threads: 16 (what the old defaults allowed on 2
cores: 8 scans x 2 workers) and the default (the number of cores).  Each
round, on each server in turn: one client starts a slow regex scan and reads
its first line, 7 more clients send the same search (running or queued,
as the budget allows), and once all 8 hold a scan slot the first client
closes its socket; the figure is the server's CLOCK_REALTIME of the last
worker joined (log joined_unix_ns) minus the client's time of close().
Prints the median, min and max per server, and the load average.
"""
import os
import statistics
import sys
import tempfile
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "tests"))
from harness import Server  # noqa: E402
from e2e import big_tree  # noqa: E402

# A back-reference scan with few matches (10 in the tree): its workers stay
# busy matching instead of waiting on an unread results channel.
SLOW = r"\b(\w+)\b.*\b\1\b.*\b\1\b.*\b\1\b.*\b\1\b.*\b\1\b.*\b\1\b"
BUSY = 8


def one_round(srv):
    target = "/search?q=%s&max=10000000" % urllib.parse.quote(SLOW)
    probe_id = srv.searches + 1
    s, r = srv.stream(target)
    assert r.status == 200 and r.line() is not None
    others = []
    for _ in range(BUSY - 1):
        o = srv.connect()
        srv._count(target)
        o.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (target, srv.host)).encode())
        others.append(o)
    end = time.monotonic() + 30
    while srv.vars()["scans_in_progress"] < BUSY and time.monotonic() < end:
        pass
    t_close = time.time_ns()
    s.close()
    rec = srv.wait_log(lambda x: x["id"] == probe_id, 60)
    for o in others:
        o.close()
    last = srv.searches
    srv.wait_log(lambda x: x["id"] == last, 60)
    for i in range(probe_id, last + 1):
        srv.wait_log(lambda x, i=i: x["id"] == i, 60)
    assert rec["end"] == "canceled", rec
    return (rec["joined_unix_ns"] - t_close) / 1e6


def main():
    binary = os.path.abspath(sys.argv[1])
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 15
    tmp = tempfile.mkdtemp(prefix="gochan-search-stopbench-")
    root = os.path.join(tmp, "big")
    big_tree(root)
    cfgs = [("--scan-threads 16 (old: 8 scans x 2 cores)", ["--scan-threads", "16"]),
            ("--scan-threads default (%d cores)" % os.cpu_count(), [])]
    servers = [Server(binary, root, "--workers", "2", "--max-results", "10000000", *a) for _, a in cfgs]
    res = [[] for _ in cfgs]
    load0 = os.getloadavg()
    for _ in range(rounds):
        for k, srv in enumerate(servers):
            res[k].append(one_round(srv))
    load1 = os.getloadavg()
    for srv in servers:
        srv.stop()
    print("hang-up to last worker joined, %d rounds, %d busy scans, 64 MB tree, --workers 2" % (rounds, BUSY))
    for (name, _), r in zip(cfgs, res):
        print("  %-45s median %.2f ms  min %.2f  max %.2f" % (name, statistics.median(r), min(r), max(r)))
    print("load average before %.2f %.2f %.2f, after %.2f %.2f %.2f" % (load0 + load1))


if __name__ == "__main__":
    main()

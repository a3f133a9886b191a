#!/usr/bin/env python3
"""cpu.py TREE BIN[=LABEL]... - CPU time (user+sys) per query of one or more
builds of gochan-search against ripgrep (content) and fd (names), for a
loaded machine where wall time says little (python3 stdlib only).

  python3 bench/search/cpu.py ~/.cache/gochan-search-bench/golang-1.19-src-*/x/usr/share/go-1.19 \\
          /tmp/gs-main=main zig-out/bin/gochan-search=branch

Each service is started once (--workers JOBS --max-results 1000000) and
asked with hidden=1&ignore=0 (as bench/search/real.py does); its CPU time is
the change of utime+stime in /proc/PID/stat (the threads that ended
included) around REPS requests, each streamed whole, divided by REPS; rg's
and fd's is their rusage (RUSAGE_CHILDREN), with real.py's flags.  One
untimed round, then ROUNDS rounds; prints per query the median [min-max]
seconds and the number of result lines of each tool (they must agree).

Environment: ROUNDS=5 REPS=5 JOBS=2 ONLY=content|name (default: both).
The clock tick is 1/SC_CLK_TCK (10 ms): REPS averages below it.
"""
import os
import re
import resource
import statistics
import subprocess
import sys
import urllib.parse
import urllib.request

QUERIES = [  # the go tree's queries of bench/search/real.py; None: a name query (fd)
    ({"q": "ErrUnexpectedEOF"}, []),
    ({"q": "deadline", "case": "insensitive"}, ["-i"]),
    ({"q": r"(RLock|RUnlock|Lock|Unlock)\(\)"}, []),
    ({"q": r"func \([a-z]+ \*[A-Z][A-Za-z0-9]*\) [A-Z]"}, []),
    ({"q": "Hyrum"}, []),
    ({"name": "*.go"}, None),
    ({"name": "z*"}, None),
    ({"name": "gofmt.go"}, None),
]


def proc_cpu(pid):
    f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def start(binary, tree, jobs):
    p = subprocess.Popen([binary, "--root", tree, "--port", "0", "--workers", jobs,
                          "--max-results", "1000000"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    m = re.search(rb":(\d+)\s*$", p.stdout.readline())
    if not m:
        p.kill()
        sys.exit("%s did not start" % binary)
    return p, int(m.group(1))


def ask(port, params):
    q = dict(params, hidden="1", ignore="0")
    n = 0
    url = "http://127.0.0.1:%d/search?%s" % (port, urllib.parse.urlencode(q))
    with urllib.request.urlopen(url, timeout=300) as r:
        for line in r:
            n += line.startswith(b'{"type":"match"') or line.startswith(b'{"type":"name"')
    return n


def cli(tree, jobs, params, extra):
    if extra is None:
        cmd = ["fdfind", "-uu", "-t", "f", "-g", params["name"], "-j", jobs]
    else:
        cmd = ["rg", "-uu", "--no-messages", "-n", "--no-heading", "--null", "--max-filesize", "8M",
               "-j", jobs, *extra, "-e", params["q"]]
    a = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(cmd, cwd=tree, stdout=subprocess.PIPE).stdout
    b = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (b.ru_utime - a.ru_utime) + (b.ru_stime - a.ru_stime), out.count(b"\n")


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    tree, bins = sys.argv[1], sys.argv[2:]
    rounds = int(os.environ.get("ROUNDS", "5"))
    reps = int(os.environ.get("REPS", "5"))
    jobs = os.environ.get("JOBS", "2")
    only = os.environ.get("ONLY")
    queries = [q for q in QUERIES if not only or (q[1] is None) == (only == "name")]
    services = []
    for b in bins:
        path, _, label = b.partition("=")
        services.append((label or path,) + start(path, tree, jobs))
    times, counts = {}, {}
    try:
        for r in range(rounds + 1):
            for params, extra in queries:
                key = params.get("q") or params["name"]
                for label, p, port in services:
                    c0 = proc_cpu(p.pid)
                    for _ in range(reps):
                        counts[(key, label)] = ask(port, params)
                    if r:
                        times.setdefault(key, {}).setdefault(label, []).append((proc_cpu(p.pid) - c0) / reps)
                tool = "rg" if extra is not None else "fd"
                total = 0.0
                for _ in range(reps):
                    c, counts[(key, tool)] = cli(tree, jobs, params, extra)
                    total += c
                if r:
                    times.setdefault(key, {}).setdefault(tool, []).append(total / reps)
    finally:
        for _, p, _ in services:
            p.kill()
            p.wait()
    for params, _ in queries:
        key = params.get("q") or params["name"]
        cols = "  ".join("%s %.3f [%.3f-%.3f] n=%d" % (t, statistics.median(v), min(v), max(v), counts[(key, t)])
                         for t, v in times[key].items())
        print("%-44s %s" % (key[:44], cols))


if __name__ == "__main__":
    main()

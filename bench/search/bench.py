#!/usr/bin/env python3
"""bench.py - the measuring half of bench/search/run.sh (python3 stdlib only).

Runs, on one warm tree, in one interleaved run:
  * timings: every round runs every case once with every tool, the order of
    the tools rotating from round to round; services are timed as an HTTP
    client (curl) streaming the whole response, CLI tools as processes;
  * a check that every tool finds the same files (first, untimed round);
  * for each service, HANGUPS cancelled requests: a raw-socket client starts a
    slow content search, reads for N ms, notes CLOCK_REALTIME and closes; the
    server's log line gives joined_unix_ns (client close -> last worker
    joined) and hangup_to_joined_ms (server's own view);
  * each service's peak RSS (VmHWM), each CLI run's peak RSS (wait4).
Writes the raw results as JSON (report.py makes the table and the chart).
"""
import argparse
import codecs
import json
import os
import platform
import re
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

SEARCH_LOG = re.compile(rb"^search id=(\d+) end=(\w+) .*?files=(\d+)(?: .*?hangup_to_joined_ms=([\d.]+) joined_unix_ns=(\d+))?")


def latin1_fallback(err):
    return "".join(chr(b) for b in err.object[err.start:err.end]), err.end


codecs.register_error("latin1fallback", latin1_fallback)


def norm(raw):
    """A raw path as the services' JSON spells it (invalid UTF-8 -> Latin-1)."""
    return raw.decode("utf-8", "latin1fallback")


class Service:
    """A service of the contract started on a free port: BINARY --root TREE
    --workers JOBS plus @flags; its stderr goes to LOGDIR/@logname (default
    NAME.log)."""

    def __init__(self, name, binary, tree, jobs, logdir, flags=(), logname=None):
        self.name = name
        env = dict(os.environ, GOMAXPROCS=str(jobs))
        self.logpath = os.path.join(logdir, logname or name + ".log")
        self.logf = open(self.logpath, "wb")
        self.proc = subprocess.Popen([binary, "--root", tree, "--port", "0", "--workers", str(jobs),
                                      *flags],
                                     stdout=subprocess.PIPE, stderr=self.logf, env=env)
        r, _, _ = select.select([self.proc.stdout], [], [], 30)
        line = self.proc.stdout.readline().decode() if r else ""
        m = re.match(r"listening on http://([\d.]+):(\d+)", line)
        if not m:
            self.proc.kill()
            raise SystemExit("%s did not print its listening line (got %r)" % (name, line))
        self.host, self.port = m.group(1), int(m.group(2))
        self.logpos = 0
        self.logbuf = b""

    def url(self, params):
        return "http://%s:%d/search?%s" % (self.host, self.port, urllib.parse.urlencode(params))

    def next_search_line(self, timeout=120.0):
        """The next `search id=` log line (polls the log file, 1 ms apart)."""
        deadline = time.monotonic() + timeout
        with open(self.logpath, "rb") as f:
            while True:
                f.seek(self.logpos)
                chunk = f.read()
                self.logpos += len(chunk)
                self.logbuf += chunk
                while b"\n" in self.logbuf:
                    line, self.logbuf = self.logbuf.split(b"\n", 1)
                    m = SEARCH_LOG.match(line)
                    if m:
                        return m
                if time.monotonic() > deadline:
                    raise SystemExit("%s: no search log line within %.0f s" % (self.name, timeout))
                time.sleep(0.001)

    def hwm_kb(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        return None

    def stop(self):
        t0 = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = "killed after 30 s"
        self.logf.close()
        return {"rc": rc, "ms": round((time.monotonic() - t0) * 1000, 1)}


def run_cli(cmd, capture):
    """Runs a CLI tool; returns (seconds, stdout bytes or None, peak RSS KB).

    The untimed (capture) run goes through GNU time for the peak RSS: a direct
    child of this script would report python's own RSS (exec keeps the
    pre-exec high-water mark in ru_maxrss)."""
    rss = None
    if capture and os.path.exists("/usr/bin/time"):
        fd, path = tempfile.mkstemp()
        os.close(fd)
        cmd = ["/usr/bin/time", "-q", "-f", "%M", "-o", path] + cmd
    t0 = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.PIPE if capture else subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    dt = time.perf_counter() - t0
    if p.returncode not in (0, 1):  # 1: rg found nothing
        raise SystemExit("%s exited %d" % (cmd, p.returncode))
    if capture and cmd[0] == "/usr/bin/time":
        with open(path) as f:
            rss = int(f.read().split()[-1])
        os.unlink(path)
    return dt, p.stdout, rss


def run_service(svc, params, capture):
    """One request streamed to the end by curl; returns (seconds, body)."""
    cmd = ["curl", "-s", "-g", "--fail-with-body", "-m", "300", "-o", "-" if capture else "/dev/null", svc.url(params)]
    t0 = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.PIPE if capture else subprocess.DEVNULL)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit("%s: curl exited %d for %s" % (svc.name, p.returncode, params))
    m = svc.next_search_line()
    if m.group(2) != b"complete":
        raise SystemExit("%s: %s ended %s" % (svc.name, params, m.group(2).decode()))
    return dt, p.stdout


def files_of_service(body):
    """(files, done line, the result lines as a set of raw JSON lines)."""
    files, done, lines = set(), None, set()
    for line in body.splitlines():
        o = json.loads(line)
        if o["type"] in ("match", "name"):
            files.add(o["path"])
            lines.add(line)
        elif o["type"] == "done":
            done = o
    return files, done, lines


def files_of_cli(out, tree):
    pre = tree.rstrip("/").encode() + b"/"
    return {norm(l[len(pre):] if l.startswith(pre) else l) for l in out.split(b"\n") if l}


def hangup_once(svc, req, wait_ms):
    """One cancelled request: stream for wait_ms, close; returns
    (client ms or None if the scan ended before the hang-up, server ms)."""
    s = socket.create_connection((svc.host, svc.port))
    s.sendall(req)
    end = time.monotonic() + wait_ms / 1000.0
    while True:
        left = end - time.monotonic()
        if left <= 0:
            break
        r, _, _ = select.select([s], [], [], left)
        if r and not s.recv(65536):
            break
    t_close = time.clock_gettime_ns(time.CLOCK_REALTIME)
    s.close()
    m = svc.next_search_line()
    if m.group(2) != b"canceled" or m.group(5) is None:
        return None, None
    return (int(m.group(5)) - t_close) / 1e6, float(m.group(4))


def hangups(svcs, params, n, log):
    """n cancelled requests per service, interleaved (the service order
    alternates), each closed after 20..100 ms of streaming."""
    out = {name: {"client_ms": [], "server_ms": [], "not_canceled": 0} for name in svcs}
    names = list(svcs)
    for i in range(n):
        wait_ms = 20 + (i * 37) % 81
        for name in (names if i % 2 == 0 else names[::-1]):
            svc = svcs[name]
            req = ("GET /search?%s HTTP/1.1\r\nHost: %s\r\n\r\n" % (urllib.parse.urlencode(params), svc.host)).encode()
            c, sv = hangup_once(svc, req, wait_ms)
            if c is None:
                out[name]["not_canceled"] += 1  # the scan ended before the hang-up
            else:
                out[name]["client_ms"].append(c)
                out[name]["server_ms"].append(sv)
    for name, h in out.items():
        log("  %s: %d cancelled, %d ended before the hang-up" % (name, len(h["client_ms"]), h["not_canceled"]))
    return out


def m_hangup_queries(hard_re):
    """The slow searches that the hang-up clients start: the regex that is
    slowest for every engine, and the literal (fast for all), so the
    cancellation latency is seen with and without long matcher calls."""
    return [("regex", hard_re), ("literal", "ZEBRAFISH")]


def git(*args):
    p = subprocess.run(["git"] + list(args), capture_output=True, text=True)
    return p.stdout.strip() or "unknown"


def version(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True).stdout.splitlines()[0].strip()
    except Exception as e:  # noqa: BLE001 - a version string is informative only
        return "unknown (%s)" % e


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tree", required=True)
    ap.add_argument("--go-bin", required=True)
    ap.add_argument("--c-bin")
    ap.add_argument("--extra", action="append", default=[], metavar="NAME=PATH",
                    help="one more service binary of the same contract (e.g. a variant build)")
    ap.add_argument("--jobs", type=int, required=True)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--hangups", type=int, default=100)
    ap.add_argument("--logdir", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    log = lambda s: print(s, file=sys.stderr, flush=True)  # noqa: E731
    J, T = str(a.jobs), a.tree.rstrip("/")
    rg = ["rg", "-l", "-j", J, "--no-ignore", "--hidden", "--max-filesize", "8M"]
    easy_re = "timeout=[0-9]{4,}ms"
    hard_re = "(connect|read|write)_timeout=[0-9]{4,}ms"
    cases = [
        ("name *.log", {"name": "*.log"},
         {"fd": ["fdfind", "-j", J, "--no-ignore", "--hidden", "-t", "f", "-g", "*.log", T],
          "find": ["find", T, "-type", "f", "-name", "*.log"]}, "find"),
        ("literal ZEBRAFISH", {"q": "ZEBRAFISH"}, {"rg": rg + ["ZEBRAFISH", T]}, "rg"),
        ("regex " + easy_re, {"q": easy_re}, {"rg": rg + [easy_re, T]}, "rg"),
        ("regex " + hard_re + " (src/pkg00 only)", {"q": hard_re, "root": "src/pkg00"},
         {"rg": rg + [hard_re, T + "/src/pkg00"]}, "rg"),
    ]
    services = []
    services.append(("gochan-search-go", a.go_bin))
    for e in reversed(a.extra):
        name, _, path = e.partition("=")
        services.insert(0, (name, path))
    if a.c_bin:
        services.insert(0, ("gochan-search", a.c_bin))
    os.makedirs(a.logdir, exist_ok=True)
    svcs = {name: Service(name, b, T, a.jobs, a.logdir) for name, b in services}
    res = {"meta": {
        "date_utc": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
        "jobs": a.jobs, "rounds": a.rounds, "hangups": a.hangups,
        "nproc": os.cpu_count(), "uname": " ".join(platform.uname()),
        "cpu": next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?"),
        "loadavg_start": open("/proc/loadavg").read().split()[:3],
        "nice": os.nice(0),
        "versions": {"rg": version(["rg", "--version"]), "fd": version(["fdfind", "--version"]),
                     "find": version(["find", "--version"]), "curl": version(["curl", "--version"]),
                     "go": version(["go", "version"])},
        "services": [n for n, _ in services], "tree": T, "binaries": dict(services),
        "c_build": os.environ.get("GOCHAN_SEARCH_BUILD", "as found at GOCHAN_SEARCH_BIN"),
        "extra_build": os.environ.get("GOCHAN_SEARCH_EXTRA_BUILD", ""),
        "git": {"head": git("describe", "--always", "--dirty"),
                "c_service": git("log", "-1", "--format=%h %s", "--", "search", ":!search/go")[:100],
                "go_twin": git("log", "-1", "--format=%h %s", "--", "search/go")[:100]},
        "cases": [c[0] for c in cases], "ref": {c[0]: c[3] for c in cases},
        "hangup_queries": dict(m_hangup_queries(hard_re)),
    }, "timings": {}, "verify": {}, "cli_rss_kb": {}}

    def run(case, tool, capture):
        name, params, clis, _ = case
        if tool in svcs:
            return run_service(svcs[tool], params, capture) + (None,)
        return run_cli(clis[tool], capture)

    # Round 0: warm the cache and check that every tool finds the same files.
    log("verify (untimed, warms the cache)")
    for case in cases:
        name, params, clis, ref = case
        found, svc_lines = {}, {}
        for tool in list(svcs) + list(clis):
            _, out, rss = run(case, tool, True)
            if rss is not None:
                res["cli_rss_kb"].setdefault(name, {})[tool] = rss
            if tool in svcs:
                files, done, svc_lines[tool] = files_of_service(out)
                if not done or done["reason"] != "complete":
                    raise SystemExit("%s: %s did not complete: %s" % (tool, name, done))
            else:
                files = files_of_cli(out, T)
            found[tool] = files
        res["verify"][name] = {t: {"files": len(f), "equal": f == found[ref],
                                   "missing": sorted(found[ref] - f)[:5], "extra": sorted(f - found[ref])[:5]}
                               for t, f in found.items()}
        # The services must send the very same result lines (path, line, text).
        same = len({frozenset(v) for v in svc_lines.values()}) == 1
        res["verify"][name]["services_same_lines"] = same
        log("  %s: %s, services' lines identical: %s" % (
            name, {t: (v["files"], v["equal"]) for t, v in res["verify"][name].items() if t in found}, same))

    log("timing: %d interleaved rounds" % a.rounds)
    for r in range(a.rounds):
        for case in cases:
            tools = list(svcs) + list(case[2])
            k = r % len(tools)
            for tool in tools[k:] + tools[:k]:
                dt, _, _ = run(case, tool, False)
                res["timings"].setdefault(case[0], {}).setdefault(tool, []).append(dt)
        log("  round %d/%d done" % (r + 1, a.rounds))
    res["rss_kb_after_timing"] = {n: s.hwm_kb() for n, s in svcs.items()}

    res["hangup"] = {}
    for label, q in m_hangup_queries(hard_re):
        log("hang-ups: %d cancelled requests per service, %s (q=%s on the whole tree)" % (a.hangups, label, q))
        for n, h in hangups(svcs, {"q": q, "timeout": "60s"}, a.hangups, log).items():
            res["hangup"].setdefault(n, {})[label] = h
    res["rss_kb_peak"] = {n: s.hwm_kb() for n, s in svcs.items()}
    res["shutdown"] = {n: s.stop() for n, s in svcs.items()}
    res["meta"]["loadavg_end"] = open("/proc/loadavg").read().split()[:3]
    with open(a.out, "w") as f:
        json.dump(res, f, indent=1)
    log("raw results: %s" % a.out)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""real.py - the measuring and reporting half of bench/search/run.sh's real
mode (BENCH_CORPUS=real, the default): gochan-search (C), its Go twin,
ripgrep, fd and find on real source trees unpacked from Debian packages
(bench/search/real_tree.sh), python3 stdlib only.

  real.py --tree go=DIR[=LABEL] [--tree linux=DIR[=LABEL]] --go-bin B [--c-bin B]
          --jobs N --rounds N --logdir D --out PREFIX

For each tree: one untimed round that warms the page cache and checks that
every tool returns the same (file, line) set (content queries: the services
against rg) or the same file set (name queries: the services and fd against
find); then ROUNDS timed rounds, interleaved (every query with every tool in
each round, the tools' order rotating from round to round). Writes
PREFIX.raw (JSON: every time, every check) and PREFIX.txt (the table:
medians with min-max, ratios, the targets of issue 16).

What the tools are asked, so that every one searches the same files:
  services  hidden=1 (dot files and directories too) and ignore=0 (no ignore
            rules; sent only if the service accepts it: see probe_ignore),
            case=insensitive for the case-insensitive query; --workers N,
            --max-results 1000000 so that no query reaches the limit,
            --max-file-size 8M (the default)
  rg        -uu (--no-ignore --hidden; binary files skipped as by default:
            the services skip a file with a NUL in its first 8 KiB)
            --no-messages -n --no-heading --null --max-filesize 8M -j N [-i]
  fd        -uu -t f -g GLOB -j N  (base-name glob; symlinks not listed)
  find      find . -type f -name GLOB (single-threaded)
All run from the tree's root; the services are timed as a client (curl -s
-o /dev/null) streaming the whole response from a server already running;
the CLI tools as processes, their whole output read through a pipe.
"""
import argparse
import base64
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

sys.dont_write_bytecode = True  # no __pycache__ in the checkout
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (Service's log reading, version(), git())

C, G = "gochan-search", "gochan-search-go"

# The queries: kind, label, parameters; content queries hit 10..100k lines.
QUERIES = {
    "go": [
        ("content", "literal ErrUnexpectedEOF", {"q": "ErrUnexpectedEOF"}),
        ("content", "case-insensitive literal deadline", {"q": "deadline", "case": "insensitive"}),
        ("content", r"regex (RLock|RUnlock|Lock|Unlock)\(\)", {"q": r"(RLock|RUnlock|Lock|Unlock)\(\)"}),
        ("content", r"class regex func \([a-z]+ \*[A-Z][A-Za-z0-9]*\) [A-Z]",
         {"q": r"func \([a-z]+ \*[A-Z][A-Za-z0-9]*\) [A-Z]"}),
        ("content", "rare word Hyrum", {"q": "Hyrum"}),
        ("name", "name *.go", {"name": "*.go"}),
        ("name", "name z*", {"name": "z*"}),
        ("name", "name gofmt.go", {"name": "gofmt.go"}),
    ],
    "linux": [
        ("content", "literal EXPORT_SYMBOL_GPL", {"q": "EXPORT_SYMBOL_GPL"}),
        ("content", "case-insensitive literal interrupt", {"q": "interrupt", "case": "insensitive"}),
        ("content", r"regex (kmalloc|kzalloc|kcalloc)\(", {"q": r"(kmalloc|kzalloc|kcalloc)\("}),
        ("content", r"class regex [a-z_]+_init\(void\)", {"q": r"[a-z_]+_init\(void\)"}),
        ("content", "rare word Coccinelle", {"q": "Coccinelle"}),
        ("name", "name *.c", {"name": "*.c"}),
        ("name", "name Kconfig*", {"name": "Kconfig*"}),
        ("name", "name MAINTAINERS", {"name": "MAINTAINERS"}),
    ],
}


def log(s):
    print(s, file=sys.stderr, flush=True)


class Service(bench.Service):
    """bench.Service started with the real mode's flags."""

    def __init__(self, name, binary, tree, jobs, logdir):
        super().__init__(name, binary, tree, jobs, logdir,
                         flags=("--max-results", "1000000", "--max-timeout", "300s"),
                         logname="%s-%s.log" % (name, os.path.basename(tree.rstrip("/"))))
        self.extra = {}  # parameters sent with every search (hidden=1, ignore=0)


def probe_ignore(svc):
    """Whether the service accepts ignore=0 (the C service's switch for its
    ignore rules; the Go twin has no ignore rules and ignores unknown
    parameters, as the C service did before it had them). A 400 naming
    ignore means a build that refuses it: then it has no ignore rules to turn
    off, and the parameter is left out. Returns (send it?, why)."""
    url = svc.url({"name": "no-such-file-gochan-bench", "depth": "1", "ignore": "0", "hidden": "1"})
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            r.read()
        svc.next_search_line()
        return True, "accepted"
    except urllib.error.HTTPError as e:
        body = e.read().decode(errors="replace")
        try:  # a refused request may or may not have its log line
            svc.next_search_line(timeout=3)
        except SystemExit:
            pass
        if e.code == 400 and '"ignore"' in body:
            return False, "refused with 400 (%s): no ignore rules in this build, so none to turn off" % body.strip()
        raise SystemExit("%s: probe failed: %d %s" % (svc.name, e.code, body))


def service_version(binary):
    p = subprocess.run([binary, "--version"], capture_output=True, text=True)
    out = (p.stdout or p.stderr).strip().splitlines()
    return out[0] if p.returncode == 0 and out else "no --version (exit %d)" % p.returncode


def cli_cmd(tool, params, jobs):
    J = str(jobs)
    if tool == "rg":
        cmd = ["rg", "-uu", "--no-messages", "-n", "--no-heading", "--null", "--max-filesize", "8M", "-j", J]
        if params.get("case") == "insensitive":
            cmd.append("-i")
        return cmd + ["-e", params["q"], "."]
    if tool == "fd":
        return ["fdfind", "-uu", "-t", "f", "-j", J, "-g", params["name"], "."]
    if tool == "find":
        return ["find", ".", "-type", "f", "-name", params["name"]]
    raise ValueError(tool)


def strip_dot(p):
    return p[2:] if p.startswith(b"./") else p


def keys_cli(tool, out):
    """The (file, line) set of rg's output, or the file set of fd's/find's,
    paths as raw bytes."""
    keys = set()
    for rec in out.split(b"\n"):
        if not rec:
            continue
        if tool == "rg":
            path, _, rest = rec.partition(b"\0")
            keys.add((strip_dot(path), int(rest.split(b":", 1)[0])))
        else:
            keys.add(strip_dot(rec))
    return keys


def keys_service(body):
    """(keys as keys_cli's, the done line); a path as raw bytes: path_bytes
    when the service sent it (schema 2), else the UTF-8 of "path"."""
    keys, done = set(), None
    for line in body.splitlines():
        o = json.loads(line)
        t = o["type"]
        if t in ("match", "name"):
            p = base64.b64decode(o["path_bytes"]) if "path_bytes" in o else o["path"].encode()
            keys.add((p, o["line"]) if t == "match" else p)
        elif t == "done":
            done = o
    return keys, done


def run_cli(cmd, cwd):
    t0 = time.perf_counter()
    p = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    dt = time.perf_counter() - t0
    if p.returncode not in (0, 1):  # 1: rg found nothing
        raise SystemExit("%s exited %d" % (cmd, p.returncode))
    return dt, p.stdout


def run_service(svc, params, capture):
    """One request streamed to the end by curl; (seconds, body or None, end)."""
    q = dict(params, **svc.extra)
    cmd = ["curl", "-s", "-g", "--fail-with-body", "-m", "300", "-o", "-" if capture else "/dev/null", svc.url(q)]
    t0 = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.PIPE if capture else subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit("%s: curl exited %d for %s" % (svc.name, p.returncode, q))
    end = svc.next_search_line().group(2).decode()
    if end not in ("complete", "incomplete"):
        raise SystemExit("%s: %s ended %s" % (svc.name, q, end))
    return dt, p.stdout, end


def show(k):
    if isinstance(k, tuple):
        return "%s:%d" % (k[0].decode(errors="backslashreplace"), k[1])
    return k.decode(errors="backslashreplace")


def tree_stats(tree):
    files = size = 0
    for dp, dns, fns in os.walk(tree):
        for f in fns:
            p = os.path.join(dp, f)
            if os.path.isfile(p) and not os.path.islink(p):
                files += 1
                size += os.path.getsize(p)
    return files, size


def bench_tree(key, tree, label, a, svc_bins):
    queries = QUERIES[key]
    svcs = {n: Service(n, b, tree, a.jobs, a.logdir) for n, b in svc_bins}
    out = {"tree": tree, "label": label, "queries": [], "timings": {}, "verify": {}, "services": {}}
    files, size = tree_stats(tree)
    out["files"], out["bytes"] = files, size
    log("tree %s: %s, %d regular files, %.0f MB" % (key, tree, files, size / 1e6))
    for n, s in svcs.items():
        send, why = probe_ignore(s)
        s.extra = {"hidden": "1"}
        if send:
            s.extra["ignore"] = "0"
        out["services"][n] = {"extra_params": dict(s.extra), "ignore_probe": why}
        log("  %s: sends %s (ignore=0 probe: %s)" % (n, s.extra, why))
    try:
        tools_of = {}
        for kind, name, params in queries:
            clis = ["rg"] if kind == "content" else ["fd", "find"]
            tools_of[name] = list(svcs) + clis
            out["queries"].append({"kind": kind, "name": name, "params": params,
                                   "ref": "rg" if kind == "content" else "find",
                                   "cli": {t: cli_cmd(t, params, a.jobs) for t in clis}})

        # Round 0, untimed: warms the page cache; every tool's result set.
        log("verify (untimed; warms the cache)")
        for q in out["queries"]:
            found, ends = {}, {}
            for tool in tools_of[q["name"]]:
                if tool in svcs:
                    _, body, _ = run_service(svcs[tool], q["params"], True)
                    found[tool], done = keys_service(body)
                    ends[tool] = done["reason"] if done else "no done line"
                else:
                    found[tool] = keys_cli(tool, run_cli(q["cli"][tool], tree)[1])
            ref = found[q["ref"]]
            v = {t: {"results": len(f), "same": f == ref,
                     "missing": [show(k) for k in sorted(ref - f)[:5]], "n_missing": len(ref - f),
                     "extra": [show(k) for k in sorted(f - ref)[:5]], "n_extra": len(f - ref)}
                 for t, f in found.items()}
            for t, e in ends.items():
                v[t]["end"] = e
            out["verify"][q["name"]] = v
            log("  %s: %s" % (q["name"], ", ".join(
                "%s %d%s" % (t, x["results"], "" if x["same"] else " DIFFERS (-%d +%d)" % (x["n_missing"], x["n_extra"]))
                for t, x in v.items())))

        log("timing: %d interleaved rounds" % a.rounds)
        for r in range(a.rounds):
            for q in out["queries"]:
                tools = tools_of[q["name"]]
                k = r % len(tools)
                for tool in tools[k:] + tools[:k]:
                    if tool in svcs:
                        dt = run_service(svcs[tool], q["params"], False)[0]
                    else:
                        dt = run_cli(q["cli"][tool], tree)[0]
                    out["timings"].setdefault(q["name"], {}).setdefault(tool, []).append(dt)
            log("  round %d/%d done" % (r + 1, a.rounds))
        out["rss_kb_peak"] = {n: s.hwm_kb() for n, s in svcs.items()}
    finally:
        out["shutdown"] = {n: s.stop() for n, s in svcs.items()}
    return out


def fmt_s(x):
    return "%.3f" % x if x < 10 else "%.2f" % x


def report(res, command):
    m = res["meta"]
    L = ["gochan-search side by side on real source trees (%s UTC)" % m["date_utc"], ""]
    L.append("Command: %s" % command)
    L.append("Machine: %d CPUs (%s); %s" % (m["nproc"], m["cpu"], m["uname"]))
    L.append("Load average (1, 5, 15 min): %s at the start, %s at the end; BENCH_LOAD=%s busy processes "
             "ran during the run; measured processes at nice %d." % (
                 " ".join(m["loadavg_start"]), " ".join(m["loadavg_end"]), m["bench_load"], m["nice"]))
    if m["bench_load"] == "0" and float(m["loadavg_start"][0]) >= 1.0:
        L.append("WARNING: the machine was not idle at the start (1-min load >= 1): the figures are not "
                 "publishable; run it again on an idle machine.")
    L.append("%d timed rounds, interleaved (every query with every tool in a round, the tools' order "
             "rotating each round), after one untimed round that reads every file (warm page cache) and "
             "checks the results. %d threads for every parallel tool (--workers and GOMAXPROCS, rg -j, "
             "fdfind -j); find is single-threaded." % (m["rounds"], m["jobs"]))
    L.append("Flags (every tool searches the same files): services hidden=1 (plus ignore=0 where the "
             "service takes it), --max-results 1000000, --max-file-size 8M; rg -uu --no-messages -n "
             "--no-heading --null --max-filesize 8M -j N [-i]; fdfind -uu -t f -g GLOB -j N; "
             "find . -type f -name GLOB. Services are timed as a client (curl -s -o /dev/null streaming "
             "the whole response from a running server); CLI tools as processes (start-up included), "
             "their whole output read through a pipe. Every tool reports every matching line.")
    L.append("Versions: " + "; ".join("%s: %s" % kv for kv in m["versions"].items()))
    L.append("Code: checkout %s; gochan-search at %s; the Go twin at %s; gochan-search built: %s." % (
        m["git"]["head"], m["git"]["c_service"], m["git"]["go_twin"], m["c_build"]))
    L.append("")
    verdicts = []
    for t in res["trees"]:
        L.append("Tree %s: %s, %d regular files, %.0f MB" % (t["label"], t["tree"], t["files"], t["bytes"] / 1e6))
        for n, s in t["services"].items():
            L.append("  %s sends %s (ignore=0 probe: %s)" % (n, s["extra_params"], s["ignore_probe"]))
        L.append("")
        hdr = "%-52s %-17s %9s %17s %7s %9s  %s" % ("query", "tool", "median s", "min-max s", "ratio",
                                                     "results", "same as ref")
        L.append(hdr)
        L.append("-" * len(hdr))
        for q in t["queries"]:
            tm = t["timings"].get(q["name"], {})
            base = statistics.median(tm[C]) if C in tm else None
            for tool, xs in tm.items():
                md = statistics.median(xs)
                v = t["verify"][q["name"]][tool]
                same = "ref" if tool == q["ref"] else ("yes" if v["same"] else
                                                       "NO (-%d +%d)" % (v["n_missing"], v["n_extra"]))
                if v.get("end") == "incomplete":
                    same += " [incomplete]"
                L.append("%-52s %-17s %9s %17s %7s %9d  %s" % (
                    q["name"][:52], tool, fmt_s(md), "%s-%s" % (fmt_s(min(xs)), fmt_s(max(xs))),
                    "%.2f" % (md / base) if base else "-", v["results"], same))
            if base is not None:
                others = ["rg"] if q["kind"] == "content" else ["fd"]
                for o in others:
                    if o in tm:
                        om = statistics.median(tm[o])
                        verdicts.append("%s %s: gochan-search %s s vs %s %s s (ratio %.2f): %s" % (
                            t["label"], q["name"], fmt_s(base), o, fmt_s(om), base / om,
                            "met" if base <= om else "NOT met"))
            L.append("")
        diffs = [(q, tool, v) for q in t["queries"] for tool, v in t["verify"][q["name"]].items()
                 if not v["same"]]
        if diffs:
            L.append("Result differences against the reference (first 5 of each side):")
            for q, tool, v in diffs:
                L.append("  %s, %s: missing %d %s; extra %d %s" % (q["name"], tool, v["n_missing"], v["missing"],
                                                                    v["n_extra"], v["extra"]))
            L.append("")
    if verdicts:
        L.append("Targets (issue 16): at or below rg on every content query, at or below fd on every name query")
        L += ["  " + v for v in verdicts]
        L.append("")
    return "\n".join(L) + "\n"


def main():
    # SIGTERM (run.sh's trap, a killed job) as SystemExit, so that the
    # services are stopped by bench_tree's finally; Ctrl-C is
    # KeyboardInterrupt, which does the same.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    ap = argparse.ArgumentParser()
    ap.add_argument("--tree", action="append", required=True, metavar="KEY=DIR[=LABEL]")
    ap.add_argument("--go-bin", required=True)
    ap.add_argument("--c-bin")
    ap.add_argument("--extra", action="append", default=[], metavar="NAME=PATH",
                    help="one more service binary of the same contract (e.g. a variant build)")
    ap.add_argument("--jobs", type=int, required=True)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--logdir", required=True)
    ap.add_argument("--out", required=True, help="output prefix: PREFIX.raw and PREFIX.txt")
    ap.add_argument("--command", default="bash bench/search/run.sh")
    a = ap.parse_args()
    svc_bins = ([(C, a.c_bin)] if a.c_bin else []) + [tuple(e.split("=", 1)) for e in a.extra] + [(G, a.go_bin)]
    res = {"meta": {
        "date_utc": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
        "jobs": a.jobs, "rounds": a.rounds, "nproc": os.cpu_count(),
        "uname": " ".join(platform.uname()),
        "cpu": next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?"),
        "loadavg_start": open("/proc/loadavg").read().split()[:3],
        "bench_load": os.environ.get("BENCH_LOAD", "0"), "nice": os.nice(0),
        "versions": dict({n: service_version(b) for n, b in svc_bins},
                         rg=bench.version(["rg", "--version"]), fd=bench.version(["fdfind", "--version"]),
                         find=bench.version(["find", "--version"]), go=bench.version(["go", "version"])),
        "c_build": os.environ.get("GOCHAN_SEARCH_BUILD", "as found at GOCHAN_SEARCH_BIN"),
        "git": {"head": bench.git("describe", "--always", "--dirty"),
                "c_service": bench.git("log", "-1", "--format=%h %s", "--", "search", ":!search/go")[:100],
                "go_twin": bench.git("log", "-1", "--format=%h %s", "--", "search/go")[:100]},
        "services": [n for n, _ in svc_bins],
    }, "trees": []}
    os.makedirs(a.logdir, exist_ok=True)
    for spec in a.tree:
        key, _, rest = spec.partition("=")
        tree, _, label = rest.partition("=")
        res["trees"].append(bench_tree(key, os.path.abspath(tree), label or key, a, svc_bins))
    res["meta"]["loadavg_end"] = open("/proc/loadavg").read().split()[:3]
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out + ".raw", "w") as f:
        json.dump(res, f, indent=1)
    with open(a.out + ".txt", "w") as f:
        f.write(report(res, a.command))
    log("wrote %s.txt %s.raw" % (a.out, a.out))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""report.py RAW.json OUT.md OUT.png COMMAND - the table and the chart of a
bench/search run (bench.py's raw results); SEARCH_BENCH_NOTE, if set, is
added to the table as a Notes section. The chart needs matplotlib
(Debian python3-matplotlib); without it only the table is written."""
import json
import os
import statistics
import sys



def quiet(m):
    """Whether the machine was idle when the run started: a 1-minute load
    average under 1 (the run itself then adds at most its own threads)."""
    try:
        return float(m["loadavg_start"][0]) < 1.0
    except (KeyError, IndexError, ValueError):
        return False

def pct(xs, p):
    """Nearest-rank percentile."""
    s = sorted(xs)
    if not s:
        return float("nan")
    k = max(0, min(len(s) - 1, int(-(-p * len(s) // 100)) - 1))
    return s[k]


def med(r, case, tool):
    xs = r["timings"].get(case, {}).get(tool)
    return statistics.median(xs) if xs else None


def targets(r):
    """The issue's targets, each with its figures and met / NOT met."""
    m = r["meta"]
    C, G = "gochan-search", "gochan-search-go"
    L = ["## Targets (issue 9)", ""]
    if C not in m["services"]:
        return L + ["gochan-search did not run: no target can be checked.", ""]

    def line(what, ok, figs):
        L.append("- %s: **%s** (%s)" % (what, "met" if ok else "NOT met", figs))

    for case in m["cases"]:
        c, g = med(r, case, C), med(r, case, G)
        if case.startswith("name"):
            for other in ("fd", "find"):
                o = med(r, case, other)
                line("%s at least as fast as %s" % (case, other), c <= o, "%.3f s vs %.3f s, ratio %.2f" % (c, o, c / o))
        else:
            o = med(r, case, "rg")
            line("%s as fast as rg -l" % case, c <= o, "%.3f s vs %.3f s, ratio %.2f" % (c, o, c / o))
        line("%s faster than the Go twin" % case, c < g, "%.3f s vs %.3f s, ratio %.2f" % (c, g, c / g))
    for label in m["hangup_queries"]:
        cc = r["hangup"][C][label]["client_ms"]
        gg = r["hangup"][G][label]["client_ms"]
        line("hang-up to last worker joined, %s query: p99 < 10 ms" % label, pct(cc, 99) < 10,
             "p99 %.3f ms, client view" % pct(cc, 99))
        line("... and below the Go twin's", pct(cc, 99) < pct(gg, 99),
             "p99 %.3f ms vs %.3f ms" % (pct(cc, 99), pct(gg, 99)))
    L.append("")
    return L


def main():
    raw, md_path, png_path, command = sys.argv[1:5]
    r = json.load(open(raw))
    m = r["meta"]
    svcs = m["services"]
    base = svcs[0]  # ratios against gochan-search, or the Go twin without it
    L = []
    L.append("# gochan-search side by side: %s UTC" % m["date_utc"])
    L.append("")
    if quiet(m):
        L.append("**Machine: %d vCPU (%s), idle**: nothing else ran during this run (load average %s at the start, "
                 "%s at the end: the run's own); the rounds are interleaved (tool order rotating each round)."
                 % (m["nproc"], m["cpu"], " ".join(m["loadavg_start"]), " ".join(m["loadavg_end"])))
    else:
        L.append("**Machine: %d vCPU (%s), shared and noisy**: other work ran on the same CPUs during this run "
                 "(load average %s at the start, %s at the end), so absolute times are inflated and spread widely; "
                 "the rounds are interleaved (tool order rotating each round), so the ratios are the figures to read."
                 % (m["nproc"], m["cpu"], " ".join(m["loadavg_start"]), " ".join(m["loadavg_end"])))
    L.append("")
    if m.get("nice"):
        L.append("Everything measured (services, client, every tool) ran at nice %d, above the other helpers' "
                 "work, so that their load delays these threads less; it shows what the machine's noise hides." % m["nice"])
        L.append("")
    L.append("Command: `%s`  " % command)
    L.append("%d rounds, %d threads for every parallel tool (`--workers`/GOMAXPROCS, `rg -j`, `fdfind -j`; find is "
             "single-threaded). Services are timed as a client (`curl -s -g -o /dev/null`) streaming the whole "
             "response from a server already running; CLI tools as processes (their start-up included). Tree: %s "
             "(bench/search/gen_tree.py, deterministic, ~60k files, ~370 MB of text, warm in the page cache). "
             "rg and fd run with `--no-ignore --hidden` and rg with `--max-filesize 8M`, so every tool searches "
             "the same files; `rg -l` stops at a file's first match while the services report every matching line "
             "(the needles are sparse: a few hundred lines)." % (m["rounds"], m["jobs"], m["tree"]))
    L.append("")
    L.append("Versions: " + "; ".join("%s: %s" % (k, " ".join(v.split()[:2]) if k == "curl" else v) for k, v in m["versions"].items()))
    if "git" in m:
        L.append("")
        L.append("Code: checkout `%s`; gochan-search at `%s`; the Go twin at `%s`." % (
            m["git"]["head"], m["git"]["c_service"], m["git"]["go_twin"]))
    if "binaries" in m:
        L.append("")
        L.append("Binaries: " + "; ".join("%s `%s`" % kv for kv in m["binaries"].items()) +
                 " (gochan-search built: %s; the twin: go build, Go %s)." % (
                     m.get("c_build", "?"), m["versions"]["go"].split()[-2]))
        if m.get("extra_build"):
            L.append("")
            L.append("The extra service: " + m["extra_build"])
    L.append("")
    if "gochan-search" not in svcs:
        L.append("**gochan-search (C) was not built: only the Go twin ran.** Ratios are against the Go twin.")
        L.append("")
    L.append("## Time per search (seconds; median, min-max; ratio = median / median of %s)" % base)
    L.append("")
    L.append("| case | tool | median s | min-max s | ratio | files found (same as %s?) | peak RSS |" % "reference")
    L.append("|---|---|---|---|---|---|---|")
    for case in m["cases"]:
        t = r["timings"][case]
        b = statistics.median(t[base])
        ref = m["ref"][case]
        for tool, xs in t.items():
            v = r["verify"][case][tool]
            rss = r["cli_rss_kb"].get(case, {}).get(tool)
            rss = "%.1f MB" % (rss / 1024) if rss else "(service, below)"
            eq = "yes" if v["equal"] else "NO (missing %s, extra %s)" % (v["missing"], v["extra"])
            if tool == ref:
                eq = "reference"
            L.append("| %s | %s | %.3f | %.3f-%.3f | %.2f | %d, %s | %s |" % (
                case, tool, statistics.median(xs), min(xs), max(xs), statistics.median(xs) / b, v["files"], eq, rss))
    L.append("")
    L.append("The services' result lines (path, line number, text; JSON byte for byte) are identical: " + ", ".join(
        "%s: %s" % (case, "yes" if r["verify"][case].get("services_same_lines") else "NO") for case in m["cases"]) + ".")
    L.append("")
    L.append("## Hang-up to stop, %d cancelled requests per service and query" % m["hangups"])
    L.append("")
    L.append("A raw-socket client starts a content search on the whole tree (%s), streams for 20-100 ms, takes "
             "CLOCK_REALTIME and closes; *client* = the server's joined_unix_ns (last worker joined) minus that "
             "close time; *server* = the server's own hangup_to_joined_ms (from the moment it saw the hang-up)."
             % ", ".join("%s: `q=%s`" % kv for kv in m["hangup_queries"].items()))
    L.append("")
    L.append("| service | query | view | n | median ms | p90 ms | p99 ms | max ms | ended before the hang-up |")
    L.append("|---|---|---|---|---|---|---|---|---|")
    for s in svcs:
        for label in m["hangup_queries"]:
            h = r["hangup"][s][label]
            for view in ("client", "server"):
                xs = h[view + "_ms"]
                L.append("| %s | %s | %s | %d | %.3f | %.3f | %.3f | %.3f | %d |" % (
                    s, label, view, len(xs), statistics.median(xs) if xs else float("nan"), pct(xs, 90),
                    pct(xs, 99), max(xs) if xs else float("nan"), h["not_canceled"]))
    L.append("")
    L.extend(targets(r))
    L.append("## Peak RSS of the services (VmHWM)")
    L.append("")
    L.append("| service | after the timed rounds | after the hang-ups too | SIGTERM exit |")
    L.append("|---|---|---|---|")
    for s in svcs:
        sd = r["shutdown"][s]
        L.append("| %s | %.1f MB | %.1f MB | rc %s in %s ms |" % (
            s, r["rss_kb_after_timing"][s] / 1024, r["rss_kb_peak"][s] / 1024, sd["rc"], sd["ms"]))
    L.append("")
    note = os.environ.get("SEARCH_BENCH_NOTE")
    if note:
        L.append("## Notes")
        L.append("")
        L.append(note)
        L.append("")
    L.append("Raw per-run figures: `%s`." % ("bench/" + raw.split("/bench/")[-1] if "/bench/" in raw else raw))
    open(md_path, "w").write("\n".join(L) + "\n")
    print("\n".join(L))

    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import matplotlib.ticker
    except ImportError:
        print("report: matplotlib missing, no chart", file=sys.stderr)
        return
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(14, 5.5), gridspec_kw={"width_ratios": [2.2, 1]})
    tools = []
    for case in m["cases"]:
        for tool in r["timings"][case]:
            if tool not in tools:
                tools.append(tool)
    colors = dict(zip(tools, ["#d62728", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#7f7f7f"]))
    width = 0.8 / max(len(r["timings"][c]) for c in m["cases"])
    labeled = set()
    for j, case in enumerate(m["cases"]):
        present = [t for t in tools if t in r["timings"][case]]
        for i, tool in enumerate(present):
            v = r["timings"][case][tool]
            med = statistics.median(v)
            x = j + (i - (len(present) - 1) / 2) * width
            ax1.bar([x], [med], width, yerr=[[med - min(v)], [max(v) - med]], capsize=3, color=colors[tool],
                    label=None if tool in labeled else tool)
            labeled.add(tool)
    ax1.set_xticks(range(len(m["cases"])))
    ax1.set_xticklabels([c.replace(" (", "\n(").replace("regex ", "regex\n") for c in m["cases"]], fontsize=8)
    ax1.set_yscale("log")
    ax1.set_ylabel("seconds (median, min-max bars; log scale)")
    ax1.set_title("time per search, %d threads, %d interleaved rounds" % (m["jobs"], m["rounds"]))
    ax1.legend(fontsize=8)
    labels, data = [], []
    for s in svcs:
        for q in m["hangup_queries"]:
            short = {"gochan-search": "C", "gochan-search-go": "Go twin"}.get(s, s.replace("gochan-search-", "C ").replace("releasesafe", "safe"))
            labels.append("%s\n%s" % (short, q))
            data.append(r["hangup"][s][q]["client_ms"] or [float("nan")])
    ax2.boxplot(data, labels=labels, whis=(0, 100))
    ax2.tick_params(axis="x", labelsize=7)
    for k in range(len(data)):
        ax2.annotate("p99\n%.1f" % pct(data[k], 99), (k + 1, pct(data[k], 99)), textcoords="offset points",
                     xytext=(6, 0), fontsize=7)
    ax2.set_yscale("log")
    ax2.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: "%g" % v))
    ax2.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax2.set_ylabel("client close -> last worker joined, ms (log)")
    ax2.axhline(10, color="grey", ls="--", lw=0.8)
    ax2.set_title("hang-up to stop, %d requests each" % m["hangups"])
    fig.suptitle("gochan-search side by side, %s, %d vCPU %s" % (m["date_utc"][:10], m["nproc"],
                                                                  "idle" if quiet(m) else "shared and noisy"))
    fig.tight_layout()
    fig.savefig(png_path, dpi=110)
    print("chart: %s" % png_path, file=sys.stderr)


if __name__ == "__main__":
    main()

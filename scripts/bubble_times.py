#!/usr/bin/env python3
"""The project's time tests on a thread and in a bubble (issue 19): real time
of each body, run with TB_TIMES=1 (tests/test_bubble_util.h), ROUNDS rounds
alternating the thread suites and the bubble suites, medians printed as a
Markdown table with the bubble's virtual time.

usage: scripts/bubble_times.py [RUNNER [ROUNDS]]
       (RUNNER: zig-out/test/gochan-tests; ROUNDS: 5)
"""
import os
import statistics
import subprocess
import sys

SUITES = ["time_timer", "time_ticker", "time_func", "context_go", "chan_deadline", "select_go",
          "select_basic"]


def run(runner, pattern):
    env = dict(os.environ, TB_TIMES="1")
    p = subprocess.run([runner, "--filter", pattern, "-j1"], env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out = {}
    for line in p.stdout.splitlines():
        f = line.split()
        if len(f) >= 4 and f[0] == "tb-time":
            out[f[1]] = (int(f[3]), int(f[4]) if len(f) > 4 else None)
    if p.returncode != 0:
        sys.exit("runner failed on %s:\n%s" % (pattern, p.stdout[-2000:]))
    return out


def main():
    runner = sys.argv[1] if len(sys.argv) > 1 else "zig-out/test/gochan-tests"
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    thread, bubble, virt = {}, {}, {}
    for _ in range(rounds):
        for s in SUITES:
            # A/B interleaved per suite: the load of the moment hits both.
            for name, (ns, _v) in run(runner, s + "/*").items():
                thread.setdefault(name, []).append(ns)
            for name, (ns, v) in run(runner, s + "_bubble/*").items():
                bubble.setdefault(name, []).append(ns)
                virt[name] = v
    print("| test | thread, real (us) | bubble, real (us) | bubble, virtual (ns) | thread / bubble |")
    print("|---|---|---|---|---|")
    big = "time_timer/hundred_thousand_pending"
    tt = tb = st = sb = 0
    for name in sorted(bubble):
        t = statistics.median(thread.get(name, [0]))
        b = statistics.median(bubble[name])
        tt += t
        tb += b
        if name != big:
            st += t
            sb += b
        print("| %s | %.0f | %.0f | %d | %s |" % (
            name, t / 1e3, b / 1e3, virt[name], "%.1fx" % (t / b) if b else "-"))
    print("| **all %d** | %.0f | %.0f | | %.1fx |" % (len(bubble), tt / 1e3, tb / 1e3, tt / tb))
    print("| **all but %s** | %.0f | %.0f | | %.1fx |" % (big, st / 1e3, sb / 1e3, st / sb))
    print()
    print("Medians of %d rounds; real time of the body (thread) and of gobubble_run (bubble)." % rounds)

if __name__ == "__main__":
    main()

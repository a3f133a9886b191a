#!/usr/bin/env bash
# bench/loadswitch.sh - does channel throughput follow the load when it comes
# and goes (issue 21)?  A throughput probe (bench/probe/throughput.c: one
# producer, one consumer, a cap-1 channel: crossbeam's bounded1_spsc) prints
# its rate every 100 ms for DURATION seconds while this script turns a load
# of N busy processes on and off every PERIOD seconds (SIGCONT / SIGSTOP,
# bench/load.sh).  Writes the trace (time, load on/off, ops/s) and a summary
# (median throughput with the load on and off; how long after each switch
# the throughput settles) to bench/results/loadswitch.txt.
#
# Environment:
#   LOADSWITCH_S=60      duration, whole seconds (e.g. 6 for a smoke run)
#   LOADSWITCH_PERIOD=1  whole seconds between switches (the first period is off)
#   LOADSWITCH_MS=100    probe sample interval
#   LOADSWITCH_CAP=1     the probe's channel capacity (0: bounded0_spsc)
#   LOADSWITCH_OUT=bench/results/loadswitch.txt
#   SETTLE_BAND=0.5      a sample has settled when it is within a factor
#                        (1 + SETTLE_BAND) of its state's median
#   BENCH_LOAD=N         busy processes when on (default: nproc)
#   BENCH_IMPL=naive     the probe on the naive channel instead of gochan;
#   BENCH_IMPL=crossbeam crossbeam-channel's twin (bench/rust, probe_throughput.rs:
#                        cargo, offline, Debian's crate; CARGO=/path/to/cargo)
#   LOADSWITCH_STATS=1   build libgochan with -DGOWAIT_STATS (wait/stats.h): each
#                        sample also gets the wait strategy's counts (yields,
#                        refused yields, late yields, probes, futex sleeps and
#                        wakes), the gate's state and where the pair ran, and
#                        the summary a row per switch with them per value
#   LOADSWITCH_HOST=1    at every switch, stop the probe (SIGSTOP) with the
#                        load paused and time the host's cache-line round trip
#                        (bench/probe/cacheline.c, 20,000 trips, the median of
#                        its 500-trip batches; 1-10 ms), then
#                        continue it; 0: no such pause
#   CC, CFLAGS           as bench/run.sh (which builds libgochan.a)
#
# Why the host column: on this project's 2-vCPU VMs the cost of moving one
# cache line between the two vCPUs flips between about 50 ns and about
# 320 ns (the median of cacheline.c's 500-trip batches) for seconds to
# minutes at a time, the host's doing, with nothing else running in the VM;
# a cap-1 hand-off between two CPUs costs a few such moves, and the probe's
# rate flips with it between about 4 M and 1.15 M values/s (measured back to
# back on the idle machine, 2026-12-08: median batch 49 ns -> 3.5-4.3 M/s,
# 315-326 ns -> 1.23 M/s and less).  A trace that does not say which the
# host was doing shows such a flip as a strategy stuck in a slow mode (a
# 60 s run of session 5 did, from its 24th second); with the column the
# summary compares each segment with the segments of the same host state.
# The switch's time is taken before the pause, so
# a settle time includes the pause (at most ~10 ms).
#
# "Settles": for each switch, the time from the switch to the end of the
# first sample after which every sample up to the next switch is within the
# band around the median of its state (all on-samples, or all off-samples,
# of the run, the first sample after each switch left out of the medians:
# it straddles the switch).  A switch whose samples never stay in the band
# counts as the whole period.
set -euo pipefail
export LC_ALL=C # $EPOCHREALTIME with a '.'

cd "$(dirname "$0")/.."
ROOT=$(pwd)
DURATION=${LOADSWITCH_S:-60}
PERIOD=${LOADSWITCH_PERIOD:-1}
INTERVAL_MS=${LOADSWITCH_MS:-100}
CAP=${LOADSWITCH_CAP:-1}
OUT=${LOADSWITCH_OUT:-$ROOT/bench/results/loadswitch.txt}
LOAD=${BENCH_LOAD:-$(nproc)}
BAND=${SETTLE_BAND:-0.5}
IMPL=${BENCH_IMPL:-gochan}
log() { printf '%s\n' "$*" >&2; }
for v in DURATION PERIOD INTERVAL_MS CAP LOAD; do
	[[ ${!v} =~ ^[0-9]+$ ]] && [ "${!v}" -gt 0 -o "$v" = CAP ] ||
		{ log "loadswitch.sh: $v must be a whole number (got '${!v}')"; exit 2; }
done

# shellcheck source=bench/load.sh
. "$ROOT/bench/load.sh"
BUILD=$(mktemp -d "${TMPDIR:-/tmp}/gochan-loadswitch.XXXXXX")
PROBE_PID=""
cleanup() {
	load_stop
	[ -z "$PROBE_PID" ] || kill "$PROBE_PID" 2>/dev/null || true
	rm -rf "$BUILD"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- build: libgochan.a by run.sh, then the probe against it -------------------
STATS=${LOADSWITCH_STATS:-0}
if [ "$STATS" = 1 ]; then
	CFLAGS="${CFLAGS:--O3 -DNDEBUG} -DGOWAIT_STATS"
	export CFLAGS
fi
BENCH_BUILD=$BUILD BENCH_BUILD_ONLY=lib bench/run.sh >&2
if [ -z "${CC:-}" ]; then
	if python3 -m ziglang version >/dev/null 2>&1; then CC="python3 -m ziglang cc"; else CC=gcc; fi
fi
CFLAGS=${CFLAGS:--O3 -DNDEBUG}
URCU=$(pkg-config --cflags --libs liburcu-cds 2>/dev/null || echo "-lurcu-cds -lurcu-common")
# shellcheck disable=SC2086
$CC -std=c11 -D_GNU_SOURCE -Iinclude -I. $CFLAGS bench/probe/throughput.c "$BUILD/libgochan.a" \
	$URCU -pthread -o "$BUILD/throughput"
PROBE=$BUILD/throughput
HOST=${LOADSWITCH_HOST:-1}
CL=""
if [ "$HOST" = 1 ]; then
	CL=$BUILD/cacheline
	$CC -O2 -pthread bench/probe/cacheline.c -o "$CL"
fi
# host_probe: the cache-line round trip now, in ns, with the probe stopped
# (the load is paused by the caller); "-" without LOADSWITCH_HOST.
host_probe() {
	[ -n "$CL" ] || { echo -; return; }
	local v
	[ -z "$PROBE_PID" ] || kill -STOP "$PROBE_PID" 2>/dev/null || true
	v=$("$CL" 20000 | sed -n 's/^cacheline_median_batch_ns=//p')
	[ -z "$PROBE_PID" ] || kill -CONT "$PROBE_PID" 2>/dev/null || true
	echo "${v:--}"
}
if [ "$IMPL" = crossbeam ]; then
	CARGO=${CARGO:-$(command -v cargo || echo "$HOME/.cargo/bin/cargo")}
	RT=${CARGO_TARGET_DIR:-${TMPDIR:-/tmp}/gochan-bench-rust-target}/probe
	(cd bench/rust && CARGO_TARGET_DIR=$RT "$CARGO" build --release -q --bin probe_throughput) >&2
	PROBE=$RT/release/probe_throughput
fi

# ---- run: the probe in the background, the load switched in the foreground ------
UPTIME_BEFORE=$(load_uptime)
load_start "$LOAD"
load_pause
SWITCHES=$BUILD/switches.txt # "<realtime> on|off <cache-line ns>" per switch
: >"$SWITCHES"
cl0=$(host_probe)
BENCH_IMPL=$IMPL "$PROBE" "$DURATION" "$INTERVAL_MS" "$CAP" >"$BUILD/samples.txt" &
PROBE_PID=$!
t0=$EPOCHREALTIME
echo "$t0 off $cl0" >>"$SWITCHES"
state=off
k=1
# Switch at t0 + k*PERIOD (absolute targets: no drift from the sleeps), in
# integer microseconds: no helper process wakes up between the samples
# except sleep(1) itself.
t0us=${t0/./}
while ((k * PERIOD * 1000000 < DURATION * 1000000)); do
	now=${EPOCHREALTIME/./}
	d=$((10#$t0us + k * PERIOD * 1000000 - 10#$now))
	if ((d > 0)); then sleep "$(printf '%d.%06d' $((d / 1000000)) $((d % 1000000)))"; fi
	ts=$EPOCHREALTIME
	if [ "$state" = off ]; then
		cl=$(host_probe); load_resume; state=on
	else
		load_pause; cl=$(host_probe); state=off
	fi
	echo "$ts $state $cl" >>"$SWITCHES"
	k=$((k + 1))
done
wait "$PROBE_PID"
PROBE_PID=""
UPTIME_AFTER=$(load_uptime)
load_stop

# ---- the trace and its summary ----------------------------------------------------
mkdir -p "$(dirname "$OUT")"
{
	echo "bench/loadswitch.sh: channel throughput while a load of $LOAD busy processes goes on and off every ${PERIOD}s"
	echo "date:    $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "command: LOADSWITCH_S=$DURATION LOADSWITCH_PERIOD=$PERIOD LOADSWITCH_MS=$INTERVAL_MS LOADSWITCH_CAP=$CAP BENCH_LOAD=$LOAD BENCH_IMPL=$IMPL LOADSWITCH_STATS=$STATS bench/loadswitch.sh"
	echo "probe:   bench/probe/throughput.c, 1 producer + 1 consumer, capacity $CAP, $IMPL; sample every ${INTERVAL_MS} ms"
	echo "machine: $(nproc) CPUs (nproc), $(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -1), $(uname -sr)"
	echo "gochan:  $CC $CFLAGS, commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
	echo "uptime before: $UPTIME_BEFORE"
	echo "uptime after:  $UPTIME_AFTER"
	python3 - "$SWITCHES" "$BUILD/samples.txt" "$BAND" "$PERIOD" "$INTERVAL_MS" <<'EOF'
import sys, math, statistics
sw, host = [], []  # (time, state) per switch; the cache-line ns measured there, or None
for l in open(sys.argv[1]):
    f = l.split()
    if len(f) >= 2:
        sw.append((float(f[0]), f[1]))
        host.append(float(f[2]) if len(f) > 2 and f[2] != "-" else None)
# A sample: "<t> <ops/s>" then, with LOADSWITCH_STATS=1, name=value fields
# (the wait strategy's counts in the interval, the gate, where the pair ran).
smp, extra = [], []
for l in open(sys.argv[2]):
    f = l.split()
    if len(f) < 2:
        continue
    smp.append((float(f[0]), float(f[1])))
    extra.append(dict(x.split("=", 1) for x in f[2:] if "=" in x))
has_stats = any("yield" in e for e in extra)
band, period = float(sys.argv[3]), float(sys.argv[4])
t0 = sw[0][0]
def seg_of(t):  # index of the switch in force at t
    i = 0
    while i + 1 < len(sw) and sw[i + 1][0] <= t:
        i += 1
    return i
rows = []  # (t, state, rate, segment, first sample of its segment)
seen = set()
seg_extra = {}  # segment -> its samples' extras
for (t, r), e in zip(smp, extra):
    i = seg_of(t)
    rows.append((t, sw[i][1], r, i, i not in seen))
    seen.add(i)
    seg_extra.setdefault(i, []).append((r, e))
def med(xs):
    return statistics.median(xs) if xs else float("nan")
state_med = {s: med([r for (_, st, r, _, first) in rows if st == s and not first]) for s in ("on", "off")}
lo_hi = lambda m: (m / (1 + band), m * (1 + band))
settle = {"on": [], "off": []}
per_switch = []  # "state@t: settle"
for i in range(1, len(sw)):
    s = sw[i][1]
    seg = [(t, r) for (t, st, r, j, _) in rows if j == i]
    if not seg:
        continue
    lo, hi = lo_hi(state_med[s])
    k = len(seg)  # index of the first sample from which all stay in the band
    while k > 0 and lo <= seg[k - 1][1] <= hi:
        k -= 1
    if k == len(seg):
        settle[s].append(None)
    elif k == 0:
        settle[s].append(0.0)
    else:
        settle[s].append(seg[k - 1][0] - sw[i][0])  # the end of the last sample out of the band
    x = settle[s][-1]
    per_switch.append(f"{s}@{sw[i][0] - t0:.1f}s: " + ("never" if x is None else f"{x * 1000:.0f}"))
def fmt_rate(x):
    return "-" if x != x else f"{x:,.0f}"
print(f"samples: {len(rows)}; switches: {len(sw) - 1}")
print(f"median throughput, load ON  (ops/s): {fmt_rate(state_med['on'])}")
print(f"median throughput, load OFF (ops/s): {fmt_rate(state_med['off'])}")
if state_med["off"] == state_med["off"] and state_med["on"] == state_med["on"] and state_med["on"] > 0:
    print(f"off/on ratio: {state_med['off'] / state_med['on']:.2f}")
for s, what in (("on", "off -> on"), ("off", "on -> off")):
    v = settle[s]
    ok = [x for x in v if x is not None]
    never = len(v) - len(ok)
    if v:
        print(f"settle after {what} ({len(v)} switches, band x{1 + band:g} around the {s} median): "
              f"median {med(ok) * 1000 if ok else float('nan'):.0f} ms, max {max(ok) * 1000 if ok else float('nan'):.0f} ms"
              + (f", {never} never settled within the period" if never else ""))
if per_switch:
    print("settle per switch (ms): " + ", ".join(per_switch))
# By host state (LOADSWITCH_HOST): a segment is "fast" when the cache-line
# round trips measured at its start and its end are both under 2.5x the
# run's smallest, "slow" when both are over, "mixed" when the host flipped
# during it.  Settle is then judged against the median of the same load
# state on the same host state: does the rate follow the load, given what
# the host is doing?
hv = [x for x in host if x is not None]
if hv:
    cut = 2.5 * min(hv)
    def hclass(i):
        a = host[i]
        b = host[i + 1] if i + 1 < len(host) else a
        if a is None or b is None:
            return "?"
        return "fast" if a < cut and b < cut else "slow" if a >= cut and b >= cut else "mixed"
    hs = {i: hclass(i) for i in range(len(sw))}
    print(f"host (cache-line round trip at each switch, ns): min {min(hv):.0f}, median {med(hv):.0f}, "
          f"max {max(hv):.0f}; a segment is fast under {cut:.0f} at both ends, slow over it at both")
    print("host per switch (ns): " + ", ".join(
        f"{sw[i][1]}@{sw[i][0] - t0:.0f}s:{host[i]:.0f}" for i in range(len(sw)) if host[i] is not None))
    for h in ("fast", "slow", "mixed"):
        segs = [i for i in range(1, len(sw)) if hs[i] == h]
        if not segs:
            continue
        m = {st: med([r for (_, s2, r, j, first) in rows if s2 == st and hs[j] == h and not first])
             for st in ("on", "off")}
        line = (f"host {h:<5}: {len(segs)} segments; median ops/s load ON {fmt_rate(m['on'])}, "
                f"OFF {fmt_rate(m['off'])}")
        if m["on"] == m["on"] and m["off"] == m["off"] and m["on"] > 0:
            line += f", off/on {m['off'] / m['on']:.2f}"
        print(line)
        if h == "mixed":
            continue
        for st, what in (("on", "off -> on"), ("off", "on -> off")):
            lo, hi = lo_hi(m[st])
            v = []
            for i in segs:
                if sw[i][1] != st:
                    continue
                seg = [(t, r) for (t, s2, r, j, _) in rows if j == i]
                if not seg:
                    continue
                k = len(seg)
                while k > 0 and lo <= seg[k - 1][1] <= hi:
                    k -= 1
                v.append(None if k == len(seg) else 0.0 if k == 0 else seg[k - 1][0] - sw[i][0])
            ok = [x for x in v if x is not None]
            if v:
                print(f"  settle after {what} ({len(v)} switches, band x{1 + band:g} around this host's {st} median): "
                      + (f"median {med(ok) * 1000:.0f} ms, max {max(ok) * 1000:.0f} ms" if ok else "none settled")
                      + (f", {len(v) - len(ok)} never settled within the period" if len(ok) < len(v) else ""))
# The band around the state's median assumes one rate per state.  A pair of
# threads has (at least) two: both on one CPU or one on each, a placement
# that the scheduler keeps for seconds, loaded or not (the same_cpu column).
# A segment spent in the other mode than the median's is "never" though it
# followed the load at once.  So also: settle to the segment's own level
# (the median of its second half), which says whether the rate stopped
# moving within the period, and the rate of each placement.
own = {"on": [], "off": []}
for i in range(1, len(sw)):
    s_ = sw[i][1]
    seg = [(t, r) for (t, st, r, j, _) in rows if j == i]
    if len(seg) < 2:
        continue
    lo, hi = lo_hi(med([r for _, r in seg[len(seg) // 2:]]))
    k = len(seg)
    while k > 0 and lo <= seg[k - 1][1] <= hi:
        k -= 1
    own[s_].append(0.0 if k == 0 else seg[k - 1][0] - sw[i][0])
for s_, what in (("on", "off -> on"), ("off", "on -> off")):
    v = own[s_]
    if v:
        print(f"settle to the segment's own level after {what} ({len(v)} switches, band x{1 + band:g}): "
              f"median {med(v) * 1000:.0f} ms, max {max(v) * 1000:.0f} ms, "
              f"{sum(1 for x in v if x >= period - 0.15)} still moving at the period's end")
if any("same_cpu" in e for e in extra):
    for s_ in ("on", "off"):
        modes = {True: [], False: []}
        for (t, st, r, j, first), e in zip(rows, extra):
            sc = float(e.get("same_cpu", -1))
            if st == s_ and not first and sc >= 0:
                modes[sc >= 0.5].append(r)
        n = len(modes[True]) + len(modes[False])
        if n:
            print(f"load {s_.upper():<3} by placement: pair on one CPU {len(modes[True])}/{n} samples, "
                  f"median {fmt_rate(med(modes[True]))} ops/s; on two CPUs {len(modes[False])}/{n}, "
                  f"median {fmt_rate(med(modes[False]))} ops/s")
    # Does the rate follow the load, given where the kernel put the pair and
    # what the host is doing?  Each state (load on/off) has a rate per
    # placement (both threads on one CPU, or one on each: medians over the
    # samples that spent >= 95% of their time in it, on segments of the same
    # host state); a sample that spent a fraction f of its time on one CPU
    # is expected at the time-weighted mix 1 / (f/R_one + (1-f)/R_two).  A
    # switch has settled from the first sample after which every sample of
    # its segment is within the band of its own expectation: the time the
    # wait strategy takes to re-learn, with the kernel's placement and the
    # host's line cost taken as given.
    hcl = (lambda j: hs.get(j, "?")) if hv else (lambda j: "-")
    pl = {}
    for (t, st, r, j, first), e in zip(rows, extra):
        f = float(e.get("same_cpu", -1))
        if first or f < 0:
            continue
        if f >= 0.95:
            pl.setdefault((st, hcl(j), True), []).append(r)
        elif f <= 0.05:
            pl.setdefault((st, hcl(j), False), []).append(r)
    plm = {k: med(v) for k, v in pl.items()}
    def expect(st, j, f):
        one, two = plm.get((st, hcl(j), True)), plm.get((st, hcl(j), False))
        if f <= 0.05 or one is None:
            return two if f <= 0.95 or one is None else one
        if f >= 0.95 or two is None:
            return one
        return 1.0 / (f / one + (1 - f) / two)
    fol = {"on": [], "off": []}
    for i in range(1, len(sw)):
        seg = [(t, r, e) for (t, st, r, j, _), e in zip(rows, extra) if j == i]
        if not seg:
            continue
        st = sw[i][1]
        inb = []
        for t, r, e in seg:
            x = expect(st, i, float(e.get("same_cpu", 0)))
            inb.append(x is not None and x == x and x / (1 + band) <= r <= x * (1 + band))
        k = len(seg)
        while k > 0 and inb[k - 1]:
            k -= 1
        fol[st].append(None if k == len(seg) else 0.0 if k == 0 else seg[k - 1][0] - sw[i][0])
    for st, what in (("on", "off -> on"), ("off", "on -> off")):
        v = fol[st]
        ok = [x for x in v if x is not None]
        if v:
            print(f"follows the load, given placement and host, after {what} ({len(v)} switches, band x{1 + band:g}): "
                  + (f"median {med(ok) * 1000:.0f} ms, max {max(ok) * 1000:.0f} ms" if ok else "none")
                  + (f", {len(v) - len(ok)} not within the period" if len(ok) < len(v) else ""))
    print("rates by load state, host and placement (ops/s, median of samples >= 95% in one placement): "
          + "; ".join(f"{st} {h} {'one CPU' if one else 'two CPUs'} {fmt_rate(m)} ({len(pl[(st, h, one)])})"
                      for (st, h, one), m in sorted(plm.items())))
if has_stats:
    # Per switch: what the wait strategy did, per 1000 values, over the
    # segment's samples but its first (which straddles the switch).
    print()
    print("per switch, counts per 1000 values (the segment's samples but the first; wait/stats.h):")
    keys = ["yield", "yield_off", "late", "late_ours", "probe", "probe_ok", "replace", "park_spin",
            "park_yield", "park_sleep", "futex_wait", "futex_wake", "lock_sleep"]
    print(f"{'switch':>10} {'settle':>6} {'kops/s':>7} " + " ".join(f"{k:>10}" for k in keys)
          + "  same_cpu gate_off")
    for i in range(1, len(sw)):
        es = seg_extra.get(i, [])[1:]
        if not es:
            continue
        tot = {k: 0 for k in keys}
        for r, e in es:
            for k in keys:
                tot[k] += int(e.get(k, 0))
        # values moved: the rates times the interval
        ops = sum(r for r, _ in es) * (float(sys.argv[5]) / 1000.0)
        same = [float(e["same_cpu"]) for _, e in es if float(e.get("same_cpu", -1)) >= 0]
        goff = sum(1 for _, e in es if e.get("gate") == "off")
        kops = statistics.median(r for r, _ in es) / 1000
        st = per_switch[i - 1].split(": ")[1] if i - 1 < len(per_switch) else "?"
        print(f"{sw[i][1] + '@' + format(sw[i][0] - t0, '.0f'):>10} {st:>6} {kops:7.0f} "
              + " ".join(f"{1000 * tot[k] / ops if ops else 0:10.1f}" for k in keys)
              + f"  {statistics.mean(same) if same else -1:8.2f} {goff:>3}/{len(es)}")
print()
print("# t (s since start)  load  ops/s   (first sample after a switch marked *)")
for (t, s, r, j, first), e in zip(rows, extra):
    x = " ".join(f"{k}={v}" for k, v in e.items())
    if first and hv and host[j] is not None:
        x = f"host={host[j]:.0f}ns " + x
    print(f"{t - t0:8.3f}  {s:<3}  {r:12.0f}{' *' if first else '  '}  {x}".rstrip())
EOF
} >"$BUILD/out.txt"
cp "$BUILD/out.txt" "$OUT.$$" && mv -f "$OUT.$$" "$OUT"
sed -n '1,/^$/p' "$OUT"
log "trace: $OUT"

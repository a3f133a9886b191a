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
#   CC, CFLAGS           as bench/run.sh (which builds libgochan.a)
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
SWITCHES=$BUILD/switches.txt # "<realtime> on|off" per switch
: >"$SWITCHES"
BENCH_IMPL=$IMPL "$PROBE" "$DURATION" "$INTERVAL_MS" "$CAP" >"$BUILD/samples.txt" &
PROBE_PID=$!
t0=$EPOCHREALTIME
echo "$t0 off" >>"$SWITCHES"
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
	if [ "$state" = off ]; then load_resume; state=on; else load_pause; state=off; fi
	echo "$EPOCHREALTIME $state" >>"$SWITCHES"
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
sw = [(float(t), s) for t, s in (l.split() for l in open(sys.argv[1]) if l.strip())]
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
for (t, s, r, _, first), e in zip(rows, extra):
    x = " ".join(f"{k}={v}" for k, v in e.items())
    print(f"{t - t0:8.3f}  {s:<3}  {r:12.0f}{' *' if first else '  '}  {x}".rstrip())
EOF
} >"$BUILD/out.txt"
cp "$BUILD/out.txt" "$OUT.$$" && mv -f "$OUT.$$" "$OUT"
sed -n '1,/^$/p' "$OUT"
log "trace: $OUT"

#!/usr/bin/env bash
# scripts/flake-hunt.sh [--idle N] [--loaded N] [--load K] [--step STEP] [--out DIR]
#
# Runs a build step (default: test-all, the test command) N times on the
# machine as it is ("idle": run it with nothing else on the machine) and N
# times beside a known load that this script starts and stops itself: K busy
# processes at normal priority (default K = the number of CPUs: every core
# taken), `stress-ng --cpu K` where Debian's stress-ng is installed, else K
# shell busy loops.  Each run's whole output goes to DIR/<mode>-<i>.log;
# the table at the end gives, per mode, the runs, how many failed, the
# time of each run with the load average at its start, and every step that
# failed (the "==== NAME: FAILED" lines of scripts/run-prog.sh, and zig's
# own failed compile/run steps) with how often.
#
#   scripts/flake-hunt.sh --idle 10 --loaded 5            issue 15's hunt
#   scripts/flake-hunt.sh --idle 0 --loaded 3 --step tsan
#
# It never retries anything: a failure is counted and its log kept.
set -uo pipefail
cd "$(dirname "$0")/.."

idle=1 loaded=1 load=$(nproc) step=test-all out=flake-hunt
while [ $# -gt 0 ]; do
	case $1 in
	--idle) idle=$2; shift 2 ;;
	--loaded) loaded=$2; shift 2 ;;
	--load) load=$2; shift 2 ;;
	--step) step=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	-h | --help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "flake-hunt: unknown argument '$1'" >&2; exit 2 ;;
	esac
done
mkdir -p "$out"
summary="$out/summary.txt"
: >"$summary"

loadpids=()
start_load() {
	if command -v stress-ng >/dev/null; then
		stress-ng --cpu "$load" --quiet >/dev/null 2>&1 &
		loadpids+=($!)
	else
		for _ in $(seq "$load"); do
			sh -c 'while :; do :; done' &
			loadpids+=($!)
		done
	fi
}
stop_load() {
	[ ${#loadpids[@]} -eq 0 ] && return
	kill "${loadpids[@]}" 2>/dev/null
	wait "${loadpids[@]}" 2>/dev/null
	loadpids=()
}
trap 'stop_load' EXIT INT TERM

# One run: its log, then a line "mode i rc seconds load1" in the summary.
run_one() {
	local mode=$1 i=$2 log="$out/$1-$2.log"
	local la t0 t1 rc
	la=$(cut -d' ' -f1 /proc/loadavg)
	t0=$(date +%s)
	python3 -m ziglang build "$step" >"$log" 2>&1
	rc=$?
	t1=$(date +%s)
	echo "$mode $i $rc $((t1 - t0)) $la" >>"$summary"
	printf 'flake-hunt: %s run %d: %s in %d s (load average %s at its start)\n' "$mode" "$i" \
		"$([ $rc -eq 0 ] && echo ok || echo "FAILED (exit $rc)")" $((t1 - t0)) "$la"
}

for i in $(seq "$idle"); do run_one idle "$i"; done
if [ "$loaded" -gt 0 ]; then
	start_load
	for i in $(seq "$loaded"); do run_one loaded "$i"; done
	stop_load
fi

echo
echo "step: $step; load for 'loaded': $load busy processes ($(command -v stress-ng >/dev/null && echo stress-ng --cpu || echo shell loops)); $(nproc) CPUs"
for mode in idle loaded; do
	n=$(grep -c "^$mode " "$summary")
	[ "$n" -eq 0 ] && continue
	bad=$(awk -v m=$mode '$1 == m && $3 != 0' "$summary" | wc -l)
	times=$(awk -v m=$mode '$1 == m { printf "%s%ss@%s", sep, $4, $5; sep=" " }' "$summary")
	echo "$mode: $((n - bad))/$n passed; seconds@load1: $times"
	for log in "$out/$mode"-*.log; do
		grep -hoE '^==== .*: FAILED' "$log" | sed 's/^==== //; s/: FAILED$//'
		# zig's summary names a step that failed to build ("compile ...
		# N errors"); run steps already said FAILED above.
		grep -hE '^[ |+-]*compile .*(failure|errors?)$' "$log" | sed -E 's/^[ |+-]*//' || true
	done | sort | uniq -c | sed 's/^/    failed: /'
done

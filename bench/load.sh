# bench/load.sh - sourced by bench/run.sh, bench/goprogs.sh and
# bench/loadswitch.sh: a fixed CPU load of N busy processes (issue 21).
#
# Each is `sh -c 'while :; do :; done'`, at the priority of the script that
# starts it (normal unless that script runs under nice): the busy-loop load
# of issue 21 (`yes > /dev/null`, normal priority), one process per busy
# core.  One process each, not stress-ng's parent and workers, so that
# load_pause/load_resume can stop and continue exactly these with SIGSTOP
# and SIGCONT.  The caller must stop them on every exit path:
#
#   . bench/load.sh
#   trap 'load_stop' EXIT; trap 'exit 130' INT; trap 'exit 143' TERM
#   load_start 2; ...; load_stop
#
# (A background process of a non-interactive shell ignores SIGINT, so a
# Ctrl-C alone would leave them running: the EXIT trap is what ends them.)

LOAD_PIDS=()

# load_start N: start N busy processes (none for N = 0).
load_start() {
	local i
	for ((i = 0; i < $1; i++)); do
		sh -c 'while :; do :; done' </dev/null >/dev/null 2>&1 &
		LOAD_PIDS+=($!)
	done
}

# load_pause / load_resume: SIGSTOP / SIGCONT them (the load off / on).
load_pause() {
	[ ${#LOAD_PIDS[@]} -eq 0 ] || kill -STOP "${LOAD_PIDS[@]}" 2>/dev/null || true
}
load_resume() {
	[ ${#LOAD_PIDS[@]} -eq 0 ] || kill -CONT "${LOAD_PIDS[@]}" 2>/dev/null || true
}

# load_stop: end them (a stopped process is continued so it sees the
# SIGTERM) and reap them.  Safe to call twice.
load_stop() {
	[ ${#LOAD_PIDS[@]} -eq 0 ] && return 0
	{
		kill -TERM "${LOAD_PIDS[@]}" || true
		kill -CONT "${LOAD_PIDS[@]}" || true
		wait "${LOAD_PIDS[@]}" || true
	} 2>/dev/null
	LOAD_PIDS=()
}

# load_uptime: `uptime`'s line, or /proc/loadavg where there is no uptime.
load_uptime() {
	uptime 2>/dev/null || echo "load average: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"
}

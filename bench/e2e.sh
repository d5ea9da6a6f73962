#!/usr/bin/env bash
# End-to-end benchmark: `alertgw run` (suricata dgram input → file output)
# fed by `alertgw send`, plus a plain receive-and-count baseline.
#
# Reports per scenario: events/s, loss (sent vs lines written), the
# gateway's CPU seconds (user+sys from /proc/PID/stat) and peak RSS (VmHWM).
#
# Scenarios:
#   baseline   countrecv (recv + count, nothing else) with a blocking sender
#   blocking   blocking sender as fast as possible        (target ≥ 150,000/s, zero loss)
#   nonblock   MSG_DONTWAIT sender at a steady RATE/s      (target zero loss)
#   journal    as blocking, with the input journal forced on (pipeline.journal.mode:
#              always) and the memory-buffered output: the journal's own cost
#   disk       as blocking, the output with buffer.type: disk (journal on: the
#              configuration that survives SIGKILL)     (target ≥ 150,000 events/s)
#   disk-nojournal  as disk with pipeline.journal.mode: off: the journal's cost
#              with a disk buffer
#
# Environment:
#   COUNT=1000000   records in the blocking and baseline scenarios
#   RATE=50000      records/s in the non-blocking scenario
#   DURATION=60     seconds of the non-blocking scenario (QUICK=1: 10)
#   QLEN=512        net.unix.max_dgram_qlen for the run (systemd's default);
#                   as root the script runs in its own network namespace
#                   (unshare --net) and sets it there, leaving the host's
#                   value alone; otherwise the current value is used.
#   SNDBUF=0        non-blocking sender's SO_SNDBUF (0: net.core.wmem_default,
#                   212992, as Suricata, which does not set it; it bounds the
#                   datagrams in flight to about 93 of 1.1 KB whatever QLEN is)
#   WORKERS=0       pipeline workers (0: one per CPU)
#   SCENARIOS="baseline blocking nonblock"
#   BIN=bin/alertgw PPROF=1 (writes a CPU profile of the gateway to $OUT/<scenario>/cpu.pprof)
#   KEEP=1          keep $OUT (events, logs) after the run
set -euo pipefail

cd "$(dirname "$0")/.."
COUNT=${COUNT:-1000000}
RATE=${RATE:-50000}
DURATION=${DURATION:-60}
[[ -n ${QUICK:-} ]] && DURATION=10
QLEN=${QLEN:-512}
SCENARIOS=${SCENARIOS:-"baseline blocking nonblock"}
BIN=${BIN:-bin/alertgw}

# Own network namespace: max_dgram_qlen is per namespace, so the host and
# everything else running on it keep their setting.
if [[ -z ${AGW_BENCH_NETNS:-} && $(id -u) == 0 ]] && command -v unshare >/dev/null; then
	exec unshare --net env AGW_BENCH_NETNS=1 "$0" "$@"
fi
if [[ -n ${AGW_BENCH_NETNS:-} ]]; then
	echo "$QLEN" >/proc/sys/net/unix/max_dgram_qlen
fi
qlen_now=$(cat /proc/sys/net/unix/max_dgram_qlen)

[[ -x $BIN ]] || CGO_ENABLED=0 go build -trimpath -o "$BIN" ./cmd/alertgw
OUT=$(mktemp -d /tmp/agwbench.XXXXXX)
go build -o "$OUT/countrecv" ./bench/countrecv
# The output files are large (≈ 3 GB for the 60 s run): removed at the end
# unless KEEP=1 or PPROF=1 (then the profiles and logs stay in $OUT).
cleanup() {
	kill $(jobs -p) 2>/dev/null || true
	if [[ -z ${KEEP:-}${PPROF:-} ]]; then rm -rf "$OUT"; else echo "output kept in $OUT" >&2; fi
}
trap cleanup EXIT

HZ=$(getconf CLK_TCK)
cpu_seconds() { # utime + stime of a live process, in seconds
	awk -v hz="$HZ" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / hz }' "/proc/$1/stat"
}
peak_rss_mb() {
	awk '/^VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"
}
lines() { [[ -f $1 ]] && wc -l <"$1" || echo 0; }

# wait_written FILE N: wait until FILE has N lines or stops growing for 3 s.
wait_written() {
	local file=$1 want=$2 last=-1 still=0 n
	while :; do
		n=$(lines "$file")
		((n >= want)) && return 0
		if ((n == last)); then
			((still++ >= 30)) && return 0
		else
			still=0
		fi
		last=$n
		sleep 0.1
	done
}

RESULTS=()
report() { # name sent dropped_at_sender written elapsed cpu rss
	local name=$1 sent=$2 dropped=$3 written=$4 el=$5 cpu=$6 rss=$7
	local loss=$((sent - written))
	local eps
	eps=$(awk -v n="$written" -v t="$el" 'BEGIN { printf "%.0f", (t > 0 ? n / t : 0) }')
	RESULTS+=("$(printf '%-14s %10s %10s %10s %8s %9s %8s %8s %7s' "$name" "$sent" "$dropped" "$written" "$loss" "$eps" "$el" "$cpu" "$rss")")
}

gateway() { # starts the gateway on $OUT/$1, sets GW_PID
	local d=$OUT/$1 journal=auto buffer=""
	case $1 in
	journal) journal=always ;;
	disk) buffer="    buffer: {type: disk, path: $d/buffer}" ;;
	disk-nojournal) journal=off buffer="    buffer: {type: disk, path: $d/buffer}" ;;
	esac
	mkdir -p "$d"
	cat >"$d/config.yaml" <<EOF
sensor: bench
log: {level: warn, format: json}
pipeline: {journal: {mode: $journal, path: $d/journal}}
dead_letter: {path: $d/deadletter.json}
inputs:
  - name: suricata
    type: suricata
    socket: $d/s.sock
    socket_type: dgram
outputs:
  - name: events
    type: file
    path: $d/events.json
$buffer
EOF
	local extra=()
	[[ -n ${PPROF:-} ]] && extra=(--cpuprofile "$d/cpu.pprof")
	"$BIN" run --config "$d/config.yaml" "${extra[@]}" 2>"$d/gateway.log" &
	GW_PID=$!
	for _ in $(seq 100); do [[ -S $d/s.sock ]] && return 0; sleep 0.05; done
	echo "gateway did not create its socket; log:" >&2
	cat "$d/gateway.log" >&2
	exit 1
}

# run_gateway NAME SEND-ARGS...: one gateway scenario.
run_gateway() {
	local name=$1
	shift
	gateway "$name"
	local d=$OUT/$name t0 t1 out sent dropped
	t0=$(date +%s.%N)
	out=$("$BIN" send --socket "$d/s.sock" --pregenerate 20000 "$@")
	sent=$(sed -E 's/.*sent=([0-9]+).*/\1/' <<<"$out")
	dropped=$(sed -E 's/.*dropped_at_sender=([0-9]+).*/\1/' <<<"$out")
	wait_written "$d/events.json" "$sent"
	t1=$(date +%s.%N)
	local cpu rss
	cpu=$(cpu_seconds "$GW_PID")
	rss=$(peak_rss_mb "$GW_PID")
	kill -TERM "$GW_PID"
	wait "$GW_PID" || true
	local el
	el=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
	echo "$name: sender: $out" >&2
	report "$name" "$sent" "$dropped" "$(lines "$d/events.json")" "$el" "$cpu" "$rss"
}

run_baseline() {
	local d=$OUT/baseline
	mkdir -p "$d"
	"$OUT/countrecv" -socket "$d/s.sock" -count "$COUNT" >"$d/result" &
	local pid=$!
	for _ in $(seq 100); do [[ -S $d/s.sock ]] && break; sleep 0.05; done
	local out
	out=$("$BIN" send --socket "$d/s.sock" --pregenerate 20000 --count "$COUNT")
	wait "$pid"
	local r el cpu rss
	r=$(sed -E 's/.*received=([0-9]+).*/\1/' "$d/result")
	el=$(sed -E 's/.*elapsed=([0-9.]+)s.*/\1/' "$d/result")
	cpu=$(sed -E 's/.*cpu_s=([0-9.]+).*/\1/' "$d/result")
	rss=$(sed -E 's/.*rss_mb=([0-9.]+).*/\1/' "$d/result")
	echo "baseline: sender: $out; receiver: $(cat "$d/result")" >&2
	report baseline "$COUNT" 0 "$r" "$el" "$cpu" "$rss"
}

echo "alertgw end-to-end benchmark: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), kernel $(uname -r), max_dgram_qlen $qlen_now$([[ -n ${AGW_BENCH_NETNS:-} ]] && echo ' (own netns)'), output in $OUT" >&2
for s in $SCENARIOS; do
	case $s in
	baseline) run_baseline ;;
	blocking | journal | disk | disk-nojournal) run_gateway "$s" --count "$COUNT" ;;
	nonblock) run_gateway nonblock --nonblock --rate "$RATE" --count $((RATE * DURATION)) ;;
	*) echo "unknown scenario $s" >&2; exit 2 ;;
	esac
done

printf '%-14s %10s %10s %10s %8s %9s %8s %8s %7s\n' scenario sent snd_drop written loss events/s elapsed cpu_s rss_mb
printf '%s\n' "${RESULTS[@]}"
echo "(events/s = lines written / time from first send to last line written; cpu_s and rss_mb are the receiver's)"

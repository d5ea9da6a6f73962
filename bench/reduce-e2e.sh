#!/usr/bin/env bash
# Reduce and route, end to end (docs/pipeline.md, issue 15): the gateway's
# rate and CPU per event with and without reduction, in one run,
# interleaved so that machine noise hits each alike.
#
# Each round sends COUNT records of the `alertgw send` EVE mix with a
# blocking sender into `alertgw run` (suricata dgram input → file output)
# and stops the gateway with SIGTERM once the sender is done; the time is
# from the first send to the gateway's exit (every stage flushed, every
# line written), the CPU that of the gateway process.
#
# Variants:
#   plain      one file output
#   filter     the file output with filter: 'kind:alert OR kind:flow'
#   aggregate  the file output with aggregate: {window: 60s} (alerts folded)
#   tx         plus a transactions stage read by a second file output
#
# Environment: COUNT=1000000 ROUNDS=3 VARIANTS="plain filter aggregate tx" BIN=bin/alertgw
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${COUNT:-1000000}
ROUNDS=${ROUNDS:-3}
VARIANTS=${VARIANTS:-"plain filter aggregate tx"}
BIN=${BIN:-bin/alertgw}
[[ -x $BIN ]] || CGO_ENABLED=0 go build -trimpath -o "$BIN" ./cmd/alertgw
OUT=$(mktemp -d /tmp/agwreduce.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$OUT"' EXIT
HZ=$(getconf CLK_TCK)

config() { # variant dir
	local extra="" stages="" more=""
	case $1 in
	filter) extra="    filter: 'kind:alert OR kind:flow'" ;;
	aggregate) extra="    aggregate: {window: 60s}" ;;
	tx)
		stages=$'stages:\n  - name: tx\n    type: transactions\n    idle_timeout: 30s\n    max_age: 5m'
		more=$'  - name: tx\n    type: file\n    path: '"$2"$'/tx.json\n    from: tx'
		;;
	esac
	cat <<YAML
log: {level: warn, format: json}
admin: {listen: ""}
dead_letter: {path: $2/deadletter.json}
inputs:
  - name: suricata
    type: suricata
    socket: $2/s.sock
$stages
outputs:
  - name: events
    type: file
    path: $2/events.json
$extra
$more
YAML
}

declare -A RATE CPU
echo "reduce-e2e: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), COUNT=$COUNT, ROUNDS=$ROUNDS" >&2
for r in $(seq "$ROUNDS"); do
	for v in $VARIANTS; do
		d=$OUT/$v-$r
		mkdir -p "$d"
		config "$v" "$d" >"$d/config.yaml"
		"$BIN" run --config "$d/config.yaml" 2>"$d/gateway.log" &
		pid=$!
		for _ in $(seq 100); do [[ -S $d/s.sock ]] && break; sleep 0.05; done
		t0=$(date +%s.%N)
		"$BIN" send --socket "$d/s.sock" --pregenerate 20000 --count "$COUNT" >/dev/null
		cpu=$(awk -v hz="$HZ" '{ sub(/^.*\) /, ""); printf "%.3f", ($12 + $13) / hz }' "/proc/$pid/stat")
		kill -TERM "$pid"
		wait "$pid"
		t1=$(date +%s.%N)
		rate=$(awk -v n="$COUNT" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }')
		us=$(awk -v c="$cpu" -v n="$COUNT" 'BEGIN { printf "%.2f", c * 1e6 / n }')
		RATE[$v]+="$rate "
		CPU[$v]+="$us "
		printf '%-10s round %d: %8s events/s  %6s µs CPU/event\n' "$v" "$r" "$rate" "$us" >&2
		rm -rf "$d"
	done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
printf '%-10s %12s %16s\n' variant events/s "CPU µs/event"
for v in $VARIANTS; do
	printf '%-10s %12s %16s\n' "$v" "$(median <<<"${RATE[$v]}")" "$(median <<<"${CPU[$v]}")"
done
echo "(medians of $ROUNDS interleaved rounds; events/s = COUNT / time from the first send to the gateway's exit)"

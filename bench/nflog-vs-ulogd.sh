#!/usr/bin/env bash
# bench/nflog-vs-ulogd.sh — alertgw's nflog input against Debian's ulogd2
# (NFLOG → BASE → IFINDEX → IP2STR → HWHDR → JSON), same namespace, same
# nftables rules, same traffic, one logger at a time.
#
# For each rate in RATES it sends COUNT_SECONDS × rate UDP datagrams from a
# client namespace over a veth pair to a firewall namespace whose input chain
# logs port 7001 to group 11 (then drops) and port 7002 to group 10 (then
# accepts). It reports, per logger: datagrams sent, packets the log rules
# matched (nft counters), lines written, loss, CPU (user+sys of the logger
# process, from /proc/PID/stat) per logged packet, and the ratios.
#
# Usage (root): bench/nflog-vs-ulogd.sh            # RATES="5000 10000 20000 40000"
#               RATES="10000 50000" COUNT_SECONDS=3 LOGGERS="ulogd alertgw" bench/nflog-vs-ulogd.sh
# Loggers: ulogd, alertgw (reader: direct, the default), alertgw-go-nflog
# (reader: go-nflog).
# Traffic stays inside the two namespaces, which are deleted on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

RATES=${RATES:-"5000 10000 20000 40000"}
LOGGERS=${LOGGERS:-"ulogd alertgw alertgw-go-nflog"}
REPEAT=${REPEAT:-3} # runs per logger and rate, interleaved; the summary takes medians
COUNT_SECONDS=${COUNT_SECONDS:-3}
SOCKET_BUFFER=${SOCKET_BUFFER:-4194304}
ULOGD_PLUGINS=${ULOGD_PLUGINS:-/usr/lib/x86_64-linux-gnu/ulogd}

[ "$(id -u)" -eq 0 ] || { echo "nflog-vs-ulogd: needs root (network namespaces, NFLOG)" >&2; exit 1; }
missing=()
command -v nft >/dev/null || missing+=(nftables)
command -v ulogd >/dev/null || missing+=(ulogd2)
[ -e "$ULOGD_PLUGINS/ulogd_output_JSON.so" ] || missing+=(ulogd2-json)
if [ ${#missing[@]} -gt 0 ]; then
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

WORK=$(mktemp -d /tmp/nflog-bench.XXXXXX)
FW=agwb-fw-$$
CL=agwb-cl-$$
LOGGER_PID=
cleanup() {
	[ -n "$LOGGER_PID" ] && kill "$LOGGER_PID" 2>/dev/null && wait "$LOGGER_PID" 2>/dev/null || true
	ip netns del "$FW" 2>/dev/null || true
	ip netns del "$CL" 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT

go build -o "$WORK/alertgw" ./cmd/alertgw
go build -o "$WORK/nflogbench" ./bench/nflogbench # the paced UDP sender

# alertgw_conf READER → a configuration: the nflog input, the file output.
alertgw_conf() {
	cat >"$WORK/alertgw-$1.yaml" <<EOF
log: {level: info, format: json}
dead_letter: {path: ""}
inputs:
  - name: fw
    type: nflog
    reader: $1
    groups: [{group: 10, action: allowed}, {group: 11, action: blocked}]
    socket_buffer: $SOCKET_BUFFER
    sequence: true
outputs:
  - name: file
    type: file
    path: $WORK/alertgw.json
EOF
}
alertgw_conf direct
alertgw_conf go-nflog

ip netns add "$FW"
ip netns add "$CL"
ip link add fw0 netns "$FW" type veth peer name cl0 netns "$CL"
ip -n "$FW" addr add 10.78.0.1/24 dev fw0
ip -n "$CL" addr add 10.78.0.2/24 dev cl0
for ns in "$FW" "$CL"; do ip -n "$ns" link set lo up; done
ip -n "$FW" link set fw0 up
ip -n "$CL" link set cl0 up

load_rules() {
	ip netns exec "$FW" nft -f - <<'EOF'
flush ruleset
table inet bench {
	chain input {
		type filter hook input priority 0; policy accept;
		udp dport 7001 counter log prefix "BENCH-DROP " group 11 drop
		udp dport 7002 counter log prefix "BENCH-ACCEPT " group 10 accept
	}
}
EOF
}

# rule_hits prints how many packets the two log rules matched.
rule_hits() {
	ip netns exec "$FW" nft list chain inet bench input | awk '/counter packets/ { for (i=1;i<=NF;i++) if ($i=="packets") s+=$(i+1) } END { print s+0 }'
}

wait_bound() {
	for _ in $(seq 100); do
		if ip netns exec "$FW" cat /proc/net/netfilter/nfnetlink_log | awk '{print $1}' | grep -qx 10 &&
			ip netns exec "$FW" cat /proc/net/netfilter/nfnetlink_log | awk '{print $1}' | grep -qx 11; then
			return 0
		fi
		sleep 0.05
	done
	echo "logger did not bind groups 10 and 11" >&2
	return 1
}

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
CLK_TCK=$(getconf CLK_TCK)

cat >"$WORK/ulogd.conf" <<EOF
[global]
logfile="$WORK/ulogd.log"
loglevel=5
plugin="$ULOGD_PLUGINS/ulogd_inppkt_NFLOG.so"
plugin="$ULOGD_PLUGINS/ulogd_raw2packet_BASE.so"
plugin="$ULOGD_PLUGINS/ulogd_filter_IFINDEX.so"
plugin="$ULOGD_PLUGINS/ulogd_filter_IP2STR.so"
plugin="$ULOGD_PLUGINS/ulogd_filter_HWHDR.so"
plugin="$ULOGD_PLUGINS/ulogd_output_JSON.so"
stack=log10:NFLOG,base1:BASE,ifi1:IFINDEX,ip2str1:IP2STR,mac2str1:HWHDR,json1:JSON
stack=log11:NFLOG,base1:BASE,ifi1:IFINDEX,ip2str1:IP2STR,mac2str1:HWHDR,json1:JSON

[log10]
group=10
numeric_label=1
netlink_socket_buffer_size=$SOCKET_BUFFER

[log11]
group=11
numeric_label=0
netlink_socket_buffer_size=$SOCKET_BUFFER

[json1]
file="$WORK/ulogd.json"
sync=0
boolean_label=1
EOF

# run_one LOGGER RATE → prints one result line (tab-separated)
run_one() {
	local logger=$1 rate=$2 out count
	count=$((rate * COUNT_SECONDS))
	load_rules
	case $logger in
	alertgw | alertgw-go-nflog)
		local reader=direct
		[ "$logger" = alertgw-go-nflog ] && reader=go-nflog
		out=$WORK/alertgw.json
		rm -f "$out"
		ip netns exec "$FW" "$WORK/alertgw" run -c "$WORK/alertgw-$reader.yaml" >"$WORK/alertgw.log" 2>&1 &
		;;
	ulogd)
		out=$WORK/ulogd.json
		rm -f "$out"
		ip netns exec "$FW" ulogd -c "$WORK/ulogd.conf" >/dev/null 2>&1 &
		;;
	esac
	LOGGER_PID=$!
	wait_bound
	local t0 t1 sent hits lines
	t0=$(cpu_ticks "$LOGGER_PID")
	sent=$(ip netns exec "$CL" "$WORK/nflogbench" -send 10.78.0.1 -count "$count" -rate "$rate" | sed 's/.*"sent":\([0-9]*\).*/\1/')
	sleep 2 # let the logger finish what the kernel queued
	t1=$(cpu_ticks "$LOGGER_PID")
	kill -TERM "$LOGGER_PID"
	wait "$LOGGER_PID" 2>/dev/null || true
	LOGGER_PID=
	hits=$(rule_hits)
	lines=$(wc -l <"$out")
	awk -v l="$logger" -v r="$rate" -v s="$sent" -v h="$hits" -v n="$lines" -v c="$((t1 - t0))" -v hz="$CLK_TCK" 'BEGIN {
		loss = h - n; cpu = c / hz
		printf "%s\t%d\t%d\t%d\t%d\t%d\t%.2f%%\t%.2f\t%.2f\n", l, r, s, h, n, loss, (h ? 100 * loss / h : 0), cpu, (n ? 1e6 * cpu / n : 0)
	}'
}

echo "# $(date -u +%FT%TZ) $(uname -r), $(nproc) CPUs; ulogd2 $(dpkg-query -W -f '${Version}' ulogd2 2>/dev/null || echo '?'); socket buffer $SOCKET_BUFFER"
printf "logger\trate/s\tsent\tmatched\tlogged\tlost\tloss\tcpu_s\tcpu_us/pkt\n"
results=()
for rate in $RATES; do
	for _ in $(seq "$REPEAT"); do
		for logger in $LOGGERS; do
			line=$(run_one "$logger" "$rate")
			echo "$line"
			results+=("$line")
			case $logger in alertgw*) echo "#   $logger: $(grep -h '"input totals"' "$WORK/alertgw.log" | sed 's/.*"received"/"received"/; s/,"uptime".*//')" ;; esac
		done
	done
done

# Summary per logger and rate: median CPU per packet over the runs, total
# loss; the highest rate each logger sustained with zero loss in every run;
# the CPU-per-packet ratio to ulogd2.
printf '%s\n' "${results[@]}" | awk -F'\t' '
	function median(key,   n, i, j, t, a) {
		n = split(vals[key], a, " ")
		for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1]+0 > a[j]+0; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
		return n % 2 ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2
	}
	{ k = $1 SUBSEP $2; vals[k] = vals[k] " " $9; lost[k] += $6; rates[$2] = 1; loggers[$1] = 1 }
	END {
		print "# summary: logger, rate/s, median cpu_us/pkt, packets lost over all runs, ratio to ulogd"
		for (r in rates) for (l in loggers) {
			m[l,r] = median(l SUBSEP r)
			if (lost[l,r] == 0 && r+0 > best[l]) best[l] = r+0
		}
		for (r in rates) for (l in loggers)
			printf "# %s\t%d\t%.2f\t%d\t%s\n", l, r, m[l,r], lost[l,r], (m["ulogd",r] > 0 ? sprintf("%.2f", m[l,r] / m["ulogd",r]) : "-")
		for (l in loggers) printf "# highest zero-loss rate: %s %d/s\n", l, best[l]
	}' | sort -t$'\t' -k2,2n

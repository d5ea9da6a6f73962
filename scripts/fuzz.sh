#!/usr/bin/env bash
# Runs every Go fuzz target in the module for a bounded time each, then
# prints each target's executions per second, so that a target that does
# not really fuzz (a handful of inputs a minute) shows at once.
# Usage: scripts/fuzz.sh [duration]   (default 10s)
# FUZZMINIMIZETIME bounds the minimization of each new interesting input
# (Go's default is 60s, which a short run cannot afford); default 1s.
set -euo pipefail
cd "$(dirname "$0")/.."
t=${1:-10s}
minimize=${FUZZMINIMIZETIME:-1s}
summary=$(mktemp)
log=$(mktemp)
trap 'rm -f "$summary" "$log"' EXIT
status=0
for pkg in $(go list ./...); do
	for fz in $(go test -list '^Fuzz' "$pkg" 2>/dev/null | grep '^Fuzz' || true); do
		echo "== $pkg $fz ($t)"
		rc=0
		go test -run '^$' -fuzz "^${fz}\$" -fuzztime "$t" -fuzzminimizetime "$minimize" "$pkg" 2>&1 | tee "$log" || rc=$?
		# Go 1.26's fuzzing coordinator can fail a target at the end of
		# -fuzztime with a bare "context deadline exceeded" and no failing
		# input (go.dev/issue/75804, fixed in Go 1.27): that is no finding.
		# Run the target once more; a real finding writes a failing input.
		if [[ $rc -ne 0 ]] && grep -q '^    context deadline exceeded$' "$log" && ! grep -q 'Failing input written to' "$log"; then
			echo "== $pkg $fz: the coordinator's end-of-run race (go.dev/issue/75804), no failing input: once more"
			rc=0
			go test -run '^$' -fuzz "^${fz}\$" -fuzztime "$t" -fuzzminimizetime "$minimize" "$pkg" 2>&1 | tee "$log" || rc=$?
		fi
		# The last progress line has the totals: "fuzz: elapsed: 10s, execs: 123456 (…)".
		last=$(grep -E '^fuzz: elapsed: [0-9]+s, execs: [0-9]+' "$log" | tail -1 || true)
		secs=$(sed -E 's/^fuzz: elapsed: ([0-9]+)s.*/\1/' <<<"$last")
		execs=$(sed -E 's/.*execs: ([0-9]+).*/\1/' <<<"$last")
		rate="?"
		if [[ -n "$last" && "$secs" -gt 0 ]]; then
			rate=$((execs / secs))
		fi
		result=ok
		if [[ $rc -ne 0 ]]; then
			result=FAIL
			status=1
		fi
		printf '%-48s %-28s %10s execs %8s/s  %s\n' "${pkg#github.com/alertgw/alertgw/}" "$fz" "${execs:-?}" "$rate" "$result" >>"$summary"
	done
done
echo
echo "== executions per second (FUZZTIME=$t, minimize ≤ $minimize per input)"
cat "$summary"
exit $status

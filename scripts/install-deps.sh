#!/usr/bin/env bash
# Installs the system components that alertgw's integration tests drive
# (PostgreSQL, nftables, auditd …). Each component has a script in
# scripts/deps.d/ that checks for what it needs and installs only what is
# missing. Needs root for apt-get; without root it only reports.
set -euo pipefail
cd "$(dirname "$0")"

need=()
for f in deps.d/*.sh; do
	[ -e "$f" ] || continue
	# shellcheck disable=SC1090
	while read -r pkg; do [ -n "$pkg" ] && need+=("$pkg"); done < <(bash "$f")
done
[ ${#need[@]} -eq 0 ] && { echo "install-deps: nothing to install"; exit 0; }

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: not root; tests that need ${need[*]} will skip" >&2
	exit 0
fi
echo "install-deps: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null

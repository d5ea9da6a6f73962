#!/bin/sh
# The Suricata example test (cmd/alertgw/suricata_real_test.go) runs a real
# Suricata 7 offline on a capture, writing to alertgw's socket with the
# eve-log block of examples/suricata/ as pasted. Debian 12 ships Suricata 7
# only in bookworm-backports: add that suite in a private sources list,
# pinned so that only Suricata and its libhtp come from it.
# The test runs both in private namespaces: unshare (util-linux) and ip.
command -v unshare >/dev/null 2>&1 || echo util-linux
command -v ip >/dev/null 2>&1 || echo iproute2
if command -v suricata >/dev/null 2>&1 && suricata -V 2>/dev/null | grep -q 'version 7\.'; then
	exit 0
fi
if [ "$(id -u)" -eq 0 ] && grep -qs 'VERSION_CODENAME=bookworm' /etc/os-release; then
	list=/etc/apt/sources.list.d/alertgw-bookworm-backports.sources
	if [ ! -e "$list" ]; then
		cat >"$list" <<'SOURCES'
# Added by alertgw's scripts/deps.d/suricata.sh: Suricata 7 for its tests.
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
	fi
	pin=/etc/apt/preferences.d/alertgw-suricata
	if [ ! -e "$pin" ]; then
		cat >"$pin" <<'PIN'
# Added by alertgw's scripts/deps.d/suricata.sh: only these from backports.
Package: suricata libhtp2
Pin: release n=bookworm-backports
Pin-Priority: 500
PIN
	fi
fi
echo suricata

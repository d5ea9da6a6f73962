package main

import (
	"os"
	"os/exec"
	"testing"
)

// isolatedPrelude starts a script run by runIsolated: the script runs in
// its own mount and network namespaces, with loopback up, the datagram
// queue raised, and empty tmpfs over /run, /var/log and /var/lib, so that
// examples run exactly as written (/run/alertgw/…, /var/log/alertgw/…,
// 127.0.0.1:9477) without touching the host or colliding with other tests.
const isolatedPrelude = `set -eu
ip link set lo up
sysctl -qw net.unix.max_dgram_qlen=512
for d in /run /var/log /var/lib; do mount -t tmpfs -o mode=0755 tmpfs "$d"; done
# wait_for TEST WHAT: poll for up to 10 s.
wait_for() { i=0; until eval "$1"; do i=$((i+1)); if [ $i -ge 200 ]; then echo "timed out waiting for $2" >&2; return 1; fi; sleep 0.05; done; }
`

// runIsolated runs script (after isolatedPrelude) with sh in private
// namespaces; it needs root, as `make test` in CI has.
func runIsolated(t *testing.T, script string, env ...string) ([]byte, error) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root for private mount and network namespaces (make test runs as root)")
	}
	cmd := exec.Command("unshare", "--mount", "--net", "--propagation", "private", "sh", "-c", isolatedPrelude+script)
	cmd.Env = append(os.Environ(), env...)
	return cmd.CombinedOutput()
}

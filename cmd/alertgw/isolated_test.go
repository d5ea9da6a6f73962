package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// runIsolated runs a shell script as root in a throw-away copy of this
// machine: private mount and network namespaces, the root file system
// overlaid with an empty tmpfs (so the script may write /etc/snort,
// /var/log/alertgw, /data … and nothing reaches the host), /dev, /proc,
// /sys and the temporary directory bound in, loopback up and
// net.unix.max_dgram_qlen raised. Examples then run exactly as written:
// absolute paths, fixed admin ports, root-only directories. The script's
// helper wait_for TEST WHAT [SECONDS] polls a shell test.
func runIsolated(t *testing.T, script string, env ...string) ([]byte, error) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root for private mount and network namespaces (make test runs as root)")
	}
	root := shortDir(t)
	repo, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	const outer = `set -eu
mount -t tmpfs tmpfs "$ISO_ROOT"
mkdir "$ISO_ROOT/up" "$ISO_ROOT/work" "$ISO_ROOT/root"
mount -t overlay overlay -o lowerdir=/,upperdir="$ISO_ROOT/up",workdir="$ISO_ROOT/work" "$ISO_ROOT/root"
for d in /dev /proc /sys "$ISO_TMP" "$ISO_REPO"; do
	mkdir -p "$ISO_ROOT/root$d"
	mount --rbind "$d" "$ISO_ROOT/root$d"
done
exec chroot "$ISO_ROOT/root" sh -c "$ISO_SCRIPT"
`
	const inner = `set -eu
ip link set lo up
sysctl -qw net.unix.max_dgram_qlen=512
wait_for() { n=$(( ${3:-10} * 20 )); i=0; until eval "$1"; do i=$((i+1)); if [ $i -ge $n ]; then echo "timed out waiting for $2" >&2; return 1; fi; sleep 0.05; done; }
cd /
`
	cmd := exec.Command("unshare", "--mount", "--net", "--propagation", "private", "sh", "-c", outer)
	cmd.Env = append(os.Environ(), append(env, "ISO_ROOT="+root, "ISO_TMP="+os.TempDir(), "ISO_REPO="+repo, "ISO_SCRIPT="+inner+script)...)
	return cmd.CombinedOutput()
}

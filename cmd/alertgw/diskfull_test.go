package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestE2EDiskFull: a file output on a full disk fails like any other: the
// gateway reports it (degraded within admin.failure_grace, then not ready,
// with "no space left on device"), keeps the events, and delivers them by
// itself once there is room again — every event sent arrives, in order,
// with no restart.
func TestE2EDiskFull(t *testing.T) {
	dir := t.TempDir()
	cfg := `sensor: diskfull
log: {level: info, format: json}
admin: {listen: "127.0.0.1:9477", failure_grace: 1s}
dead_letter: {path: /var/lib/alertgw/deadletter.json}
inputs:
  - {name: suricata, type: suricata, socket: /run/alertgw/suricata.sock}
outputs:
  - {name: events, type: file, path: /mnt/full/events.json, buffer_size: 4KiB, retry: {initial: 50ms, max: 500ms}}
`
	os.WriteFile(filepath.Join(dir, "alertgw.yaml"), []byte(cfg), 0o644)
	script := `
mkdir -p /mnt/full
mount -t tmpfs -o size=2m tmpfs /mnt/full
# Fill the disk but for a few KiB.
dd if=/dev/zero of=/mnt/full/filler bs=4k count=510 2>/dev/null || true
"$ALERTGW" run -c "$OUT/alertgw.yaml" >"$OUT/gateway.log" 2>&1 &
gw=$!
wait_for '[ -S /run/alertgw/suricata.sock ]' 'the socket'
"$ALERTGW" send --socket /run/alertgw/suricata.sock --count 400 >"$OUT/send.log" 2>&1
wait_for '"$ALERTGW" status >"$OUT/status-full.txt" 2>&1; [ $? -eq 1 ]' 'not ready on the full disk' 20
"$ALERTGW" health --ready >"$OUT/readyz-full.txt" 2>&1 || true
rm /mnt/full/filler
wait_for '[ "$(wc -l </mnt/full/events.json)" -ge 400 ]' 'every event once there is room' 30
wait_for '"$ALERTGW" status >"$OUT/status-after.txt" 2>&1' 'ready again' 20
kill -TERM $gw
wait $gw
cp /mnt/full/events.json "$OUT/events.json"
`
	out, err := runIsolated(t, script, "ALERTGW="+gatewayBinary(t), "OUT="+dir)
	if err != nil {
		b, _ := os.ReadFile(filepath.Join(dir, "gateway.log"))
		st, _ := os.ReadFile(filepath.Join(dir, "status-full.txt"))
		t.Fatalf("%v: %s\nstatus:\n%s\ngateway:\n%s", err, out, st, b)
	}
	st, _ := os.ReadFile(filepath.Join(dir, "status-full.txt"))
	if !strings.Contains(string(st), "not ready: output events: failing for") || !strings.Contains(string(st), "no space left on device") {
		t.Errorf("alertgw status on a full disk:\n%s", st)
	}
	rz, _ := os.ReadFile(filepath.Join(dir, "readyz-full.txt"))
	if !strings.Contains(string(rz), "no space left on device") {
		t.Errorf("/readyz on a full disk: %s", rz)
	}
	if n := len(readLines(t, filepath.Join(dir, "events.json"))); n != 400 {
		t.Errorf("%d events in the file, want 400", n)
	}
}

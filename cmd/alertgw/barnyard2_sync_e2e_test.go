package main

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/alertgw/alertgw/internal/testutil"
)

// The real binary with a snort input in Barnyard2's sync mode
// (socket_type: seqpacket): a client that behaves as Barnyard2's
// `output alert_unixsock: barnyard2_alert sync` (SOCK_SEQPACKET, one
// 1856-byte alert, then a blocking one-byte read) gets one answer per real
// Barnyard2 datagram, and every alert reaches the file output.
func TestE2EBarnyard2Sync(t *testing.T) {
	dir := shortDir(t)
	g := &gateway{dir: dir, sock: filepath.Join(dir, "barnyard2_alert"), events: filepath.Join(dir, "out", "events.json"),
		dead: filepath.Join(dir, "out", "deadletter.json"), log: filepath.Join(dir, "gateway.log")}
	cfg := fmt.Sprintf(`sensor: e2e
log: {level: info, format: json}
admin: {listen: ""}
dead_letter: {path: %s}
inputs:
  - name: by2
    type: snort
    socket: %s
    socket_type: seqpacket
outputs:
  - name: events
    type: file
    path: %s
`, g.dead, g.sock, g.events)
	cfgPath := filepath.Join(dir, "config.yaml")
	os.WriteFile(cfgPath, []byte(cfg), 0o600)
	g.cmd = exec.Command(gatewayBinary(t), "run", "--config", cfgPath)
	g.start(t, g.sock)

	c, err := net.DialUnix("unixpacket", nil, &net.UnixAddr{Name: g.sock, Net: "unixpacket"})
	if err != nil {
		t.Fatal(err)
	}
	files := []string{"0001", "0011", "0018", "0020"}
	for _, f := range files {
		if _, err := c.Write(testutil.ReadGz(t, "../../normalize/snort/testdata/barnyard2-2.1.14/unsock-"+f+".bin.gz")); err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		var b [8]byte
		if n, err := c.Read(b[:]); err != nil || n != 1 {
			t.Fatalf("alert %s: reply %d bytes, %v", f, n, err)
		}
	}
	c.Close()
	lines := waitLines(t, g.events, len(files))
	g.stop(t)
	for _, l := range lines {
		var ev struct {
			Source struct{ Type string }
			SrcIP  string `json:"src_ip"`
		}
		if err := json.Unmarshal([]byte(l), &ev); err != nil || ev.Source.Type != "barnyard2" || ev.SrcIP == "" {
			t.Errorf("%v: %s", err, l)
		}
	}
}

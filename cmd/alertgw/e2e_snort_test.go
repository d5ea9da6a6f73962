package main

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/alertgw/alertgw/internal/testutil"
)

// The real binary with a snort input (two Snort 3 style sockets) and a
// unified2 spool input with signature maps: real corpus datagrams and a
// real unified2 file come out normalized; after the sid-msg.map changes,
// SIGHUP reloads it and alerts of a new spool file carry the new names;
// SIGTERM leaves a bookmark at the end of what was delivered.
func TestE2ESnortAndUnified2Spool(t *testing.T) {
	dir := shortDir(t)
	spool := filepath.Join(dir, "spool")
	os.Mkdir(spool, 0o755)
	sidmsg := filepath.Join(dir, "sid-msg.map")
	os.WriteFile(sidmsg, []byte("1000001 || ICMP before reload\n"), 0o644)
	g := &gateway{dir: dir, sock: filepath.Join(dir, "0_snort_alert"), events: filepath.Join(dir, "out", "events.json"),
		dead: filepath.Join(dir, "out", "deadletter.json"), log: filepath.Join(dir, "gateway.log")}
	cfg := fmt.Sprintf(`sensor: e2e
log: {level: info, format: json}
admin: {listen: ""}
dead_letter: {path: %s}
inputs:
  - name: snort
    type: snort
    socket: [%s, %s]
    signatures:
      classification_config: ../../normalize/snort/testdata/classification.config
  - name: u2
    type: unified2
    directory: %s
    prefix: snort.u2
    poll_interval: 20ms
    idle_flush: 100ms
    signatures:
      sid_msg_map: [%s]
outputs:
  - name: events
    type: file
    path: %s
`, g.dead, g.sock, filepath.Join(dir, "1_snort_alert"), spool, sidmsg, g.events)
	cfgPath := filepath.Join(dir, "config.yaml")
	os.WriteFile(cfgPath, []byte(cfg), 0o600)
	g.cmd = exec.Command(gatewayBinary(t), "run", "--config", cfgPath)
	g.start(t, g.sock)

	u2file, err := os.ReadFile("../../normalize/unified2/testdata/snort.u2.1795384908")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(spool, "snort.u2.1000"), u2file, 0o644)
	for i, p := range []string{g.sock, filepath.Join(dir, "1_snort_alert")} {
		c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: p, Net: "unixgram"})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{"snort-3.12.2.0/unsock-0001.bin.gz", "barnyard2-2.1.14/unsock-0020.bin.gz"}[i:] {
			if _, err := c.Write(testutil.ReadGz(t, "../../normalize/snort/testdata/"+f)); err != nil {
				t.Fatal(err)
			}
		}
		c.Close()
	}
	lines := waitLines(t, g.events, 3+23)
	names := map[string]int{}
	for _, l := range lines {
		var ev struct {
			Source    struct{ Type string }
			Signature struct {
				ID       uint32
				Name     string
				Category string
			}
		}
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Fatal(err)
		}
		names[ev.Source.Type+":"+ev.Signature.Name]++
	}
	if names["unified2:ICMP before reload"] != 2 || names["snort:LOCAL ICMP echo request"] != 1 || names["barnyard2:LOCAL IPv6 HTTP GET v6page"] != 2 {
		t.Errorf("names %v", names)
	}

	os.WriteFile(sidmsg, []byte("1000001 || ICMP after reload\n"), 0o644)
	g.cmd.Process.Signal(syscall.SIGHUP)
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, _ := os.ReadFile(g.log)
		if strings.Contains(string(b), "signature maps reloaded") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no reload logged:\n%s", b)
		}
		time.Sleep(20 * time.Millisecond)
	}
	os.WriteFile(filepath.Join(spool, "snort.u2.1001"), u2file, 0o644)
	lines = waitLines(t, g.events, 3+23+23)
	after := 0
	for _, l := range lines[26:] {
		if strings.Contains(l, `"name":"ICMP after reload"`) {
			after++
		}
	}
	if after != 2 {
		t.Errorf("%d alerts with the reloaded name, want 2", after)
	}
	g.stop(t)
	bm, _ := os.ReadFile(filepath.Join(spool, ".snort.u2.alertgw-bookmark"))
	if want := fmt.Sprintf("snort.u2.1001 %d\n", len(u2file)); string(bm) != want {
		t.Errorf("bookmark %q, want %q", bm, want)
	}
}

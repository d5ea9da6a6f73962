package nflog

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// TestIfaceNamesFollowLinks checks the ifindex cache against the kernel: a
// link created, renamed and deleted after the watch started is seen.
func TestIfaceNamesFollowLinks(t *testing.T) {
	requireKernel(t)
	ns := fmt.Sprintf("agw-nfl-if-%d", os.Getpid())
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	run(t, "", "ip", "netns", "add", ns)
	f, err := os.Open("/var/run/netns/" + ns)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c := newIfaceNames(int(f.Fd()), time.Hour, zerolog.New(zerolog.NewTestWriter(t)))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.watch(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	if got := c.IfaceName(1); got != "lo" {
		t.Fatalf("ifindex 1 = %q, want lo", got)
	}
	run(t, "", "ip", "-n", ns, "link", "add", "agwveth0", "type", "veth", "peer", "name", "agwpeer0")
	out, err := exec.Command("ip", "-n", ns, "-o", "link", "show", "agwveth0").Output()
	if err != nil {
		t.Fatal(err)
	}
	var idx uint32
	fmt.Sscanf(string(out), "%d:", &idx)
	waitName := func(want string) {
		t.Helper()
		deadline := time.Now().Add(3 * time.Second)
		for {
			// Read the map directly: IfaceName's refresh-on-miss would hide
			// a watch that does not work (iface_refresh is an hour here).
			got := (*c.names.Load())[idx]
			if got == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("ifindex %d = %q, want %q", idx, got, want)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitName("agwveth0")
	run(t, "", "ip", "-n", ns, "link", "set", "agwveth0", "name", "agwrenamed0")
	waitName("agwrenamed0")
	run(t, "", "ip", "-n", ns, "link", "del", "agwrenamed0")
	waitName("")
	if !strings.HasPrefix(string(out), fmt.Sprint(idx)) {
		t.Errorf("parsed index %d from %q", idx, out)
	}
}

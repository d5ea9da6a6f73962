package nflog

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/satta/gommunityid"
	"golang.org/x/sys/unix"

	"github.com/alertgw/alertgw/inputs"
	"github.com/alertgw/alertgw/internal/schematest"
	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/outputs/format"
	"github.com/alertgw/alertgw/stats"
)

// The ruleset the kernel test loads in the firewall namespace: accepted
// traffic logs to group 10, dropped traffic to group 11, as in the classic
// ulogd set-up (examples/nftables/alertgw-nflog.nft is the same idea).
const testRuleset = `
table inet alertgw_test {
	chain input {
		type filter hook input priority 0; policy accept;
		iifname "lo" accept
		tcp dport 7001 log prefix "TCP-DROP " group 11 drop
		tcp dport 7003 log prefix "TCP-ACCEPT " group 10 accept
		udp dport 7002 log prefix "UDP-ACCEPT " group 10 accept
		icmp type echo-request log prefix "ICMP-ACCEPT " group 10 accept
		icmpv6 type echo-request log prefix "ICMP6-ACCEPT " group 10 accept
	}
}
`

// testNet is a firewall namespace (fw, interface fw0) and a client
// namespace (cl, interface cl0) joined by a veth pair.
type testNet struct {
	fw, cl           string // namespace names
	fwAddr4, clAddr4 string
	fwAddr6, clAddr6 string
	fwIface          string
}

func requireKernel(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipping: this test creates network namespaces and binds NFLOG groups, which needs root (CI runs it as root)")
	}
	for _, tool := range []string{"ip", "nft"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found: install it with scripts/install-deps.sh (scripts/deps.d/nflog.sh lists what the nflog tests need)", tool)
		}
	}
}

func run(t *testing.T, stdin string, args ...string) {
	t.Helper()
	cmd := exec.Command(args[0], args[1:]...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func setupNet(t *testing.T, ruleset string) *testNet {
	t.Helper()
	id := fmt.Sprintf("agw-nfl-%d-%d", os.Getpid(), time.Now().UnixNano()%100000)
	n := &testNet{fw: id + "-fw", cl: id + "-cl", fwAddr4: "10.77.0.1", clAddr4: "10.77.0.2",
		fwAddr6: "fd77::1", clAddr6: "fd77::2", fwIface: "fw0"}
	// Deleting the namespaces removes the veth pair and the ruleset too.
	t.Cleanup(func() {
		exec.Command("ip", "netns", "del", n.fw).Run()
		exec.Command("ip", "netns", "del", n.cl).Run()
	})
	run(t, "", "ip", "netns", "add", n.fw)
	run(t, "", "ip", "netns", "add", n.cl)
	run(t, "", "ip", "link", "add", "fw0", "netns", n.fw, "type", "veth", "peer", "name", "cl0", "netns", n.cl)
	for _, c := range [][]string{
		{n.fw, "ip", "addr", "add", n.fwAddr4 + "/24", "dev", "fw0"},
		{n.fw, "ip", "-6", "addr", "add", n.fwAddr6 + "/64", "dev", "fw0", "nodad"},
		{n.fw, "ip", "link", "set", "fw0", "up"},
		{n.fw, "ip", "link", "set", "lo", "up"},
		{n.cl, "ip", "addr", "add", n.clAddr4 + "/24", "dev", "cl0"},
		{n.cl, "ip", "-6", "addr", "add", n.clAddr6 + "/64", "dev", "cl0", "nodad"},
		{n.cl, "ip", "link", "set", "cl0", "up"},
		{n.cl, "ip", "link", "set", "lo", "up"},
	} {
		run(t, "", append([]string{"ip", "netns", "exec"}, c...)...)
	}
	run(t, ruleset, "ip", "netns", "exec", n.fw, "nft", "-f", "-")
	return n
}

// inNetns runs f on a thread moved into the named namespace. The thread is
// never returned to the Go scheduler: it exits with the goroutine.
func inNetns(t *testing.T, name string, f func() error) {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // deliberately not unlocked: the thread dies in the namespace
		fd, err := unix.Open("/var/run/netns/"+name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- err
			return
		}
		defer unix.Close(fd)
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("setns %s: %w", name, err)
			return
		}
		errc <- f()
	}()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

// waitBound polls the firewall namespace's nfnetlink_log table until every
// group is bound, so that no test packet is sent before the input listens.
func waitBound(t *testing.T, ns string, groups ...int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		out, _ := exec.Command("ip", "netns", "exec", ns, "cat", "/proc/net/netfilter/nfnetlink_log").Output()
		bound := map[int]bool{}
		for _, line := range strings.Split(string(out), "\n") {
			var g int
			if _, err := fmt.Sscan(line, &g); err == nil {
				bound[g] = true
			}
		}
		ok := true
		for _, g := range groups {
			ok = ok && bound[g]
		}
		if ok {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("NFLOG groups %v were not bound within 5s", groups)
}

// collector is an inputs.Emitter that keeps the events.
type collector struct {
	mu  sync.Mutex
	evs []*normalize.Event
}

func (c *collector) Messages(*inputs.Batch) { panic("nflog emits events, not raw messages") }
func (c *collector) Events(evs []*normalize.Event, done func()) {
	c.mu.Lock()
	c.evs = append(c.evs, evs...)
	c.mu.Unlock()
	if done != nil {
		done()
	}
}
func (c *collector) Failed(raw []byte, reason string, err error) { panic(reason + ": " + err.Error()) }

func (c *collector) byPrefix() map[string][]*normalize.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := map[string][]*normalize.Event{}
	for _, e := range c.evs {
		m[e.Firewall.Prefix] = append(m[e.Firewall.Prefix], e)
	}
	return m
}

// checkIdentity checks, once the input stopped, that every message it
// accounted for is an event or a drop: received = normalized + failed +
// dropped (an nflog input fails nothing: what it cannot read leaves no
// bytes to dead-letter), losses the kernel reported included.
func checkIdentity(t *testing.T, st *stats.Input, c *collector) {
	t.Helper()
	c.mu.Lock()
	events := uint64(len(c.evs))
	c.mu.Unlock()
	if got, want := st.Received.Load(), events+st.Dropped.Total(); got != want {
		t.Errorf("received %d ≠ %d events + %d dropped %v", got, events, st.Dropped.Total(), st.Dropped.Snapshot())
	}
}

// startInput runs an nflog input in the firewall namespace.
func startInput(t *testing.T, n *testNet, opts *Options) (*collector, *stats.Input, func()) {
	t.Helper()
	opts.NetNS = "/var/run/netns/" + n.fw
	st := stats.NewRegistry().Input("fw", "nflog")
	in, err := New(inputs.Env{Name: "fw", Sensor: "test", Log: zerolog.New(zerolog.NewTestWriter(t)), Stats: st}, opts)
	if err != nil {
		t.Fatal(err)
	}
	c := &collector{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- in.Run(ctx, c) }()
	stop := func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Run did not return within 5s of cancel")
		}
	}
	t.Cleanup(func() { cancel() })
	return c, st, stop
}

func icmpEcho(v6 bool, id, seq uint16) []byte {
	typ := byte(8)
	if v6 {
		typ = 128 // the kernel fills in the ICMPv6 checksum on raw sockets
	}
	b := []byte{typ, 0, 0, 0, byte(id >> 8), byte(id), byte(seq >> 8), byte(seq), 'a', 'g', 'w', 0}
	if !v6 {
		var sum uint32
		for i := 0; i < len(b); i += 2 {
			sum += uint32(b[i])<<8 | uint32(b[i+1])
		}
		for sum > 0xffff {
			sum = sum>>16 + sum&0xffff
		}
		cs := ^uint16(sum)
		b[2], b[3] = byte(cs>>8), byte(cs)
	}
	return b
}

// sendTraffic sends a bounded set of packets from the client namespace:
// 2 ICMP and 2 ICMPv6 echo requests, 3 UDP datagrams over each of IPv4 and
// IPv6, one TCP connection attempt to an accepted and one to a dropped port
// over each family.
func sendTraffic(t *testing.T, n *testNet) {
	inNetns(t, n.cl, func() error {
		for _, fam := range []struct {
			icmpNet, dst string
			v6           bool
		}{{"ip4:icmp", n.fwAddr4, false}, {"ip6:ipv6-icmp", n.fwAddr6, true}} {
			c, err := net.Dial(fam.icmpNet, fam.dst)
			if err != nil {
				return err
			}
			for seq := uint16(1); seq <= 2; seq++ {
				if _, err := c.Write(icmpEcho(fam.v6, 0x4147, seq)); err != nil {
					return err
				}
			}
			c.Close()
			// Unconnected, so that the port-unreachable answer to the
			// first datagram does not fail the next writes.
			u, err := net.ListenPacket("udp", ":0")
			if err != nil {
				return err
			}
			to, err := net.ResolveUDPAddr("udp", net.JoinHostPort(fam.dst, "7002"))
			if err != nil {
				return err
			}
			for range 3 {
				if _, err := u.WriteTo([]byte("alertgw nflog test"), to); err != nil {
					return err
				}
			}
			u.Close()
			for _, port := range []string{"7003", "7001"} {
				// 7003 is accepted and answered with a reset (nothing
				// listens); 7001 is dropped and times out. Either way
				// the SYN was logged.
				c, err := net.DialTimeout("tcp", net.JoinHostPort(fam.dst, port), 300*time.Millisecond)
				if err == nil {
					c.Close()
				}
			}
		}
		return nil
	})
}

func communityID(t *testing.T, src, dst string, sport, dport uint16, proto uint8) string {
	cid, err := gommunityid.GetCommunityIDByVersion(1, 0)
	if err != nil {
		t.Fatal(err)
	}
	return cid.CalcBase64(gommunityid.MakeFlowTuple(net.ParseIP(src), net.ParseIP(dst), sport, dport, proto))
}

// readers runs f once per receive path.
func readers(t *testing.T, f func(t *testing.T, reader string)) {
	for _, r := range []string{ReaderDirect, ReaderGoNflog} {
		t.Run(r, func(t *testing.T) { f(t, r) })
	}
}

func TestKernelNFLOG(t *testing.T) {
	requireKernel(t)
	readers(t, testKernelNFLOG)
}

func testKernelNFLOG(t *testing.T, reader string) {
	n := setupNet(t, testRuleset)
	opts := DefaultOptions()
	opts.Reader = reader
	opts.Groups = []GroupOptions{{Group: 10, Action: "allowed"}, {Group: 11, Action: "blocked"}}
	opts.Sequence = true
	c, st, stop := startInput(t, n, opts)
	waitBound(t, n.fw, 10, 11)

	sendTraffic(t, n)
	want := map[string]int{"ICMP-ACCEPT ": 2, "ICMP6-ACCEPT ": 2, "UDP-ACCEPT ": 6, "TCP-ACCEPT ": 2, "TCP-DROP ": 2}
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := c.byPrefix()
		complete := true
		for p, k := range want {
			complete = complete && len(got[p]) >= k
		}
		if complete {
			break
		}
		if time.Now().After(deadline) {
			counts := map[string]int{}
			for p, evs := range got {
				counts[p] = len(evs)
			}
			t.Fatalf("events by prefix after 10s: %v, want at least %v", counts, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	checkIdentity(t, st, c)

	for prefix, evs := range c.byPrefix() {
		for _, e := range evs {
			v6 := strings.Contains(prefix, "6") || e.SrcIP.Is6()
			src, dst := n.clAddr4, n.fwAddr4
			if v6 {
				src, dst = n.clAddr6, n.fwAddr6
			}
			if e.Kind != normalize.KindPacket || e.SrcIP.String() != src || e.DestIP.String() != dst {
				t.Errorf("%s: kind %s %s → %s, want %s → %s", prefix, e.Kind, e.SrcIP, e.DestIP, src, dst)
			}
			if e.Firewall.InIface != n.fwIface || e.InIface != n.fwIface || e.Firewall.OutIface != "" {
				t.Errorf("%s: interfaces in %q out %q, want in %q", prefix, e.Firewall.InIface, e.Firewall.OutIface, n.fwIface)
			}
			if e.SrcMAC == "" || e.DestMAC == "" || e.SrcMAC == "00:00:00:00:00:00" {
				t.Errorf("%s: MACs %q → %q", prefix, e.SrcMAC, e.DestMAC)
			}
			if e.Timestamp.IsZero() || time.Since(e.Timestamp) > time.Minute || e.Timestamp.Location() != time.UTC {
				t.Errorf("%s: timestamp %v", prefix, e.Timestamp)
			}
			wantAction, wantGroup := normalize.ActionAllowed, uint16(10)
			if prefix == "TCP-DROP " {
				wantAction, wantGroup = normalize.ActionBlocked, 11
			}
			if e.Action != wantAction || e.Firewall.Group != wantGroup {
				t.Errorf("%s: action %s group %d, want %s group %d", prefix, e.Action, e.Firewall.Group, wantAction, wantGroup)
			}
			var wantCID string
			switch prefix {
			case "ICMP-ACCEPT ", "ICMP6-ACCEPT ":
				proto, typ := uint8(1), uint8(8)
				if v6 {
					proto, typ = 58, 128
				}
				if e.Proto != proto || !e.HasICMP || e.ICMPType != typ || e.HasPorts {
					t.Errorf("%s: proto %d icmp %d/%d", prefix, e.Proto, e.ICMPType, e.ICMPCode)
				}
				if got := string(e.Details.Get("icmp_echo_id")); got != "16711" {
					t.Errorf("%s: echo id %s, want 16711", prefix, got)
				}
				wantCID = communityID(t, src, dst, uint16(typ), 0, proto)
			case "UDP-ACCEPT ":
				if e.Proto != 17 || e.DestPort != 7002 || e.SrcPort == 0 || e.ProtoName != "udp" {
					t.Errorf("%s: proto %d ports %d→%d", prefix, e.Proto, e.SrcPort, e.DestPort)
				}
				wantCID = communityID(t, src, dst, e.SrcPort, 7002, 17)
			case "TCP-ACCEPT ", "TCP-DROP ":
				port := uint16(7003)
				if prefix == "TCP-DROP " {
					port = 7001
				}
				if e.Proto != 6 || e.DestPort != port || e.Packet.TCPFlags != "S" || e.Packet.TCPWindow == 0 {
					t.Errorf("%s: proto %d dport %d flags %q", prefix, e.Proto, e.DestPort, e.Packet.TCPFlags)
				}
				wantCID = communityID(t, src, dst, e.SrcPort, port, 6)
			default:
				t.Errorf("unexpected prefix %q", prefix)
			}
			if got := normalize.CommunityID(e); got != wantCID {
				t.Errorf("%s: community id %s, want %s", prefix, got, wantCID)
			}
			c := *e // as the pipeline completes it, then against the published schema
			c.ID, c.Source.Input, c.Source.Sensor, c.CommunityID = "0123456789abcdef0123456789abcdef", "fw", "test", wantCID
			schematest.Validate(t, format.Native{}.AppendEvent(nil, &c))
			if e.Packet == nil || !e.Packet.HasTTL || e.Packet.TTL != 64 {
				t.Errorf("%s: packet fields %+v", prefix, e.Packet)
			}
		}
	}
	if d := st.Dropped.Snapshot(); len(d) != 0 {
		t.Errorf("drops: %v", d)
	}
	if st.Received.Load() < 14 {
		t.Errorf("received %d messages, want at least 14", st.Received.Load())
	}
}

// TestKernelFamilies checks that families limits what is reported, and that
// the filtered packets are counted.
func TestKernelFamilies(t *testing.T) {
	requireKernel(t)
	readers(t, testKernelFamilies)
}

func testKernelFamilies(t *testing.T, reader string) {
	n := setupNet(t, testRuleset)
	opts := DefaultOptions()
	opts.Reader = reader
	opts.Groups = []GroupOptions{{Group: 10, Action: "allowed"}, {Group: 11, Action: "blocked"}}
	opts.Families = []string{"inet6"}
	c, st, stop := startInput(t, n, opts)
	waitBound(t, n.fw, 10, 11)
	sendTraffic(t, n)
	deadline := time.Now().Add(10 * time.Second)
	// IPv4: 2 ICMP + 3 UDP + 2 TCP SYNs are filtered out.
	for st.Dropped.Get(DropFilteredFamily) < 7 || len(c.byPrefix()["UDP-ACCEPT "]) < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("filtered %d, events %v", st.Dropped.Get(DropFilteredFamily), c.byPrefix())
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	checkIdentity(t, st, c)
	for _, e := range c.evs {
		if !e.SrcIP.Is6() {
			t.Errorf("IPv4 event with families [inet6]: %s %s", e.Firewall.Prefix, e.SrcIP)
		}
	}
}

// TestNoNetAdmin drops CAP_NET_ADMIN on one thread and checks the message.
func TestNoNetAdmin(t *testing.T) {
	if os.Geteuid() != 0 {
		if err := requireNetAdmin(); err == nil {
			t.Skip("not root but CAP_NET_ADMIN is effective")
		} else if !strings.Contains(err.Error(), "CAP_NET_ADMIN") {
			t.Fatalf("unclear error: %v", err)
		}
		return
	}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // not unlocked: the thread loses a capability and must die with the goroutine
		hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
		var data [2]unix.CapUserData
		if err := unix.Capget(&hdr, &data[0]); err != nil {
			errc <- err
			return
		}
		data[0].Effective &^= 1 << unix.CAP_NET_ADMIN
		if err := unix.Capset(&hdr, &data[0]); err != nil {
			errc <- err
			return
		}
		errc <- requireNetAdmin()
	}()
	err := <-errc
	if err == nil || !strings.Contains(err.Error(), "CAP_NET_ADMIN") {
		t.Fatalf("without CAP_NET_ADMIN: %v", err)
	}
}

// blockingCollector holds the pipeline back until released, so that the
// kernel overruns the input's socket buffer.
type blockingCollector struct {
	collector
	release chan struct{}
}

func (c *blockingCollector) Events(evs []*normalize.Event, done func()) {
	<-c.release
	c.collector.Events(evs, done)
}

// TestKernelOverrun floods a group while the pipeline is stalled and a tiny
// socket buffer is set: the kernel must report ENOBUFS, the sequence numbers
// must show the gap, and the input must keep reading afterwards.
func TestKernelOverrun(t *testing.T) {
	requireKernel(t)
	readers(t, func(t *testing.T, reader string) {
		t.Run("sequence", func(t *testing.T) { testKernelOverrun(t, reader, true) })
		t.Run("no-sequence", func(t *testing.T) { testKernelOverrun(t, reader, false) })
	})
}

func testKernelOverrun(t *testing.T, reader string, sequence bool) {
	n := setupNet(t, testRuleset)
	opts := DefaultOptions()
	opts.Reader = reader
	opts.Groups = []GroupOptions{{Group: 10, Action: "allowed"}, {Group: 11, Action: "blocked"}}
	opts.Sequence = sequence
	opts.SocketBuffer = 4096
	opts.BatchSize = 1
	opts.NetNS = "/var/run/netns/" + n.fw
	st := stats.NewRegistry().Input("fw", "nflog")
	in, err := New(inputs.Env{Name: "fw", Log: zerolog.New(zerolog.NewTestWriter(t)), Stats: st}, opts)
	if err != nil {
		t.Fatal(err)
	}
	c := &blockingCollector{release: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- in.Run(ctx, c) }()
	waitBound(t, n.fw, 10, 11)

	const flood = 2000
	inNetns(t, n.cl, func() error {
		u, err := net.ListenPacket("udp", ":0")
		if err != nil {
			return err
		}
		defer u.Close()
		to := &net.UDPAddr{IP: net.ParseIP(n.fwAddr4), Port: 7002}
		for range flood {
			if _, err := u.WriteTo([]byte("flood"), to); err != nil {
				return err
			}
		}
		return nil
	})
	// The error is reported by the recv() after the overflow, so it is
	// seen once the pipeline moves again. With sequence numbers on, the
	// gap counts the lost packets (the ENOBUFS itself is only logged);
	// without, each overrun counts as one lost message.
	time.Sleep(200 * time.Millisecond)
	close(c.release)
	counted, other := DropENOBUFS, DropSeqGap
	if sequence {
		counted, other = DropSeqGap, DropENOBUFS
	}
	deadline := time.Now().Add(10 * time.Second)
	for st.Dropped.Get(counted) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if st.Dropped.Get(counted) == 0 {
		t.Fatalf("no %s counted after %d packets into a 4 KiB buffer; drops %v", counted, flood, st.Dropped.Snapshot())
	}
	if n := st.Dropped.Get(other); n != 0 {
		t.Errorf("%s = %d: the overrun's packets would count twice", other, n)
	}

	// Still reading: new packets after the overrun arrive.
	sendTraffic(t, n)
	for len(c.byPrefix()["TCP-DROP "]) < 2 {
		if time.Now().After(deadline) {
			t.Fatal("no events after the overrun: the input stopped reading")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !sequence {
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		checkIdentity(t, st, &c.collector)
		return
	}
	// The UDP flood lost packets; with sequence numbers on, the gap shows
	// how many, once a later packet of the same group arrived. Group 10
	// logged the flood, 6 UDP datagrams, 4 echo requests and 2 accepted
	// SYNs: what we got plus what the gaps count must be exactly that.
	deadline = time.Now().Add(5 * time.Second)
	for {
		var got uint64
		for p, evs := range c.byPrefix() {
			if p != "TCP-DROP " {
				got += uint64(len(evs))
			}
		}
		gap := st.Dropped.Get(DropSeqGap)
		if got+gap == flood+12 {
			t.Logf("flood of %d: %d group-10 events, %d packets missing by sequence", flood, got, gap)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("group 10: %d events + %d missing by sequence ≠ %d logged", got, gap, flood+12)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	checkIdentity(t, st, &c.collector)
}

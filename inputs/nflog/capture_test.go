package nflog

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/alertgw/alertgw/normalize"
)

// netlinkOptions label the groups of the netlink capture as normalize/nflog's
// corpus test does: group 5 allowed, prefixes "*-DROP *" blocked.
func netlinkOptions() *Options {
	o := DefaultOptions()
	o.Groups = []GroupOptions{{Group: 5, Action: "allowed"}, {Group: 6, Action: "allowed"}, {Group: 7, Action: "allowed"}}
	o.PrefixRules = []PrefixRuleOptions{{Glob: "*-DROP *", Action: "blocked"}}
	return o
}

// A capture of a real kernel's NFLOG messages (groups 5, 6, 7: ICMP and
// ICMPv6 on the input hook, a dropped TCP SYN, UDP, the output hook with
// uid/gid and a mark, sequence numbers, prefixes): testdata/netlink_nflog.pcap
// holds the corpus's raw netlink receive buffers
// (nflog-netlink_generated_linktype253.pcap) as libpcap's nflog capture
// writes them (tcpdump -i nflog:N -w: each NFULNL_MSG_PACKET message without
// its nlmsghdr, LINKTYPE_NFLOG, TLV headers in host order), and its pcapng
// form (editcap -F pcapng). Every event's attributes are what tcpdump -vvv
// and tshark decode of the same packet, and the labels follow the rules.
func TestReplayKernelCapture(t *testing.T) {
	for _, f := range []string{"netlink_nflog.pcap", "netlink_nflog.pcapng"} {
		path := filepath.Join("testdata", f)
		em := replayCapture(t, path, netlinkOptions())
		if len(em.failed) != 0 {
			t.Fatalf("failures: %v", em.failed)
		}
		checkKernelCapture(t, path, em.evs)
	}
}

// checkKernelCapture compares a kernel capture's events with the tools'
// decodes and checks that the capture holds what the test is about.
func checkKernelCapture(t *testing.T, path string, evs []*normalize.Event) {
	t.Helper()
	compare(t, filepath.Base(path), evs, expectations(t, path))
	seen := map[string]int{}
	for _, e := range evs {
		fw := e.Firewall
		want := normalize.ActionAllowed
		if strings.Contains(fw.Prefix, "-DROP ") {
			want = normalize.ActionBlocked
		}
		if e.Action != want {
			t.Errorf("group %d prefix %q: action %s, want %s", fw.Group, fw.Prefix, e.Action, want)
		}
		if fw.Mark == 0x2a {
			seen["mark"]++
		}
		if fw.UID != nil {
			seen["uid"]++
		}
		if e.HasICMP {
			seen["icmp"]++
		}
		if e.Packet != nil && e.Packet.TCPFlags != "" {
			seen["tcp"]++
		}
		if e.Action == normalize.ActionBlocked {
			seen["blocked"]++
		}
		if string(e.Details.Get("out_ifindex")) != "" {
			seen["out_ifindex"]++
		}
		if e.SrcIP.Is6() {
			seen["ipv6"]++
		}
	}
	for _, k := range []string{"mark", "uid", "icmp", "tcp", "out_ifindex", "ipv6", "blocked"} {
		if seen[k] == 0 {
			t.Errorf("%s: no packet with %s in the capture", path, k)
		}
	}
}

package nflog

import (
	"fmt"
	"time"

	"github.com/alertgw/alertgw/config"
	"github.com/alertgw/alertgw/normalize"
	nfdec "github.com/alertgw/alertgw/normalize/nflog"
)

// Options configure one nflog input. See inputs/nflog/README.md.
type Options struct {
	// Groups are the NFLOG groups to bind (nft `log group N`, iptables
	// `-j NFLOG --nflog-group N`), each with the action its packets get;
	// at least one. The direct reader binds them all on one socket.
	Groups []GroupOptions `mapstructure:"groups"`
	// PrefixRules label packets by log prefix, first match wins, before the
	// group's action applies (see "Allowed or blocked").
	PrefixRules []PrefixRuleOptions `mapstructure:"prefix_rules"`
	// CopyMode is packet (headers and payload), meta (attributes only: no
	// addresses or ports) or none.
	CopyMode string `mapstructure:"copy_mode"`
	// CopyRange (snaplen) is how many bytes of each packet the kernel
	// copies; 0 means the kernel default (65531). Rules may cap it further
	// (nft `snaplen`, iptables `--nflog-size`).
	CopyRange uint32 `mapstructure:"copy_range"`
	// QThreshold is how many packets the kernel queues before sending a
	// batch; 0 leaves the kernel default. A rule's threshold overrides a
	// larger value (iptables `--nflog-threshold`, nft `queue-threshold`).
	QThreshold uint32 `mapstructure:"qthreshold"`
	// Timeout is how long the kernel holds a partial batch (10 ms steps);
	// 0 leaves the kernel default of 1 s.
	Timeout time.Duration `mapstructure:"timeout"`
	// SocketBuffer is the netlink socket's receive buffer (SO_RCVBUFFORCE,
	// falling back to SO_RCVBUF capped by net.core.rmem_max). It absorbs
	// bursts while the pipeline is busy; when it overflows the kernel
	// drops messages and reports ENOBUFS.
	SocketBuffer config.Size `mapstructure:"socket_buffer"`
	// Families limits the input to these address families: inet, inet6,
	// bridge. Packets of other families are counted as dropped with reason
	// filtered_family.
	Families []string `mapstructure:"families"`
	// Sequence asks the kernel to number the packets of each group
	// (NFULNL_CFG_F_SEQ) so that gaps, packets the kernel could not
	// deliver, are counted (reason seq_gap).
	Sequence bool `mapstructure:"sequence"`
	// BatchSize is the most events handed to the pipeline at once.
	BatchSize int `mapstructure:"batch_size"`
	// BatchWait is how long a batch may wait for more packets after its
	// first one; larger batches cost less per packet, this bounds the added
	// latency. 0 hands on only what is already queued.
	BatchWait time.Duration `mapstructure:"batch_wait"`
	// NetNS is the path of a network namespace to log in
	// (/var/run/netns/NAME, /proc/PID/ns/net); "" is the gateway's own.
	NetNS string `mapstructure:"netns"`
	// Reader picks the receive path: "direct" (default) reads the netlink
	// socket with one reused buffer and parses attributes without
	// allocating; "go-nflog" uses go-nflog's receive loop and Attribute.
	// See docs/performance/nflog.md for the difference.
	Reader string `mapstructure:"reader"`
	// IfaceRefresh is the shortest time between two re-reads of the
	// interface list when an unknown interface index shows up (link
	// changes are also followed as they happen).
	IfaceRefresh time.Duration `mapstructure:"iface_refresh"`
}

// Receive paths (Options.Reader).
const (
	ReaderDirect  = "direct"
	ReaderGoNflog = "go-nflog"
)

// GroupOptions is one NFLOG group and its action.
type GroupOptions struct {
	// Group is the NFLOG group number (0-65535).
	Group uint16 `mapstructure:"group"`
	// Action is what the group's packets were: allowed, blocked or unknown
	// (accept, drop and reject are accepted as spellings).
	Action string `mapstructure:"action"`
}

// PrefixRuleOptions labels packets whose log prefix matches.
type PrefixRuleOptions struct {
	// Glob matches the log prefix with shell wildcards (or use regexp).
	Glob string `mapstructure:"glob"`
	// Regexp matches the log prefix with a regular expression.
	Regexp string `mapstructure:"regexp"`
	// Action is what matching packets were: allowed, blocked or unknown.
	Action string `mapstructure:"action"`
	// Groups limit the rule to these groups; empty: every group.
	Groups []uint16 `mapstructure:"groups"`
}

// DefaultOptions returns the defaults.
func DefaultOptions() *Options {
	return &Options{
		CopyMode:     "packet",
		SocketBuffer: 4 << 20,
		Families:     []string{"inet", "inet6", "bridge"},
		BatchSize:    256,
		BatchWait:    20 * time.Millisecond,
		IfaceRefresh: time.Second,
		Reader:       ReaderDirect,
	}
}

// Validate checks the options; paths are relative to the block.
func (o *Options) Validate() config.Problems {
	var p config.Problems
	if len(o.Groups) == 0 {
		p.Add("groups", "at least one group is required, e.g. [{group: 1, action: allowed}]")
	}
	seen := map[uint16]bool{}
	for i, g := range o.Groups {
		if seen[g.Group] {
			p.Add(fmt.Sprintf("groups[%d].group", i), "group %d is listed twice", g.Group)
		}
		seen[g.Group] = true
		if _, err := nfdec.ParseAction(g.Action); err != nil {
			p.Add(fmt.Sprintf("groups[%d].action", i), "%v", err)
		}
	}
	if _, err := o.labeler(); err != nil {
		p.Add("prefix_rules", "%v", err)
	}
	if _, err := copyMode(o.CopyMode); err != nil {
		p.Add("copy_mode", "%v", err)
	}
	if o.Timeout < 0 || o.Timeout > time.Hour {
		p.Add("timeout", "must be between 0 and 1h; got %s", o.Timeout)
	}
	if o.SocketBuffer > 1<<30 {
		p.Add("socket_buffer", "must be at most 1GiB; got %d", o.SocketBuffer)
	}
	if len(o.Families) == 0 {
		p.Add("families", "list at least one of inet, inet6, bridge")
	}
	for i, f := range o.Families {
		if _, ok := familyNumbers[f]; !ok {
			p.Add(fmt.Sprintf("families[%d]", i), "must be inet, inet6 or bridge; got %q", f)
		}
	}
	if o.BatchSize < 1 || o.BatchSize > 65536 {
		p.Add("batch_size", "must be between 1 and 65536; got %d", o.BatchSize)
	}
	if o.BatchWait < 0 || o.BatchWait > 10*time.Second {
		p.Add("batch_wait", "must be between 0 and 10s; got %s", o.BatchWait)
	}
	if o.Reader != ReaderDirect && o.Reader != ReaderGoNflog {
		p.Add("reader", "must be %s or %s; got %q", ReaderDirect, ReaderGoNflog, o.Reader)
	}
	if o.IfaceRefresh < 0 {
		p.Add("iface_refresh", "must not be negative")
	}
	return p
}

var familyNumbers = map[string]uint8{"inet": nfdec.FamilyInet, "inet6": nfdec.FamilyInet6, "bridge": nfdec.FamilyBridge}

func copyMode(s string) (uint8, error) {
	switch s {
	case "packet", "":
		return 2, nil
	case "meta":
		return 1, nil
	case "none":
		return 0, nil
	}
	return 0, fmt.Errorf("must be packet, meta or none; got %q", s)
}

func (o *Options) labeler() (*nfdec.Labeler, error) {
	groups := make(map[uint16]normalize.Action, len(o.Groups))
	for _, g := range o.Groups {
		a, err := nfdec.ParseAction(g.Action)
		if err != nil {
			return nil, err
		}
		groups[g.Group] = a
	}
	rules := make([]nfdec.PrefixRule, 0, len(o.PrefixRules))
	for i, r := range o.PrefixRules {
		a, err := nfdec.ParseAction(r.Action)
		if err != nil {
			return nil, fmt.Errorf("rule %d: %w", i, err)
		}
		rules = append(rules, nfdec.PrefixRule{Glob: r.Glob, Regexp: r.Regexp, Action: a, Groups: r.Groups})
	}
	return nfdec.NewLabeler(groups, rules)
}

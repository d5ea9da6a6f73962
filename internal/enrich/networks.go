package enrich

import (
	"cmp"
	"net/netip"
	"slices"

	"github.com/alertgw/alertgw/normalize"
)

// networks maps addresses to the names of the configured CIDR lists that
// contain them, and decides network direction from the internal ones.
type networks struct {
	v4, v6   []namedPrefix
	internal uint64 // bit i: network i is internal
	// labels interns every label set met so far, by membership bits, so
	// that events share one read-only slice per set. It is built once, for
	// every combination that the configured prefixes can produce.
	labels map[uint64][]string
}

type namedPrefix struct {
	prefix netip.Prefix
	bit    uint64
	name   string
}

func newNetworks(o *Options) *networks {
	names := sortedKeys(o.Networks)
	n := &networks{labels: map[uint64][]string{}}
	index := map[string]int{}
	for i, name := range names {
		index[name] = i
	}
	for i, name := range names {
		for _, c := range o.Networks[name] {
			p, err := parsePrefix(c) // validated already
			if err != nil {
				continue
			}
			np := namedPrefix{p, 1 << i, name}
			if p.Addr().Is4() {
				n.v4 = append(n.v4, np)
			} else {
				n.v6 = append(n.v6, np)
			}
		}
	}
	internal := o.Internal
	if len(internal) == 0 {
		internal = names
	}
	for _, name := range internal {
		n.internal |= 1 << index[name]
	}
	// Most specific prefix first: the first label of an address names the
	// smallest network it is in (OCSF's endpoint zone takes that one).
	bySpecificity := func(a, b namedPrefix) int { return cmp.Compare(b.prefix.Bits(), a.prefix.Bits()) }
	slices.SortStableFunc(n.v4, bySpecificity)
	slices.SortStableFunc(n.v6, bySpecificity)
	// Precompute the label list of every address's membership set: walk
	// each prefix's containing chain. Sets are few (nested lists), so this
	// is small, and lookups never allocate or lock.
	for _, list := range [][]namedPrefix{n.v4, n.v6} {
		for _, p := range list {
			bits := n.membership(p.prefix.Addr())
			n.labels[bits] = n.render(bits, p.prefix.Addr())
		}
	}
	return n
}

// membership returns the bits of every named network containing a.
func (n *networks) membership(a netip.Addr) uint64 {
	list := n.v6
	if a.Is4() {
		list = n.v4
	}
	var bits uint64
	for _, p := range list {
		if p.prefix.Contains(a) {
			bits |= p.bit
		}
	}
	return bits
}

// render lists the names in bits, most specific network first.
func (n *networks) render(bits uint64, a netip.Addr) []string {
	list := n.v6
	if a.Is4() {
		list = n.v4
	}
	var out []string
	var seen uint64
	for _, p := range list {
		if bits&p.bit != 0 && seen&p.bit == 0 && p.prefix.Contains(a) {
			out = append(out, p.name)
			seen |= p.bit
		}
	}
	return out
}

// label returns the shared label list of a (nil when in no network) and
// whether a is internal.
func (n *networks) label(a netip.Addr) ([]string, bool) {
	if !a.IsValid() {
		return nil, false
	}
	a = a.Unmap()
	bits := n.membership(a)
	if bits == 0 {
		return nil, false
	}
	l, ok := n.labels[bits]
	if !ok {
		// A set no prefix's own address produced (an address in the overlap
		// of two lists that neither list's base address is in): render it
		// now. This allocates, so it is rare by construction; not cached, to
		// keep the map read-only after start-up.
		l = n.render(bits, a)
	}
	return l, bits&n.internal != 0
}

// apply sets the event's labels and direction.
func (n *networks) apply(e *normalize.Event) {
	var srcIn, dstIn bool
	e.SrcLabels, srcIn = n.label(e.SrcIP)
	e.DestLabels, dstIn = n.label(e.DestIP)
	if !e.SrcIP.IsValid() || !e.DestIP.IsValid() {
		return
	}
	switch {
	case srcIn && dstIn:
		e.NetDirection = normalize.DirectionInternal
	case srcIn:
		e.NetDirection = normalize.DirectionOutbound
	case dstIn:
		e.NetDirection = normalize.DirectionInbound
	default:
		e.NetDirection = normalize.DirectionExternal
	}
}

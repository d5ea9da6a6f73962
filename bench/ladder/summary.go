package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/alertgw/alertgw/internal/numfmt"
)

// peerTitle names a receiver in the table's header.
var peerTitle = map[string]string{
	peerCount:   "count-only recvmmsg loop",
	peerAlertgw: "alertgw",
	peerRsyslog: "rsyslog",
	peerBefore:  "alertgw before",
}

// summary is the Markdown table of the medians per rate and receiver, with
// the ratios alertgw / count-only when both ran.
func summary(recs []record, peers []string, rates []rate) string {
	ratios := slices.Contains(peers, peerCount) && slices.Contains(peers, peerAlertgw)
	var b strings.Builder
	b.WriteString("| rate/s |")
	for _, p := range peers {
		b.WriteString(" " + peerTitle[p] + " |")
	}
	if ratios {
		b.WriteString(" alertgw / count-only: lost | CPU/event |")
	}
	b.WriteString("\n|---|")
	b.WriteString(strings.Repeat("---|", len(peers)))
	if ratios {
		b.WriteString("---|---|")
	}
	b.WriteString("\n")
	for _, r := range rates {
		med := map[string]cell{}
		fmt.Fprintf(&b, "| %s |", rateLabel(r))
		for _, p := range peers {
			c := cellOf(recs, p, r)
			med[p] = c
			b.WriteString(" " + c.String() + " |")
		}
		if ratios {
			a, c := med[peerAlertgw], med[peerCount]
			if r == 0 {
				fmt.Fprintf(&b, " %s | %s |", ratio(a.eps, c.eps), ratio(a.cpu, c.cpu))
			} else {
				fmt.Fprintf(&b, " %s | %s |", lostRatio(a.lost, c.lost), ratio(a.cpu, c.cpu))
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

// cell is one receiver's medians at one rate.
type cell struct {
	n             int
	blast         bool
	lost, maxLost float64
	cpu           float64 // µs per delivered event
	eps           float64
}

func cellOf(recs []record, peer string, r rate) cell {
	var lost, cpu, eps []float64
	maxLost := 0
	for _, x := range recs {
		if x.Peer == peer && x.Rate == r.String() {
			lost = append(lost, float64(x.Lost))
			cpu = append(cpu, x.CPUPerEv)
			eps = append(eps, x.EPS)
			maxLost = max(maxLost, x.Lost)
		}
	}
	return cell{n: len(lost), blast: r == 0, lost: median(lost), maxLost: float64(maxLost), cpu: median(cpu), eps: median(eps)}
}

func (c cell) String() string {
	switch {
	case c.n == 0:
		return "—"
	case c.blast && c.lost > 0:
		return fmt.Sprintf("%s/s, %.1f µs, lost %s", thousands(c.eps), c.cpu, thousands(c.lost))
	case c.blast:
		return fmt.Sprintf("%s/s, %.1f µs", thousands(c.eps), c.cpu)
	}
	return fmt.Sprintf("%s lost (max %s), %.1f µs", thousands(c.lost), thousands(c.maxLost), c.cpu)
}

func rateLabel(r rate) string {
	if r == 0 {
		return "max (blocking sender)"
	}
	return thousands(float64(r))
}

// median of xs (the mean of the middle two for an even count).
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	m := len(s) / 2
	if len(s)%2 == 1 {
		return s[m]
	}
	return (s[m-1] + s[m]) / 2
}

func ratio(a, b float64) string {
	if b == 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f×", a/b)
}

// lostRatio compares losses; when the count-only loop lost nothing the
// ratio is undefined and both counts are shown.
func lostRatio(a, b float64) string {
	if b == 0 {
		if a == 0 {
			return "0 = 0"
		}
		return fmt.Sprintf("%s vs 0", thousands(a))
	}
	return ratio(a, b)
}

// thousands formats a count with commas: 25582 → "25,582".
func thousands(f float64) string {
	return numfmt.Group(fmt.Sprintf("%.0f", f))
}

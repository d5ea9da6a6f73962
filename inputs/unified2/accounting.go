package unified2

import (
	u2 "github.com/alertgw/alertgw/normalize/unified2"
	"github.com/alertgw/alertgw/stats"
)

// DropNotAlert is the Stats.Dropped reason of records that carry no part
// of an alert (application statistics, historic and unknown types): they
// are skipped, and counted so that every record is accounted for.
const DropNotAlert = "not_alert"

// accounting carries an Aggregator's record counts over to the input's
// counters. Every record the input receives is then counted once:
// it starts an alert (normalized, with the event), joins the open one
// (merged: packet and extra-data records, including packet-only
// datagrams that fold into the open event), carries no alert (dropped
// not_alert) or fails to decode (failed).
type accounting struct {
	st              *stats.Input
	merged, noAlert uint64
}

// update adds what g counted since the last call.
func (a *accounting) update(g *u2.Aggregator) {
	if d := g.Merged - a.merged; d > 0 {
		a.st.Merged.Add(d)
	}
	if d := g.NoAlert - a.noAlert; d > 0 {
		a.st.Dropped.Add(DropNotAlert, d)
	}
	a.merged, a.noAlert = g.Merged, g.NoAlert
}

// Package storetest generates realistic events for the store's tests and
// benchmarks, and holds the conformance suite every store.Reader passes.
package storetest

import (
	"fmt"
	"time"

	"github.com/alertgw/alertgw/internal/loadgen"
	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/normalize/eve"
	"github.com/alertgw/alertgw/outputs/format"
)

// Events returns n events of the `alertgw send` EVE mix (40 % alerts,
// 35 % flows, 25 % DNS), normalized as the pipeline does, with timestamps
// spread evenly over [from, to) and received a millisecond later. The same
// seed gives the same events.
func Events(n int, seed uint64, from, to time.Time) []*normalize.Event {
	g, err := loadgen.New("suricata", loadgen.Options{Seed: seed})
	if err != nil {
		panic(err)
	}
	step := to.Sub(from) / time.Duration(max(n, 1))
	out := make([]*normalize.Event, n)
	var dec eve.Decoder
	for i := range out {
		rec := g.Next(nil)
		e := new(normalize.Event)
		if err := dec.Decode(rec, e); err != nil {
			panic(fmt.Sprintf("storetest: generated record does not decode: %v", err))
		}
		e.ID = fmt.Sprintf("%016x%016x", seed, i+1)
		e.Timestamp = from.Add(time.Duration(i) * step).UTC().Truncate(time.Microsecond)
		e.Received = e.Timestamp.Add(time.Millisecond)
		e.Source.Type, e.Source.Input, e.Source.Sensor = "suricata", "suricata", fmt.Sprintf("sensor-%d", i%3)
		if e.CommunityID == "" {
			e.CommunityID = normalize.CommunityID(e)
		}
		if e.Action == "" {
			e.Action = normalize.ActionUnknown
		}
		out[i] = e
	}
	return out
}

// Lines returns the native encoding of each event, without newline: what
// the file output writes and the store keeps.
func Lines(evs []*normalize.Event) [][]byte {
	out := make([][]byte, len(evs))
	for i, e := range evs {
		out[i] = format.Native{}.AppendEvent(nil, e)
	}
	return out
}

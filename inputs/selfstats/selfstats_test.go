package selfstats

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/outputs/format"
	"github.com/alertgw/alertgw/stats"
)

func TestEvent(t *testing.T) {
	reg := stats.NewRegistry()
	in := reg.Input("eve", "suricata")
	in.Received.Add(10)
	in.Normalized.Add(8)
	in.Failed.Add("invalid_json", 2)
	in.Dropped.Add("truncated", 1)
	out := reg.Output("events", "file")
	out.Written.Add(8)
	out.Dropped.Add("queue_full", 3)

	ev, err := Event(reg, time.Date(2026, 11, 22, 1, 2, 3, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if ev.Kind != normalize.KindStats || len(ev.Details) != 2 || ev.Details[0].Key != "inputs" {
		t.Fatalf("event %+v", ev)
	}
	var doc struct {
		Details struct {
			Inputs []struct {
				Name     string
				Received uint64
				Failed   map[string]uint64
				Dropped  map[string]uint64
			}
			Outputs []struct {
				Name    string
				Written uint64
				Dropped map[string]uint64
			}
		}
	}
	line := format.Native{}.AppendEvent(nil, ev)
	if err := json.Unmarshal(line, &doc); err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	i, o := doc.Details.Inputs[0], doc.Details.Outputs[0]
	if i.Name != "eve" || i.Received != 10 || i.Failed["invalid_json"] != 2 || i.Dropped["truncated"] != 1 {
		t.Errorf("input counters %+v", i)
	}
	if o.Name != "events" || o.Written != 8 || o.Dropped["queue_full"] != 3 {
		t.Errorf("output counters %+v", o)
	}
}

func TestValidate(t *testing.T) {
	if p := (&Options{Interval: time.Millisecond}).Validate(); len(p) != 1 || p[0].Path != "interval" {
		t.Errorf("problems %v", p)
	}
	if p := (&Options{Interval: time.Minute}).Validate(); len(p) != 0 {
		t.Errorf("problems %v", p)
	}
}

package query

import (
	"time"

	"github.com/alertgw/alertgw/normalize"
)

// reductionFields are what the pipeline's reduction stages add to the
// events they make: aggregation summaries and transactions.
var reductionFields = []*Field{
	{Name: "aggregate.count", Type: Uint, Doc: "events an aggregation summary stands for", uint: func(e *normalize.Event) (uint64, bool) {
		if a := e.Aggregate; a != nil {
			return a.Count, true
		}
		return 0, false
	}},
	{Name: "aggregate.first_seen", Type: Time, Doc: "earliest event of the summary", time: func(e *normalize.Event) time.Time {
		if a := e.Aggregate; a != nil {
			return a.FirstSeen
		}
		return time.Time{}
	}},
	{Name: "aggregate.last_seen", Type: Time, Doc: "latest event of the summary", time: func(e *normalize.Event) time.Time {
		if a := e.Aggregate; a != nil {
			return a.LastSeen
		}
		return time.Time{}
	}},
	{Name: "aggregate.closed_by", Type: Enum, Values: []string{"window", "max_count", "max_groups", "max_bytes", "flush"},
		Doc: "what closed the summary's window", str: func(e *normalize.Event) string {
			if a := e.Aggregate; a != nil {
				return a.ClosedBy
			}
			return ""
		}},
	{Name: "transaction.complete", Type: Bool, Doc: "the flow record closed the transaction", bool: func(e *normalize.Event) (bool, bool) {
		if t := e.Transaction; t != nil {
			return t.Complete, true
		}
		return false, false
	}},
	{Name: "transaction.closed_by", Type: Enum, Values: []string{"flow", "idle", "max_age", "max_open", "max_bytes", "flush"},
		Doc: "what closed the transaction", str: func(e *normalize.Event) string {
			if t := e.Transaction; t != nil {
				return t.ClosedBy
			}
			return ""
		}},
	{Name: "transaction.events", Type: Uint, Doc: "records joined in the transaction", uint: func(e *normalize.Event) (uint64, bool) {
		if t := e.Transaction; t != nil {
			return t.Events, true
		}
		return 0, false
	}},
	{Name: "transaction.sources", Type: Strings, Doc: "source types in the transaction", strs: func(e *normalize.Event) []string {
		if t := e.Transaction; t != nil {
			return t.Sources
		}
		return nil
	}},
}

package stats

import (
	"maps"
	"slices"
	"sync/atomic"
)

// Stage counts what one reduction stage (an aggregation or a transactions
// stage, pipeline/aggregate and pipeline/transaction) did. Every event
// that enters is either passed on unchanged or folded into an event the
// stage emits: In = Passed + Folded, and nothing leaves uncounted.
type Stage struct {
	Name      string
	Type      string        // aggregate | transactions
	In        atomic.Uint64 // events that entered the stage
	Passed    atomic.Uint64 // sent on unchanged (not aggregated, nothing to join on, the first of a group)
	Folded    atomic.Uint64 // represented by a summary or a transaction instead of themselves
	Emitted   atomic.Uint64 // summaries or transactions made
	Omitted   atomic.Uint64 // counted in a transaction but not kept in it (max_records)
	Closed    Reasons       // groups or transactions closed, by what closed them
	Open      atomic.Int64  // groups or transactions open now
	OpenBytes atomic.Int64  // memory they hold (estimated)
}

// Stage returns the counters of the named stage, creating them once.
func (r *Registry) Stage(name, typ string) *Stage {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stages == nil {
		r.stages = map[string]*Stage{}
	}
	s := r.stages[name]
	if s == nil {
		s = &Stage{Name: name, Type: typ}
		r.stages[name] = s
	}
	return s
}

// RemoveStage forgets a stage a reload removed.
func (r *Registry) RemoveStage(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.stages, name)
}

// Stages returns the stages' counters sorted by name.
func (r *Registry) Stages() []*Stage {
	r.mu.Lock()
	defer r.mu.Unlock()
	keys := slices.Sorted(maps.Keys(r.stages))
	out := make([]*Stage, len(keys))
	for i, k := range keys {
		out[i] = r.stages[k]
	}
	return out
}

package pipeline

import (
	"github.com/alertgw/alertgw/config"
	"github.com/alertgw/alertgw/stats"
)

// RouteOptions are the keys every output block has for routing (beside
// format, buffer, batch and retry): which stream it reads, which of its
// events it takes, and its own aggregation. See docs/pipeline.md.
type RouteOptions struct {
	// From names the stage whose events the output reads; "" reads every
	// normalized event.
	From string `mapstructure:"from"`
	// Filter is a query in the search language: only matching events reach
	// the output; the others are counted as filtered.
	Filter string `mapstructure:"filter"`
	// Aggregate folds repeated events before they reach the output (the
	// keys of AggregateOptions); absent: events go on one by one.
	Aggregate map[string]any `mapstructure:"aggregate"`

	agg *AggregateOptions
}

// Validate implements config.Validator: the filter must parse, and the
// aggregate block decode with sensible values.
func (r *RouteOptions) Validate() config.Problems {
	var p config.Problems
	validQuery(&p, "filter", r.Filter)
	if r.Aggregate != nil {
		r.agg = DefaultAggregateOptions()
		p = append(p, config.Decode(r.Aggregate, "aggregate", r.agg)...)
	}
	return p
}

// Route returns the route of a validated block; st counts its aggregation.
func (r *RouteOptions) Route(st *stats.Stage) Route {
	rt := Route{From: r.From, Filter: r.Filter}
	if r.agg != nil {
		rt.Aggregate, rt.AggregateStats = r.agg, st
	}
	return rt
}

// StageOptions are the keys every block of the stages: list has besides
// its type's own (AggregateOptions, TransactionOptions).
type StageOptions struct {
	// Filter is a query: only matching events enter the stage.
	Filter string `mapstructure:"filter"`
}

// Validate implements config.Validator.
func (s *StageOptions) Validate() config.Problems {
	var p config.Problems
	validQuery(&p, "filter", s.Filter)
	return p
}

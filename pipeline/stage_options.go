package pipeline

import (
	"slices"
	"time"

	"github.com/alertgw/alertgw/config"
	"github.com/alertgw/alertgw/pipeline/aggregate"
	"github.com/alertgw/alertgw/pipeline/transaction"
	"github.com/alertgw/alertgw/query"
)

// AggregateOptions configure an aggregation: an output's aggregate: block,
// or a stage of type aggregate. See docs/pipeline.md.
type AggregateOptions struct {
	// Match says which events are aggregated (a query); the others pass
	// through unchanged. The default folds alerts only: flows or DNS
	// records between the same hosts are not repeats of one another.
	Match string `mapstructure:"match"`
	// Key lists the fields whose values make two events the same (field
	// names of the search language).
	Key []string `mapstructure:"key"`
	// Window is how long a group collects events after its first one.
	Window time.Duration `mapstructure:"window"`
	// MaxCount closes a group early once it holds this many events (0: no cap).
	MaxCount uint64 `mapstructure:"max_count"`
	// MaxGroups bounds the open groups; a new key beyond it closes the oldest group early.
	MaxGroups int `mapstructure:"max_groups"`
	// MaxBytes bounds the memory open groups hold; beyond it the oldest closes early.
	MaxBytes config.Size `mapstructure:"max_bytes"`
	// Emit is summary (one event per group) or first_and_summary (the
	// first event at once, the summary when the window closes).
	Emit string `mapstructure:"emit"`
}

// DefaultAggregateOptions returns the defaults: alerts, by signature,
// source and destination, over a minute. The key is a copy: decoding a
// block's key: writes into the slice it finds, which must not be the
// package's default that every other aggregation starts from.
func DefaultAggregateOptions() *AggregateOptions {
	return &AggregateOptions{Match: "kind:alert", Key: slices.Clone(aggregate.DefaultKey), Window: time.Minute,
		MaxGroups: 100_000, MaxBytes: 64 << 20, Emit: aggregate.EmitSummary}
}

func (o *AggregateOptions) config() aggregate.Config {
	return aggregate.Config{KeyFields: o.Key, Window: o.Window, MaxCount: o.MaxCount, MaxGroups: o.MaxGroups,
		MaxBytes: int64(o.MaxBytes), Emit: o.Emit}
}

// Validate implements config.Validator.
func (o *AggregateOptions) Validate() config.Problems {
	var p config.Problems
	o.config().Check(func(key, msg string) { p.Add(key, "%s", msg) })
	if _, err := aggregate.KeyOf(o.Key); err != nil && len(o.Key) > 0 {
		p.Add("key", "%v", err)
	}
	validQuery(&p, "match", o.Match)
	return p
}

// TransactionOptions configure a transactions stage. See docs/pipeline.md.
type TransactionOptions struct {
	// IdleTimeout closes a transaction, partial, when no record came for
	// this long. Keep it above the sensor's flow timeouts (Suricata's
	// flow-timeouts) so that the flow record usually closes it.
	IdleTimeout time.Duration `mapstructure:"idle_timeout"`
	// MaxAge closes a transaction, partial, this long after its first record.
	MaxAge time.Duration `mapstructure:"max_age"`
	// MaxOpen bounds the open transactions; beyond it the least recently
	// active one is closed early.
	MaxOpen int `mapstructure:"max_open"`
	// MaxBytes bounds the memory open transactions hold.
	MaxBytes config.Size `mapstructure:"max_bytes"`
	// MaxRecords bounds the records one transaction keeps; later ones are counted.
	MaxRecords int `mapstructure:"max_records"`
	// JoinCommunityID lets records without a flow id (NFLOG packets,
	// auditd socket events, Snort alerts) join by Community ID.
	JoinCommunityID bool `mapstructure:"join_community_id"`
	// FlowGrace keeps a transaction open this long after its flow record
	// for the records written right after it (Suricata writes netflow
	// records after the flow record); 0 closes it at the flow record.
	FlowGrace time.Duration `mapstructure:"flow_grace"`
}

// DefaultTransactionOptions returns the defaults.
func DefaultTransactionOptions() *TransactionOptions {
	return &TransactionOptions{IdleTimeout: 2 * time.Minute, MaxAge: 15 * time.Minute, MaxOpen: 100_000,
		MaxBytes: 256 << 20, MaxRecords: 100, FlowGrace: 2 * time.Second}
}

func (o *TransactionOptions) config() transaction.Config {
	return transaction.Config{IdleTimeout: o.IdleTimeout, MaxAge: o.MaxAge, MaxOpen: o.MaxOpen,
		MaxBytes: int64(o.MaxBytes), MaxRecords: o.MaxRecords, JoinCommunityID: o.JoinCommunityID, FlowGrace: o.FlowGrace}
}

// Validate implements config.Validator.
func (o *TransactionOptions) Validate() config.Problems {
	var p config.Problems
	o.config().Check(func(key, msg string) { p.Add(key, "%s", msg) })
	return p
}

// validQuery reports a query that does not parse, with its position.
func validQuery(p *config.Problems, key, text string) {
	if text == "" {
		return
	}
	if _, err := query.Parse(text); err != nil {
		p.Add(key, "%v", err)
	}
}

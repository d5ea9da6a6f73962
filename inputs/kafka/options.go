package kafka

import (
	"regexp"
	"time"

	"github.com/alertgw/alertgw/config"
	"github.com/alertgw/alertgw/internal/kafkaconn"
	"github.com/alertgw/alertgw/internal/tlsconf"
)

// Record formats.
const (
	FormatAuto   = "auto"   // native events (first member "schema"), EVE otherwise
	FormatNative = "native" // alertgw native JSON (what the kafka output writes)
	FormatEVE    = "eve"    // Suricata EVE JSON (other shippers)
)

// Options are the kafka block's own keys.
type Options struct {
	// Brokers are the seed brokers, host:port (required).
	Brokers []string `mapstructure:"brokers"`
	// ClientID names this client to the brokers.
	ClientID string `mapstructure:"client_id"`
	// Topics are the topics to consume; with topic_regex, regular
	// expressions (new matching topics are picked up).
	Topics []string `mapstructure:"topics"`
	// TopicRegex treats every entry of topics as a regular expression.
	TopicRegex bool `mapstructure:"topic_regex"`
	// Group is the consumer group: gateways with the same group share the
	// topics' partitions, and take over those of a member that leaves or dies.
	Group string `mapstructure:"group"`
	// Start is where a partition without a committed offset starts:
	// earliest (everything still in the topic) or latest (only new records).
	Start string `mapstructure:"start"`
	// Format is what the records are: auto (native events by their first
	// member "schema", EVE otherwise), native or eve.
	Format string `mapstructure:"format"`
	// MaxPendingRecords bounds the records handed to the pipeline and not
	// yet safe in every output; polling waits beyond it.
	MaxPendingRecords int `mapstructure:"max_pending_records"`
	// CommitInterval is how often the offsets of safe records are committed
	// (besides at rebalances and shutdown).
	CommitInterval time.Duration `mapstructure:"commit_interval"`
	// SessionTimeout is how long a member may stay silent before the group
	// considers it dead and gives its partitions to the others.
	SessionTimeout time.Duration `mapstructure:"session_timeout"`
	// RevokeWait is how long a rebalance waits for the records of the
	// partitions this member gives up to be safe, so their offsets can be
	// committed; what is not safe by then is read again by the new owner.
	RevokeWait time.Duration `mapstructure:"revoke_wait"`
	// ShutdownWait is how long a stopping gateway waits for handed-over
	// records to be safe before its last commit. Keep it below the
	// pipeline's shutdown_timeout.
	ShutdownWait time.Duration `mapstructure:"shutdown_wait"`
	// FetchMaxBytes bounds one fetch response.
	FetchMaxBytes config.Size `mapstructure:"fetch_max_bytes"`
	// TLS configures TLS to the brokers.
	TLS tlsconf.Client `mapstructure:"tls"`
	// SASL authenticates with PLAIN or SCRAM; empty mechanism: off.
	SASL kafkaconn.SASL `mapstructure:"sasl"`
}

// DefaultOptions returns the defaults.
func DefaultOptions() *Options {
	return &Options{
		ClientID:          "alertgw",
		Group:             "alertgw",
		Start:             "earliest",
		Format:            FormatAuto,
		MaxPendingRecords: 100_000,
		CommitInterval:    time.Second,
		SessionTimeout:    10 * time.Second,
		RevokeWait:        10 * time.Second,
		ShutdownWait:      5 * time.Second,
		FetchMaxBytes:     50 << 20,
	}
}

// Validate implements config.Validator.
func (o *Options) Validate() config.Problems {
	var p config.Problems
	kafkaconn.Validate(&p, o.Brokers, o.SASL, o.TLS)
	if len(o.Topics) == 0 {
		p.Add("topics", "at least one topic (alertgw-alert, …) is needed")
	}
	if o.TopicRegex {
		for _, t := range o.Topics {
			if _, err := regexp.Compile(t); err != nil {
				p.Add("topics", "%q: %v", t, err)
			}
		}
	}
	if o.Group == "" {
		p.Add("group", "a consumer group is needed")
	}
	switch o.Start {
	case "earliest", "latest":
	default:
		p.Add("start", "must be earliest or latest; got %q", o.Start)
	}
	switch o.Format {
	case FormatAuto, FormatNative, FormatEVE:
	default:
		p.Add("format", "must be auto, native or eve; got %q", o.Format)
	}
	if o.MaxPendingRecords < 1 {
		p.Add("max_pending_records", "must be at least 1")
	}
	if o.CommitInterval < 10*time.Millisecond || o.CommitInterval > time.Minute {
		p.Add("commit_interval", "must be between 10ms and 1m; got %s", o.CommitInterval)
	}
	if o.SessionTimeout < time.Second || o.SessionTimeout > 5*time.Minute {
		p.Add("session_timeout", "must be between 1s and 5m; got %s", o.SessionTimeout)
	}
	if o.RevokeWait < 0 || o.RevokeWait > 5*time.Minute {
		p.Add("revoke_wait", "must be between 0 and 5m; got %s", o.RevokeWait)
	}
	if o.ShutdownWait < 0 || o.ShutdownWait > time.Minute {
		p.Add("shutdown_wait", "must be between 0 and 1m; got %s", o.ShutdownWait)
	}
	if o.FetchMaxBytes < 1<<10 || o.FetchMaxBytes > 1<<30 {
		p.Add("fetch_max_bytes", "must be between 1KiB and 1GiB")
	}
	return p
}

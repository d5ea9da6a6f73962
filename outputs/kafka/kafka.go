// Package kafka is the kafka output: every event becomes one record, keyed
// by its Community ID so that all events of a flow land in one partition
// (in order), on a topic named from the event (alertgw-{kind}). The
// producer is idempotent with acks=all: a record is acknowledged once every
// in-sync replica has it, and the broker drops the duplicates its own
// retries would create.
package kafka

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/alertgw/alertgw/config"
	"github.com/alertgw/alertgw/internal/kafkaconn"
	"github.com/alertgw/alertgw/outputs"
)

// sample is sample.yaml: a minimal working block of this type.
//
//go:embed sample.yaml
var sample []byte

// Plugin registers the output.
var Plugin = outputs.Plugin{
	Type:    "kafka",
	Summary: "produce events to Kafka (franz-go), keyed by Community ID, acks=all, idempotent",
	Sample:  sample,
	Options: func() any {
		return &Options{
			Topic:         "alertgw-{kind}",
			ClientID:      "alertgw",
			Compression:   "lz4",
			Timeout:       30 * time.Second,
			MaxRecordSize: 1 << 20,
		}
	},
	New: func(env outputs.Env, opts any) (outputs.Output, error) { return New(env, opts.(*Options)) },
}

// Options are the kafka block's own keys.
type Options struct {
	// Brokers are the seed brokers, host:port (required).
	Brokers []string `mapstructure:"brokers"`
	// Topic is the topic name template: {kind}, {source}, {input},
	// {sensor}, {action}, {date:LAYOUT}. Topics must exist: an unknown one
	// is retried until it appears.
	Topic string `mapstructure:"topic"`
	// ClientID names the gateway to the brokers.
	ClientID string `mapstructure:"client_id"`
	// Compression is the batch compression: none, gzip, snappy, lz4 or
	// zstd.
	Compression string `mapstructure:"compression"`
	// Linger is the producer's linger per partition; the pipeline batches
	// already, so 0 is usual.
	Linger time.Duration `mapstructure:"linger"`
	// Timeout is how long a Write waits for every record's
	// acknowledgement; then it fails and is retried.
	Timeout time.Duration `mapstructure:"timeout"`
	// MaxRecordSize is the producer's batch limit; it must not exceed the
	// broker's message.max.bytes. Larger records are dead-lettered.
	MaxRecordSize config.Size `mapstructure:"max_record_size"`
	// TLS configures TLS to the brokers.
	TLS outputs.TLS `mapstructure:"tls"`
	// SASL authenticates with PLAIN or SCRAM; empty mechanism: off.
	SASL SASL `mapstructure:"sasl"`
}

// SASL authenticates to the brokers (shared with the kafka input).
type SASL = kafkaconn.SASL

// Validate implements config.Validator.
func (o *Options) Validate() config.Problems {
	var p config.Problems
	if _, err := outputs.ParseTemplate(o.Topic); err != nil {
		p.Add("topic", "%v", err)
	}
	if _, err := codec(o.Compression); err != nil {
		p.Add("compression", "%v", err)
	}
	if o.Timeout < time.Second {
		p.Add("timeout", "must be at least 1s; got %s", o.Timeout)
	}
	if o.MaxRecordSize < 1024 || o.MaxRecordSize > 1<<30 {
		p.Add("max_record_size", "must be between 1KiB and 1GiB")
	}
	kafkaconn.Validate(&p, o.Brokers, o.SASL, o.TLS)
	return p
}

func codec(name string) (kgo.CompressionCodec, error) {
	switch strings.ToLower(name) {
	case "", "none":
		return kgo.NoCompression(), nil
	case "gzip":
		return kgo.GzipCompression(), nil
	case "snappy":
		return kgo.SnappyCompression(), nil
	case "lz4":
		return kgo.Lz4Compression(), nil
	case "zstd":
		return kgo.ZstdCompression(), nil
	}
	return kgo.CompressionCodec{}, fmt.Errorf("unknown compression %q (none, gzip, snappy, lz4, zstd)", name)
}

// Output produces to Kafka.
type Output struct {
	env     outputs.Env
	opts    *Options
	cl      *kgo.Client
	topics  *outputs.Names
	recs    []kgo.Record
	ptrs    []*kgo.Record
	headers []kgo.RecordHeader
}

// New connects lazily: the client dials on first produce, so a broker that
// is down at start does not stop the gateway (events wait in the buffer).
func New(env outputs.Env, o *Options) (*Output, error) {
	tmpl, err := outputs.ParseTemplate(o.Topic)
	if err != nil {
		return nil, err
	}
	kopts, err := kafkaconn.Opts(o.Brokers, o.ClientID, o.SASL, o.TLS, env.Log)
	if err != nil {
		return nil, err
	}
	comp, _ := codec(o.Compression)
	kopts = append(kopts,
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerBatchCompression(comp),
		kgo.ProducerLinger(o.Linger),
		kgo.ProducerBatchMaxBytes(int32(o.MaxRecordSize)),
		kgo.RecordDeliveryTimeout(o.Timeout),
		kgo.MaxBufferedRecords(1<<20),
	)
	cl, err := kgo.NewClient(kopts...)
	if err != nil {
		return nil, fmt.Errorf("kafka client: %w", err)
	}
	return &Output{env: env, opts: o, cl: cl, topics: outputs.NewNames(tmpl)}, nil
}

// Write produces the batch and waits for every record's acknowledgement.
// Records the broker refuses for good (too large, invalid)
// are reported permanent, so they are dead-lettered; the others are retried.
func (w *Output) Write(ctx context.Context, b *outputs.Batch) error {
	lines := b.Encode(w.env.Encoder)
	n := len(b.Events)
	if cap(w.recs) < n {
		w.recs = make([]kgo.Record, n)
		w.ptrs = make([]*kgo.Record, n)
		w.headers = make([]kgo.RecordHeader, n)
	}
	recs, ptrs, hdrs := w.recs[:n], w.ptrs[:n], w.headers[:n]
	for i, e := range b.Events {
		// The value aliases the batch's encoding, which outlives this call.
		hdrs[i] = kgo.RecordHeader{Key: "event_id", Value: []byte(e.ID)}
		recs[i] = kgo.Record{
			Topic:   w.topics.For(e),
			Value:   lines.Line(i),
			Headers: hdrs[i : i+1 : i+1],
		}
		if e.CommunityID != "" {
			recs[i].Key = []byte(e.CommunityID)
		}
		ptrs[i] = &recs[i]
	}
	// When the brokers stay away longer than the timeout, the Write fails
	// and the pipeline retries (and spills to disk) instead of blocking.
	ctx, cancel := context.WithTimeout(ctx, w.opts.Timeout)
	defer cancel()
	var (
		mu      sync.Mutex
		wg      sync.WaitGroup
		results []kgo.ProduceResult // failures only
	)
	wg.Add(n)
	promise := func(r *kgo.Record, err error) {
		if err != nil {
			mu.Lock()
			results = append(results, kgo.ProduceResult{Record: r, Err: err})
			mu.Unlock()
		}
		wg.Done()
	}
	for _, r := range ptrs {
		w.cl.Produce(ctx, r, promise)
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		// Fail what the client still holds, so that no record of this
		// batch is sent behind our back after we report failure (the
		// retry sends them again: at least once either way).
		actx, acancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := w.cl.AbortBufferedRecords(actx)
		acancel()
		if err != nil {
			w.recs, w.ptrs, w.headers = nil, nil, nil // the client may still hold them
			return fmt.Errorf("kafka produce: no acknowledgement within %s; abort: %w", w.opts.Timeout, err)
		}
		<-done
		if len(results) == 0 {
			return fmt.Errorf("kafka produce: no acknowledgement within %s", w.opts.Timeout)
		}
	}
	var pe outputs.PartialError
	var firstErr error
	var index map[*kgo.Record]int
	for _, r := range results {
		if index == nil {
			index = make(map[*kgo.Record]int, n)
			for i := range recs {
				index[&recs[i]] = i
			}
		}
		if firstErr == nil {
			firstErr = r.Err
		}
		pe.Failed = append(pe.Failed, outputs.ItemFailure{Index: index[r.Record], Permanent: permanent(r.Err), Reason: reason(r.Err), Detail: r.Err.Error()})
	}
	clear(recs) // do not keep the batch alive through the reused slice
	if len(pe.Failed) == 0 {
		return nil
	}
	if len(pe.Failed) == n && !anyPermanent(pe.Failed) {
		return fmt.Errorf("kafka produce: %w", firstErr) // nothing went: a plain retry
	}
	return &pe
}

func anyPermanent(fs []outputs.ItemFailure) bool {
	for _, f := range fs {
		if f.Permanent {
			return true
		}
	}
	return false
}

// permanent reports whether producing the same record again cannot work.
// Authorization failures are not: the ACL is wrong, not the record, and
// the events wait in the buffer until it is fixed.
func permanent(err error) bool {
	for _, e := range []error{kerr.MessageTooLarge, kerr.RecordListTooLarge, kerr.InvalidRecord,
		kerr.InvalidTopicException, kerr.CorruptMessage} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

func reason(err error) string {
	var ke *kerr.Error
	if errors.As(err, &ke) {
		return strings.ToLower(ke.Message)
	}
	switch {
	case errors.Is(err, kgo.ErrRecordTimeout):
		return "timeout"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return "timeout"
	}
	return "produce_error"
}

// Close flushes what is buffered and closes the client.
func (w *Output) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := w.cl.Flush(ctx)
	w.cl.Close()
	if err != nil {
		return fmt.Errorf("kafka flush: %w", err)
	}
	return nil
}

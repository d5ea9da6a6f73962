// Package kafka is the kafka input: a consumer group member (franz-go)
// reading the topics the kafka output writes — native events, or EVE from
// other shippers — and committing a partition's offset only once every
// output of this gateway has the records before it. Several gateways with
// the same group share the partitions; when one leaves or dies, the others
// take its partitions over and read again whatever it had not committed.
// See README.md and docs/fleet.md.
package kafka

import (
	"context"
	"crypto/sha256"
	_ "embed"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/alertgw/alertgw/inputs"
	"github.com/alertgw/alertgw/inputs/eventid"
	"github.com/alertgw/alertgw/internal/kafkaconn"
	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/normalize/eve"
	"github.com/alertgw/alertgw/normalize/native"
	"github.com/alertgw/alertgw/stats"
)

//go:embed sample.yaml
var sample []byte

// Plugin registers the input.
var Plugin = inputs.Plugin{
	Type:    "kafka",
	Summary: "consume native or EVE events from Kafka topics as a consumer group; offsets committed once every output has the events",
	Sample:  sample,
	Options: func() any { return DefaultOptions() },
	Decoder: func(opts any) (inputs.Decoder, error) { return NewDecoder(opts.(*Options).Format), nil },
	New:     func(env inputs.Env, opts any) (inputs.Input, error) { return New(env, opts.(*Options)) },
}

// Decoder decodes one record by the configured format.
type Decoder struct{ format string }

// NewDecoder returns the decoder of format (auto, native or eve).
func NewDecoder(format string) Decoder { return Decoder{format: format} }

// Decode implements inputs.Decoder.
func (d Decoder) Decode(msg []byte, ev *normalize.Event) error {
	switch d.format {
	case FormatNative:
		return native.Decoder{}.Decode(msg, ev)
	case FormatEVE:
		return eve.Decoder{}.Decode(msg, ev)
	}
	if native.Looks(msg) {
		return native.Decoder{}.Decode(msg, ev)
	}
	return eve.Decoder{}.Decode(msg, ev)
}

// Input is one consumer group member.
type Input struct {
	env  inputs.Env
	opts *Options
	cl   *kgo.Client
	offs *offsets

	commitMu  sync.Mutex    // one commit at a time: a stale one must not land after a newer
	stopping  chan struct{} // closed when Run's context ends
	closeOnce sync.Once

	commits, commitErrors, revokeTimeouts, lost stats.Reasons // counters by topic
}

// New builds the client. It connects lazily: brokers that are down at start
// do not stop the gateway.
func New(env inputs.Env, o *Options) (*Input, error) {
	conn, err := kafkaconn.Opts(o.Brokers, o.ClientID, o.SASL, o.TLS, env.Log)
	if err != nil {
		return nil, err
	}
	in := &Input{env: env, opts: o, offs: newOffsets(), stopping: make(chan struct{})}
	start := kgo.NewOffset().AtStart()
	if o.Start == "latest" {
		start = kgo.NewOffset().AtEnd()
	}
	kopts := append(conn,
		kgo.ConsumeTopics(o.Topics...),
		kgo.ConsumerGroup(o.Group),
		kgo.DisableAutoCommit(),
		kgo.ConsumeResetOffset(start),
		kgo.SessionTimeout(o.SessionTimeout),
		kgo.HeartbeatInterval(max(o.SessionTimeout/10, 100*time.Millisecond)),
		kgo.FetchMaxBytes(int32(o.FetchMaxBytes)),
		kgo.OnPartitionsAssigned(in.assigned),
		kgo.OnPartitionsRevoked(in.revoked),
		kgo.OnPartitionsLost(in.lostPartitions),
	)
	if o.TopicRegex {
		kopts = append(kopts, kgo.ConsumeRegex())
	}
	cl, err := kgo.NewClient(kopts...)
	if err != nil {
		return nil, fmt.Errorf("kafka client: %w", err)
	}
	in.cl = cl
	env.Stats.SetExtra(in.Metrics()...)
	return in, nil
}

// Run consumes until ctx is cancelled, then waits up to shutdown_wait for
// what it handed over to be safe, commits, and leaves the group.
func (in *Input) Run(ctx context.Context, emit inputs.Emitter) error {
	in.env.Log.Info().Strs("topics", in.opts.Topics).Str("group", in.opts.Group).Msg("kafka input consuming")
	// A broker away or a group error repeats every poll: say it, not flood.
	errLog := in.env.Log.Sample(&zerolog.BurstSampler{Burst: 5, Period: time.Minute})
	var wg sync.WaitGroup
	wg.Go(func() { in.commitLoop(ctx) })
	for {
		in.offs.waitRoom(in.opts.MaxPendingRecords, ctx.Done())
		fetches := in.cl.PollRecords(ctx, 2000)
		if ctx.Err() != nil {
			break
		}
		fetches.EachError(func(topic string, partition int32, err error) {
			switch {
			case errors.Is(err, context.Canceled):
			case topic == "": // the client's or the group's, not a partition's
				errLog.Error().Err(err).Msg("kafka consumer error")
			default:
				errLog.Warn().Str("topic", topic).Int32("partition", partition).Err(err).Msg("kafka fetch failed")
			}
		})
		fetches.EachPartition(func(p kgo.FetchTopicPartition) { in.handOver(p, emit) })
	}
	close(in.stopping)
	wg.Wait()
	in.finish()
	return nil
}

// handOver gives one partition's fetched records to the pipeline.
func (in *Input) handOver(p kgo.FetchTopicPartition, emit inputs.Emitter) {
	if len(p.Records) == 0 {
		in.offs.hwmSeen(p.Topic, p.Partition, p.HighWatermark)
		return
	}
	s := in.offs.handOver(p.Topic, p.Partition, p.Records, p.HighWatermark)
	if s == nil {
		return // revoked meanwhile: the new owner reads them
	}
	msgs := make([][]byte, len(p.Records))
	// A record read again (after a rebalance, or a member died before its
	// commit) makes an event with the same id: one from its offset.
	origins := make([]eventid.Run, len(p.Records))
	src := partitionSource(p.Topic, p.Partition)
	var size uint64
	for i, r := range p.Records {
		msgs[i] = r.Value
		origins[i] = eventid.Run{N: 1, Origin: eventid.New(src, uint64(r.Offset))}
		size += uint64(len(r.Value))
	}
	in.env.Stats.Received.Add(uint64(len(msgs)))
	in.env.Stats.Bytes.Add(size)
	n, topic, part := len(msgs), p.Topic, p.Partition
	// Safe once every output accepted the events (memory-buffered ones:
	// delivered) and every disk-buffered one holds them (Durable is never
	// called for events a shutdown abandoned).
	safe := inputs.AfterAll(2, func() { in.offs.markSafe(topic, part, s, n) })
	emit.Messages(&inputs.Batch{Msgs: msgs, Received: time.Now(), Done: safe, Durable: safe, Origins: origins})
}

// partitionSource tells one partition's offsets from another's in event
// ids (eventid.Origin): the first bytes of a hash of topic and partition.
func partitionSource(topic string, partition int32) [5]byte {
	h := sha256.Sum256(fmt.Appendf(nil, "kafka\x00%s\x00%d", topic, partition))
	return [5]byte(h[:5])
}

// commitLoop commits the offsets of safe records every commit_interval.
func (in *Input) commitLoop(ctx context.Context) {
	t := time.NewTicker(in.opts.CommitInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			in.commit(ctx, nil)
		}
	}
}

// commit commits what is safe of the given partitions (nil: all owned).
func (in *Input) commit(ctx context.Context, only map[tp]bool) {
	in.commitMu.Lock()
	defer in.commitMu.Unlock()
	offs := in.offs.committable(only)
	if len(offs) == 0 {
		return
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	in.cl.CommitOffsetsSync(cctx, offs, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
		if err != nil {
			for topic := range offs {
				in.commitErrors.Add(topic, 1)
			}
			if !errors.Is(err, context.Canceled) {
				in.env.Log.Warn().Err(err).Msg("offset commit failed: the records after the last commit will be read again if this member stops")
			}
			return
		}
		for _, t := range resp.Topics {
			for _, p := range t.Partitions {
				if p.ErrorCode != 0 {
					in.commitErrors.Add(t.Topic, 1)
					continue
				}
				in.commits.Add(t.Topic, 1)
				in.offs.committedTo(t.Topic, p.Partition, offs[t.Topic][p.Partition].Offset)
			}
		}
	})
}

// assigned starts tracking newly assigned partitions.
func (in *Input) assigned(_ context.Context, _ *kgo.Client, ps map[string][]int32) {
	in.env.Log.Info().Any("partitions", ps).Msg("kafka partitions assigned")
	in.offs.assign(ps)
}

// revoked gives partitions up: no more of their records are handed over;
// it waits up to revoke_wait for those handed over to be safe and commits
// them, so the new owner starts right after them.
func (in *Input) revoked(ctx context.Context, _ *kgo.Client, ps map[string][]int32) {
	set := in.offs.startRevoke(ps)
	if len(set) == 0 {
		return
	}
	wait := in.opts.RevokeWait
	select {
	case <-in.stopping:
		wait = 0 // leaving at shutdown: finish waited already
	default:
	}
	timeout := make(chan struct{})
	timer := time.AfterFunc(wait, func() { close(timeout) })
	drained := in.offs.waitSafe(set, timeout)
	timer.Stop()
	if !drained {
		for k := range set {
			in.revokeTimeouts.Add(k.topic, 1)
		}
		in.env.Log.Warn().Any("partitions", ps).Dur("revoke_wait", wait).
			Msg("partitions revoked before every record was safe: the new owner reads the unsafe ones again")
	}
	in.commit(context.WithoutCancel(ctx), set)
	in.offs.forget(set)
	in.env.Log.Info().Any("partitions", ps).Msg("kafka partitions revoked")
}

// lostPartitions drops partitions taken away without a chance to commit
// (this member was considered dead): their uncommitted records are read
// again by the new owner.
func (in *Input) lostPartitions(_ context.Context, _ *kgo.Client, ps map[string][]int32) {
	set := in.offs.startRevoke(ps)
	for k := range set {
		in.lost.Add(k.topic, 1)
	}
	in.offs.forget(set)
	if len(set) > 0 {
		in.env.Log.Warn().Any("partitions", ps).Msg("kafka partitions lost: their uncommitted records go to another member")
	}
}

// finish waits for the handed-over records to be safe, commits them and
// leaves the group (its revoke commits what became safe meanwhile).
func (in *Input) finish() {
	timeout := make(chan struct{})
	timer := time.AfterFunc(in.opts.ShutdownWait, func() { close(timeout) })
	in.offs.waitRoom(1, timeout)
	timer.Stop()
	in.commit(context.Background(), nil)
	in.Close()
}

// Close leaves the group and closes the client; safe to call twice.
func (in *Input) Close() error {
	in.closeOnce.Do(in.cl.Close)
	return nil
}

// Metrics are the input's own metric families, exported as
// alertgw_input_<Name> (docs/operations.md documents each; its test lists
// them from a zero Input).
func (in *Input) Metrics() []*stats.Family {
	perTopic := func(r *stats.Reasons) func(emit func(float64, ...string)) {
		return func(emit func(float64, ...string)) {
			for topic, v := range r.Snapshot() {
				emit(float64(v), topic)
			}
		}
	}
	partitionGauge := func(get func(lag) float64) func(emit func(float64, ...string)) {
		return func(emit func(float64, ...string)) {
			for _, l := range in.offs.lags() {
				emit(get(l), l.topic, strconv.Itoa(int(l.partition)))
			}
		}
	}
	tpLabels := []string{"topic", "partition"}
	return []*stats.Family{
		{Name: "kafka_lag_records", Gauge: true, Labels: tpLabels,
			Help:    "Records of an owned partition after its committed offset: not yet read, or not yet safe in every output.",
			Collect: partitionGauge(func(l lag) float64 { return float64(l.lag) })},
		{Name: "kafka_pending_records", Gauge: true, Labels: tpLabels,
			Help:    "Records of an owned partition handed to the pipeline and not yet safe in every output.",
			Collect: partitionGauge(func(l lag) float64 { return float64(l.pending) })},
		{Name: "kafka_committed_offset", Gauge: true, Labels: tpLabels,
			Help:    "The offset this member last committed for an owned partition (-1: none yet).",
			Collect: partitionGauge(func(l lag) float64 { return float64(l.committed) })},
		{Name: "kafka_commits_total", Labels: []string{"topic"}, Help: "Partition offsets committed.", Collect: perTopic(&in.commits)},
		{Name: "kafka_commit_errors_total", Labels: []string{"topic"}, Help: "Partition offset commits that failed.", Collect: perTopic(&in.commitErrors)},
		{Name: "kafka_revoke_timeouts_total", Labels: []string{"topic"},
			Help: "Partitions given up in a rebalance before all their handed-over records were safe (read again by the new owner).", Collect: perTopic(&in.revokeTimeouts)},
		{Name: "kafka_partitions_lost_total", Labels: []string{"topic"},
			Help: "Partitions taken away without a chance to commit (this member was thought dead).", Collect: perTopic(&in.lost)},
	}
}

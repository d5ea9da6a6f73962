package kafka

import (
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"
)

// tp names a partition.
type tp struct {
	topic     string
	partition int32
}

// span is the records of one partition handed to the pipeline together.
type span struct {
	next  int64 // the offset after its last record: what to commit once it is safe
	epoch int32 // leader epoch of its last record
	safe  bool
}

// partition is what this member knows of one partition it owns.
type partition struct {
	spans     []*span // handed over, oldest first, not all safe yet
	safeNext  int64   // offset after the last record of the safe prefix; -1: none yet
	safeEpoch int32
	committed int64 // last offset committed by this member; -1: none
	first     int64 // offset of the first record fetched; -1: none
	fetched   int64 // offset after the last record fetched; -1: none
	hwm       int64 // high watermark at the last fetch; -1: unknown
	pending   int   // records handed over, not yet safe
	revoking  bool  // being given up: no more records are handed over
}

// offsets tracks, per owned partition, which handed-over records are safe
// in every output, so that only the offset after a contiguous run of safe
// records is ever committed: never ahead of what the outputs have.
type offsets struct {
	mu      sync.Mutex
	changed *sync.Cond // a span became safe
	parts   map[tp]*partition
	pending int // records handed over and not yet safe, all partitions
}

func newOffsets() *offsets {
	o := &offsets{parts: map[tp]*partition{}}
	o.changed = sync.NewCond(&o.mu)
	return o
}

// assign starts tracking partitions.
func (o *offsets) assign(assigned map[string][]int32) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for topic, ps := range assigned {
		for _, p := range ps {
			k := tp{topic, p}
			if _, ok := o.parts[k]; !ok {
				o.parts[k] = &partition{safeNext: -1, committed: -1, first: -1, fetched: -1, hwm: -1}
			}
		}
	}
}

// handOver records the records of one fetched partition as handed to the
// pipeline; it returns the span to mark safe, or nil when the partition is
// not owned (any more) and the records must not be handed over.
func (o *offsets) handOver(topic string, partition int32, recs []*kgo.Record, hwm int64) *span {
	o.mu.Lock()
	defer o.mu.Unlock()
	p := o.parts[tp{topic, partition}]
	if p == nil || p.revoking {
		return nil
	}
	last := recs[len(recs)-1]
	s := &span{next: last.Offset + 1, epoch: last.LeaderEpoch}
	p.spans = append(p.spans, s)
	if p.first < 0 {
		p.first = recs[0].Offset
	}
	p.fetched, p.hwm = s.next, hwm
	p.pending += len(recs)
	o.pending += len(recs)
	return s
}

// markSafe records that every output has the span's records.
func (o *offsets) markSafe(topic string, partition int32, s *span, n int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.pending -= n
	p := o.parts[tp{topic, partition}]
	s.safe = true
	if p != nil {
		p.pending -= n
		// Only the safe prefix moves the committable offset.
		for len(p.spans) > 0 && p.spans[0].safe {
			p.safeNext, p.safeEpoch = p.spans[0].next, p.spans[0].epoch
			p.spans[0] = nil
			p.spans = p.spans[1:]
		}
	}
	o.changed.Broadcast()
}

// hwmSeen notes a partition's high watermark from a fetch without records.
func (o *offsets) hwmSeen(topic string, partition int32, hwm int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if p := o.parts[tp{topic, partition}]; p != nil {
		p.hwm = hwm
	}
}

// committable returns the safe offsets not committed yet, of the given
// partitions (nil: every owned partition that is not being revoked).
func (o *offsets) committable(only map[tp]bool) map[string]map[int32]kgo.EpochOffset {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out map[string]map[int32]kgo.EpochOffset
	for k, p := range o.parts {
		if only != nil && !only[k] || only == nil && p.revoking {
			continue
		}
		if p.safeNext < 0 || p.safeNext <= p.committed {
			continue
		}
		if out == nil {
			out = map[string]map[int32]kgo.EpochOffset{}
		}
		if out[k.topic] == nil {
			out[k.topic] = map[int32]kgo.EpochOffset{}
		}
		out[k.topic][k.partition] = kgo.EpochOffset{Epoch: p.safeEpoch, Offset: p.safeNext}
	}
	return out
}

// committedTo records offsets the group coordinator accepted.
func (o *offsets) committedTo(topic string, partition int32, offset int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if p := o.parts[tp{topic, partition}]; p != nil && offset > p.committed {
		p.committed = offset
	}
}

// startRevoke stops handing over records of the partitions and returns
// them as a set.
func (o *offsets) startRevoke(revoked map[string][]int32) map[tp]bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	set := map[tp]bool{}
	for topic, ps := range revoked {
		for _, p := range ps {
			k := tp{topic, p}
			if part := o.parts[k]; part != nil {
				part.revoking = true
				set[k] = true
			}
		}
	}
	return set
}

// waitSafe waits until the partitions have nothing pending or done is
// closed; it reports whether they drained.
func (o *offsets) waitSafe(set map[tp]bool, done <-chan struct{}) bool {
	return o.waitFor(done, func() bool {
		for k := range set {
			if p := o.parts[k]; p != nil && p.pending > 0 {
				return false
			}
		}
		return true
	})
}

// forget drops the partitions: records of theirs that become safe later
// no longer move any offset (another member owns them now).
func (o *offsets) forget(set map[tp]bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for k := range set {
		delete(o.parts, k)
	}
}

// waitRoom waits until fewer than max records are pending or done closes.
func (o *offsets) waitRoom(max int, done <-chan struct{}) {
	o.waitFor(done, func() bool { return o.pending < max })
}

// waitFor waits, with o.mu held while calling cond, until cond holds or
// done is closed; it reports whether cond held.
func (o *offsets) waitFor(done <-chan struct{}, cond func() bool) bool {
	o.mu.Lock()
	ok := cond()
	o.mu.Unlock()
	if ok {
		return true
	}
	stop := make(chan struct{})
	defer close(stop)
	go func() { // wakes the wait below when done closes
		select {
		case <-done:
			o.mu.Lock()
			o.changed.Broadcast()
			o.mu.Unlock()
		case <-stop:
		}
	}()
	o.mu.Lock()
	defer o.mu.Unlock()
	for !cond() {
		select {
		case <-done:
			return false
		default:
		}
		o.changed.Wait()
	}
	return true
}

// lag is one partition's position, for the metrics.
type lag struct {
	topic     string
	partition int32
	lag       int64 // high watermark − committed (or − first fetched): what a restart would read again or has not read
	pending   int
	committed int64
}

func (o *offsets) lags() []lag {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make([]lag, 0, len(o.parts))
	for k, p := range o.parts {
		l := lag{topic: k.topic, partition: k.partition, pending: p.pending, committed: p.committed}
		// Where a restart would begin: the committed offset, else the
		// first record this member fetched; nothing fetched yet: the
		// partition's end (an empty fetch).
		base := p.committed
		if base < 0 {
			base = p.first
		}
		if p.hwm >= 0 && base >= 0 {
			l.lag = max(0, p.hwm-base)
		}
		out = append(out, l)
	}
	return out
}

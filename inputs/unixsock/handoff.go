package unixsock

import (
	"slices"
	"sync"
	"time"

	"github.com/alertgw/alertgw/inputs"
	"github.com/alertgw/alertgw/inputs/eventid"
)

// DefaultHandoffBytes bounds the messages read but not yet taken by the
// pipeline.
const DefaultHandoffBytes = 16 << 20

// handoff decouples the socket readers from the pipeline. The kernel queues
// only max_dgram_qlen datagrams (512 with systemd, 10 by default), so at
// 50,000 events/s a reader that stops for 10 ms while the workers are busy
// or the host is loaded makes a non-blocking sender (Suricata live mode)
// drop. A reader that falls behind therefore only reads and copies, and
// puts its batches here; one goroutine hands them to the pipeline (a reader
// that keeps up takes the direct path instead, see put). When the pipeline
// falls behind by more than max bytes, put blocks: back-pressure then
// reaches the kernel queue and the sender, as before, but only after this
// buffer has absorbed the burst.
type handoff struct {
	emit inputs.Emitter
	// direct is emit's direct path (nil when it has none): a reader that
	// keeps up hands its small batches to the pipeline itself, on its own
	// goroutine, when nothing waits here (see put).
	direct inputs.DirectEmitter
	ch     chan pendingBatch
	done   chan struct{}
	mu     sync.Mutex
	freed  *sync.Cond
	bytes  int // bytes put and not yet handed on
	max    int
	// directBusy is set while a reader takes the direct path: one at a
	// time, so that a batch that went to the channel meanwhile is never
	// overtaken by a later one of its socket.
	directBusy bool

	linger time.Duration
	timer  *time.Timer
}

type pendingBatch struct {
	b    *inputs.Batch
	size int
}

func newHandoff(emit inputs.Emitter, max int, linger time.Duration) *handoff {
	h := &handoff{emit: emit, ch: make(chan pendingBatch, 1<<16), done: make(chan struct{}), max: max, linger: linger}
	h.direct, _ = emit.(inputs.DirectEmitter)
	h.timer = time.NewTimer(time.Hour)
	h.timer.Stop()
	h.freed = sync.NewCond(&h.mu)
	go h.run()
	return h
}

// put queues a batch of size bytes, waiting while the buffer is full. A
// batch larger than the whole budget still goes through once the buffer
// is empty.
//
// small says the reader keeps up (its read did not fill its batch): when
// nothing waits here, such a batch goes to the pipeline's direct path on
// the reader's goroutine, which normalizes it and queues its events before
// put returns. That saves two goroutine wake-ups per batch (this
// goroutine's and a worker's), most of the cost of a small batch. A reader
// that falls behind reads full batches and hands them on here, so that
// the workers normalize them while it reads on.
func (h *handoff) put(b *inputs.Batch, size int, small bool) {
	h.mu.Lock()
	if small && h.direct != nil && h.bytes == 0 && !h.directBusy {
		h.directBusy = true
		h.mu.Unlock()
		ok := h.direct.TryMessages(b)
		h.mu.Lock()
		h.directBusy = false
		if ok {
			h.mu.Unlock()
			return
		}
	}
	for h.bytes > 0 && h.bytes+size > h.max {
		h.freed.Wait()
	}
	h.bytes += size
	h.mu.Unlock()
	h.ch <- pendingBatch{b, size}
}

const (
	mergeLimit  = 1024 // most messages merged into one batch
	lingerBatch = 64   // a batch smaller than this waits up to linger for more
)

// DefaultLinger is how long a small batch waits for more (see merge).
const DefaultLinger = time.Millisecond

func (h *handoff) run() {
	defer close(h.done)
	for p := range h.ch {
		b, size := h.merge(p)
		h.emit.Messages(b)
		h.mu.Lock()
		h.bytes -= size
		h.mu.Unlock()
		h.freed.Broadcast()
	}
}

// merge joins to p the batches that follow it, so that the per-batch
// costs downstream (goroutine wake-ups, a channel send, an event slab, an
// output write) are paid once per merged batch:
//
//   - while the merged batch is smaller than lingerBatch, it waits up to
//     linger for more (at 50,000 events/s, 1 ms gathers about 50 events
//     where each recvmmsg returns a handful; an event waits at most that
//     long, and the socket readers are never delayed: they keep reading);
//   - then it takes, without waiting, whatever else piled up while the
//     pipeline was busy, up to mergeLimit messages.
func (h *handoff) merge(p pendingBatch) (*inputs.Batch, int) {
	b, size := p.b, p.size
	var acks []func() // the merged batches' journal acknowledgements
	if b.Durable != nil {
		acks = append(acks, b.Durable)
	}
	defer func() {
		if len(acks) > 1 {
			b.Durable = inputs.JoinAcks(acks...)
		}
	}()
	var timeout <-chan time.Time
	if h.linger > 0 && len(b.Msgs) < lingerBatch {
		h.timer.Reset(h.linger)
		timeout = h.timer.C
		defer h.timer.Stop()
	}
	for len(b.Msgs) < mergeLimit {
		var q pendingBatch
		ok := false
		if timeout != nil && len(b.Msgs) < lingerBatch {
			select {
			case q, ok = <-h.ch:
			case <-timeout:
				timeout = nil
				continue
			}
		} else {
			select {
			case q, ok = <-h.ch:
			default:
			}
		}
		if !ok {
			break
		}
		if b == p.b { // a new slice: the reader's may not be grown in place
			b = &inputs.Batch{Msgs: append(make([][]byte, 0, max(lingerBatch, len(b.Msgs)+len(q.b.Msgs))), b.Msgs...), Received: b.Received, Durable: b.Durable,
				Origins: slices.Clip(b.Origins)}
		}
		if b.Origins != nil || q.b.Origins != nil { // keep the event ids with their messages
			b.Origins = append(eventid.Cover(b.Origins, len(b.Msgs)), eventid.Cover(q.b.Origins, len(q.b.Msgs))...)
		}
		b.Msgs = append(b.Msgs, q.b.Msgs...)
		size += q.size
		if q.b.Durable != nil {
			acks = append(acks, q.b.Durable)
		}
	}
	return b, size
}

// close hands on what is queued and returns once the pipeline took it.
// No put may follow.
func (h *handoff) close() {
	close(h.ch)
	<-h.done
}

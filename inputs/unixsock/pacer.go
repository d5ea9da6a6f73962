package unixsock

import "time"

// readPacer spaces the reads of a datagram socket at low rates, so that each
// read returns several datagrams instead of one.
//
// A reader that reads as soon as a datagram arrives pays a wake-up per
// datagram (the netpoller, the scheduler, two recvmmsg calls): at 20,000
// events/s that is most of what an event costs, more than decoding it. So
// after a read, while the recent arrival rate is low, the reader waits
// Config.Linger (1 ms) before it reads again: the datagrams that arrived
// meanwhile come in one read, for one wake-up.
//
// A pause must never let the socket fill: a non-blocking sender (Suricata in
// live mode) drops what does not fit. What fits is bounded by the sender's
// send buffer (net.core.wmem_default, 212,992 bytes: about 93 EVE records of
// 1.1 KB, since each datagram also costs the kernel about 1 KiB of
// overhead) more than by net.unix.max_dgram_qlen. The pacer therefore
// pauses only while what arrives during a pause at the recent peak rate
// takes less than pauseBudget of it, a third: up to about 30,000 EVE
// records/s with the default 1 ms. It never pauses after a read that
// filled its batch (the reader is behind), nor after an idle spell (a burst
// may follow): it reads at once until it has measured the rate again.
type readPacer struct {
	pause time.Duration // ≤ 0: never pause
	last  time.Time     // when the previous read returned
	rate  float64       // kernel bytes per second, biased to recent peaks
}

const (
	// datagramOverhead approximates what the kernel charges the sender
	// for a datagram beyond its bytes (the socket buffer's bookkeeping).
	datagramOverhead = 1 << 10
	// pauseBudget is the most kernel memory a pause may let pile up: a
	// third of the default send buffer.
	pauseBudget = 64 << 10
	// idleFactor: a read later than idleFactor pauses after the previous
	// one follows an idle spell.
	idleFactor = 4
)

// after returns how long to wait before the next read, given that the read
// that returned at now brought n datagrams of bytes bytes, and full if it
// filled the batch.
func (p *readPacer) after(n, bytes int, full bool, now time.Time) time.Duration {
	el := now.Sub(p.last)
	first := p.last.IsZero()
	p.last = now
	if p.pause <= 0 || full || first || el > idleFactor*p.pause || n == 0 {
		return 0
	}
	inst := float64(bytes+n*datagramOverhead) / max(el.Seconds(), 1e-6)
	if inst > p.rate {
		p.rate = inst
	} else {
		p.rate += (inst - p.rate) / 8
	}
	if p.rate*p.pause.Seconds() > pauseBudget {
		return 0
	}
	return p.pause
}

// wait sleeps d unless stop is closed first; it reports false if stop was.
func wait(t *time.Timer, d time.Duration, stop <-chan struct{}) bool {
	t.Reset(d)
	select {
	case <-t.C:
		return true
	case <-stop:
		t.Stop()
		return false
	}
}

package unixsock

import "time"

// readPacer spaces the reads of a datagram socket, so that each read
// returns several datagrams instead of one.
//
// A reader that reads as soon as a datagram arrives pays a wake-up per
// datagram (a context switch, two recvmmsg calls): at 20,000 events/s that
// is most of what an event costs, more than decoding it. So after a read
// the reader sleeps up to Config.Linger (1 ms) before it reads again: the
// datagrams that arrived meanwhile come in one read, for one wake-up.
//
// A pause must never let the socket fill: a non-blocking sender (Suricata in
// live mode) drops what does not fit. What fits is bounded by the sender's
// send buffer (net.core.wmem_default, 212,992 bytes: about 93 EVE records of
// 1.1 KB, since each datagram also costs the kernel about 1 KiB of
// overhead) more than by net.unix.max_dgram_qlen. What the next read finds
// is what arrived while the reader handled this read's datagrams and then
// paused, so the pause is cut to keep both together, at the recent peak
// rate, within pauseBudget, a third of that buffer: the full 1 ms up to
// about 30,000 EVE records/s, shorter above, and none once handling alone
// uses the budget (around 100,000/s on a 2-core machine). It never pauses
// after a read that filled its batch (the reader is behind), nor after an
// idle spell (a burst may follow): it reads at once until it has measured
// the rate again.
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
	// minPause is the shortest pause worth a nanosleep (whose timer slack
	// is 50 µs).
	minPause = 100 * time.Microsecond
)

// after returns how long to wait before the next read, given that the read
// brought n datagrams of bytes bytes (full if it filled the batch) and that
// handling them took busy, until now.
func (p *readPacer) after(n, bytes int, full bool, busy time.Duration, now time.Time) time.Duration {
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
	// What piles up while this batch was handled and during the pause
	// stays within the budget. Below minPause a pause saves nothing.
	d := p.pause
	if fit := time.Duration(pauseBudget/p.rate*float64(time.Second)) - busy; fit < d {
		d = fit
	}
	if d < minPause {
		return 0
	}
	return d
}

// busy reports whether datagrams arrived, at the last read, faster than a
// pause could wait for them: the socket is seldom empty for long.
func (p *readPacer) busy() bool {
	return p.rate*minPause.Seconds() > pauseBudget/4
}

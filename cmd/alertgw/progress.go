package main

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/alertgw/alertgw/internal/numfmt"
)

// progress shows how a replay advances: on a terminal, one line redrawn in
// place (a bar, the share of the files' contents read, events, events/s,
// bytes, ETA) that ends at 100 %; elsewhere, a line every 5 s. It is also
// the writer of the replay's log, so that a log line never lands in the
// middle of the bar: the bar is wiped, the line written, the bar redrawn.
type progress struct {
	mu     sync.Mutex
	w      io.Writer
	tty    bool
	total  int64         // bytes of the files' contents (gzip: uncompressed)
	read   func() int64  // bytes read so far
	events func() uint64 // events made so far
	start  time.Time
	shown  bool // a bar is on the line now
	done   chan struct{}
	exited chan struct{}
}

const clearLine = "\r\x1b[K"

func newProgress(w io.Writer, tty bool, total int64, read func() int64, events func() uint64) *progress {
	return &progress{w: w, tty: tty, total: total, read: read, events: events, start: time.Now(),
		done: make(chan struct{}), exited: make(chan struct{})}
}

// run redraws every interval until stop.
func (p *progress) run(interval time.Duration) {
	defer close(p.exited)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-p.done:
			return
		case <-t.C:
			p.mu.Lock()
			p.draw(false)
			p.mu.Unlock()
		}
	}
}

// stop draws the last state (complete says every file was read to its
// end: the bar shows 100 %) and leaves the line.
func (p *progress) stop(complete bool) {
	close(p.done)
	<-p.exited
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty {
		p.drawFinal(complete)
	}
}

// Write implements io.Writer for the log: each line goes on a line of its
// own, above the bar.
func (p *progress) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty && p.shown {
		// The bar is decoration: the log line below reports a broken stderr.
		_, _ = io.WriteString(p.w, clearLine)
		p.shown = false
	}
	n, err := p.w.Write(b)
	if p.tty && bytes.HasSuffix(b, []byte("\n")) {
		p.draw(false)
	}
	return n, err
}

func (p *progress) draw(final bool) {
	read, events := p.read(), p.events()
	if !p.tty {
		fmt.Fprintln(p.w, "replay: "+p.status(read, events, final))
		return
	}
	_, _ = io.WriteString(p.w, clearLine+p.bar(read, final)+" "+p.status(read, events, final)) // decoration, as above
	p.shown = true
}

func (p *progress) drawFinal(complete bool) {
	read := p.read()
	if complete {
		// The total of a gzip file is its trailer's estimate: at the end,
		// what was read is the total.
		p.total = read
	}
	_, _ = io.WriteString(p.w, clearLine+p.bar(read, complete)+" "+p.status(read, p.events(), true)+"\n") // decoration, as above
	p.shown = false
}

func (p *progress) fraction(read int64) float64 {
	if p.total <= 0 {
		return 0
	}
	return min(float64(read)/float64(p.total), 1)
}

func (p *progress) bar(read int64, final bool) string {
	const width = 24
	f := p.fraction(read)
	if final && p.total <= 0 {
		f = 1
	}
	full := int(f * width)
	return fmt.Sprintf("replay %3.0f%% [%s%s]", f*100, strings.Repeat("=", full), strings.Repeat(" ", width-full))
}

// status is "12,345 events, 4,567 events/s, 12.0 MiB of 40.0 MiB, ETA 6s"
// (led by the percentage when there is no bar).
func (p *progress) status(read int64, events uint64, final bool) string {
	elapsed := time.Since(p.start)
	rate := float64(events) / max(elapsed.Seconds(), 1e-3)
	var parts []string
	if !p.tty {
		parts = append(parts, fmt.Sprintf("%.1f%%", 100*p.fraction(read)))
	}
	parts = append(parts, thousands(events)+" events", thousands(uint64(rate))+" events/s",
		byteSize(read)+" of "+byteSize(max(p.total, read)))
	switch {
	case final:
		parts = append(parts, "in "+elapsed.Round(time.Millisecond).String())
	case read > 0 && p.total > read:
		eta := time.Duration(float64(elapsed) * float64(p.total-read) / float64(read))
		parts = append(parts, "ETA "+eta.Round(time.Second).String())
	}
	return strings.Join(parts, ", ")
}

// thousands writes n with thousands separators: 1234567 → "1,234,567".
func thousands(n uint64) string {
	return numfmt.Group(strconv.FormatUint(n, 10))
}

func byteSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

package unixsock

import (
	"bytes"
	"testing"

	"github.com/rs/zerolog"

	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/stats"
)

// FuzzLineReader feeds arbitrary bytes, cut into arbitrary reads, to the
// stream line splitter and checks it against a plain reference: split at
// '\n', drop a trailing '\r', skip blank lines, fail lines longer than max
// with their first max bytes.
func FuzzLineReader(f *testing.F) {
	f.Add([]byte("{\"a\":1}\n{\"b\":2}\r\n\n  \n{\"c\""), uint8(3), uint8(16))
	f.Add([]byte("short\n"+string(bytes.Repeat([]byte("L"), 200))+"\nafter\nlast"), uint8(7), uint8(32))
	f.Add([]byte("\n\n\n"), uint8(1), uint8(1))
	f.Add(bytes.Repeat([]byte("x\r"), 100), uint8(64), uint8(9))
	f.Fuzz(func(t *testing.T, data []byte, chunk, max uint8) {
		maxLine := int(max%64) + 1
		step := int(chunk%32) + 1

		rec := newRecorder()
		s := &Server{cfg: Config{Stats: &stats.Input{}}, failLog: zerolog.Nop()}
		out := newHandoff(rec, 1<<30, -1)
		l := &lineReader{s: s, sk: &socket{path: "fuzz"}, emit: rec, out: out, max: maxLine, buf: make([]byte, min(initialLineBuf, maxLine+1))}
		for rest := data; len(rest) > 0; {
			space := l.space()
			n := copy(space, rest[:min(step, len(rest))])
			rest = rest[n:]
			l.consume(n)
		}
		l.finish()
		out.close()

		var wantMsgs, wantFailed [][]byte
		lines := bytes.Split(data, []byte("\n"))
		for _, line := range lines {
			switch {
			case len(line) > maxLine:
				wantFailed = append(wantFailed, line[:maxLine])
			case len(bytes.TrimSpace(bytes.TrimRight(line, "\r"))) == 0:
			default:
				wantMsgs = append(wantMsgs, bytes.TrimRight(line, "\r"))
			}
		}
		if len(rec.msgs) != len(wantMsgs) {
			t.Fatalf("%d lines, want %d: %q vs %q", len(rec.msgs), len(wantMsgs), rec.msgs, wantMsgs)
		}
		for i := range wantMsgs {
			if !bytes.Equal(rec.msgs[i], wantMsgs[i]) {
				t.Fatalf("line %d = %q, want %q", i, rec.msgs[i], wantMsgs[i])
			}
		}
		if len(rec.failed) != len(wantFailed) {
			t.Fatalf("%d too-large lines, want %d", len(rec.failed), len(wantFailed))
		}
		for i := range wantFailed {
			if rec.failed[i].reason != normalize.ReasonTooLarge || !bytes.Equal(rec.failed[i].raw, wantFailed[i]) {
				t.Fatalf("too-large line %d = %q (%s), want %q", i, rec.failed[i].raw, rec.failed[i].reason, wantFailed[i])
			}
		}
		if got := s.cfg.Stats.Received.Load(); got != uint64(len(wantMsgs)+len(wantFailed)) {
			t.Fatalf("Received = %d, want %d", got, len(wantMsgs)+len(wantFailed))
		}
	})
}

package stdout

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/alertgw/alertgw/config"
	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/outputs"
	"github.com/alertgw/alertgw/outputs/format"
)

func batch(first, n, size int) *outputs.Batch {
	ts := time.Date(2026, 11, 22, 10, 11, 12, 0, time.UTC)
	evs := make([]*normalize.Event, n)
	for i := range evs {
		e := &normalize.Event{ID: fmt.Sprintf("ev-%06d", first+i), Timestamp: ts, Kind: normalize.KindAlert,
			Signature: &normalize.Signature{ID: 1, Name: "test"}}
		if pad := size - len(format.Native{}.AppendEvent(nil, e)); pad > 0 {
			e.Signature.Category = strings.Repeat("y", pad)
		}
		evs[i] = e
	}
	return &outputs.Batch{Events: evs}
}

func ids(t *testing.T, raw []byte) []string {
	t.Helper()
	var out []string
	for line := range bytes.Lines(raw) {
		var ev struct{ ID string }
		if err := json.Unmarshal(line, &ev); err != nil || !bytes.HasSuffix(line, []byte("\n")) {
			t.Fatalf("bad line %q: %v", line, err)
		}
		out = append(out, ev.ID)
	}
	return out
}

func want(first, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("ev-%06d", first+i)
	}
	return out
}

// pipe returns a real pipe whose read side is drained into the returned
// channel when the write side closes.
func pipe(t *testing.T) (*os.File, <-chan []byte) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(r)
		r.Close()
		got <- b
	}()
	return w, got
}

func TestWriteThroughPipe(t *testing.T) {
	tests := []struct {
		name    string
		buffer  int
		batches []int
		size    int
	}{
		{"small batches", 64 << 10, []int{1, 2, 3}, 200},
		{"batches larger than the buffer", 4 << 10, []int{30, 1, 40}, 1000},
		{"one line larger than the buffer", 512, []int{1, 1}, 2000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, got := pipe(t)
			out := New(outputs.Env{Encoder: format.Native{}}, w, "pipe", tt.buffer)
			next := 0
			for _, n := range tt.batches {
				if err := out.Write(context.Background(), batch(next, n, tt.size)); err != nil {
					t.Fatal(err)
				}
				next += n
			}
			if err := out.Close(); err != nil {
				t.Fatal(err)
			}
			w.Close()
			if ids := ids(t, <-got); !slices.Equal(ids, want(0, next)) {
				t.Errorf("read %d lines, want %d in order", len(ids), next)
			}
		})
	}
}

// flaky is a writer that takes only part of the bytes on chosen calls, as
// a pipe whose reader went away might.
type flaky struct {
	bytes.Buffer
	calls int
	fail  []int
}

func (f *flaky) Write(p []byte) (int, error) {
	f.calls++
	if slices.Contains(f.fail, f.calls) {
		n, _ := f.Buffer.Write(p[:len(p)/3])
		return n, syscall.EAGAIN
	}
	return f.Buffer.Write(p)
}

// TestRetryNeitherRepeatsNorSkips: after a short write, the retry writes
// the rest, not a second copy.
func TestRetryNeitherRepeatsNorSkips(t *testing.T) {
	for _, fail := range [][]int{{1}, {2, 3}, {1, 2, 4, 6}} {
		t.Run(fmt.Sprint(fail), func(t *testing.T) {
			w := &flaky{fail: fail}
			out := New(outputs.Env{}, w, "flaky", 4<<10)
			failures, next := 0, 0
			for _, n := range []int{10, 3, 12} {
				b := batch(next, n, 900)
				next += n
				for out.Write(context.Background(), b) != nil {
					failures++
				}
			}
			for out.Flush() != nil {
				failures++
			}
			if failures == 0 {
				t.Fatal("no failure injected")
			}
			if ids := ids(t, w.Bytes()); !slices.Equal(ids, want(0, next)) {
				t.Errorf("after %d failures: %v", failures, ids)
			}
		})
	}
}

// TestWriteReachesTheStream: a Write that returns nil has handed its lines
// to the stream (the pipeline acknowledges them on that nil).
func TestWriteReachesTheStream(t *testing.T) {
	var buf bytes.Buffer
	out := New(outputs.Env{}, &buf, "buf", 64<<10)
	if err := out.Write(context.Background(), batch(0, 3, 200)); err != nil {
		t.Fatal(err)
	}
	if ids := ids(t, buf.Bytes()); len(ids) != 3 {
		t.Fatalf("%d lines in the stream after Write, want 3", len(ids))
	}
	out.Close()
	if err := out.Write(context.Background(), batch(3, 1, 200)); err == nil {
		t.Error("Write after Close succeeded")
	}
}

func TestBrokenPipeIsAnError(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	defer w.Close()
	out := New(outputs.Env{}, w, "pipe", 4<<10)
	out.Write(context.Background(), batch(0, 1, 200))
	err = out.Flush()
	if err == nil || !strings.Contains(err.Error(), "flush pipe") {
		t.Errorf("Flush = %v, want a wrapped EPIPE", err)
	}
}

func TestOptions(t *testing.T) {
	tests := []struct {
		raw  map[string]any
		want []string
	}{
		{map[string]any{}, nil},
		{map[string]any{"stream": "stderr", "buffer_size": "1MiB"}, nil},
		{map[string]any{"stream": "stdin"}, []string{"o.stream"}},
		{map[string]any{"buffer_size": "1GiB"}, []string{"o.buffer_size"}},
		{map[string]any{"path": "x"}, []string{"o.path"}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.raw), func(t *testing.T) {
			var got []string
			for _, p := range config.Decode(tt.raw, "o", Plugin.Options()) {
				got = append(got, p.Path)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("problems %v, want %v", got, tt.want)
			}
		})
	}
	out, err := Plugin.New(outputs.Env{}, &Options{Stream: "stderr", BufferSize: 4096})
	if err != nil {
		t.Fatal(err)
	}
	if o := out.(*Output); o.w != os.Stderr {
		t.Error("stream: stderr does not write to stderr")
	}
	if _, err := Plugin.New(outputs.Env{}, &Options{Stream: "tty", BufferSize: 4096}); err == nil {
		t.Error("invalid options accepted by New")
	}
}

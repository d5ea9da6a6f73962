package pipeline

import (
	"bytes"
	"context"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/alertgw/alertgw/inputs"
	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/outputs"
	"github.com/alertgw/alertgw/outputs/format"
	"github.com/alertgw/alertgw/stats"
)

// eventsInput emits its events once, then waits for the end.
type eventsInput struct{ evs []*normalize.Event }

func (in eventsInput) Run(ctx context.Context, emit inputs.Emitter) error {
	emit.Events(in.evs, nil)
	<-ctx.Done()
	return nil
}

func (in eventsInput) Close() error { return nil }

// linesOutput keeps what it was given, encoded.
type linesOutput struct {
	mu    sync.Mutex
	lines [][]byte
	got   chan struct{}
}

func (o *linesOutput) Write(_ context.Context, b *outputs.Batch) error {
	l := b.Encode(format.Native{})
	o.mu.Lock()
	for i := range b.Events {
		o.lines = append(o.lines, bytes.Clone(l.Line(i)))
	}
	o.mu.Unlock()
	o.got <- struct{}{}
	return nil
}

func (o *linesOutput) Close() error { return nil }

type labelEnricher struct{}

func (labelEnricher) Enrich(e *normalize.Event) {
	e.SrcLabels = []string{"home_net"}
	e.Observer = &normalize.Observer{Site: "fra1"}
}

// TestEnricherRunsBeforeEncoding checks that the optional Enricher sees
// every event after completion and that outputs get its additions.
func TestEnricherRunsBeforeEncoding(t *testing.T) {
	reg := stats.NewRegistry()
	e := &normalize.Event{Kind: normalize.KindAlert}
	e.SetAddrs(netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2"), 1, 2, true)
	e.SetProto(6)
	out := &linesOutput{got: make(chan struct{}, 1)}
	p, err := New(Options{Sensor: "s1", Workers: 1, Log: zerolog.Nop(), Enricher: labelEnricher{}},
		[]Input{{Name: "in", Type: "test", Reader: eventsInput{[]*normalize.Event{e}}, Stats: reg.Input("in", "test"), Log: zerolog.Nop()}},
		[]Output{{Name: "out", Type: "test", Writer: out, Encoder: format.Native{}, Buffer: DefaultDelivery().Buffer, Stats: reg.Output("out", "test"), Log: zerolog.Nop()}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	select {
	case <-out.got:
	case <-time.After(5 * time.Second):
		t.Fatal("no batch delivered")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	line := string(out.lines[0])
	for _, want := range []string{`"src_labels":["home_net"]`, `"observer":{"site":"fra1"}`, `"community_id":"1:`} {
		if !bytes.Contains(out.lines[0], []byte(want)) {
			t.Errorf("output lacks %s: %s", want, line)
		}
	}
}

package pipeline_test

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/alertgw/alertgw/internal/testutil"
	"github.com/alertgw/alertgw/outputs"
	"github.com/alertgw/alertgw/outputs/file"
	"github.com/alertgw/alertgw/outputs/format"
	"github.com/alertgw/alertgw/outputs/kafka"
	"github.com/alertgw/alertgw/pipeline"
	"github.com/alertgw/alertgw/stats"
)

// TestDeadKafkaDoesNotStallFile runs the real writers side by side: a kafka
// output whose brokers do not exist and a file output. Every event reaches
// the file while Kafka's events spill to its disk buffer; none is dropped.
func TestDeadKafkaDoesNotStallFile(t *testing.T) {
	const n = 30_000
	dir := t.TempDir()
	// A port nobody listens on: connections are refused at once.
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := l.Addr().String()
	l.Close()

	kopts := kafka.Plugin.Options().(*kafka.Options)
	kopts.Brokers, kopts.Timeout = []string{dead}, time.Second
	kst := &stats.Output{Name: "kafka"}
	kw, err := kafka.New(outputs.Env{Name: "kafka", Log: zerolog.Nop(), Stats: kst, Encoder: format.Native{}}, kopts)
	if err != nil {
		t.Fatal(err)
	}
	fopts := file.DefaultOptions()
	fopts.Path = filepath.Join(dir, "alerts.json")
	fst := &stats.Output{Name: "file"}
	fw, err := file.New(outputs.Env{Name: "file", Log: zerolog.Nop(), Stats: fst, Encoder: format.Native{}}, *fopts)
	if err != nil {
		t.Fatal(err)
	}
	def := pipeline.DefaultDelivery()
	kbuf := def.Buffer
	kbuf.MaxEvents, kbuf.Path = 1000, filepath.Join(dir, "kafka-buffer")
	p, err := pipeline.New(pipeline.Options{Workers: 2, Log: zerolog.Nop(), ShutdownTimeout: 5 * time.Second},
		[]pipeline.Input{{Name: "eve", Type: "suricata", Reader: &testutil.Events{N: n}, Stats: &stats.Input{}, Log: zerolog.Nop()}},
		[]pipeline.Output{
			{Name: "kafka", Type: "kafka", Writer: kw, Encoder: format.Native{}, Buffer: kbuf, Retry: def.Retry, Stats: kst, Log: zerolog.Nop()},
			{Name: "file", Type: "file", Writer: fw, Encoder: format.Native{}, Buffer: def.Buffer, Stats: fst, Log: zerolog.Nop()},
		})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { p.Run(ctx) })
	deadline := time.Now().Add(30 * time.Second)
	for fst.Written.Load() < n {
		if time.Now().After(deadline) {
			t.Fatalf("file output wrote %d of %d while kafka was down (kafka queued %d, spilled %d)", fst.Written.Load(), n, kst.Queued.Load(), kst.Spilled.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if kst.Written.Load() != 0 {
		t.Fatalf("kafka delivered %d to a broker that does not exist", kst.Written.Load())
	}
	if q := kst.Queued.Load(); q != n {
		t.Fatalf("kafka holds %d events, want %d", q, n)
	}
	cancel()
	wg.Wait()
	data, err := os.ReadFile(fopts.Path)
	if err != nil {
		t.Fatal(err)
	}
	if lines := bytes.Count(data, []byte{'\n'}); lines != n {
		t.Fatalf("file has %d lines, want %d", lines, n)
	}
	if d := kst.Dropped.Total() + fst.Dropped.Total(); d != 0 {
		t.Fatalf("%d events dropped", d)
	}
	// What Kafka did not get is on disk for the next start.
	if kst.Spilled.Load() < n-2000 {
		t.Fatalf("kafka spilled %d", kst.Spilled.Load())
	}
}

package snort

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/alertgw/alertgw/config"
	"github.com/alertgw/alertgw/inputs"
	"github.com/alertgw/alertgw/internal/testutil"
	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/stats"
)

// decodingEmitter decodes raw batches with the input, as the pipeline does.
type decodingEmitter struct {
	mu     sync.Mutex
	dec    inputs.Decoder
	events []*normalize.Event
	failed []string
}

func (e *decodingEmitter) Messages(b *inputs.Batch) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, m := range b.Msgs {
		ev := &normalize.Event{}
		if err := e.dec.Decode(m, ev); err != nil {
			e.failed = append(e.failed, err.Error())
			continue
		}
		e.events = append(e.events, ev)
	}
	if b.Done != nil {
		b.Done()
	}
}
func (e *decodingEmitter) Events([]*normalize.Event, func()) {}
func (e *decodingEmitter) Failed(raw []byte, reason string, err error) {
	e.mu.Lock()
	e.failed = append(e.failed, reason)
	e.mu.Unlock()
}

func (e *decodingEmitter) counts() (int, int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.events), len(e.failed)
}

func sendTo(t *testing.T, path string, msgs ...[]byte) {
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, m := range msgs {
		if _, err := c.Write(m); err != nil {
			t.Fatal(err)
		}
	}
}

// Snort 3 with two packet threads (0_snort_alert, 1_snort_alert) and a
// Barnyard2 datagram, through real sockets; a datagram larger than any
// Alertpkt is cut by the kernel and dead-lettered, an unknown size fails.
func TestSnortInputSockets(t *testing.T) {
	dir := t.TempDir()
	o := DefaultOptions()
	o.Socket = Paths{filepath.Join(dir, "0_snort_alert"), filepath.Join(dir, "1_snort_alert")}
	if p := o.Validate(); len(p) > 0 {
		t.Fatal(p)
	}
	st := &stats.Input{}
	in, dec, err := Plugin.Build(inputs.Env{Name: "snort", Log: zerolog.Nop(), Stats: st}, o)
	if err != nil {
		t.Fatal(err)
	}
	em := &decodingEmitter{dec: dec}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- in.Run(ctx, em) }()

	s3a := testutil.ReadGz(t, "testdata/unsock-0001.bin.gz")
	s3b := testutil.ReadGz(t, "testdata/unsock-0016.bin.gz")
	by2 := testutil.ReadGz(t, "testdata/unsock-0020.bin.gz")
	sendTo(t, o.Socket[0], s3a, by2)
	sendTo(t, o.Socket[1], s3b, make([]byte, 70000), make([]byte, 5000))
	deadline := time.Now().Add(5 * time.Second)
	for {
		n, f := em.counts()
		if n == 3 && f == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d events, %d failures", n, f)
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	sigs := map[uint32]bool{}
	for _, ev := range em.events {
		sigs[ev.Signature.ID] = true
	}
	if !sigs[1000001] || !sigs[1000005] || !sigs[1000008] {
		t.Errorf("signatures %v", sigs)
	}
	if _, err := os.Stat(o.Socket[0]); !os.IsNotExist(err) {
		t.Error("socket file left behind")
	}
}

func TestOptions(t *testing.T) {
	o := DefaultOptions()
	if len(o.Socket) != 1 || o.Socket[0] != "/var/log/snort/snort_alert" {
		t.Errorf("default socket %v", o.Socket)
	}
	o.Format, o.LinkType, o.SocketType = "snort4", "token-ring", "stream"
	if p := o.Validate(); len(p) != 3 {
		t.Errorf("problems %v", p)
	}
	// `socket: path` and `socket: [a, b]` both decode.
	for _, raw := range []map[string]any{{"socket": "/tmp/x"}, {"socket": []any{"/tmp/a", "/tmp/b"}}} {
		o := DefaultOptions()
		if p := config.Decode(raw, "inputs[0]", o); len(p) > 0 {
			t.Errorf("%v: %v", raw, p)
		}
	}
}

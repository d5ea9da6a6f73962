package snort

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/alertgw/alertgw/inputs"
	"github.com/alertgw/alertgw/inputs/unixsock"
	"github.com/alertgw/alertgw/internal/testutil"
	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/stats"
)

// heldEmitter decodes each batch as the pipeline does and hands its
// acknowledgement to the test, which decides when the outputs "accepted" it.
type heldEmitter struct {
	dec    inputs.Decoder
	mu     sync.Mutex
	events []*normalize.Event
	failed []string
	acks   chan func()
}

func (e *heldEmitter) Messages(b *inputs.Batch) {
	e.mu.Lock()
	for _, m := range b.Msgs {
		ev := &normalize.Event{}
		if err := e.dec.Decode(m, ev); err != nil {
			e.failed = append(e.failed, err.Error())
			continue
		}
		e.events = append(e.events, ev)
	}
	e.mu.Unlock()
	e.acks <- b.Done
}
func (e *heldEmitter) Events([]*normalize.Event, func()) {}
func (e *heldEmitter) Failed(raw []byte, reason string, err error) {
	e.mu.Lock()
	e.failed = append(e.failed, reason)
	e.mu.Unlock()
}

// barnyard2Sync is the client side of Barnyard2's `output alert_unixsock:
// PATH sync` (spo_alert_unixsock.c): socket(AF_UNIX, SOCK_SEQPACKET),
// connect(), then per alert send() the 1856-byte Alertpkt and read() one
// byte before the next.
type barnyard2Sync struct{ c *net.UnixConn }

func dialBarnyard2Sync(t *testing.T, path string) *barnyard2Sync {
	t.Helper()
	c, err := net.DialUnix("unixpacket", nil, &net.UnixAddr{Name: path, Net: "unixpacket"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &barnyard2Sync{c}
}

func (b *barnyard2Sync) send(t *testing.T, alert []byte) {
	t.Helper()
	if n, err := b.c.Write(alert); err != nil || n != len(alert) {
		t.Fatalf("send: %d, %v", n, err)
	}
}

// reply reads the one-byte answer, or reports none within d.
func (b *barnyard2Sync) reply(t *testing.T, d time.Duration) bool {
	t.Helper()
	b.c.SetReadDeadline(time.Now().Add(d))
	buf := make([]byte, 16)
	n, err := b.c.Read(buf)
	if err != nil {
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			return false
		}
		t.Fatalf("read reply: %v", err)
	}
	if n != 1 || buf[0] != unixsock.SeqPacketReply {
		t.Fatalf("reply %q, want one byte", buf[:n])
	}
	return true
}

// Barnyard2's sync mode with its real datagrams (Barnyard2 2.1.14 reading
// Snort 2.9.20's unified2 file, normalize/snort/testdata): each alert is
// answered with one byte only once the pipeline acknowledged it, never
// before, so Barnyard2 waits while the outputs are behind; the decoded
// events are those of by2-alert.fast. A message longer than
// max_message_size is dead-lettered and answered (Barnyard2 must not hang),
// and at shutdown an alert already taken is answered once acknowledged.
func TestBarnyard2SyncSeqPacket(t *testing.T) {
	dir := t.TempDir()
	o := DefaultOptions()
	o.Socket = Paths{filepath.Join(dir, "barnyard2_alert")}
	o.SocketType = "seqpacket"
	if p := o.Validate(); len(p) > 0 {
		t.Fatal(p)
	}
	st := &stats.Input{}
	in, dec, err := Plugin.Build(inputs.Env{Name: "by2", Log: zerolog.Nop(), Stats: st}, o)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	em := &heldEmitter{dec: dec, acks: make(chan func(), 1)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- in.Run(ctx, em) }()

	by2 := dialBarnyard2Sync(t, o.Socket[0])
	files := []string{"unsock-0001", "unsock-0011", "unsock-0018", "unsock-0020"}
	for _, f := range files {
		by2.send(t, testutil.ReadGz(t, "../../normalize/snort/testdata/barnyard2-2.1.14/"+f+".bin.gz"))
		ack := <-em.acks
		if by2.reply(t, 150*time.Millisecond) {
			t.Fatalf("%s: answered before the pipeline acknowledged it", f)
		}
		ack()
		if !by2.reply(t, 5*time.Second) {
			t.Fatalf("%s: no answer after the acknowledgement", f)
		}
	}
	fast := strings.Split(strings.TrimSpace(string(mustRead(t, "../../normalize/snort/testdata/barnyard2-2.1.14/by2-alert.fast"))), "\n")
	em.mu.Lock() // the emitter is quiet: every message was answered
	if len(em.events) != len(files) || len(em.failed) != 0 {
		t.Fatalf("%d events, failures %v", len(em.events), em.failed)
	}
	for i, f := range files {
		line := fast[lineNumber(t, f)-1]
		ev := em.events[i]
		if ev.Source.Type != "barnyard2" || !strings.Contains(line, ev.Signature.Name) || ev.Signature.Name == "" {
			t.Errorf("%s: event %s %q, by2-alert.fast line %q", f, ev.Source.Type, ev.Signature.Name, line)
		}
	}

	em.mu.Unlock()

	// Too long for max_message_size: dead-lettered, answered.
	by2.send(t, make([]byte, int(o.MaxMessageSize)+100))
	if !by2.reply(t, 5*time.Second) {
		t.Fatal("an over-long message was not answered")
	}
	em.mu.Lock()
	if len(em.failed) != 1 || em.failed[0] != normalize.ReasonTruncated {
		t.Fatalf("failures %v", em.failed)
	}
	em.mu.Unlock()

	// Shutdown with an alert taken but not yet acknowledged: answered once
	// the pipeline acknowledges it, then the connection closes.
	by2.send(t, testutil.ReadGz(t, "../../normalize/snort/testdata/barnyard2-2.1.14/unsock-0001.bin.gz"))
	ack := <-em.acks
	cancel()
	time.Sleep(50 * time.Millisecond)
	ack()
	if !by2.reply(t, 5*time.Second) {
		t.Fatal("the alert in flight at shutdown was not answered")
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := st.Received.Load(); got != 6 {
		t.Errorf("received %d, want 6", got)
	}
}

// A seqpacket socket is refused where no sender uses one, and a stream one
// by the snort input.
func TestSocketTypes(t *testing.T) {
	for typ, ok := range map[string]bool{"dgram": true, "seqpacket": true, "stream": false, "raw": false} {
		o := DefaultOptions()
		o.SocketType = typ
		p := o.Validate()
		if ok != (len(p) == 0) {
			t.Errorf("socket_type %s: %v", typ, p)
		}
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// lineNumber is the alert line a corpus datagram belongs to (unsock-NNNN).
func lineNumber(t *testing.T, name string) int {
	t.Helper()
	n, err := strconv.Atoi(strings.TrimPrefix(name, "unsock-"))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

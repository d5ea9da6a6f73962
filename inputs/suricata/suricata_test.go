package suricata

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
	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/stats"
)

func TestOptionsFromConfig(t *testing.T) {
	tests := []struct {
		name  string
		block map[string]any
		probs []string
	}{
		{"defaults", map[string]any{}, nil},
		{"stream with sizes", map[string]any{"socket": "/tmp/x.sock", "socket_type": "stream", "socket_mode": "0640", "max_line_size": "4MiB", "receive_buffer": "8MiB"}, nil},
		{"yaml octal number", map[string]any{"socket_mode": 0o600}, nil},
		{"bad values", map[string]any{"socket": "", "socket_type": "raw", "max_message_size": "1KB"}, []string{
			"inputs[0].socket: a socket path is required",
			`inputs[0].socket_type: must be dgram or stream, not "raw"`,
			"inputs[0].max_message_size: must be between 1KiB and 64MiB, not 1000",
		}},
		{"unknown key", map[string]any{"sockett": "/x"}, []string{`inputs[0].sockett: unknown key; did you mean "socket"?`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := Plugin.Options()
			tt.block["type"] = "suricata"
			probs := config.DecodeBlock(config.Block{Name: "s", Type: "suricata", Path: "inputs[0]", Options: tt.block}, opts)
			var got []string
			for _, p := range probs {
				got = append(got, p.String())
			}
			if len(got) != len(tt.probs) {
				t.Fatalf("problems %q, want %q", got, tt.probs)
			}
			for i := range got {
				if got[i] != tt.probs[i] {
					t.Errorf("problem %q, want %q", got[i], tt.probs[i])
				}
			}
		})
	}
}

type recorder struct {
	mu     sync.Mutex
	msgs   [][]byte
	failed []string
}

func (r *recorder) Messages(b *inputs.Batch) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, b.Msgs...)
}
func (r *recorder) Events([]*normalize.Event, func()) {}
func (r *recorder) Failed(_ []byte, reason string, _ error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed = append(r.failed, reason)
}

// TestInputOverRealSockets sends EVE records the way Suricata does (one
// send() per record, each ending in "\n") and decodes what the input hands on.
func TestInputOverRealSockets(t *testing.T) {
	rec := []byte(`{"timestamp":"2026-11-22T10:11:12.123456+0100","flow_id":1234567890123456789,"event_type":"alert","src_ip":"10.0.0.5","src_port":51514,"dest_ip":"192.0.2.10","dest_port":22,"proto":"TCP","alert":{"action":"allowed","gid":1,"signature_id":2001219,"rev":20,"signature":"ET SCAN Potential SSH Scan","category":"Attempted Information Leak","severity":2}}` + "\n")
	for _, typ := range []string{"dgram", "stream"} {
		t.Run(typ, func(t *testing.T) {
			dir, _ := os.MkdirTemp("/tmp", "suri")
			defer os.RemoveAll(dir)
			o := DefaultOptions()
			o.Socket = filepath.Join(dir, "run", "suricata.sock")
			o.SocketType = typ
			if p := o.Validate(); len(p) > 0 {
				t.Fatal(p)
			}
			st := &stats.Input{}
			in, dec, err := Plugin.Build(inputs.Env{Name: "suricata", Log: zerolog.Nop(), Stats: st}, o)
			if err != nil {
				t.Fatal(err)
			}
			if dec == nil {
				t.Fatal("the plugin declares no decoder")
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error)
			r := &recorder{}
			go func() { done <- in.Run(ctx, r) }()

			network := map[string]string{"dgram": "unixgram", "stream": "unix"}[typ]
			c, err := net.Dial(network, o.Socket)
			if err != nil {
				t.Fatal(err)
			}
			for range 5 {
				if _, err := c.Write(rec); err != nil {
					t.Fatal(err)
				}
			}
			c.Close()
			deadline := time.Now().Add(5 * time.Second)
			for st.Received.Load() < 5 && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if len(r.msgs) != 5 {
				t.Fatalf("%d messages, want 5", len(r.msgs))
			}
			for _, m := range r.msgs {
				var ev normalize.Event
				if err := dec.Decode(m, &ev); err != nil {
					t.Fatalf("decode %q: %v", m, err)
				}
				if ev.Kind != normalize.KindAlert || ev.FlowID != 1234567890123456789 {
					t.Errorf("decoded kind %q flow_id %d", ev.Kind, ev.FlowID)
				}
			}
			if _, err := os.Lstat(o.Socket); !os.IsNotExist(err) {
				t.Error("socket left behind")
			}
		})
	}
}

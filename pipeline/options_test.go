package pipeline

import (
	"slices"
	"testing"

	"github.com/alertgw/alertgw/config"
	"github.com/alertgw/alertgw/pipeline/aggregate"
)

func TestDeliveryValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*Delivery)
		key  string // the problem expected, "" for none
	}{
		{"defaults", func(*Delivery) {}, ""},
		{"memory with spill path", func(c *Delivery) { c.Buffer.Path = "/var/lib/alertgw/buf" }, ""},
		{"disk without path", func(c *Delivery) { c.Buffer.Type = BufferDisk }, "buffer.path"},
		{"unknown type", func(c *Delivery) { c.Buffer.Type = "ssd" }, "buffer.type"},
		{"tiny max_bytes", func(c *Delivery) { c.Buffer.Path = "/x"; c.Buffer.MaxBytes = 1000 }, "buffer.max_bytes"},
		{"bad sync", func(c *Delivery) { c.Buffer.Sync = "sometimes" }, "buffer.sync"},
		{"bad policy", func(c *Delivery) { c.Buffer.WhenFull = "panic" }, "buffer.when_full"},
		{"zero batch", func(c *Delivery) { c.Batch.MaxEvents = 0 }, "batch.max_events"},
		{"negative linger", func(c *Delivery) { c.Batch.Linger = -1 }, "batch.linger"},
		{"max below initial", func(c *Delivery) { c.Retry.Max = c.Retry.Initial / 2 }, "retry"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultDelivery()
			tc.mod(c)
			p := c.Validate()
			if tc.key == "" {
				if len(p) > 0 {
					t.Fatalf("unexpected problems: %v", p)
				}
				return
			}
			if len(p) != 1 || p[0].Path != tc.key {
				t.Fatalf("problems %v, want one at %s", p, tc.key)
			}
		})
	}
}

// TestAggregateKeyDefaultIsNotShared: one block's key: decoded into its
// defaults leaves the next aggregation's default key alone (the decoder
// writes into the slice it finds).
func TestAggregateKeyDefaultIsNotShared(t *testing.T) {
	a := DefaultAggregateOptions()
	if p := config.Decode(map[string]any{"key": []any{"dest_port"}}, "aggregate", a); len(p) > 0 {
		t.Fatal(p)
	}
	if !slices.Equal(a.Key, []string{"dest_port"}) {
		t.Fatalf("decoded key %v", a.Key)
	}
	if b := DefaultAggregateOptions(); !slices.Equal(b.Key, aggregate.DefaultKey) || !slices.Equal(aggregate.DefaultKey, []string{"signature.gid", "signature.id", "src_ip", "dest_ip"}) {
		t.Errorf("the default key changed: %v (package default %v)", b.Key, aggregate.DefaultKey)
	}
}

package unixsock

import (
	"bytes"
	"strings"
	"testing"
)

func TestArenaCopy(t *testing.T) {
	for _, parts := range [][]string{
		{"one"},
		{"a", "bc", "def"},
		{`{"event_type":"alert"}`, `{"event_type":"flow"}`},
	} {
		in := make([][]byte, len(parts))
		for i, p := range parts {
			in[i] = []byte(p)
		}
		got := arenaCopy(in)
		for i := range in {
			in[i][0] = '#' // the read buffer is reused: the copies must not see it
		}
		if len(got) != len(parts) {
			t.Fatalf("%q: %d messages, want %d", parts, len(got), len(parts))
		}
		for i, p := range parts {
			if string(got[i]) != p {
				t.Errorf("%q: message %d is %q, want %q", parts, i, got[i], p)
			}
			if cap(got[i]) != len(got[i]) {
				t.Errorf("%q: message %d has capacity %d beyond its %d bytes: an append would overwrite the next", parts, i, cap(got[i]), len(got[i]))
			}
		}
		if joined := bytes.Join(got, nil); string(joined) != strings.Join(parts, "") {
			t.Errorf("%q: joined %q", parts, joined)
		}
	}
}

package jsonstr

import (
	"encoding/json"
	"testing"
)

func TestAppend(t *testing.T) {
	for in, want := range map[string]string{
		"plain":        `"plain"`,
		"q\"b\\":       `"q\"b\\"`,
		"\x00\x1f\x7f": `"\u0000\u001f\u007f"`,
		"\n\r\t":       `"\n\r\t"`,
		"\xff\xfeé":    `"` + "\ufffd\ufffd" + `é"`,
	} {
		if got := string(AppendString(nil, in)); got != want {
			t.Errorf("%q: %s, want %s", in, got, want)
		}
	}
}

func FuzzAppend(f *testing.F) {
	f.Add([]byte("GET /\x00\xff\"\\"))
	f.Fuzz(func(t *testing.T, b []byte) {
		out := Append(nil, b)
		var s string
		if err := json.Unmarshal(out, &s); err != nil {
			t.Fatalf("%q -> invalid JSON %s: %v", b, out, err)
		}
	})
}

package audit

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/alertgw/alertgw/internal/nativetest"
	"github.com/alertgw/alertgw/normalize"
)

// FuzzParseLine feeds arbitrary lines through the parser, the assembler
// and the mapper: nothing may panic, every event must encode to valid JSON,
// and a parse failure must be a *normalize.Error with a reason.
func FuzzParseLine(f *testing.F) {
	logs, _ := filepath.Glob("testdata/*.log")
	for _, l := range logs {
		b, err := os.ReadFile(l)
		if err != nil {
			f.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			f.Add(append([]byte(nil), sc.Bytes()...))
		}
	}
	f.Add([]byte("type=EXECVE msg=audit(1.1:1): argc=2 a0_len=4 a0[0]=4142 a0[1]=4344 a1=\"x\""))
	f.Add([]byte("node=h type=PROCTITLE msg=audit(1.1:1): proctitle=6C730061\x1dUID=\"root\""))
	f.Fuzz(func(t *testing.T, line []byte) {
		p := NewProcessor(AssemblerOptions{Timeout: time.Hour}, fixedResolver{}, NewTable(TableOptions{MaxEntries: 4}))
		var evs []*normalize.Event
		for _, l := range bytes.Split(line, []byte("\n")) {
			var err error
			evs, err = p.Line(l, evs)
			if err != nil {
				if _, ok := err.(*normalize.Error); !ok {
					t.Fatalf("error %T is not a *normalize.Error: %v", err, err)
				}
			}
		}
		evs = p.Close(evs)
		for _, ev := range evs {
			if b := nativetest.Line(ev); !json.Valid(b) {
				t.Fatalf("invalid JSON for %q: %s", line, b)
			}
		}
	})
}

package unified2

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/alertgw/alertgw/inputs/replay"
	u2 "github.com/alertgw/alertgw/normalize/unified2"
)

// `alertgw replay --type unified2`: plain and gzip files through the
// plugin's FileReader, a truncated one counted, every batch acknowledged.
func TestReplayUnified2PlainAndGzip(t *testing.T) {
	dir := t.TempDir()
	raw, err := os.ReadFile("testdata/snort.u2.1795384908")
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	z := gzip.NewWriter(&gz)
	z.Write(raw)
	z.Close()
	os.WriteFile(filepath.Join(dir, "a.u2"), raw, 0o644)
	os.WriteFile(filepath.Join(dir, "b.u2.gz"), gz.Bytes(), 0o644)
	os.WriteFile(filepath.Join(dir, "c.u2"), raw[:len(raw)-5], 0o644) // truncated
	in := &replay.Input{Files: []string{filepath.Join(dir, "a.u2"), filepath.Join(dir, "b.u2.gz"), filepath.Join(dir, "c.u2")},
		Reader: &FileReader{Mapper: &u2.Mapper{}, BatchSize: 5}}
	r := &recorder{ackDelay: time.Millisecond}
	if err := in.Run(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	<-in.Finished()
	if r.count() != 23*3 {
		t.Errorf("%d events, want 69 (the truncated file's last alert keeps its event record)", r.count())
	}
	if len(r.failed) != 1 || len(in.FileErrors) != 1 {
		t.Errorf("failed %q, file errors %v", r.failed, in.FileErrors)
	}
	if in.Read.Load() == 0 {
		t.Error("no progress counted")
	}
}

// The plugin declares the reader replay uses, with the options' maps.
func TestPluginFiles(t *testing.T) {
	fr, err := Plugin.Files(DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := fr.(*FileReader); !ok || r.Mapper == nil || r.Mapper.NoPacketBytes {
		t.Fatalf("reader %#v", fr)
	}
	o := DefaultOptions()
	o.Signatures.GenMsg = filepath.Join(t.TempDir(), "missing")
	if _, err := Plugin.Files(o); err == nil {
		t.Error("a missing gen-msg.map must fail")
	}
}

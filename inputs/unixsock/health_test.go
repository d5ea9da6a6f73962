package unixsock

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSocketGoneIsNotReady: a socket file removed or replaced while the
// input runs leaves it unreachable, and its stats say so.
func TestSocketGoneIsNotReady(t *testing.T) {
	for _, typ := range []Type{Dgram, Stream} {
		t.Run(string(typ), func(t *testing.T) {
			dir := shortTempDir(t)
			path := filepath.Join(dir, "s.sock")
			cfg := testConfig(t, typ, path)
			srv, err := Listen(cfg)
			if err != nil {
				t.Fatal(err)
			}
			start(t, srv, newRecorder())
			if p := cfg.Stats.Problem(); p != "" {
				t.Fatalf("fresh socket: problem %q", p)
			}
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
			if p := cfg.Stats.Problem(); !strings.Contains(p, path+" is gone") {
				t.Errorf("removed socket: problem %q", p)
			}
			// Someone else's socket in its place.
			l, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			if p := cfg.Stats.Problem(); !strings.Contains(p, "was replaced by another file") {
				t.Errorf("replaced socket: problem %q", p)
			}
		})
	}
}

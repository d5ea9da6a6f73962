package unixsock

import (
	"fmt"
	"maps"
	"net"
	"path/filepath"
	"testing"

	"github.com/alertgw/alertgw/inputs/eventid"
	"github.com/alertgw/alertgw/inputs/journal"
)

// TestJournaledIDsSurviveReplay: with a journal, every datagram's batch
// names its origin, so each message has an event id; the journal replays
// the same messages after a restart with the same ids, also when the
// hand-off merged several reads into one batch.
func TestJournaledIDsSurviveReplay(t *testing.T) {
	jdir := filepath.Join(t.TempDir(), "journal")
	j, err := journal.Open(journal.Options{Dir: jdir})
	if err != nil {
		t.Fatal(err)
	}
	_, rec, path, stop := serve(t, Dgram, "j.sock", func(c *Config) { c.Journal = j })
	c, err := net.Dial("unixgram", path)
	if err != nil {
		t.Fatal(err)
	}
	const n = 300
	for i := range n {
		if _, err := fmt.Fprintf(c, `{"n":%d}`, i); err != nil {
			t.Fatal(err)
		}
	}
	c.Close()
	rec.waitFor(t, "every datagram", func() bool { return len(rec.msgs) == n })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	j.Close() // nothing acknowledged: all of it is replayed

	live := map[string]string{}
	rec.mu.Lock()
	for _, b := range rec.batches {
		ids := eventid.NewIDs(b.Origins)
		for _, m := range b.Msgs {
			live[string(m)] = ids.Next()
		}
	}
	merged := len(rec.batches) < n
	rec.mu.Unlock()
	seen := map[string]bool{}
	for m, id := range live {
		if id == "" || seen[id] {
			t.Fatalf("message %s has id %q (empty, or another message's)", m, id)
		}
		seen[id] = true
	}

	j2, err := journal.Open(journal.Options{Dir: jdir})
	if err != nil {
		t.Fatal(err)
	}
	defer j2.Close()
	replayed := map[string]string{}
	if err := j2.Replay(func(msgs [][]byte, _ uint64, o eventid.Origin) {
		for i, m := range msgs {
			replayed[string(m)] = o.EventID(i)
		}
	}); err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(live, replayed) {
		t.Fatalf("replayed ids differ from the live ones\nlive:     %v\nreplayed: %v", live, replayed)
	}
	t.Logf("%d messages in %d batches (merged: %v)", n, len(rec.batches), merged)
}

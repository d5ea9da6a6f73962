package sqlite

import (
	"context"
	"testing"
	"time"

	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/store/storetest"
)

// testEvents: the generated mix and the varied events over six hours.
func testEvents(n int) ([]*normalize.Event, [][]byte, time.Time, time.Time) {
	from := time.Date(2026, 11, 20, 21, 0, 0, 0, time.UTC)
	to := from.Add(6 * time.Hour)
	evs := append(storetest.Events(n, 7, from, to), storetest.Varied(from, to)...)
	return evs, storetest.Lines(evs), from, to
}

func writeAll(t testing.TB, w *Writer, evs []*normalize.Event, lines [][]byte, batch int) {
	t.Helper()
	for i := 0; i < len(evs); i += batch {
		j := min(i+batch, len(evs))
		off := i
		failed, err := w.Write(context.Background(), evs[i:j], func(k int) []byte { return lines[off+k] })
		if err != nil || len(failed) > 0 {
			t.Fatalf("write: %v (failed %v)", err, failed)
		}
	}
}

func TestConformance(t *testing.T) {
	for _, tc := range []struct {
		partition string
		shards    int
		queries   []string
	}{
		{Day, 1, storetest.Queries},
		// Many files (six hours, two writers): the merging across them,
		// with a sample of the queries.
		{Hour, 2, storetest.Queries[:40]},
	} {
		t.Run(tc.partition, func(t *testing.T) {
			evs, lines, from, to := testEvents(200)
			dir := t.TempDir()
			w, err := OpenWriter(WriterOptions{Dir: dir, Partition: tc.partition, Shards: tc.shards})
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			writeAll(t, w, evs, lines, 64)
			rd, err := OpenReader(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer rd.Close()
			// The writer still has its partitions open: searches run
			// beside it, as alertgw search beside the gateway.
			storetest.RunQueries(t, rd, evs, lines, from, to, tc.queries)
			parts, foreign, err := Scan(dir)
			if err != nil || len(foreign) > 0 {
				t.Fatalf("scan: %v %v", err, foreign)
			}
			wantParts := 2 // 21:00 to 03:00 crosses midnight
			if tc.partition == Hour {
				wantParts = 6
			}
			if len(parts) != wantParts || len(parts[0].Files) != tc.shards {
				t.Errorf("partitions %+v", parts)
			}
		})
	}
}

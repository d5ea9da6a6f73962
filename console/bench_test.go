package console

// Benchmarks of the console's pages over a large store (not run by make
// test; see docs/performance/console.md):
//
//	go test -run '^$' -bench 'Console' -benchtime 5x ./console/
//
// The store (1 million alerts over the last 24 h by default,
// -console.alerts=N) is generated once into $TMPDIR and reused.

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/alertgw/alertgw/console/auth"
	"github.com/alertgw/alertgw/console/triage"
	"github.com/alertgw/alertgw/internal/cputime"
	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/outputs/format"
	"github.com/alertgw/alertgw/store/sqlite"
)

var benchAlerts = flag.Int("console.alerts", 1_000_000, "alerts in the benchmark store")

var benchSigs = []string{
	"ET SCAN Potential SSH Scan", "ET POLICY Vulnerable Java Version 1.8.x Detected", "ET INFO Observed DNS Query to .cloud TLD",
	"SURICATA STREAM Packet with invalid ack", "GPL ATTACK_RESPONSE id check returned root", "ET USER_AGENTS Go HTTP Client User-Agent",
}

// benchStore returns a store directory holding n alerts spread over the
// last 24 hours (as of when it was made: the benchmark's window is pinned
// to that day). Sources and destinations are skewed the way real inboxes
// are: a few noisy hosts and rules make most alerts.
func benchStore(b *testing.B, n int) (string, time.Time) {
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("alertgw-console-bench-%d", n))
	stamp := filepath.Join(dir, "made")
	if t, err := os.ReadFile(stamp); err == nil {
		end, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(string(t)))
		if err == nil {
			return dir, end
		}
	}
	os.RemoveAll(dir)
	b.Logf("generating %d alerts into %s (once)", n, dir)
	end := time.Now().UTC().Truncate(time.Second)
	start := end.Add(-24 * time.Hour)
	w, err := sqlite.OpenWriter(sqlite.WriterOptions{Dir: dir, Shards: 2})
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	skew := func(n int) int { return rng.IntN(rng.IntN(n) + 1) } // small indexes far more often
	const batch = 10_000
	evs := make([]*normalize.Event, 0, batch)
	lines := make([][]byte, 0, batch)
	step := 24 * time.Hour / time.Duration(n)
	for i := range n {
		ts := start.Add(time.Duration(i) * step)
		sig := skew(len(benchSigs))
		e := &normalize.Event{ID: fmt.Sprintf("%016x%016x", 7, i), Timestamp: ts, Received: ts.Add(time.Millisecond),
			Kind: normalize.KindAlert, Action: []normalize.Action{normalize.ActionAllowed, normalize.ActionBlocked}[sig%2],
			Source:    normalize.Source{Type: "suricata", Input: "suricata", Sensor: fmt.Sprintf("sensor-%d", i%4)},
			Signature: &normalize.Signature{GID: 1, ID: uint32(2000000 + sig), Rev: 3, Name: benchSigs[sig], Category: "Bench", Priority: uint32(1 + sig%3)},
			FlowID:    rng.Uint64() >> 4, AppProto: "http"}
		src := netip.AddrFrom4([4]byte{10, byte(skew(8)), byte(skew(16)), byte(1 + skew(250))})
		dst := netip.AddrFrom4([4]byte{192, 0, 2, byte(1 + skew(60))})
		e.SetAddrs(src, dst, uint16(32768+rng.IntN(28000)), 443, true)
		e.SetProto(6)
		e.CommunityID = normalize.CommunityID(e)
		evs = append(evs, e)
		lines = append(lines, format.Native{}.AppendEvent(nil, e))
		if len(evs) == batch || i == n-1 {
			if _, err := w.Write(context.Background(), evs, func(i int) []byte { return lines[i] }); err != nil {
				b.Fatal(err)
			}
			evs, lines = evs[:0], lines[:0]
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(stamp, []byte(end.Format(time.RFC3339Nano)), 0o644); err != nil {
		b.Fatal(err)
	}
	return dir, end
}

// benchConsole serves the store; requests go straight to the handler
// (server time, no network) with an analyst's session.
type benchConsole struct {
	srv    *Server
	cookie *http.Cookie
	end    time.Time
}

func newBenchConsole(b *testing.B) *benchConsole {
	dir, end := benchStore(b, *benchAlerts)
	rd, err := sqlite.OpenReader(dir)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { rd.Close() })
	tri, err := triage.OpenSQLite(context.Background(), b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { tri.Close() })
	opts := DefaultOptions()
	opts.Listen = "127.0.0.1:0"
	opts.Users = filepath.Join(b.TempDir(), "users")
	opts.QueryTimeout = time.Minute
	srv, err := New(*opts, Deps{Store: rd, Triage: tri, Log: zerolog.Nop(), Version: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { srv.ln.Close() })
	token, _ := srv.sess.Create(auth.Session{User: "local", Role: auth.RoleAnalyst, ByLink: true}, time.Now())
	srv.link = "bench" // keeps the link session valid (no users)
	return &benchConsole{srv: srv, cookie: &http.Cookie{Name: sessionCookie, Value: token}, end: end}
}

func (bc *benchConsole) get(b *testing.B, path string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("GET", path, nil)
	req.AddCookie(bc.cookie)
	rec := httptest.NewRecorder()
	bc.srv.srv.Handler.ServeHTTP(rec, req)
	if rec.Code != 200 {
		b.Fatalf("GET %s: %d\n%.2000s", path, rec.Code, rec.Body.String())
	}
	return rec
}

// loop runs the benchmark and reports, beside wall time, the process's CPU
// time per request (user+system, all threads): on a shared machine wall
// time includes waiting for a core, CPU time is what the request cost.
func (bc *benchConsole) loop(b *testing.B, path string) {
	before := cputime.Process()
	b.ResetTimer()
	n := 0
	for b.Loop() {
		bc.get(b, path)
		n++
	}
	b.StopTimer()
	cpu := cputime.Process() - before
	b.ReportMetric(float64(cpu.Milliseconds())/float64(max(n, 1)), "cpu-ms/op")
}

func (bc *benchConsole) window() string {
	return "from=" + bc.end.Add(-24*time.Hour).Format(time.RFC3339) + "&to=" + bc.end.Format(time.RFC3339)
}

// BenchmarkConsoleInbox: the inbox over the 24 h holding the alerts,
// grouped by signature + source + destination. Reports the page's bytes
// (HTML) and, separately, with its stylesheet and script.
func BenchmarkConsoleInbox(b *testing.B) {
	bc := newBenchConsole(b)
	path := "/inbox?" + bc.window()
	rec := bc.get(b, path) // warm the page cache once, as a running console is
	css, js := bc.get(b, "/static/console.css"), bc.get(b, "/static/console.js")
	bc.loop(b, path)
	b.ReportMetric(float64(rec.Body.Len()), "html-bytes")
	b.ReportMetric(float64(rec.Body.Len()+css.Body.Len()+js.Body.Len()), "page-bytes")
}

// BenchmarkConsoleInboxBySignature: the same alerts grouped by signature.
func BenchmarkConsoleInboxBySignature(b *testing.B) {
	bc := newBenchConsole(b)
	path := "/inbox?group=signature.id&" + bc.window()
	bc.get(b, path)
	bc.loop(b, path)
}

// BenchmarkConsoleEvent: one alert's page with its transaction.
func BenchmarkConsoleEvent(b *testing.B) {
	bc := newBenchConsole(b)
	path := fmt.Sprintf("/event/%016x%016x", 7, *benchAlerts/2)
	bc.get(b, path)
	bc.loop(b, path)
}

// BenchmarkConsoleSearch: a field query over the 24 h with its histogram.
func BenchmarkConsoleSearch(b *testing.B) {
	bc := newBenchConsole(b)
	path := "/search?q=src_ip:10.0.0.0/16+-signature.id:2000003&" + bc.window()
	bc.get(b, path)
	bc.loop(b, path)
}

// BenchmarkConsoleOverview: the overview over the 24 h.
func BenchmarkConsoleOverview(b *testing.B) {
	bc := newBenchConsole(b)
	path := "/overview?" + bc.window()
	bc.get(b, path)
	bc.loop(b, path)
}

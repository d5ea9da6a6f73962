// Command storebench measures the event store (docs/performance/store.md):
//
//	storebench bare   -n N [-without all|fts,rollups,INDEX…]  the store's own limit: the same rows, same schema, one transaction, one loop
//	storebench e2e    -n N -outputs store|file|file,store   the real gateway fed by alertgw send
//	storebench fill   -dir D -n N -days 7 -alerts-last-day M   a store of N events over days (for query)
//	storebench query  -dir D -runs R    field+time, inbox grouping and histogram latencies
//	storebench upgrade -dir D           add the rollups to a store written before them (schema version 1)
//
// Every figure is printed with the machine's load average beside it: the
// machine may be shared.
package main

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/alertgw/alertgw/internal/cputime"
	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/query"
	"github.com/alertgw/alertgw/store"
	"github.com/alertgw/alertgw/store/sqlite"
	"github.com/alertgw/alertgw/store/storetest"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: storebench bare|e2e|fill|query [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "bare":
		err = bare(os.Args[2:])
	case "e2e":
		err = e2e(os.Args[2:])
	case "fill":
		err = fill(os.Args[2:])
	case "query":
		err = queries(os.Args[2:])
	case "upgrade":
		err = upgradeStore(os.Args[2:])
	default:
		err = fmt.Errorf("unknown mode %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "storebench:", err)
		os.Exit(1)
	}
}

func load() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func dirBytes(dir string) int64 {
	var n int64
	// A file that vanishes while it is walked is not counted: the walk
	// itself reports no error.
	_ = filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			n += fi.Size()
		}
		return nil
	})
	return n
}

// bare inserts the send mix with the store's schema, statements and
// pragmas, in one transaction: the store's own limit. -without measures
// what each part costs: the same loop without the full-text index, the
// rollups or one index.
func bare(args []string) error {
	fs := flag.NewFlagSet("bare", flag.ExitOnError)
	n := fs.Int("n", 200000, "events")
	without := fs.String("without", "", "comma-separated variants to run after the whole loop, each leaving one part out: "+
		"fts, rollups, or an index name (events_ts, events_src_ip, …); all: each of them")
	_ = fs.Parse(args) // ExitOnError: a bad flag exits
	now := time.Now().UTC()
	evs := storetest.Events(*n, 1, now.Add(-time.Hour), now)
	lines := storetest.Lines(evs)
	variants := []string{""}
	if *without == "all" {
		*without = "fts,rollups,events_ts,events_src_ip,events_dest_ip,events_signature,events_flow,events_community,events_id"
	}
	if *without != "" {
		variants = append(variants, strings.Split(*without, ",")...)
	}
	for _, v := range variants {
		if err := bareLoop(evs, lines, v); err != nil {
			return fmt.Errorf("without %q: %w", v, err)
		}
	}
	return nil
}

func bareLoop(evs []*normalize.Event, lines [][]byte, without string) error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "storebench-bare")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	db, err := sql.Open("sqlite", sqlite.WriteDSN(filepath.Join(dir, "bare.db")))
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(`PRAGMA journal_mode = WAL`); err != nil {
		return err
	}
	if _, err := db.Exec(sqlite.Schema + sqlite.RollupSchema()); err != nil {
		return err
	}
	if strings.HasPrefix(without, "events_") {
		if _, err := db.Exec(`DROP INDEX ` + without); err != nil {
			return err
		}
	}
	var rollups *sqlite.RollupCounter
	if without != "rollups" {
		if rollups, err = sqlite.NewRollupCounter(ctx, db); err != nil {
			return err
		}
	}
	c0, t0 := cputime.Process(), time.Now()
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	ins, err := tx.Prepare(sqlite.InsertSQL)
	if err != nil {
		return err
	}
	insBody, err := tx.Prepare(sqlite.InsertBodySQL)
	if err != nil {
		return err
	}
	insText, err := tx.Prepare(sqlite.InsertTextSQL)
	if err != nil {
		return err
	}
	var text []byte
	for i, e := range evs {
		vals := sqlite.RowValues(int64(i+1), e)
		if _, err := ins.Exec(vals...); err != nil {
			return err
		}
		if _, err := insBody.Exec(int64(i+1), lines[i]); err != nil {
			return err
		}
		if without != "fts" {
			text = query.AppendText(text[:0], e)
			if _, err := insText.Exec(int64(i+1), text); err != nil {
				return err
			}
		}
		if rollups != nil {
			rollups.Add(vals)
			if (i+1)%2000 == 0 || i == len(evs)-1 { // the output's batches
				if err := rollups.Flush(ctx, tx); err != nil {
					return err
				}
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	el, c := time.Since(t0), cputime.Process()-c0
	if _, err := db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return err
	}
	what := "bare SQLite loop"
	if without != "" {
		what += " without " + without
	}
	n := len(evs)
	fmt.Printf("%-42s %d events in %.2fs: %7.0f events/s, %5.1f µs CPU/event, %d bytes/event (load %s)\n",
		what+":", n, el.Seconds(), float64(n)/el.Seconds(), float64(c.Microseconds())/float64(n), dirBytes(dir)/int64(n), load())
	return nil
}

// e2e runs `alertgw run` with the given outputs, feeds it with `alertgw
// send` (blocking) and reports each output's rate: events over the time
// from the first send to its last write.
func e2e(args []string) error {
	fs := flag.NewFlagSet("e2e", flag.ExitOnError)
	n := fs.Int("n", 500000, "events")
	bin := fs.String("bin", "bin/alertgw", "the gateway binary")
	outs := fs.String("outputs", "store", "store, file or file,store")
	writers := fs.Int("writers", 0, "the store's writers (0: one per CPU, at most 4)")
	batch := fs.Int("batch", 2000, "batch.max_events of the store")
	_ = fs.Parse(args) // ExitOnError: a bad flag exits
	dir, err := os.MkdirTemp("/tmp", "sbe2e")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	sock := filepath.Join(dir, "s.sock")
	cfg := fmt.Sprintf("sensor: bench\nlog: {format: json}\nadmin: {listen: 127.0.0.1:0}\ndead_letter: {path: %s/dead.json}\n"+
		"inputs:\n  - {name: suricata, type: suricata, socket: %s}\noutputs:\n", dir, sock)
	for _, o := range strings.Split(*outs, ",") {
		switch o {
		case "file":
			cfg += fmt.Sprintf("  - {name: file, type: file, path: %s/events.json}\n", dir)
		case "store":
			cfg += fmt.Sprintf("  - {name: store, type: store, path: %s/store, writers: %d, buffer: {max_events: %d}, batch: {max_events: %d, linger: 100ms}}\n",
				dir, *writers, *n+1000, *batch)
		default:
			return fmt.Errorf("unknown output %q", o)
		}
	}
	cfgPath := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return err
	}
	run := exec.Command(*bin, "run", "-c", cfgPath)
	stderr, _ := run.StderrPipe()
	run.Stdout = os.Stdout
	if err := run.Start(); err != nil {
		return err
	}
	defer func() {
		// The gateway is stopped when the figures are in; how it exits does not change them.
		_ = run.Process.Signal(syscall.SIGTERM)
		_ = run.Wait()
	}()
	admin := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`"listen":"([^"]+)".*admin endpoint`)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				admin <- m[1]
			}
		}
	}()
	var addr string
	select {
	case addr = <-admin:
	case <-time.After(10 * time.Second):
		return fmt.Errorf("the gateway did not start")
	}
	for _, err := os.Stat(sock); err != nil; _, err = os.Stat(sock) {
		time.Sleep(10 * time.Millisecond)
	}
	start := time.Now()
	send := exec.Command(*bin, "send", "--socket", sock, "--count", fmt.Sprint(*n))
	send.Stdout, send.Stderr = os.Stderr, os.Stderr
	if err := send.Start(); err != nil {
		return err
	}
	done := map[string]time.Duration{}
	names := strings.Split(*outs, ",")
	for len(done) < len(names) {
		time.Sleep(20 * time.Millisecond)
		resp, err := http.Get("http://" + addr + "/status")
		if err != nil {
			continue
		}
		var st struct {
			Outputs []struct {
				Name    string `json:"name"`
				Written uint64 `json:"written"`
			} `json:"outputs"`
		}
		err = json.NewDecoder(resp.Body).Decode(&st)
		resp.Body.Close()
		if err != nil {
			continue // not answering yet: poll again
		}
		for _, o := range st.Outputs {
			if _, ok := done[o.Name]; !ok && o.Written >= uint64(*n) {
				done[o.Name] = time.Since(start)
			}
		}
		if time.Since(start) > 30*time.Minute {
			return fmt.Errorf("outputs did not finish: %v", done)
		}
	}
	if err := send.Wait(); err != nil {
		return fmt.Errorf("alertgw send: %w", err)
	}
	for _, name := range names {
		fmt.Printf("e2e outputs=%s writers=%d: %s wrote %d events in %.2fs: %.0f events/s (load %s)\n",
			*outs, *writers, name, *n, done[name].Seconds(), float64(*n)/done[name].Seconds(), load())
	}
	if slices.Contains(names, "store") {
		fmt.Printf("store: %d bytes/event on disk\n", dirBytes(filepath.Join(dir, "store"))/int64(*n))
	}
	return nil
}

// fill writes n events spread over days, with the last day holding
// alertsLastDay alerts, through the store's writer.
func fill(args []string) error {
	fs := flag.NewFlagSet("fill", flag.ExitOnError)
	dir := fs.String("dir", "", "store directory (created)")
	n := fs.Int("n", 10_000_000, "events in all")
	days := fs.Int("days", 7, "days the events span, ending now")
	lastDay := fs.Int("last-day", 2_000_000, "events of the last 24 h (40% alerts: 2M gives ~800k… use -alert-share)")
	share := fs.Float64("alert-share", 0.5, "share of alerts in the last 24 h")
	writers := fs.Int("writers", 2, "writers (files per partition)")
	_ = fs.Parse(args) // ExitOnError: a bad flag exits
	if *dir == "" {
		return fmt.Errorf("-dir is needed")
	}
	w, err := sqlite.OpenWriter(sqlite.WriterOptions{Dir: *dir, Shards: *writers})
	if err != nil {
		return err
	}
	defer w.Close()
	now := time.Now().UTC()
	start := now.Add(-time.Duration(*days) * 24 * time.Hour)
	dayStart := now.Add(-24 * time.Hour)
	older := *n - *lastDay
	t0 := time.Now()
	const chunk = 20000
	written := 0
	put := func(from, to time.Time, count int, seed uint64, alerts float64) error {
		for done := 0; done < count; done += chunk {
			k := min(chunk, count-done)
			f := from.Add(time.Duration(float64(to.Sub(from)) * float64(done) / float64(count)))
			t := from.Add(time.Duration(float64(to.Sub(from)) * float64(done+k) / float64(count)))
			evs := storetest.Events(k, seed+uint64(done), f, t)
			if alerts > 0 {
				rewriteShare(evs, alerts, seed+uint64(done))
			}
			lines := storetest.Lines(evs)
			for i := 0; i < len(evs); i += 2000 {
				j := min(i+2000, len(evs))
				if _, err := w.Write(context.Background(), evs[i:j], func(x int) []byte { return lines[i+x] }); err != nil {
					return err
				}
			}
			written += k
			if written%(10*chunk) == 0 {
				fmt.Fprintf(os.Stderr, "\r%d events, %.0f/s   ", written, float64(written)/time.Since(t0).Seconds())
			}
		}
		return nil
	}
	if err := put(start, dayStart, older, 1<<32, 0); err != nil {
		return err
	}
	if err := put(dayStart, now, *lastDay, 1<<33, *share); err != nil {
		return err
	}
	w.Close()
	fmt.Printf("\nfill: %d events in %.0fs (%.0f/s, writers %d), %d bytes/event on disk (load %s)\n",
		*n, time.Since(t0).Seconds(), float64(*n)/time.Since(t0).Seconds(), *writers, dirBytes(*dir)/int64(*n), load())
	return nil
}

// rewriteShare turns non-alerts into alerts until the share is reached
// (the generator's mix is 40 % alerts): it takes alerts of the same batch
// as templates, keeping each event's id, time and addresses.
func rewriteShare(evs []*normalize.Event, share float64, seed uint64) {
	var alerts []*normalize.Event
	for _, e := range evs {
		if e.Kind == normalize.KindAlert {
			alerts = append(alerts, e)
		}
	}
	if len(alerts) == 0 {
		return
	}
	r := rand.New(rand.NewPCG(seed, seed))
	need := int(share*float64(len(evs))) - len(alerts)
	for i := 0; i < len(evs) && need > 0; i++ {
		e := evs[i]
		if e.Kind == normalize.KindAlert {
			continue
		}
		tpl := alerts[r.IntN(len(alerts))]
		c := *tpl
		c.ID, c.Timestamp, c.Received, c.SrcIP, c.FlowID, c.CommunityID = e.ID, e.Timestamp, e.Received, e.SrcIP, e.FlowID, e.CommunityID
		evs[i] = &c
		need--
	}
}

// queries measures the figures of the issue on a filled store.
func queries(args []string) error {
	fs := flag.NewFlagSet("query", flag.ExitOnError)
	dir := fs.String("dir", "", "store directory")
	runs := fs.Int("runs", 50, "runs of each field query")
	end := fs.String("end", "", "end of the windows (RFC 3339; default now): a store filled earlier, e.g. the console benchmark's (its `made` file)")
	_ = fs.Parse(args) // ExitOnError: a bad flag exits
	rd, err := sqlite.OpenReader(*dir)
	if err != nil {
		return err
	}
	defer rd.Close()
	ctx := context.Background()
	now := time.Now().UTC()
	if *end != "" {
		if now, err = time.Parse(time.RFC3339Nano, *end); err != nil {
			return fmt.Errorf("-end: %w", err)
		}
	}
	day := store.Filter{From: now.Add(-24 * time.Hour), To: now, Timeout: time.Minute}
	week := store.Filter{From: now.Add(-7 * 24 * time.Hour), To: now, Timeout: time.Minute}
	// Addresses that exist: the top sources of the last day.
	top, err := rd.Groups(ctx, store.GroupsRequest{Filter: day, By: []string{"src_ip"}, Limit: 200})
	if err != nil {
		return err
	}
	if len(top.Groups) == 0 {
		return fmt.Errorf("the store is empty for the last 24 h")
	}
	r := rand.New(rand.NewPCG(1, 2))
	sids := []string{"2001219", "2024897", "2027865", "2210045", "2100498", "2019401"}
	measure := func(name string, runs int, q func(i int) error) error {
		var lat []time.Duration
		c0 := cputime.Process()
		for i := range runs {
			t := time.Now()
			if err := q(i); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			lat = append(lat, time.Since(t))
		}
		cpuPer := (cputime.Process() - c0) / time.Duration(runs)
		slices.Sort(lat)
		pct := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
		fmt.Printf("%-52s runs %3d  p50 %8.1f ms  p95 %8.1f ms  p99 %8.1f ms  CPU %8.1f ms/run  (load %s)\n", name, runs,
			ms(pct(0.5)), ms(pct(0.95)), ms(pct(0.99)), ms(cpuPer), load())
		return nil
	}
	events := func(f store.Filter, q string) error {
		f.Query = query.MustParse(q)
		_, err := rd.Events(ctx, store.EventsRequest{Filter: f, Limit: 100})
		return err
	}
	if err := measure("src_ip:X over 24 h (100 newest)", *runs, func(int) error {
		return events(day, "src_ip:"+top.Groups[r.IntN(len(top.Groups))].Key[0].(string))
	}); err != nil {
		return err
	}
	if err := measure("signature.id:N over 24 h (100 newest)", *runs, func(int) error {
		return events(day, "signature.id:"+sids[r.IntN(len(sids))])
	}); err != nil {
		return err
	}
	if err := measure("src_ip:10.0.0.0/8 dest_port:22 over 24 h", *runs, func(int) error {
		return events(day, "src_ip:10.0.0.0/8 dest_port:22")
	}); err != nil {
		return err
	}
	if err := measure(`"ssh scan" over 24 h (full text)`, max(*runs/5, 3), func(int) error {
		return events(day, `"ssh scan"`)
	}); err != nil {
		return err
	}
	var groups *store.GroupsResult
	if err := measure("inbox: kind:alert by signature.id,src_ip,dest_ip, 24 h", 5, func(int) error {
		f := day
		f.Query = query.MustParse("kind:alert")
		var err error
		groups, err = rd.Groups(ctx, store.GroupsRequest{Filter: f, By: []string{"signature.id", "src_ip", "dest_ip"}, Limit: 100})
		return err
	}); err != nil {
		return err
	}
	fmt.Printf("  (the inbox counted %d alerts)\n", groups.Total)
	var hist *store.HistogramResult
	if err := measure("histogram of everything over 7 days", 5, func(int) error {
		var err error
		hist, err = rd.Histogram(ctx, store.HistogramRequest{Filter: week})
		return err
	}); err != nil {
		return err
	}
	var total int64
	for _, b := range hist.Buckets {
		total += b.Count
	}
	fmt.Printf("  (the histogram counted %d events in %d buckets of %s)\n", total, len(hist.Buckets), hist.Interval)
	fmt.Printf("store: %d bytes on disk, %d bytes/event\n", dirBytes(*dir), dirBytes(*dir)/max(total, 1))
	return nil
}

// upgradeStore adds the rollups to a store filled by an earlier version.
func upgradeStore(args []string) error {
	fs := flag.NewFlagSet("upgrade", flag.ExitOnError)
	dir := fs.String("dir", "", "store directory")
	_ = fs.Parse(args) // ExitOnError: a bad flag exits
	c0, t0 := cputime.Process(), time.Now()
	files, err := sqlite.Upgrade(context.Background(), *dir)
	fmt.Printf("upgrade: %d files in %.1fs, %.1fs CPU (load %s)\n", len(files), time.Since(t0).Seconds(), (cputime.Process() - c0).Seconds(), load())
	return err
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

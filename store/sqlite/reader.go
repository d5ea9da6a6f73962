package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/alertgw/alertgw/query"
	"github.com/alertgw/alertgw/store"
)

// Reader searches a store directory. It is safe for concurrent use, also
// while a Writer (in this process or another) appends to the partitions.
type Reader struct {
	dir string
	now func() time.Time

	mu    sync.Mutex
	parts map[string]*rpart // open partitions by file name
	bad   map[string]string // partition-named files that are not readable partitions, with why
}

// rpart is one partition open for reading, with the range of event
// timestamps it held when last looked at.
type rpart struct {
	name         string
	db           *sql.DB
	minTS, maxTS int64 // Unix microseconds; minTS > maxTS when empty
	rollups      bool  // the file has the rollup tables (schema version 2)
	meta         map[string]int64
	stamp        fileStamp
	used         time.Time
}

// fileStamp tells whether a partition changed since its meta was read.
type fileStamp struct {
	size, walSize int64
	mod, walMod   time.Time
}

func stampOf(path string) (fileStamp, error) {
	var s fileStamp
	st, err := os.Stat(path)
	if err != nil {
		return s, err
	}
	s.size, s.mod = st.Size(), st.ModTime()
	if w, err := os.Stat(path + "-wal"); err == nil {
		s.walSize, s.walMod = w.Size(), w.ModTime()
	}
	return s, nil
}

// maxReadOpen bounds the partitions a Reader keeps open.
const maxReadOpen = 64

// OpenReader opens a store directory for searching. A directory that does
// not exist yet holds no events.
func OpenReader(dir string) (*Reader, error) {
	st, err := os.Stat(dir)
	if err == nil && !st.IsDir() {
		return nil, fmt.Errorf("store: %s is not a directory", dir)
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("store: %w", err)
	}
	return &Reader{dir: dir, now: time.Now, parts: map[string]*rpart{}, bad: map[string]string{}}, nil
}

// Skipped returns the partition-named files that could not be read (corrupt,
// foreign, another schema), with the reason, as of the last search.
func (r *Reader) Skipped() map[string]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]string, len(r.bad))
	for k, v := range r.bad {
		out[k] = v
	}
	return out
}

// Close closes every open partition.
func (r *Reader) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var errs []error
	for n, p := range r.parts {
		errs = append(errs, p.db.Close())
		delete(r.parts, n)
	}
	return errors.Join(errs...)
}

// overlapping returns the partitions that may hold events with timestamps
// in [from, to), newest first (by their latest event).
func (r *Reader) overlapping(ctx context.Context, from, to time.Time) ([]*rpart, []string, error) {
	ents, err := os.ReadDir(r.dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("store: %w", err)
	}
	var warnings []string
	r.mu.Lock()
	defer r.mu.Unlock()
	seen := map[string]bool{}
	var out []*rpart
	lo, hi := from.UnixMicro(), to.UnixMicro()
	for _, e := range ents {
		name := e.Name()
		if _, _, ok := partSpan(name); !ok || !e.Type().IsRegular() {
			continue
		}
		seen[name] = true
		p, err := r.partLocked(ctx, name)
		if err != nil {
			if ctx.Err() != nil {
				return nil, nil, ctx.Err()
			}
			r.bad[name] = err.Error()
			warnings = append(warnings, fmt.Sprintf("%s skipped: %v", name, err))
			continue
		}
		delete(r.bad, name)
		if p.minTS <= p.maxTS && p.maxTS >= lo && p.minTS < hi {
			out = append(out, p)
		}
	}
	for n, p := range r.parts { // deleted by retention
		if !seen[n] {
			p.db.Close()
			delete(r.parts, n)
		}
	}
	for n := range r.bad {
		if !seen[n] {
			delete(r.bad, n)
		}
	}
	r.trimLocked()
	slices.SortFunc(out, func(a, b *rpart) int { return cmp.Compare(b.maxTS, a.maxTS) })
	return out, warnings, nil
}

// errStop ends a walk over partitions early.
var errStop = errors.New("stop")

// search runs fn on each partition in order. A partition that fails is
// skipped with a warning (its file is corrupt, say) unless all fail; the
// search's own timeout ends the walk with timedOut set; the caller's
// cancellation ends it with an error.
func (r *Reader) search(ctx, qctx context.Context, from, to time.Time, fn func(*rpart) error) (timedOut bool, warnings []string, err error) {
	parts, warnings, err := r.overlapping(qctx, from, to)
	if cutByTimeout(ctx, qctx, err) {
		return true, warnings, nil
	}
	if err != nil {
		return false, nil, r.fail(ctx, err)
	}
	return r.settle(ctx, qctx, parts, warnings, func(yield func(*rpart, error) bool) {
		for _, p := range parts {
			if !yield(p, fn(p)) {
				return
			}
		}
	})
}

// searchParallel is search for requests whose partitions can be read in any
// order (counts merged under the caller's lock): up to one partition per
// CPU at once, so that the files of a partition's writers are read in
// parallel.
func (r *Reader) searchParallel(ctx, qctx context.Context, from, to time.Time, fn func(*rpart) error) (timedOut bool, warnings []string, err error) {
	parts, warnings, err := r.overlapping(qctx, from, to)
	if cutByTimeout(ctx, qctx, err) {
		return true, warnings, nil
	}
	if err != nil {
		return false, nil, r.fail(ctx, err)
	}
	errs := make([]error, len(parts))
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for i, p := range parts {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			if qctx.Err() != nil {
				errs[i] = qctx.Err()
				return
			}
			errs[i] = fn(p)
		})
	}
	wg.Wait()
	return r.settle(ctx, qctx, parts, warnings, func(yield func(*rpart, error) bool) {
		for i, p := range parts {
			if !yield(p, errs[i]) {
				return
			}
		}
	})
}

// settle sorts the partitions' outcomes: a failed partition is skipped with
// a warning unless all failed; the request's timeout makes a partial
// result; the caller's cancellation an error.
func (r *Reader) settle(ctx, qctx context.Context, parts []*rpart, warnings []string, outcomes func(func(*rpart, error) bool)) (timedOut bool, _ []string, err error) {
	failed := 0
	var first error
	for p, e := range outcomes {
		switch {
		case e == nil:
			continue
		case errors.Is(e, errStop):
			return timedOut, warnings, nil
		case cutByTimeout(ctx, qctx, e):
			timedOut = true
			continue
		case ctx.Err() != nil:
			return false, nil, ctx.Err()
		}
		failed++
		first = cmp.Or(first, e)
		warnings = append(warnings, fmt.Sprintf("%s skipped: %v", p.name, e))
		r.mu.Lock()
		r.bad[p.name] = e.Error()
		r.mu.Unlock()
	}
	if failed > 0 && failed == len(parts) {
		return false, nil, fmt.Errorf("store: %w", first)
	}
	return timedOut, warnings, nil
}

// partLocked returns partition name open, its meta current.
func (r *Reader) partLocked(ctx context.Context, name string) (*rpart, error) {
	path := filepath.Join(r.dir, name)
	stamp, err := stampOf(path)
	if err != nil {
		return nil, err
	}
	p := r.parts[name]
	if p != nil && p.stamp == stamp {
		p.used = r.now()
		return p, nil
	}
	if p == nil {
		db, err := sql.Open("sqlite", readDSN(path))
		if err != nil {
			return nil, err
		}
		db.SetMaxOpenConns(4)
		db.SetMaxIdleConns(2)
		if err := checkOurs(db); err != nil {
			db.Close()
			return nil, err
		}
		p = &rpart{name: name, db: db}
		r.parts[name] = p
	}
	if err := p.readMeta(ctx); err != nil {
		p.db.Close()
		delete(r.parts, name)
		return nil, err
	}
	p.stamp, p.used = stamp, r.now()
	return p, nil
}

func (p *rpart) readMeta(ctx context.Context) error {
	p.minTS, p.maxTS = 1, 0
	var ver int64
	if err := p.db.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&ver); err != nil {
		return fmt.Errorf("schema version: %w", err)
	}
	p.rollups = ver >= 2 // a writer may have upgraded it since we opened it
	p.meta = map[string]int64{}
	rows, err := p.db.QueryContext(ctx, `SELECT k, v FROM meta WHERE k IN ('min_ts', 'max_ts') OR k LIKE 'rows:%' OR k LIKE 'n:%'`)
	if err != nil {
		return fmt.Errorf("meta: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		var v int64
		if err := rows.Scan(&k, &v); err != nil {
			return fmt.Errorf("meta: %w", err)
		}
		switch k {
		case "min_ts":
			p.minTS = v
		case "max_ts":
			p.maxTS = v
		default:
			p.meta[k] = v
		}
	}
	return rows.Err()
}

func (r *Reader) trimLocked() {
	for len(r.parts) > maxReadOpen {
		var old *rpart
		for _, p := range r.parts {
			if old == nil || p.used.Before(old.used) {
				old = p
			}
		}
		old.db.Close()
		delete(r.parts, old.name)
	}
}

func readDSN(path string) string { return dsn(path, true, 8<<10) }

// where compiles a filter: the time window as ?1 and ?2, then the query.
func where(f store.Filter) (string, []any) {
	args := []any{f.From.UnixMicro(), f.To.UnixMicro()}
	cond, args := dialect.Where(f.Query, args)
	return "ts >= ?1 AND ts < ?2 AND " + cond, args
}

func ph(args []any, v any) ([]any, string) {
	args = append(args, v)
	return args, "?" + strconv.Itoa(len(args))
}

// timedOut tells a search cut by its own timeout from other failures.
func cutByTimeout(parent, qctx context.Context, err error) bool {
	return err != nil && parent.Err() == nil && qctx.Err() != nil
}

// withBodies adds the event bodies to a selection of (rowid, ts, id): read
// for the selected rows only, after the filtering and the limit.
func withBodies(sel, order string) string {
	return "SELECT e.ts, e.id, b.event FROM (" + sel + ") AS e JOIN bodies AS b ON b.rowid = e.rowid ORDER BY " + order
}

type row struct {
	ts int64
	id string
	ev []byte
}

func newestFirst(a, b row) int {
	if c := cmp.Compare(b.ts, a.ts); c != 0 {
		return c
	}
	return strings.Compare(b.id, a.id)
}

// Events implements store.Reader.
func (r *Reader) Events(ctx context.Context, req store.EventsRequest) (*store.EventsResult, error) {
	f, qctx, cancel, err := req.Filter.Start(ctx, r.now())
	defer cancel()
	if err != nil {
		return nil, err
	}
	limit := store.PageLimit(req.Limit)
	cond, args := where(f)
	if req.After != "" {
		c, err := store.ParseCursor(req.After)
		if err != nil {
			return nil, err
		}
		var pt, pi string
		args, pt = ph(args, c.Time.UnixMicro())
		args, pi = ph(args, c.ID)
		cond += " AND (ts < " + pt + " OR (ts = " + pt + " AND id < " + pi + "))"
	}
	args, pl := ph(args, limit+1)
	sqlText := withBodies("SELECT rowid, ts, id FROM events WHERE "+cond+" ORDER BY ts DESC, id DESC LIMIT "+pl, "e.ts DESC, e.id DESC")
	res := &store.EventsResult{}
	var rows []row
	res.TimedOut, res.Warnings, err = r.search(ctx, qctx, f.From, f.To, func(p *rpart) error {
		if len(rows) > limit && p.maxTS < rows[limit].ts {
			return errStop // every event of this and older partitions comes later
		}
		got, err := queryRows(qctx, p, sqlText, args)
		if err != nil {
			return err
		}
		rows = append(rows, got...)
		slices.SortFunc(rows, newestFirst)
		if len(rows) > limit+1 {
			rows = rows[:limit+1]
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(rows) > limit {
		rows = rows[:limit]
		res.Truncated = true
		last := rows[limit-1]
		res.Next = store.Cursor{Time: time.UnixMicro(last.ts), ID: last.id}.String()
	}
	res.Events = toEvents(rows)
	return res, nil
}

func (r *Reader) fail(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return fmt.Errorf("store: %w", err)
}

func queryRows(ctx context.Context, p *rpart, q string, args []any) ([]row, error) {
	rs, err := p.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out []row
	for rs.Next() {
		var x row
		if err := rs.Scan(&x.ts, &x.id, &x.ev); err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, rs.Err()
}

func toEvents(rows []row) []store.Event {
	out := make([]store.Event, len(rows))
	for i, x := range rows {
		out[i] = store.Event{ID: x.id, Time: time.UnixMicro(x.ts).UTC(), JSON: json.RawMessage(x.ev)}
	}
	return out
}

// Event implements store.Reader.
func (r *Reader) Event(ctx context.Context, id string) (*store.Event, error) {
	qctx, cancel := context.WithTimeout(ctx, store.DefaultTimeout)
	defer cancel()
	var found *store.Event
	timedOut, _, err := r.search(ctx, qctx, time.UnixMicro(-1<<62), time.UnixMicro(1<<62), func(p *rpart) error {
		got, err := queryRows(qctx, p, withBodies(`SELECT rowid, ts, id FROM events WHERE id = ?1 LIMIT 1`, "e.ts"), []any{id})
		if err != nil {
			return err
		}
		if len(got) > 0 {
			found = &toEvents(got)[0]
			return errStop
		}
		return nil
	})
	switch {
	case err != nil:
		return nil, err
	case found != nil:
		return found, nil
	case timedOut:
		return nil, fmt.Errorf("store: looking for event %s: %w", id, context.DeadlineExceeded)
	}
	return nil, store.ErrNotFound
}

// Transaction implements store.Reader.
func (r *Reader) Transaction(ctx context.Context, req store.TransactionRequest) (*store.EventsResult, error) {
	if err := req.Check(); err != nil {
		return nil, err
	}
	f, qctx, cancel, err := req.Filter.Start(ctx, r.now())
	defer cancel()
	if err != nil {
		return nil, err
	}
	limit := req.Limit
	cond, args := where(f)
	var ors []string
	if req.FlowID != 0 {
		var p string
		args, p = ph(args, int64(req.FlowID))
		ors = append(ors, "flow_id = "+p)
	}
	if req.CommunityID != "" {
		var p string
		args, p = ph(args, req.CommunityID)
		ors = append(ors, "community_id = "+p)
	}
	args, pl := ph(args, limit+1)
	q := withBodies("SELECT rowid, ts, id FROM events WHERE "+cond+" AND ("+strings.Join(ors, " OR ")+") ORDER BY ts, id LIMIT "+pl, "e.ts, e.id")
	res := &store.EventsResult{}
	var rows []row
	res.TimedOut, res.Warnings, err = r.search(ctx, qctx, f.From, f.To, func(p *rpart) error {
		got, err := queryRows(qctx, p, q, args)
		rows = append(rows, got...)
		return err
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(rows, func(a, b row) int { return newestFirst(b, a) })
	if len(rows) > limit {
		rows, res.Truncated = rows[:limit], true
	}
	res.Events = toEvents(rows)
	return res, nil
}

// Histogram implements store.Reader.
func (r *Reader) Histogram(ctx context.Context, req store.HistogramRequest) (*store.HistogramResult, error) {
	f, qctx, cancel, err := req.Filter.Start(ctx, r.now())
	defer cancel()
	if err != nil {
		return nil, err
	}
	buckets, err := store.Buckets(f.From, f.To, req.Interval)
	if err != nil {
		return nil, err
	}
	res := &store.HistogramResult{Interval: store.HistogramInterval(f, req.Interval), Buckets: buckets}
	origin := buckets[0].Start.UnixMicro()
	cond, args := dialect.Where(f.Query, []any{f.From.UnixMicro(), f.To.UnixMicro()})
	args, po := ph(args, origin)
	args, pi := ph(args, res.Interval.Microseconds())
	scan := "SELECT (ts - " + po + ") / " + pi + " AS b, count(*) FROM events WHERE ts >= ?1 AND ts < ?2 AND " + cond + " GROUP BY b"
	// From a rollup when one answers: its buckets fall whole into the
	// histogram's (the interval is a multiple of the rollup's bucket, both
	// aligned to the epoch).
	var fromRollup string
	rollArgs := args
	ru, a, z, ok := pickRollup(f, nil, res.Interval)
	if ok {
		var pa, pz string
		rollArgs, pa = ph(slices.Clip(args), a)
		rollArgs, pz = ph(rollArgs, z)
		fromRollup = "SELECT b, sum(n) FROM (" + ru.rowsSQL("(bucket - "+po+") / "+pi+" AS b, n", "(ts - "+po+") / "+pi+", 1", cond, pa, pz) + ") GROUP BY b"
	}
	var mu sync.Mutex
	res.TimedOut, res.Warnings, err = r.searchParallel(ctx, qctx, f.From, f.To, func(p *rpart) error {
		return func() error {
			q, args := scan, args
			if fromRollup != "" && p.rollups && p.rollupPays(ru) {
				q, args = fromRollup, rollArgs
			}
			rs, err := p.db.QueryContext(qctx, q, args...)
			if err != nil {
				return err
			}
			defer rs.Close()
			for rs.Next() {
				var b, n int64
				if err := rs.Scan(&b, &n); err != nil {
					return err
				}
				if b >= 0 && b < int64(len(buckets)) {
					mu.Lock()
					buckets[b].Count += n
					mu.Unlock()
				}
			}
			return rs.Err()
		}()
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// perPartitionGroups bounds the groups read from one partition.
const perPartitionGroups = 100_000

// Groups implements store.Reader.
func (r *Reader) Groups(ctx context.Context, req store.GroupsRequest) (*store.GroupsResult, error) {
	if err := req.Check(); err != nil {
		return nil, err
	}
	f, qctx, cancel, err := req.Filter.Start(ctx, r.now())
	defer cancel()
	if err != nil {
		return nil, err
	}
	fields := req.Fields()
	cond, args := dialect.Where(f.Query, []any{f.From.UnixMicro(), f.To.UnixMicro()})
	exprs := make([]string, len(fields))
	groupBy := make([]string, len(fields))
	for i, f := range fields {
		args, exprs[i] = groupExpr(args, f)
		groupBy[i] = strconv.Itoa(i + 1)
	}
	sel := strings.Join(exprs, ", ")
	tail := " GROUP BY " + strings.Join(groupBy, ", ")
	rows := "SELECT " + sel + ", count(*), min(ts), max(ts) FROM events WHERE ts >= ?1 AND ts < ?2 AND " + cond + tail
	// From a rollup when one answers (every field a column of its key,
	// so exprs are column names).
	rollArgs := args
	var rollQ, rollTop string
	ru, a, z, ok := pickRollup(f, fields, 0)
	if ok {
		var pa, pz string
		rollArgs, pa = ph(slices.Clip(args), a)
		rollArgs, pz = ph(rollArgs, z)
		inner := ru.rowsSQL(sel+", n, first_ts, last_ts", sel+", 1, ts, ts", cond, pa, pz)
		rollRows := "SELECT " + sel + ", sum(n), min(first_ts), max(last_ts) FROM (" + inner + ")" + tail
		var rollLimit string
		rollArgs, rollLimit = ph(rollArgs, perPartitionGroups+1)
		rollQ, rollTop = rollRows+" LIMIT "+rollLimit, rollRows+" ORDER BY sum(n) DESC LIMIT "+rollLimit
	}
	args, pl := ph(args, perPartitionGroups+1)
	// Usually every group of a partition is merged; only a partition with
	// more groups than that is read again for its largest.
	q := rows + " LIMIT " + pl
	qTop := rows + " ORDER BY count(*) DESC LIMIT " + pl
	res := &store.GroupsResult{By: req.By}
	merged := map[string]*store.Group{}
	var mu sync.Mutex
	res.TimedOut, res.Warnings, err = r.searchParallel(ctx, qctx, f.From, f.To, func(p *rpart) error {
		q, qTop, args := q, qTop, args
		if rollQ != "" && p.rollups && p.rollupPays(ru) {
			q, qTop, args = rollQ, rollTop, rollArgs
		}
		groups, err := scanGroups(qctx, p, q, args, fields)
		if err == nil && len(groups) > perPartitionGroups {
			// More groups than we merge: take the largest.
			groups, err = scanGroups(qctx, p, qTop, args, fields)
			mu.Lock()
			res.Truncated = true
			mu.Unlock()
		}
		mu.Lock()
		defer mu.Unlock()
		mergeGroups(merged, groups)
		return err
	})
	if err != nil {
		return nil, err
	}
	all := make([]store.Group, 0, len(merged))
	for _, g := range merged {
		res.Total += g.Count
		all = append(all, *g)
	}
	store.SortGroups(all)
	if len(all) > req.Limit {
		all, res.Truncated = all[:req.Limit], true
	}
	res.Groups = all
	return res, nil
}

// groupExpr is the SQL reading a field's value for grouping: its column,
// or the JSON text of its value in the event.
func groupExpr(args []any, f *query.Field) ([]any, string) {
	if col, ok := dialect.Columns[f.Name]; ok {
		return args, col
	}
	path := `$`
	for _, k := range strings.Split(f.Name, ".") {
		path += `."` + k + `"`
	}
	args, p := ph(args, path)
	return args, dialect.Event + " -> " + p
}

// partGroup is a group as one partition counted it.
type partGroup struct {
	key         []any
	count       int64
	first, last int64
}

func scanGroups(ctx context.Context, p *rpart, q string, args []any, fields []*query.Field) ([]partGroup, error) {
	rs, err := p.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	n := len(fields)
	raw := make([]any, n+3)
	ptrs := make([]any, n+3)
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	var out []partGroup
	for rs.Next() {
		if err := rs.Scan(ptrs...); err != nil {
			return out, err
		}
		g := partGroup{key: make([]any, n), count: raw[n].(int64), first: raw[n+1].(int64), last: raw[n+2].(int64)}
		for i, f := range fields {
			g.key[i] = keyValue(f, raw[i])
		}
		out = append(out, g)
	}
	return out, rs.Err()
}

// mergeGroups adds a partition's groups to the merged ones.
func mergeGroups(merged map[string]*store.Group, groups []partGroup) {
	for _, pg := range groups {
		ks := keyString(pg.key)
		first, last := time.UnixMicro(pg.first).UTC(), time.UnixMicro(pg.last).UTC()
		if g := merged[ks]; g != nil {
			g.Count += pg.count
			if first.Before(g.First) {
				g.First = first
			}
			if last.After(g.Last) {
				g.Last = last
			}
			continue
		}
		merged[ks] = &store.Group{Key: pg.key, Count: pg.count, First: first, Last: last}
	}
}

// keyValue converts what SQLite returned for a group field to the Go value
// store.Group documents.
func keyValue(f *query.Field, v any) any {
	if v == nil {
		return nil
	}
	if _, ok := dialect.Columns[f.Name]; !ok {
		switch x := v.(type) {
		case string:
			return store.KeyFromJSON(f, []byte(x))
		case []byte:
			return store.KeyFromJSON(f, x)
		}
		return fmt.Sprint(v)
	}
	switch f.Type {
	case query.String, query.Enum:
		switch x := v.(type) {
		case string:
			return x
		case []byte:
			return string(x)
		}
	case query.Uint, query.ID:
		if x, ok := v.(int64); ok {
			return uint64(x)
		}
	case query.IP:
		if b, ok := v.([]byte); ok && len(b) == 16 {
			return netip.AddrFrom16([16]byte(b)).Unmap().String()
		}
	}
	return fmt.Sprint(v)
}

// keyString identifies a key for merging groups across partitions.
func keyString(key []any) string {
	b := make([]byte, 0, 64)
	for _, v := range key {
		switch x := v.(type) {
		case nil:
			b = append(b, 'n')
		case string: // length first: a value may hold any byte
			b = strconv.AppendInt(append(b, 's'), int64(len(x)), 10)
			b = append(append(b, ':'), x...)
		case uint64:
			b = strconv.AppendUint(append(b, 'u'), x, 10)
		case int64:
			b = strconv.AppendInt(append(b, 'i'), x, 10)
		case float64:
			b = strconv.AppendFloat(append(b, 'f'), x, 'g', -1, 64)
		case bool:
			b = strconv.AppendBool(append(b, 'b'), x)
		case json.RawMessage:
			b = strconv.AppendInt(append(b, 'j'), int64(len(x)), 10)
			b = append(append(b, ':'), x...)
		default:
			b = fmt.Appendf(append(b, '?'), "%v", x)
		}
		b = append(b, 0)
	}
	return string(b)
}

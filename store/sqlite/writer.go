package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/query"
)

// WriterOptions configure a Writer.
type WriterOptions struct {
	Dir       string // the store's directory, created if missing
	Partition string // Day (default) or Hour
	CacheKiB  int    // page cache per open partition; 0: 64 MiB
	// Shards is the number of files each partition is split into, each
	// written by its own goroutine so that ingest uses several cores; 0: 1.
	Shards int
	// Open bounds the partition files kept open for writing (events
	// arriving late or early open their own); 0: 4 per shard.
	Open int
	now  func() time.Time
}

// Writer appends events to the partition of their received time. It is
// used from one goroutine at a time (the output's).
type Writer struct {
	opts  WriterOptions
	parts map[string]*wpart
}

// wpart is one partition file open for writing.
type wpart struct {
	name    string
	db      *sql.DB
	conn    *sql.Conn
	ins     *sql.Stmt
	insBody *sql.Stmt
	insText *sql.Stmt
	rollStm []*sql.Stmt // per rollup: update, insert
	roll    *rollupBatch
	nextRow int64
	used    time.Time
	text    []byte
	vals    []any
}

// OpenWriter opens the store directory for writing.
func OpenWriter(o WriterOptions) (*Writer, error) {
	if o.Partition == "" {
		o.Partition = Day
	}
	if o.Partition != Day && o.Partition != Hour {
		return nil, fmt.Errorf("store: partition must be day or hour, not %q", o.Partition)
	}
	if o.CacheKiB <= 0 {
		o.CacheKiB = 64 << 10
	}
	if o.Shards <= 0 {
		o.Shards = 1
	}
	if o.Shards > 16 {
		return nil, fmt.Errorf("store: at most 16 shards, not %d", o.Shards)
	}
	if o.Open <= 0 {
		o.Open = 4 * o.Shards
	}
	if o.now == nil {
		o.now = time.Now
	}
	if err := os.MkdirAll(o.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return &Writer{opts: o, parts: map[string]*wpart{}}, nil
}

// ErrForeign is returned for a partition file that exists but is not ours.
var ErrForeign = errors.New("not an alertgw store partition")

// part returns the open partition called name, opening or creating it.
func (w *Writer) part(ctx context.Context, name string) (*wpart, error) {
	if p := w.parts[name]; p != nil {
		p.used = w.opts.now()
		return p, nil
	}
	if len(w.parts) >= w.opts.Open {
		w.closeLeastUsed()
	}
	path := filepath.Join(w.opts.Dir, name)
	_, statErr := os.Stat(path)
	fresh := errors.Is(statErr, os.ErrNotExist)
	db, err := sql.Open("sqlite", dsn(path, false, w.opts.CacheKiB))
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", name, err)
	}
	db.SetMaxOpenConns(1)
	p := &wpart{name: name, db: db, used: w.opts.now(), vals: make([]any, len(columns))}
	if err := p.init(ctx, fresh); err != nil {
		db.Close()
		if fresh {
			// Nothing of ours is in a file we failed to set up.
			if rerr := removePartition(path); rerr != nil {
				err = errors.Join(err, rerr)
			}
		}
		return nil, fmt.Errorf("store: partition %s: %w", name, err)
	}
	w.parts[name] = p
	return p, nil
}

func (p *wpart) init(ctx context.Context, fresh bool) error {
	conn, err := p.db.Conn(ctx)
	if err != nil {
		return err
	}
	p.conn = conn
	if fresh {
		// Created in rollback-journal mode so that the header marking the
		// file as ours is in the file itself, not in a WAL, once committed.
		if err := createSchema(ctx, conn); err != nil {
			return err
		}
	} else {
		var app, ver int64
		if err := conn.QueryRowContext(ctx, `PRAGMA application_id`).Scan(&app); err != nil {
			return fmt.Errorf("%w: %v", ErrForeign, err)
		}
		if app != ApplicationID {
			return fmt.Errorf("%w (application_id %#x)", ErrForeign, app)
		}
		if err := conn.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&ver); err != nil || ver < 1 || ver > SchemaVersion {
			return fmt.Errorf("schema version %d, want 1 to %d (%v)", ver, SchemaVersion, err)
		}
		if ver == 1 {
			if err := upgrade(ctx, conn); err != nil {
				return fmt.Errorf("adding the rollups to a version 1 partition: %w", err)
			}
		}
	}
	var mode string
	if err := conn.QueryRowContext(ctx, `PRAGMA journal_mode = WAL`).Scan(&mode); err != nil || mode != "wal" {
		return fmt.Errorf("WAL mode: %q %v", mode, err)
	}
	if err := conn.QueryRowContext(ctx, `SELECT coalesce(max(rowid), 0) + 1 FROM events`).Scan(&p.nextRow); err != nil {
		return err
	}
	if p.ins, err = conn.PrepareContext(ctx, InsertSQL); err != nil {
		return err
	}
	if p.insBody, err = conn.PrepareContext(ctx, InsertBodySQL); err != nil {
		return err
	}
	if p.insText, err = conn.PrepareContext(ctx, InsertTextSQL); err != nil {
		return err
	}
	for _, r := range rollups {
		for _, q := range []string{r.update, r.insert} {
			st, err := conn.PrepareContext(ctx, q)
			if err != nil {
				return err
			}
			p.rollStm = append(p.rollStm, st)
		}
	}
	p.roll = newRollupBatch()
	return nil
}

// createSchema makes a new partition: the tables, then the marks that make
// it ours, in one transaction so a file is ours only once complete.
func createSchema(ctx context.Context, conn *sql.Conn) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }() // after Commit: sql.ErrTxDone, nothing to undo
	if _, err := tx.ExecContext(ctx, schema+rollupSchema()); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA application_id = %d; PRAGMA user_version = %d`, ApplicationID, SchemaVersion)); err != nil {
		return err
	}
	return tx.Commit()
}

func (p *wpart) close() error {
	var errs []error
	for _, s := range append([]*sql.Stmt{p.ins, p.insBody, p.insText}, p.rollStm...) {
		if s != nil {
			errs = append(errs, s.Close())
		}
	}
	if p.conn != nil {
		errs = append(errs, p.conn.Close())
	}
	errs = append(errs, p.db.Close())
	return errors.Join(errs...)
}

func (w *Writer) closeLeastUsed() {
	var oldest *wpart
	for _, p := range w.parts {
		if oldest == nil || p.used.Before(oldest.used) {
			oldest = p
		}
	}
	if oldest != nil {
		oldest.close()
		delete(w.parts, oldest.name)
	}
}

// Write stores evs, whose encodings line(i) returns. Events go to the
// partition of their received time, spread over its shards, each file's
// share in one transaction, so each event is stored once or not at all.
// Shards are written in parallel. When a file fails, Write returns the
// first error and the indexes of the events not stored.
func (w *Writer) Write(ctx context.Context, evs []*normalize.Event, line func(i int) []byte) (failed []int, err error) {
	byPart := map[string][]int{}
	var names []string
	for i, e := range evs {
		shard := i * w.opts.Shards / len(evs)
		n := partName(received(e), w.opts.Partition, shard)
		if _, ok := byPart[n]; !ok {
			names = append(names, n)
		}
		byPart[n] = append(byPart[n], i)
	}
	sort.Strings(names)
	parts := make([]*wpart, len(names))
	errs := make([]error, len(names))
	for i, n := range names {
		parts[i], errs[i] = w.part(ctx, n)
	}
	var wg sync.WaitGroup
	for i, p := range parts {
		if p == nil {
			continue
		}
		wg.Go(func() { errs[i] = p.write(ctx, evs, byPart[names[i]], line) })
	}
	wg.Wait()
	for i, e := range errs {
		if e == nil {
			continue
		}
		if parts[i] != nil {
			w.drop(parts[i])
			e = fmt.Errorf("store: partition %s: %w", names[i], e)
		}
		err = cmp.Or(err, e)
		failed = append(failed, byPart[names[i]]...)
	}
	sort.Ints(failed)
	return failed, err
}

func received(e *normalize.Event) time.Time {
	if e.Received.IsZero() {
		return e.Timestamp
	}
	return e.Received
}

// write inserts the events at idx in one transaction.
func (p *wpart) write(ctx context.Context, evs []*normalize.Event, idx []int, line func(int) []byte) error {
	tx, err := p.conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }() // after Commit: sql.ErrTxDone, nothing to undo
	ins, insBody, insText := tx.StmtContext(ctx, p.ins), tx.StmtContext(ctx, p.insBody), tx.StmtContext(ctx, p.insText)
	defer p.roll.reset()
	row := p.nextRow
	minTS, maxTS := int64(1<<63-1), int64(-1<<63)
	for _, i := range idx {
		e := evs[i]
		ts := e.Timestamp.UnixMicro()
		minTS, maxTS = min(minTS, ts), max(maxTS, ts)
		p.rowValues(row, e)
		if _, err := ins.ExecContext(ctx, p.vals...); err != nil {
			return err
		}
		p.roll.add(ts, p.vals)
		if _, err := insBody.ExecContext(ctx, row, line(i)); err != nil {
			return err
		}
		p.text = query.AppendText(p.text[:0], e)
		if _, err := insText.ExecContext(ctx, row, p.text); err != nil {
			return err
		}
		row++
	}
	if err := p.roll.flush(ctx, tx, p.rollStm); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO meta (k, v) VALUES ('min_ts', ?1), ('max_ts', ?2), ('count', ?3)
		ON CONFLICT (k) DO UPDATE SET v = CASE k WHEN 'min_ts' THEN min(v, excluded.v) WHEN 'max_ts' THEN max(v, excluded.v) ELSE v + excluded.v END`,
		minTS, maxTS, len(idx)); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	p.nextRow = row
	return nil
}

// drop closes a partition file after an error, so that the retry starts
// from what the file holds.
func (w *Writer) drop(p *wpart) {
	p.close()
	delete(w.parts, p.name)
}

// The statements that store an event: its row (RowValues), its body (the
// rowid and the encoded event) and its words (the rowid and
// query.AppendText), exported for benchmarks.
var (
	InsertSQL     = `INSERT INTO events (` + strings.Join(columns, ",") + `) VALUES (` + strings.TrimSuffix(strings.Repeat("?,", len(columns)), ",") + `)`
	InsertBodySQL = `INSERT INTO bodies (rowid, event) VALUES (?, ?)`
	InsertTextSQL = `INSERT INTO events_text (rowid, text) VALUES (?, ?)`
)

// RowValues returns an event's row as the writer inserts it.
func RowValues(row int64, e *normalize.Event) []any {
	p := &wpart{vals: make([]any, len(columns))}
	p.rowValues(row, e)
	return p.vals
}

// rowValues fills w.vals with an event's columns, NULL where the native
// encoder leaves the field out.
func (p *wpart) rowValues(row int64, e *normalize.Event) {
	v := p.vals
	clear(v)
	v[0], v[1], v[2], v[3] = row, e.Timestamp.UnixMicro(), e.Received.UnixMicro(), e.ID
	v[4], v[5] = string(e.Kind), string(e.Action)
	v[6], v[7], v[8] = nullString(e.Source.Type), nullString(e.Source.Input), nullString(e.Source.Sensor)
	if e.SrcIP.IsValid() {
		v[9] = query.AddrBytes(e.SrcIP)
	}
	if e.DestIP.IsValid() {
		v[11] = query.AddrBytes(e.DestIP)
	}
	if e.HasPorts {
		v[10], v[12] = int64(e.SrcPort), int64(e.DestPort)
	}
	if e.HasProto {
		v[13] = int64(e.Proto)
	}
	v[14], v[15] = nullString(e.AppProto), nullString(e.CommunityID)
	if e.FlowID != 0 {
		v[16] = int64(e.FlowID)
	}
	if s := e.Signature; s != nil {
		v[17], v[18], v[19] = int64(s.GID), int64(s.ID), int64(s.Rev)
		v[20], v[21] = nullString(s.Name), nullString(s.Category)
		if s.Priority != 0 {
			v[22] = int64(s.Priority)
		}
	}
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// Close closes every open partition.
func (w *Writer) Close() error {
	var errs []error
	for n, p := range w.parts {
		errs = append(errs, p.close())
		delete(w.parts, n)
	}
	return errors.Join(errs...)
}

// ClosePartition closes the named files if they are open, before
// retention deletes them.
func (w *Writer) ClosePartition(files []string) {
	for _, f := range files {
		if p := w.parts[f]; p != nil {
			p.close()
			delete(w.parts, f)
		}
	}
}

// CloseIdle closes partitions not written for longer than d, so that an
// old partition's file can be deleted by retention and its memory freed.
func (w *Writer) CloseIdle(d time.Duration) {
	now := w.opts.now()
	for n, p := range w.parts {
		if now.Sub(p.used) > d {
			p.close()
			delete(w.parts, n)
		}
	}
}

// removePartition deletes a partition file and its WAL and shared-memory
// files.
func removePartition(path string) error {
	var errs []error
	for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
		if err := os.Remove(path + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

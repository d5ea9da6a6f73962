// Package postgres searches the table the `postgres` output writes (at
// migration 2 or later: partitioned by day, the event as json, its words in
// fts) with the same language and the same answers as the embedded store.
package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/alertgw/alertgw/query"
	"github.com/alertgw/alertgw/store"
)

// Options name the table to search.
type Options struct {
	DSN   string
	Table string // default alertgw_events
	// MaxConns bounds the pool (the API's concurrent searches); 0: 4.
	MaxConns int32
}

// Reader is a store.Reader over a PostgreSQL table. It is safe for
// concurrent use.
type Reader struct {
	pool  *pgxpool.Pool
	table string // quoted identifier
	now   func() time.Time
}

var dialect = &query.Dialect{
	Postgres: true,
	Columns:  store.Columns,
	Event:    "event",
	FullText: "to_tsvector('simple', fts) @@ to_tsquery('simple', %s)",
}

func init() {
	if err := dialect.Check(); err != nil {
		panic(err)
	}
}

// Open connects and checks that the table is one the search understands.
func Open(ctx context.Context, o Options) (*Reader, error) {
	if o.Table == "" {
		o.Table = "alertgw_events"
	}
	cfg, err := pgxpool.ParseConfig(o.DSN)
	if err != nil {
		return nil, fmt.Errorf("postgres dsn: %w", err)
	}
	cfg.MaxConns = o.MaxConns
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = 4
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = "alertgw search"
	cfg.ConnConfig.RuntimeParams["timezone"] = "UTC"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	r := &Reader{pool: pool, table: pgx.Identifier{o.Table}.Sanitize(), now: time.Now}
	var typ, fts *string
	err = pool.QueryRow(ctx, `SELECT
		(SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = to_regclass($1) AND attname = 'event' AND NOT attisdropped),
		(SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = to_regclass($1) AND attname = 'fts' AND NOT attisdropped)`,
		r.table).Scan(&typ, &fts)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	switch {
	case typ == nil:
		pool.Close()
		return nil, fmt.Errorf("postgres: no table %s with an event column (the postgres output creates it)", o.Table)
	case *typ != "json" || fts == nil:
		pool.Close()
		return nil, fmt.Errorf("postgres: table %s is at migration 1 (event %s, no fts): let a gateway with migrate: true upgrade it (docs: outputs/postgres)", o.Table, *typ)
	}
	return r, nil
}

// Close closes the pool.
func (r *Reader) Close() error {
	r.pool.Close()
	return nil
}

// where compiles a filter: the window as $1 and $2, then the query.
func where(f store.Filter) (string, []any) {
	args := []any{f.From, f.To}
	cond, args := dialect.Where(f.Query, args)
	return "ts >= $1 AND ts < $2 AND " + cond, args
}

func ph(args []any, v any) ([]any, string) {
	args = append(args, v)
	return args, "$" + strconv.Itoa(len(args))
}

// result sorts a query's failure: cut by the request's own timeout (a
// result that says so), or an error.
func result(parent, qctx context.Context, err error) (timedOut bool, _ error) {
	if err == nil {
		return false, nil
	}
	if parent.Err() == nil && qctx.Err() != nil {
		return true, nil
	}
	if parent.Err() != nil {
		return false, parent.Err()
	}
	return false, fmt.Errorf("postgres: %w", err)
}

type row struct {
	ts time.Time
	id string
	ev string
}

func (r *Reader) rows(ctx context.Context, sql string, args []any) ([]row, error) {
	rs, err := r.pool.Query(ctx, sql, args...)
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
		out[i] = store.Event{ID: x.id, Time: x.ts.UTC(), JSON: json.RawMessage(x.ev)}
	}
	return out
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
		args, pt = ph(args, c.Time)
		args, pi = ph(args, c.ID)
		cond += " AND (ts < " + pt + " OR (ts = " + pt + ` AND id COLLATE "C" < ` + pi + "))"
	}
	args, pl := ph(args, limit+1)
	sql := "SELECT ts, id, event::text FROM " + r.table + " WHERE " + cond + ` ORDER BY ts DESC, id COLLATE "C" DESC LIMIT ` + pl
	rows, err := r.rows(qctx, sql, args)
	res := &store.EventsResult{}
	if res.TimedOut, err = result(ctx, qctx, err); err != nil {
		return nil, err
	}
	if len(rows) > limit {
		rows, res.Truncated = rows[:limit], true
		last := rows[limit-1]
		res.Next = store.Cursor{Time: last.ts, ID: last.id}.String()
	}
	res.Events = toEvents(rows)
	return res, nil
}

// Event implements store.Reader.
func (r *Reader) Event(ctx context.Context, id string) (*store.Event, error) {
	qctx, cancel := context.WithTimeout(ctx, store.DefaultTimeout)
	defer cancel()
	rows, err := r.rows(qctx, "SELECT ts, id, event::text FROM "+r.table+" WHERE id = $1 LIMIT 1", []any{id})
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if len(rows) == 0 {
		return nil, store.ErrNotFound
	}
	return &toEvents(rows)[0], nil
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
		args, p = ph(args, strconv.FormatUint(req.FlowID, 10))
		ors = append(ors, "flow_id = "+p+"::numeric")
	}
	if req.CommunityID != "" {
		var p string
		args, p = ph(args, req.CommunityID)
		ors = append(ors, "community_id = "+p)
	}
	args, pl := ph(args, limit+1)
	sql := "SELECT ts, id, event::text FROM " + r.table + " WHERE " + cond + " AND (" + strings.Join(ors, " OR ") +
		`) ORDER BY ts, id COLLATE "C" LIMIT ` + pl
	rows, err := r.rows(qctx, sql, args)
	res := &store.EventsResult{}
	if res.TimedOut, err = result(ctx, qctx, err); err != nil {
		return nil, err
	}
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
	cond, args := where(f)
	args, po := ph(args, buckets[0].Start.UnixMicro())
	args, pi := ph(args, res.Interval.Microseconds())
	sql := "SELECT ((extract(epoch FROM ts) * 1000000)::bigint - " + po + "::bigint) / " + pi + "::bigint AS b, count(*) FROM " +
		r.table + " WHERE " + cond + " GROUP BY b"
	err = func() error {
		rs, err := r.pool.Query(qctx, sql, args...)
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
				buckets[b].Count += n
			}
		}
		return rs.Err()
	}()
	if res.TimedOut, err = result(ctx, qctx, err); err != nil {
		return nil, err
	}
	return res, nil
}

// maxGroupRows bounds the groups read before sorting.
const maxGroupRows = 100_000

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
	cond, args := where(f)
	fields := req.Fields()
	exprs := make([]string, len(fields))
	ords := make([]string, len(fields))
	for i, f := range fields {
		args, exprs[i] = groupExpr(args, f)
		ords[i] = strconv.Itoa(i + 1)
	}
	args, pl := ph(args, maxGroupRows+1)
	sql := "SELECT " + strings.Join(exprs, ", ") + ", count(*), min(ts), max(ts), (sum(count(*)) OVER ())::bigint FROM " + r.table +
		" WHERE " + cond + " GROUP BY " + strings.Join(ords, ", ") + " ORDER BY count(*) DESC LIMIT " + pl
	res := &store.GroupsResult{By: req.By}
	var all []store.Group
	err = func() error {
		rs, err := r.pool.Query(qctx, sql, args...)
		if err != nil {
			return err
		}
		defer rs.Close()
		n := len(fields)
		for rs.Next() {
			vals, err := rs.Values()
			if err != nil {
				return err
			}
			key := make([]any, n)
			for i, f := range fields {
				key[i] = keyValue(f, vals[i])
			}
			g := store.Group{Key: key, Count: vals[n].(int64), First: vals[n+1].(time.Time).UTC(), Last: vals[n+2].(time.Time).UTC()}
			res.Total = vals[n+3].(int64)
			all = append(all, g)
		}
		return rs.Err()
	}()
	if res.TimedOut, err = result(ctx, qctx, err); err != nil {
		return nil, err
	}
	if len(all) > maxGroupRows {
		all, res.Truncated = all[:maxGroupRows], true
	}
	store.SortGroups(all)
	if len(all) > req.Limit {
		all, res.Truncated = all[:req.Limit], true
	}
	res.Groups = all
	return res, nil
}

// groupExpr reads a field's value for grouping, as SQL text or bigint.
func groupExpr(args []any, f *query.Field) ([]any, string) {
	if col, ok := dialect.Columns[f.Name]; ok {
		switch f.Type {
		case query.IP:
			return args, "host(" + col + ")"
		case query.ID:
			return args, col + "::text"
		case query.Uint, query.Int:
			return args, col + "::bigint"
		}
		return args, col
	}
	args, p := ph(args, strings.Split(f.Name, "."))
	return args, "(event #> " + p + "::text[])::text"
}

// keyValue converts a group value as groupExpr read it.
func keyValue(f *query.Field, v any) any {
	if v == nil {
		return nil
	}
	if _, ok := dialect.Columns[f.Name]; !ok {
		if s, ok := v.(string); ok {
			return store.KeyFromJSON(f, []byte(s))
		}
		return fmt.Sprint(v)
	}
	switch x := v.(type) {
	case string:
		if f.Type == query.ID {
			if u, err := strconv.ParseUint(x, 10, 64); err == nil {
				return u
			}
		}
		return x
	case int64:
		if f.Type == query.Uint {
			return uint64(x)
		}
		return x
	}
	return fmt.Sprint(v)
}

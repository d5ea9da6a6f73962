// Package postgres is the postgres output: batches of events go into one
// table with a COPY each, typed columns for the fields people filter on and
// a json column with the whole event (jsonb before migration 2). The table
// and its indexes are made by versioned migrations that the output runs
// itself at start, under an advisory lock so that several gateways sharing
// a database do not race.
//
// Delivery is at least once: a COPY is atomic, so a batch is in the table
// whole or not at all, but a COPY whose commit reply was lost (the server
// restarted at that moment) is sent again. Each event's id is stable across
// redeliveries; outputs/postgres/README.md shows how to deduplicate on it.
package postgres

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/alertgw/alertgw/config"
	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/outputs"
	"github.com/alertgw/alertgw/query"
	"github.com/alertgw/alertgw/store"
)

// sample is sample.yaml: a minimal working block of this type.
//
//go:embed sample.yaml
var sample []byte

// Plugin registers the output.
var Plugin = outputs.Plugin{
	Type:    "postgres",
	Summary: "COPY events into a PostgreSQL table (typed columns + the event as json), created by versioned migrations",
	Sample:  sample,
	Options: func() any {
		return &Options{Table: "alertgw_events", Timeout: 30 * time.Second, Migrate: true}
	},
	New: func(env outputs.Env, opts any) (outputs.Output, error) { return New(env, opts.(*Options)) },
}

// Options are the postgres block's own keys.
type Options struct {
	// DSN is the connection string (required): a URL
	// (postgres://user@host:5432/db?sslmode=verify-full) or key=value
	// form; libpq's environment (PGPASSWORD, PGSSLROOTCERT, ...) applies.
	DSN string `mapstructure:"dsn"`
	// Table is the table written to, a lower-case SQL identifier of at most
	// 53 characters (its partitions are <table>_p20261122).
	Table string `mapstructure:"table"`
	// Migrate creates or upgrades the table at start; otherwise it must
	// exist.
	Migrate bool `mapstructure:"migrate"`
	// Timeout bounds one batch's COPY; a slower one fails and is retried.
	Timeout time.Duration `mapstructure:"timeout"`
	// Retention drops the daily partitions whose day ended longer ago
	// (90d, 2w, 36h); 0: keep everything.
	Retention store.Age `mapstructure:"retention"`
	// MaxBytes drops the oldest partitions while the table (indexes
	// included) is larger; today's and later ones stay. 0: no budget.
	MaxBytes config.Size `mapstructure:"max_bytes"`
}

// The table name leaves room for partition names: <table>_p20261122.
var identRE = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,52}$`)

// Validate implements config.Validator.
func (o *Options) Validate() config.Problems {
	var p config.Problems
	if o.DSN == "" {
		p.Add("dsn", "a connection string is needed, e.g. postgres://alertgw@db:5432/alerts")
	} else if _, err := pgx.ParseConfig(o.DSN); err != nil {
		p.Add("dsn", "%v", err)
	}
	if !identRE.MatchString(o.Table) {
		p.Add("table", "must be a lower-case SQL identifier ([a-z_][a-z0-9_]*) of at most 53 characters; got %q", o.Table)
	}
	if o.Timeout < time.Second {
		p.Add("timeout", "must be at least 1s; got %s", o.Timeout)
	}
	if o.Retention < 0 {
		p.Add("retention", "must not be negative")
	}
	return p
}

// columns, in COPY order; the values come from row below.
var columns = []string{"id", "ts", "received", "kind", "action", "source_type", "source_input", "sensor",
	"src_ip", "src_port", "dest_ip", "dest_port", "proto", "app_proto", "community_id", "flow_id",
	"signature_gid", "signature_id", "signature_rev", "signature", "category", "priority", "event", "fts"}

// migrations are applied in order, each once per table; append, never edit.
var migrations = []string{
	1: `CREATE TABLE IF NOT EXISTS {t} (
		id            text        NOT NULL,
		ts            timestamptz NOT NULL,
		received      timestamptz NOT NULL,
		kind          text        NOT NULL,
		action        text        NOT NULL,
		source_type   text,
		source_input  text,
		sensor        text,
		src_ip        inet,
		src_port      integer,
		dest_ip       inet,
		dest_port     integer,
		proto         smallint,
		app_proto     text,
		community_id  text,
		flow_id       numeric(20),
		signature_gid bigint,
		signature_id  bigint,
		signature_rev bigint,
		signature     text,
		category      text,
		priority      integer,
		event         jsonb       NOT NULL
	);
	CREATE INDEX IF NOT EXISTS {t}_ts_idx ON {t} (ts);
	CREATE INDEX IF NOT EXISTS {t}_src_ip_idx ON {t} (src_ip);
	CREATE INDEX IF NOT EXISTS {t}_dest_ip_idx ON {t} (dest_ip);
	CREATE INDEX IF NOT EXISTS {t}_signature_id_idx ON {t} (signature_id) WHERE signature_id IS NOT NULL;
	CREATE INDEX IF NOT EXISTS {t}_community_id_idx ON {t} (community_id) WHERE community_id IS NOT NULL;
	CREATE INDEX IF NOT EXISTS {t}_id_idx ON {t} (id);`,
	// 2: daily partitions (declarative, by ts), the event kept as json so
	// that it is the exact text the output encoded, and the event's words
	// for full-text search. An existing table with rows becomes the
	// partition of everything before the day after its newest row; an
	// empty one is replaced.
	2: `DO $mig$
	DECLARE
		bound timestamptz;
		has_rows boolean;
	BEGIN
		IF EXISTS (SELECT 1 FROM pg_partitioned_table WHERE partrelid = '{t}'::regclass) THEN
			RETURN;
		END IF;
		SELECT EXISTS (SELECT 1 FROM {t}) INTO has_rows;
		SELECT (date_trunc('day', max(ts) AT TIME ZONE 'UTC') + interval '1 day') AT TIME ZONE 'UTC' INTO bound FROM {t};
		ALTER TABLE {t} RENAME TO {legacy};
		ALTER TABLE {legacy} ALTER COLUMN event TYPE json USING event::json, ADD COLUMN fts text;
		CREATE TABLE {t} (LIKE {legacy} INCLUDING DEFAULTS) PARTITION BY RANGE (ts);
		IF has_rows THEN
			EXECUTE format('ALTER TABLE {t} ATTACH PARTITION {legacy} FOR VALUES FROM (MINVALUE) TO (%L)', bound);
		ELSE
			DROP TABLE {legacy};
		END IF;
	END $mig$;
	CREATE INDEX IF NOT EXISTS {t}_ts_pidx ON {t} (ts);
	CREATE INDEX IF NOT EXISTS {t}_src_ip_pidx ON {t} (src_ip);
	CREATE INDEX IF NOT EXISTS {t}_dest_ip_pidx ON {t} (dest_ip);
	CREATE INDEX IF NOT EXISTS {t}_signature_id_pidx ON {t} (signature_id) WHERE signature_id IS NOT NULL;
	CREATE INDEX IF NOT EXISTS {t}_community_id_pidx ON {t} (community_id) WHERE community_id IS NOT NULL;
	CREATE INDEX IF NOT EXISTS {t}_flow_id_pidx ON {t} (flow_id) WHERE flow_id IS NOT NULL;
	CREATE INDEX IF NOT EXISTS {t}_id_pidx ON {t} (id);
	CREATE INDEX IF NOT EXISTS {t}_fts_pidx ON {t} USING gin (to_tsvector('simple', fts));`,
}

// Output writes to PostgreSQL over one connection, reopened after failures.
type Output struct {
	env      outputs.Env
	opts     *Options
	cfg      *pgx.ConnConfig
	conn     *pgx.Conn
	migrated bool
	rows     rowSource

	// What the table is, learnt at connect: partitioned (migration 2 or
	// later) and the columns COPY fills.
	partitioned bool
	columns     []string
	haveDay     map[time.Time]bool // days known to have a partition
	checked     time.Time          // last retention run
	now         func() time.Time
}

// retentionEvery is how often retention runs while events flow.
const retentionEvery = time.Minute

// New checks the options. It does not connect: a database that is down at
// start must not stop the gateway (events wait in the buffer); the first
// Write connects and migrates.
func New(env outputs.Env, o *Options) (*Output, error) {
	cfg, err := pgx.ParseConfig(o.DSN)
	if err != nil {
		return nil, fmt.Errorf("postgres dsn: %w", err)
	}
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	cfg.RuntimeParams["application_name"] = "alertgw"
	cfg.RuntimeParams["timezone"] = "UTC" // partition bounds are read back in UTC
	w := &Output{env: env, opts: o, cfg: cfg, haveDay: map[time.Time]bool{}, now: time.Now}
	w.rows.vals = make([]any, len(columns))
	return w, nil
}

func (w *Output) connect(ctx context.Context) error {
	if w.conn != nil && !w.conn.IsClosed() {
		return nil
	}
	conn, err := pgx.ConnectConfig(ctx, w.cfg)
	if err != nil {
		return fmt.Errorf("postgres connect: %w", err)
	}
	w.conn = conn
	if w.opts.Migrate && !w.migrated {
		if err := Migrate(ctx, conn, w.opts.Table); err != nil {
			w.drop()
			return err
		}
		w.migrated = true
	}
	if err := w.inspect(ctx); err != nil {
		w.drop()
		return err
	}
	return nil
}

// inspect learns whether the table is partitioned and has the fts column
// (a table left at migration 1 with migrate: false has neither).
func (w *Output) inspect(ctx context.Context) error {
	ident := pgx.Identifier{w.opts.Table}.Sanitize()
	var hasFTS bool
	err := w.conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_partitioned_table WHERE partrelid = $1::regclass),
		EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = $1::regclass AND attname = 'fts' AND NOT attisdropped)`, ident).
		Scan(&w.partitioned, &hasFTS)
	if err != nil {
		return fmt.Errorf("postgres: table %s: %w", w.opts.Table, err)
	}
	w.columns = columns
	if !hasFTS {
		w.columns = columns[:len(columns)-1]
	}
	w.haveDay = map[time.Time]bool{}
	if w.partitioned {
		w.retention(ctx)
	}
	return nil
}

// retention applies the retention policy and logs what it dropped.
func (w *Output) retention(ctx context.Context) {
	now := w.now()
	w.checked = now
	dropped, err := w.applyRetention(ctx, now)
	if err != nil {
		w.env.Log.Error().Err(err).Msg("postgres: retention failed")
		return
	}
	for _, d := range dropped {
		if w.env.Stats != nil {
			w.env.Stats.Figures.Add("removed_partitions_total", 1)
			w.env.Stats.Figures.Add("removed_bytes_total", d.Bytes)
		}
		w.env.Log.Info().Str("partition", d.Name).Str("reason", d.Reason).Int64("bytes", d.Bytes).Msg("postgres: retention dropped a partition")
	}
}

func (w *Output) drop() {
	if w.conn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		w.conn.Close(ctx)
		cancel()
		w.conn = nil
	}
}

// Migrate brings table up to the latest migration.
func Migrate(ctx context.Context, conn *pgx.Conn, table string) error {
	return migrateTo(ctx, conn, table, len(migrations)-1)
}

// migrateTo applies the migrations up to version last.
func migrateTo(ctx context.Context, conn *pgx.Conn, table string, last int) error {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres migrate: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }() // after Commit a no-op; else the error is the one returned
	// One migrator at a time per database, whatever the table.
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(4242424242)`); err != nil {
		return fmt.Errorf("postgres migrate lock: %w", err)
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS alertgw_migrations (
		tbl text NOT NULL, version integer NOT NULL, applied timestamptz NOT NULL DEFAULT now(),
		PRIMARY KEY (tbl, version))`); err != nil {
		return fmt.Errorf("postgres migrations table: %w", err)
	}
	var have int
	if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM alertgw_migrations WHERE tbl = $1`, table).Scan(&have); err != nil {
		return fmt.Errorf("postgres migration version: %w", err)
	}
	for v := have + 1; v <= last; v++ {
		// Index names derive from the table name, which Validate keeps a
		// plain identifier; the table itself is quoted.
		sql := strings.ReplaceAll(migrations[v], "{t}_", table+"_")
		sql = strings.ReplaceAll(sql, "{legacy}", pgx.Identifier{table + "_legacy"}.Sanitize())
		sql = strings.ReplaceAll(sql, "{t}", pgx.Identifier{table}.Sanitize())
		if _, err := tx.Exec(ctx, sql); err != nil {
			return fmt.Errorf("postgres migration %d: %w", v, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO alertgw_migrations (tbl, version) VALUES ($1, $2)`, table, v); err != nil {
			return fmt.Errorf("postgres migration %d: %w", v, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres migrate commit: %w", err)
	}
	return nil
}

// Write COPYs the batch. A batch the server refuses as data (a NUL byte in
// a string, a value out of range: SQLSTATE classes 22 and 23) is split into
// single-event COPYs so that only the bad events are dead-lettered.
func (w *Output) Write(ctx context.Context, b *outputs.Batch) error {
	ctx, cancel := context.WithTimeout(ctx, w.opts.Timeout)
	defer cancel()
	if err := w.connect(ctx); err != nil {
		return err
	}
	if w.partitioned {
		if w.now().Sub(w.checked) > retentionEvery {
			w.retention(ctx)
		}
		days := batchDays(func(i int) time.Time { return b.Events[i].Timestamp }, len(b.Events), w.now())
		if err := w.ensurePartitions(ctx, days); err != nil {
			w.drop()
			return err
		}
	}
	lines := b.Encode(w.env.Encoder)
	err := w.copy(ctx, b.Events, lines, 0)
	if err == nil {
		return nil
	}
	if sqlState(err) == "23514" && w.partitioned {
		// No partition for a row: another gateway's retention dropped it,
		// or the day is new. Not the data's fault: learn the partitions
		// again and retry.
		w.drop()
		return fmt.Errorf("postgres copy: %w", err)
	}
	if !dataError(err) {
		w.drop() // the connection's state is unknown: start afresh next time
		return fmt.Errorf("postgres copy: %w", err)
	}
	var pe outputs.PartialError
	for i := range b.Events {
		err := w.copy(ctx, b.Events[i:i+1], lines, i)
		switch {
		case err == nil:
		case dataError(err):
			pe.Failed = append(pe.Failed, outputs.ItemFailure{Index: i, Permanent: true, Reason: "sqlstate_" + sqlState(err), Detail: err.Error()})
		default:
			w.drop()
			for j := i; j < len(b.Events); j++ {
				pe.Failed = append(pe.Failed, outputs.ItemFailure{Index: j, Reason: "connection", Detail: err.Error()})
			}
			return &pe
		}
	}
	return &pe
}

// copy sends evs, whose encodings are lines from line first on.
func (w *Output) copy(ctx context.Context, evs []*normalize.Event, lines *outputs.Lines, first int) error {
	w.rows.reset(evs, lines, first)
	w.rows.n = len(w.columns)
	_, err := w.conn.CopyFrom(ctx, pgx.Identifier{w.opts.Table}, w.columns, &w.rows)
	w.rows.reset(nil, nil, 0)
	return err
}

func sqlState(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}

// dataError reports whether the server refused the data itself.
func dataError(err error) bool {
	c := sqlState(err)
	return len(c) == 5 && (c[:2] == "22" || c[:2] == "23")
}

// Close closes the connection.
func (w *Output) Close() error {
	w.drop()
	return nil
}

// rowSource feeds COPY from a batch without building rows up front: one
// reused value slice (pgx encodes each row before asking for the next) and
// the json column is the event in the output's format, already encoded.
type rowSource struct {
	evs   []*normalize.Event
	lines *outputs.Lines
	first int
	i     int
	vals  []any
	text  []byte
	n     int // columns filled: without fts on a table that lacks it
}

func (r *rowSource) reset(evs []*normalize.Event, lines *outputs.Lines, first int) {
	r.evs, r.lines, r.first, r.i = evs, lines, first, -1
}

func (r *rowSource) Next() bool { r.i++; return r.i < len(r.evs) }

func (r *rowSource) Err() error { return nil }

func (r *rowSource) Values() ([]any, error) {
	e := r.evs[r.i]
	v := r.vals
	clear(v)
	v[0], v[1], v[2], v[3], v[4] = e.ID, e.Timestamp, e.Received, string(e.Kind), string(e.Action)
	v[5], v[6], v[7] = nullString(e.Source.Type), nullString(e.Source.Input), nullString(e.Source.Sensor)
	// Addresses as the native format writes them (IPv4-mapped as IPv4),
	// so that searches by CIDR find them.
	if e.SrcIP.IsValid() {
		v[8] = e.SrcIP.Unmap().WithZone("")
	}
	if e.DestIP.IsValid() {
		v[10] = e.DestIP.Unmap().WithZone("")
	}
	if e.HasPorts {
		v[9], v[11] = int32(e.SrcPort), int32(e.DestPort)
	}
	if e.HasProto {
		v[12] = int16(e.Proto)
	}
	v[13], v[14] = nullString(e.AppProto), nullString(e.CommunityID)
	if e.FlowID != 0 {
		v[15] = fmt.Sprint(e.FlowID) // numeric(20): a uint64 beyond int64
	}
	if s := e.Signature; s != nil {
		v[16], v[17], v[18] = int64(s.GID), int64(s.ID), int64(s.Rev)
		v[19], v[20] = nullString(s.Name), nullString(s.Category)
		if s.Priority != 0 {
			v[21] = int32(s.Priority)
		}
	}
	v[22] = r.lines.Line(r.first + r.i)
	r.text = query.AppendText(r.text[:0], e)
	v[23] = string(r.text)
	return v[:r.n], nil
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

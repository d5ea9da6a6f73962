// Package sqlite is the embedded event store: one SQLite database file per
// time partition (a day or an hour of the gateway's clock) in a directory,
// in WAL mode, written by the `store` output and read by `alertgw search`
// and the search API (store.Reader), also while the gateway writes.
//
// The words of the full-text index come tokenized and lower-cased by
// query.AppendText (one space between words): FTS5's plain ascii tokenizer
// only splits them again, which costs a fraction of unicode61, and queries
// are tokenized the same way (query.Tokens), so both sides agree.
//
// Each file holds one table of typed columns for the fields people filter
// and group on, a table of the whole events as the output encoded them (so a search
// prints exactly the line the file output writes), an FTS5 index over the
// event's flattened text (query.AppendText), and a meta table naming it as
// alertgw's with the range of event timestamps it holds. Retention deletes
// whole files; a file that is not provably one of ours is never touched.
package sqlite

import (
	"database/sql"
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"time"

	_ "modernc.org/sqlite" // the pure-Go SQLite driver "sqlite"

	"github.com/alertgw/alertgw/query"
	"github.com/alertgw/alertgw/store"
)

// ApplicationID marks our files (PRAGMA application_id): "AGW1".
const ApplicationID = 0x41475731

// SchemaVersion is PRAGMA user_version of a partition we create.
// Version 2 added the rollup tables (rollup.go); version 1 files are
// upgraded by the writer and scanned by readers until then.
const SchemaVersion = 2

// columns in insert order; the values come from rowValues.
var columns = []string{"rowid", "ts", "received", "id", "kind", "action", "source_type", "source_input", "sensor",
	"src_ip", "src_port", "dest_ip", "dest_port", "proto", "app_proto", "community_id", "flow_id",
	"signature_gid", "signature_id", "signature_rev", "signature", "category", "priority"}

// Schema is the DDL of a partition (without the marks that make it ours),
// for benchmarks that compare the store with a bare SQLite loop.
const Schema = schema

const schema = `
CREATE TABLE events (
	ts            INTEGER NOT NULL, -- Unix microseconds
	received      INTEGER NOT NULL,
	id            TEXT    NOT NULL,
	kind          TEXT    NOT NULL,
	action        TEXT    NOT NULL,
	source_type   TEXT,
	source_input  TEXT,
	sensor        TEXT,
	src_ip        BLOB,             -- 16 bytes, IPv4 mapped (query.AddrBytes)
	src_port      INTEGER,
	dest_ip       BLOB,
	dest_port     INTEGER,
	proto         INTEGER,
	app_proto     TEXT,
	community_id  TEXT,
	flow_id       INTEGER,          -- the uint64's bits
	signature_gid INTEGER,
	signature_id  INTEGER,
	signature_rev INTEGER,
	signature     TEXT,
	category      TEXT,
	priority      INTEGER
);
-- The encoded event, exactly, kept apart so that the rows scanned by
-- filters and groupings stay small: a body is read only for the events a
-- search returns, or for terms on fields without a column.
CREATE TABLE bodies (
	rowid INTEGER PRIMARY KEY, -- the event's rowid in events
	event TEXT NOT NULL
);
CREATE INDEX events_ts ON events (ts);
CREATE INDEX events_src_ip ON events (src_ip, ts);
CREATE INDEX events_dest_ip ON events (dest_ip, ts);
CREATE INDEX events_signature ON events (signature_id, ts) WHERE signature_id IS NOT NULL;
CREATE INDEX events_flow ON events (flow_id) WHERE flow_id IS NOT NULL;
CREATE INDEX events_community ON events (community_id) WHERE community_id IS NOT NULL;
CREATE INDEX events_id ON events (id);
CREATE VIRTUAL TABLE events_text USING fts5 (text, content='', tokenize='ascii');
CREATE TABLE meta (
	k TEXT PRIMARY KEY,
	v
) WITHOUT ROWID;
`

// dialect compiles queries for a partition.
var dialect = &query.Dialect{
	Columns:  store.Columns,
	Event:    "(SELECT event FROM bodies WHERE bodies.rowid = events.rowid)",
	FullText: "events.rowid IN (SELECT rowid FROM events_text WHERE events_text MATCH %s)",
}

func init() {
	if err := dialect.Check(); err != nil {
		panic(err)
	}
}

// Partition sizes.
const (
	Day  = "day"
	Hour = "hour"
)

// File names: alertgw-20261122-0.db (day) and alertgw-2026112214-0.db
// (hour), UTC, then the shard: a partition is written by as many writers
// in parallel as it has shards, one file each. Only files of exactly this
// form are partitions.
var partRE = regexp.MustCompile(`^alertgw-(\d{8}|\d{10})-(\d{1,2})\.db$`)

// partName returns the file name of shard's file of the partition holding
// time t.
func partName(t time.Time, size string, shard int) string {
	t = t.UTC()
	if size == Hour {
		return t.Format("alertgw-2006010215-") + strconv.Itoa(shard) + ".db"
	}
	return t.Format("alertgw-20060102-") + strconv.Itoa(shard) + ".db"
}

// partSpan parses a partition file name into the span of received times
// it covers.
func partSpan(name string) (start, end time.Time, ok bool) {
	m := partRE.FindStringSubmatch(name)
	if m == nil {
		return start, end, false
	}
	if len(m[1]) == 10 {
		t, err := time.Parse("2006010215", m[1])
		if err != nil {
			return start, end, false
		}
		return t, t.Add(time.Hour), true
	}
	t, err := time.Parse("20060102", m[1])
	if err != nil {
		return start, end, false
	}
	return t, t.AddDate(0, 0, 1), true
}

// dsn builds the driver's connection string. Pragmas are constants of this
// package; the path is escaped. A reader opens an existing partition
// (mode=rw never creates a file, and lets SQLite create the WAL index it
// needs) and refuses to write to it.
func dsn(path string, read bool, cacheKiB int) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", fmt.Sprintf("cache_size(-%d)", cacheKiB))
	if read {
		q.Set("mode", "rw")
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Add("_pragma", "synchronous(NORMAL)")
	}
	u := url.URL{Scheme: "file", OmitHost: true, Path: filepath.ToSlash(path), RawQuery: q.Encode()}
	return u.String()
}

// checkOurs reports whether db is one of our partitions of a schema we
// read: a foreign or corrupt file yields an error.
func checkOurs(db *sql.DB) error {
	var app, ver int64
	if err := db.QueryRow(`PRAGMA application_id`).Scan(&app); err != nil {
		return fmt.Errorf("not a readable SQLite database: %w", err)
	}
	if app != ApplicationID {
		return fmt.Errorf("not an alertgw store partition (application_id %#x)", app)
	}
	if err := db.QueryRow(`PRAGMA user_version`).Scan(&ver); err != nil {
		return fmt.Errorf("schema version: %w", err)
	}
	if ver < 1 || ver > SchemaVersion {
		return fmt.Errorf("schema version %d; this alertgw reads 1 to %d", ver, SchemaVersion)
	}
	return nil
}

// WriteDSN is the connection string the writer opens a partition with
// (default cache), for benchmarks.
func WriteDSN(path string) string { return dsn(path, false, 64<<10) }

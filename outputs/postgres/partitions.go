package postgres

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
)

// The table is partitioned by day of ts (UTC): <table>_p20261122 holds
// [2026-11-22, 2026-11-23). Partitions are created ahead of time and for
// any day a batch needs, and dropped whole by retention.

// partitionsAhead is how many days after today get their partition in
// advance, so that midnight never waits for a CREATE TABLE.
const partitionsAhead = 2

// lockKey serializes partition changes between gateways sharing a table.
const lockKey = 4242424243

// partition is one partition of the table, as the catalog describes it.
type partition struct {
	name     string
	from, to time.Time // from is zero for MINVALUE (the legacy partition)
	bytes    int64
}

var boundRE = regexp.MustCompile(`FROM \((MINVALUE|'([^']+)')\) TO \((MAXVALUE|'([^']+)')\)`)

// listPartitions reads the table's partitions, oldest first.
func listPartitions(ctx context.Context, conn *pgx.Conn, table string) ([]partition, error) {
	rows, err := conn.Query(ctx, `SELECT c.relname, pg_get_expr(c.relpartbound, c.oid), pg_total_relation_size(c.oid)
		FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = $1::regclass`, pgx.Identifier{table}.Sanitize())
	if err != nil {
		return nil, fmt.Errorf("postgres partitions: %w", err)
	}
	defer rows.Close()
	var out []partition
	for rows.Next() {
		var p partition
		var bound string
		if err := rows.Scan(&p.name, &bound, &p.bytes); err != nil {
			return nil, fmt.Errorf("postgres partitions: %w", err)
		}
		m := boundRE.FindStringSubmatch(bound)
		if m == nil {
			continue // not a range partition of ours
		}
		if m[2] != "" {
			if p.from, err = parsePGTime(m[2]); err != nil {
				return nil, err
			}
		}
		if m[4] != "" {
			if p.to, err = parsePGTime(m[4]); err != nil {
				return nil, err
			}
		} else {
			p.to = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
		}
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b partition) int { return a.from.Compare(b.from) })
	return out, rows.Err()
}

func parsePGTime(s string) (time.Time, error) {
	for _, l := range []string{"2006-01-02 15:04:05-07", "2006-01-02 15:04:05-07:00", "2006-01-02 15:04:05.999999-07"} {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("postgres partitions: unreadable bound %q", s)
}

func covered(parts []partition, day time.Time) bool {
	for _, p := range parts {
		if !day.Before(p.from) && day.Before(p.to) {
			return true
		}
	}
	return false
}

func partitionName(table string, day time.Time) string { return table + "_p" + day.Format("20060102") }

// ensurePartitions creates the daily partitions of days that no partition
// covers yet.
func (w *Output) ensurePartitions(ctx context.Context, days []time.Time) error {
	var missing []time.Time
	for _, d := range days {
		if !w.haveDay[d] {
			missing = append(missing, d)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	tx, err := w.conn.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres partitions: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }() // after Commit: pgx.ErrTxClosed, nothing to undo
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(lockKey)); err != nil {
		return fmt.Errorf("postgres partitions: %w", err)
	}
	parts, err := listPartitions(ctx, tx.Conn(), w.opts.Table)
	if err != nil {
		return err
	}
	for _, d := range missing {
		if covered(parts, d) {
			continue
		}
		sql := fmt.Sprintf(`CREATE TABLE %s PARTITION OF %s FOR VALUES FROM ('%s') TO ('%s')`,
			pgx.Identifier{partitionName(w.opts.Table, d)}.Sanitize(), pgx.Identifier{w.opts.Table}.Sanitize(),
			d.Format("2006-01-02 15:04:05+00"), d.AddDate(0, 0, 1).Format("2006-01-02 15:04:05+00"))
		if _, err := tx.Exec(ctx, sql); err != nil {
			return fmt.Errorf("postgres partition %s: %w", partitionName(w.opts.Table, d), err)
		}
		parts = append(parts, partition{from: d, to: d.AddDate(0, 0, 1)})
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres partitions: %w", err)
	}
	for _, d := range missing {
		w.haveDay[d] = true
	}
	return nil
}

// day returns the UTC day of t.
func day(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// batchDays returns the days a batch's timestamps fall on, with today and
// the days ahead.
func batchDays(ts func(i int) time.Time, n int, now time.Time) []time.Time {
	seen := map[time.Time]bool{}
	var out []time.Time
	add := func(d time.Time) {
		if !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	for i := range partitionsAhead + 1 {
		add(day(now).AddDate(0, 0, i))
	}
	for i := range n {
		add(day(ts(i)))
	}
	return out
}

// Dropped is a partition retention dropped.
type Dropped struct {
	Name   string
	Bytes  int64
	Reason string // age | max_bytes
}

// applyRetention drops the partitions whose day ended more than retention
// ago, and the oldest while the table exceeds max_bytes (never the
// newest).
func (w *Output) applyRetention(ctx context.Context, now time.Time) ([]Dropped, error) {
	maxAge, budget := time.Duration(w.opts.Retention), int64(w.opts.MaxBytes)
	if maxAge <= 0 && budget <= 0 {
		return nil, nil
	}
	tx, err := w.conn.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("postgres retention: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }() // after Commit: pgx.ErrTxClosed, nothing to undo
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(lockKey)); err != nil {
		return nil, fmt.Errorf("postgres retention: %w", err)
	}
	parts, err := listPartitions(ctx, tx.Conn(), w.opts.Table)
	if err != nil {
		return nil, err
	}
	var total int64
	for _, p := range parts {
		total += p.bytes
	}
	var dropped []Dropped
	for i, p := range parts {
		reason := ""
		switch {
		case maxAge > 0 && !p.to.After(now.Add(-maxAge)):
			reason = "age"
		case budget > 0 && total > budget && i < len(parts)-1 && p.from.Before(day(now)):
			reason = "max_bytes"
		default:
			continue
		}
		if _, err := tx.Exec(ctx, `DROP TABLE `+pgx.Identifier{p.name}.Sanitize()); err != nil {
			return nil, fmt.Errorf("postgres retention: drop %s: %w", p.name, err)
		}
		total -= p.bytes
		dropped = append(dropped, Dropped{Name: p.name, Bytes: p.bytes, Reason: reason})
		if !p.from.IsZero() {
			delete(w.haveDay, p.from)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("postgres retention: %w", err)
	}
	return dropped, nil
}

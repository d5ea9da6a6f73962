// Package triage keeps the console's analyst state beside the events, never
// in them: which inbox groups are archived (acknowledged) up to which time,
// which are escalated, notes on groups and events, mute rules, and the audit
// trail of every such action with who and when. It has two backends on
// database/sql: a small SQLite database in the store directory and tables in
// the PostgreSQL database of that backend.
package triage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Archive says that the events of a group up to Through are dealt with:
// the inbox hides the group until an event newer than Through arrives.
type Archive struct {
	Key     Key
	Through time.Time
	User    string
	At      time.Time
}

// Escalation marks a group for follow-up (the Escalated view).
type Escalation struct {
	Key  Key
	User string
	At   time.Time
}

// Note is a comment on a group ("group:" + key) or an event ("event:" + id).
type Note struct {
	ID     int64
	Target string
	Text   string
	User   string
	At     time.Time
}

// Mute hides the alerts matching Query (the store's query language) from
// the inbox while they are still counted.
type Mute struct {
	ID      int64
	Query   string
	Comment string
	User    string
	At      time.Time
}

// AuditEntry is one triage action.
type AuditEntry struct {
	ID     int64
	At     time.Time
	User   string
	Action string // archive, unarchive, escalate, deescalate, note, mute, unmute
	Target string // group key, event id or mute query
	Detail string
}

// Limits of what is stored; the console validates form values against them
// first, with a message, and the store refuses what exceeds them.
const (
	MaxNoteLen    = 4000
	MaxQueryLen   = 2000
	MaxCommentLen = 500
	MaxTargetLen  = MaxKeyLen + 16
)

// GroupTarget is the target name of a group's notes and audit entries.
func GroupTarget(k Key) string { return "group:" + k.String() }

// EventTarget is the target name of an event's notes and audit entries.
func EventTarget(id string) string { return "event:" + id }

// Store is the triage database.
type Store struct {
	db      *sql.DB
	dialect dialect
	now     func() time.Time
}

type dialect int

const (
	sqlite dialect = iota
	postgres
)

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// rebind turns '?' placeholders into PostgreSQL's $n.
func (s *Store) rebind(q string) string {
	if s.dialect != postgres {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func (s *Store) exec(ctx context.Context, tx *sql.Tx, q string, args ...any) (sql.Result, error) {
	return tx.ExecContext(ctx, s.rebind(q), args...)
}

func nanos(t time.Time) int64 { return t.UTC().UnixNano() }
func fromNanos(n int64) time.Time {
	return time.Unix(0, n).UTC()
}

// inTx runs fn in a transaction and records the audit entries it returns in
// the same transaction, so that no action happens without its trail.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) ([]AuditEntry, error)) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("triage: %w", err)
	}
	defer func() { _ = tx.Rollback() }() // after Commit: sql.ErrTxDone, nothing to undo
	entries, err := fn(tx)
	if err != nil {
		return err
	}
	now := s.now()
	for _, e := range entries {
		if _, err := s.exec(ctx, tx, `INSERT INTO alertgw_console_audit (at, username, action, target, detail) VALUES (?, ?, ?, ?, ?)`,
			nanos(now), e.User, e.Action, e.Target, e.Detail); err != nil {
			return fmt.Errorf("triage audit: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("triage: %w", err)
	}
	return nil
}

// ErrInvalid wraps what the store refuses to keep.
var ErrInvalid = errors.New("invalid triage value")

func checkText(what, s string, max int, required bool) error {
	switch {
	case required && strings.TrimSpace(s) == "":
		return fmt.Errorf("%w: %s is empty", ErrInvalid, what)
	case len(s) > max:
		return fmt.Errorf("%w: %s is longer than %d bytes", ErrInvalid, what, max)
	case !utf8.ValidString(s):
		return fmt.Errorf("%w: %s is not valid UTF-8", ErrInvalid, what)
	case strings.ContainsRune(s, 0):
		return fmt.Errorf("%w: %s contains a NUL character", ErrInvalid, what)
	}
	return nil
}

// ArchiveItem is one group to archive, up to the last event the analyst saw.
type ArchiveItem struct {
	Key     Key
	Through time.Time
}

// ArchiveGroups archives groups. Archiving a group again moves Through
// forward (never back).
func (s *Store) ArchiveGroups(ctx context.Context, user string, items []ArchiveItem) error {
	return s.inTx(ctx, func(tx *sql.Tx) ([]AuditEntry, error) {
		var audit []AuditEntry
		now := nanos(s.now())
		for _, it := range items {
			k := it.Key.String()
			if err := checkText("group key", k, MaxKeyLen, true); err != nil {
				return nil, err
			}
			if _, err := s.exec(ctx, tx, `INSERT INTO alertgw_console_archive (gkey, through, username, at) VALUES (?, ?, ?, ?)
ON CONFLICT (gkey) DO UPDATE SET through = CASE WHEN excluded.through > alertgw_console_archive.through THEN excluded.through ELSE alertgw_console_archive.through END,
  username = excluded.username, at = excluded.at`, k, nanos(it.Through), user, now); err != nil {
				return nil, fmt.Errorf("triage archive: %w", err)
			}
			audit = append(audit, AuditEntry{User: user, Action: "archive", Target: k, Detail: "through " + it.Through.UTC().Format(time.RFC3339Nano)})
		}
		return audit, nil
	})
}

// Unarchive brings groups back to the inbox.
func (s *Store) Unarchive(ctx context.Context, user string, keys []Key) error {
	return s.inTx(ctx, func(tx *sql.Tx) ([]AuditEntry, error) {
		var audit []AuditEntry
		for _, k := range keys {
			res, err := s.exec(ctx, tx, `DELETE FROM alertgw_console_archive WHERE gkey = ?`, k.String())
			if err != nil {
				return nil, fmt.Errorf("triage unarchive: %w", err)
			}
			if n, _ := res.RowsAffected(); n > 0 {
				audit = append(audit, AuditEntry{User: user, Action: "unarchive", Target: k.String()})
			}
		}
		return audit, nil
	})
}

// Archives returns the archive marks whose Through is at or after since
// (older ones cannot hide a group whose last event is after since).
func (s *Store) Archives(ctx context.Context, since time.Time) ([]Archive, error) {
	rows, err := s.db.QueryContext(ctx, s.rebind(`SELECT gkey, through, username, at FROM alertgw_console_archive WHERE through >= ? ORDER BY at DESC`), nanos(since))
	if err != nil {
		return nil, fmt.Errorf("triage archives: %w", err)
	}
	defer rows.Close()
	var out []Archive
	for rows.Next() {
		var k string
		var through, at int64
		var a Archive
		if err := rows.Scan(&k, &through, &a.User, &at); err != nil {
			return nil, fmt.Errorf("triage archives: %w", err)
		}
		if a.Key, err = ParseKey(k); err != nil {
			continue // written by this package: cannot happen, but never fail the inbox for it
		}
		a.Through, a.At = fromNanos(through), fromNanos(at)
		out = append(out, a)
	}
	return out, rows.Err()
}

// SetEscalated escalates (on) or de-escalates (off) groups.
func (s *Store) SetEscalated(ctx context.Context, user string, keys []Key, on bool) error {
	return s.inTx(ctx, func(tx *sql.Tx) ([]AuditEntry, error) {
		var audit []AuditEntry
		now := nanos(s.now())
		for _, k := range keys {
			ks := k.String()
			if err := checkText("group key", ks, MaxKeyLen, true); err != nil {
				return nil, err
			}
			var res sql.Result
			var err error
			if on {
				res, err = s.exec(ctx, tx, `INSERT INTO alertgw_console_escalation (gkey, username, at) VALUES (?, ?, ?) ON CONFLICT (gkey) DO NOTHING`, ks, user, now)
			} else {
				res, err = s.exec(ctx, tx, `DELETE FROM alertgw_console_escalation WHERE gkey = ?`, ks)
			}
			if err != nil {
				return nil, fmt.Errorf("triage escalate: %w", err)
			}
			if n, _ := res.RowsAffected(); n > 0 {
				action := "escalate"
				if !on {
					action = "deescalate"
				}
				audit = append(audit, AuditEntry{User: user, Action: action, Target: ks})
			}
		}
		return audit, nil
	})
}

// Escalations returns every escalated group, newest first.
func (s *Store) Escalations(ctx context.Context) ([]Escalation, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT gkey, username, at FROM alertgw_console_escalation ORDER BY at DESC`)
	if err != nil {
		return nil, fmt.Errorf("triage escalations: %w", err)
	}
	defer rows.Close()
	var out []Escalation
	for rows.Next() {
		var k string
		var at int64
		var e Escalation
		if err := rows.Scan(&k, &e.User, &at); err != nil {
			return nil, fmt.Errorf("triage escalations: %w", err)
		}
		if e.Key, err = ParseKey(k); err != nil {
			continue
		}
		e.At = fromNanos(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

// AddNote adds a note to target (GroupTarget or EventTarget).
func (s *Store) AddNote(ctx context.Context, user, target, text string) error {
	if err := checkText("note", text, MaxNoteLen, true); err != nil {
		return err
	}
	if err := checkText("note target", target, MaxTargetLen, true); err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *sql.Tx) ([]AuditEntry, error) {
		if _, err := s.exec(ctx, tx, `INSERT INTO alertgw_console_note (target, body, username, at) VALUES (?, ?, ?, ?)`, target, text, user, nanos(s.now())); err != nil {
			return nil, fmt.Errorf("triage note: %w", err)
		}
		return []AuditEntry{{User: user, Action: "note", Target: target, Detail: text}}, nil
	})
}

// Notes returns the notes on target, oldest first.
func (s *Store) Notes(ctx context.Context, target string) ([]Note, error) {
	rows, err := s.db.QueryContext(ctx, s.rebind(`SELECT id, target, body, username, at FROM alertgw_console_note WHERE target = ? ORDER BY at, id`), target)
	if err != nil {
		return nil, fmt.Errorf("triage notes: %w", err)
	}
	defer rows.Close()
	var out []Note
	for rows.Next() {
		var n Note
		var at int64
		if err := rows.Scan(&n.ID, &n.Target, &n.Text, &n.User, &at); err != nil {
			return nil, fmt.Errorf("triage notes: %w", err)
		}
		n.At = fromNanos(at)
		out = append(out, n)
	}
	return out, rows.Err()
}

// NoteCounts returns how many notes each of targets has (absent: none).
func (s *Store) NoteCounts(ctx context.Context, targets []string) (map[string]int, error) {
	out := map[string]int{}
	if len(targets) == 0 {
		return out, nil
	}
	q := `SELECT target, COUNT(*) FROM alertgw_console_note WHERE target IN (?` + strings.Repeat(",?", len(targets)-1) + `) GROUP BY target`
	args := make([]any, len(targets))
	for i, t := range targets {
		args[i] = t
	}
	rows, err := s.db.QueryContext(ctx, s.rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("triage note counts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var t string
		var n int
		if err := rows.Scan(&t, &n); err != nil {
			return nil, fmt.Errorf("triage note counts: %w", err)
		}
		out[t] = n
	}
	return out, rows.Err()
}

// AddMute adds a mute rule. The query must have been checked by the caller
// against the store's query language.
func (s *Store) AddMute(ctx context.Context, user, query, comment string) (int64, error) {
	if err := checkText("mute query", query, MaxQueryLen, true); err != nil {
		return 0, err
	}
	if err := checkText("mute comment", comment, MaxCommentLen, false); err != nil {
		return 0, err
	}
	var id int64
	err := s.inTx(ctx, func(tx *sql.Tx) ([]AuditEntry, error) {
		row := tx.QueryRowContext(ctx, s.rebind(`INSERT INTO alertgw_console_mute (query, comment, username, at) VALUES (?, ?, ?, ?) RETURNING id`), query, comment, user, nanos(s.now()))
		if err := row.Scan(&id); err != nil {
			return nil, fmt.Errorf("triage mute: %w", err)
		}
		return []AuditEntry{{User: user, Action: "mute", Target: query, Detail: comment}}, nil
	})
	return id, err
}

// DeleteMute removes a mute rule.
func (s *Store) DeleteMute(ctx context.Context, user string, id int64) error {
	return s.inTx(ctx, func(tx *sql.Tx) ([]AuditEntry, error) {
		var q string
		if err := tx.QueryRowContext(ctx, s.rebind(`SELECT query FROM alertgw_console_mute WHERE id = ?`), id).Scan(&q); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return nil, fmt.Errorf("%w: no mute %d", ErrInvalid, id)
			}
			return nil, fmt.Errorf("triage unmute: %w", err)
		}
		if _, err := s.exec(ctx, tx, `DELETE FROM alertgw_console_mute WHERE id = ?`, id); err != nil {
			return nil, fmt.Errorf("triage unmute: %w", err)
		}
		return []AuditEntry{{User: user, Action: "unmute", Target: q}}, nil
	})
}

// Mutes returns the mute rules, oldest first.
func (s *Store) Mutes(ctx context.Context) ([]Mute, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, query, comment, username, at FROM alertgw_console_mute ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("triage mutes: %w", err)
	}
	defer rows.Close()
	var out []Mute
	for rows.Next() {
		var m Mute
		var at int64
		if err := rows.Scan(&m.ID, &m.Query, &m.Comment, &m.User, &at); err != nil {
			return nil, fmt.Errorf("triage mutes: %w", err)
		}
		m.At = fromNanos(at)
		out = append(out, m)
	}
	return out, rows.Err()
}

// Audit returns audit entries, newest first: at most limit, skipping
// offset; with target set, only that target's.
func (s *Store) Audit(ctx context.Context, target string, limit, offset int) ([]AuditEntry, error) {
	q := `SELECT id, at, username, action, target, detail FROM alertgw_console_audit`
	var args []any
	if target != "" {
		q += ` WHERE target = ?`
		args = append(args, target)
	}
	q += ` ORDER BY id DESC LIMIT ? OFFSET ?`
	args = append(args, limit, offset)
	rows, err := s.db.QueryContext(ctx, s.rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("triage audit: %w", err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var at int64
		if err := rows.Scan(&e.ID, &at, &e.User, &e.Action, &e.Target, &e.Detail); err != nil {
			return nil, fmt.Errorf("triage audit: %w", err)
		}
		e.At = fromNanos(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

// Prune removes archive marks whose Through is before olderThan: the events
// they covered have left the store (retention), so they can hide nothing.
func (s *Store) Prune(ctx context.Context, olderThan time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, s.rebind(`DELETE FROM alertgw_console_archive WHERE through < ?`), nanos(olderThan))
	if err != nil {
		return 0, fmt.Errorf("triage prune: %w", err)
	}
	return res.RowsAffected()
}

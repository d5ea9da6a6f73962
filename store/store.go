// Package store defines what an event store can be asked, independent of
// where the events are kept: the Reader interface and its requests and
// results. The backends are store/sqlite (the embedded store the `store`
// output writes) and store/postgres (the table the `postgres` output
// writes); store/api serves a Reader over HTTP, and `alertgw search` prints
// its answers.
//
// Every request is bounded: a time window (DefaultWindow when none is
// given), a row limit (MaxLimit at most) and a timeout (DefaultTimeout
// unless shorter). A result cut short says so: Truncated when a limit cut
// it, TimedOut when the timeout did; what was found until then is returned.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/alertgw/alertgw/query"
)

// Bounds of every request.
const (
	DefaultWindow  = 24 * time.Hour
	DefaultLimit   = 100
	MaxLimit       = 10_000
	DefaultTimeout = 10 * time.Second
	MaxTimeout     = time.Minute
	MaxGroups      = 10_000 // groups returned at most; more are counted as truncated
)

// ErrNotFound is returned by Event for an id the store does not hold.
var ErrNotFound = errors.New("store: event not found")

// Reader answers searches. Implementations are safe for concurrent use.
type Reader interface {
	// Events returns matching events, newest first, one page at a time.
	Events(ctx context.Context, r EventsRequest) (*EventsResult, error)
	// Event returns the event with this id (ErrNotFound if none).
	Event(ctx context.Context, id string) (*Event, error)
	// Groups counts matching events by the values of one or more fields,
	// largest count first, with when each group was first and last seen.
	Groups(ctx context.Context, r GroupsRequest) (*GroupsResult, error)
	// Histogram counts matching events per time bucket.
	Histogram(ctx context.Context, r HistogramRequest) (*HistogramResult, error)
	// Transaction returns everything that shares a flow_id or community_id
	// with the request's, across sources, oldest first.
	Transaction(ctx context.Context, r TransactionRequest) (*EventsResult, error)
	Close() error
}

// Top returns the N most frequent values of a field: a group-by on one
// field, which every Reader answers through Groups.
func Top(ctx context.Context, rd Reader, r Filter, field string, n int) (*GroupsResult, error) {
	return rd.Groups(ctx, GroupsRequest{Filter: r, By: []string{field}, Limit: n})
}

// Filter selects events: a query within a time window.
type Filter struct {
	Query *query.Query // nil: every event
	From  time.Time    // inclusive; zero: To - DefaultWindow
	To    time.Time    // exclusive; zero: now
	// Timeout bounds the work on the server; zero: DefaultTimeout.
	Timeout time.Duration
}

// Resolve fills the defaults and checks the window; now is the clock.
func (f Filter) Resolve(now time.Time) (Filter, error) {
	if f.To.IsZero() {
		f.To = now
	}
	if f.From.IsZero() {
		f.From = f.To.Add(-DefaultWindow)
	}
	if !f.From.Before(f.To) {
		return f, fmt.Errorf("empty time window: from %s is not before to %s", f.From.Format(time.RFC3339), f.To.Format(time.RFC3339))
	}
	if f.Timeout <= 0 || f.Timeout > MaxTimeout {
		if f.Timeout > MaxTimeout {
			f.Timeout = MaxTimeout
		} else {
			f.Timeout = DefaultTimeout
		}
	}
	f.From, f.To = f.From.UTC(), f.To.UTC()
	return f, nil
}

// Start resolves the filter against the clock and starts its timeout: the
// context a backend runs the request's queries under.
func (f Filter) Start(ctx context.Context, now time.Time) (Filter, context.Context, context.CancelFunc, error) {
	f, err := f.Resolve(now)
	if err != nil {
		return f, ctx, func() {}, err
	}
	qctx, cancel := context.WithTimeout(ctx, f.Timeout)
	return f, qctx, cancel, nil
}

// Event is one stored event.
type Event struct {
	ID   string
	Time time.Time // the event's timestamp
	// JSON is the event exactly as the output encoded it (for the store
	// output: the native line the file output writes), without newline.
	JSON json.RawMessage
}

// EventsRequest asks for a page of events.
type EventsRequest struct {
	Filter
	Limit int // rows per page; zero: DefaultLimit; at most MaxLimit
	// After continues from a previous page: its Next cursor.
	After string
}

// EventsResult is a page of events.
type EventsResult struct {
	Events []Event
	// Next is the cursor of the following (older) page; empty when this
	// page holds the last matching event.
	Next      string
	Truncated bool // more events match than the page holds (Next is set)
	TimedOut  bool // the timeout cut the search: Events are what was found in time
	// Warnings name parts of the store that could not be searched
	// (a corrupt partition file): the result lacks their events.
	Warnings []string
}

// GroupsRequest asks for counts by field values.
type GroupsRequest struct {
	Filter
	By    []string // field names (query.Lookup); not times nor lists
	Limit int      // groups returned; zero: DefaultLimit; at most MaxGroups
}

// Group is one combination of values with its count.
type Group struct {
	// Key holds the values of the fields in By, in order: string,
	// uint64, int64, float64, bool, json.RawMessage (details values), or
	// nil when the field is absent.
	Key   []any
	Count int64
	First time.Time
	Last  time.Time
}

// GroupsResult holds the largest groups, largest first (ties: most
// recently seen first, then by key).
type GroupsResult struct {
	By        []string
	Groups    []Group
	Total     int64 // events counted in every group, including those cut off
	Truncated bool  // more groups exist than returned
	TimedOut  bool
	Warnings  []string
}

// HistogramRequest asks for counts over time.
type HistogramRequest struct {
	Filter
	// Interval is the bucket width; zero: chosen from the window
	// (BucketFor).
	Interval time.Duration
}

// Bucket counts the events of [Start, Start+Interval).
type Bucket struct {
	Start time.Time
	Count int64
}

// HistogramResult holds one bucket per interval of the window, empty ones
// included, oldest first.
type HistogramResult struct {
	Interval time.Duration
	Buckets  []Bucket
	TimedOut bool
	Warnings []string
}

// TransactionRequest names a flow by flow_id or community_id (or both:
// events sharing either are returned).
type TransactionRequest struct {
	Filter      // Query is ignored; the window bounds the search
	FlowID      uint64
	CommunityID string
	Limit       int // zero: MaxLimit
}

// Check validates a transaction request and applies the row bound.
func (r *TransactionRequest) Check() error {
	if r.FlowID == 0 && r.CommunityID == "" {
		return errors.New("transaction: give a flow_id or a community_id")
	}
	r.Query = nil
	if r.Limit <= 0 || r.Limit > MaxLimit {
		r.Limit = MaxLimit
	}
	return nil
}

// MaxBuckets bounds a histogram: a finer interval over the window is
// refused.
const MaxBuckets = 2000

// bucketSizes are the intervals BucketFor picks from.
var bucketSizes = []time.Duration{
	time.Second, 5 * time.Second, 10 * time.Second, 30 * time.Second,
	time.Minute, 5 * time.Minute, 10 * time.Minute, 30 * time.Minute,
	time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour, 7 * 24 * time.Hour,
}

// BucketFor picks the histogram interval for a window: the smallest of
// 1s, 5s, 10s, 30s, 1m, 5m, 10m, 30m, 1h, 3h, 6h, 12h, 1d, 7d that makes at most
// 200 buckets (24 h → 10 min, 7 d → 1 h), or a multiple of 7d beyond.
func BucketFor(window time.Duration) time.Duration {
	return bucketFor(window.Microseconds())
}

func bucketFor(windowUS int64) time.Duration {
	for _, b := range bucketSizes {
		if windowUS/b.Microseconds() <= 200 {
			return b
		}
	}
	week := bucketSizes[len(bucketSizes)-1]
	return week * time.Duration(windowUS/(200*week.Microseconds())+1)
}

// Buckets returns the empty buckets of a window: starts aligned to
// multiples of the interval since the Unix epoch (UTC). interval 0 picks
// one (BucketFor).
func Buckets(from, to time.Time, interval time.Duration) ([]Bucket, error) {
	windowUS := to.UnixMicro() - from.UnixMicro()
	if interval <= 0 {
		interval = bucketFor(windowUS)
	}
	if interval%time.Second != 0 {
		return nil, fmt.Errorf("histogram interval %s is not a whole number of seconds", interval)
	}
	start := BucketStart(from, interval)
	iv := interval.Microseconds()
	n := (to.UnixMicro() - start.UnixMicro() + iv - 1) / iv
	if n > MaxBuckets {
		return nil, fmt.Errorf("histogram of %d buckets (interval %s): at most %d; choose a longer interval", n, interval, MaxBuckets)
	}
	out := make([]Bucket, n)
	for i := range out {
		out[i].Start = time.UnixMicro(start.UnixMicro() + int64(i)*iv).UTC()
	}
	return out, nil
}

// HistogramInterval is the interval a histogram of f uses: interval, or
// the one BucketFor picks.
func HistogramInterval(f Filter, interval time.Duration) time.Duration {
	if interval > 0 {
		return interval
	}
	return bucketFor(f.To.UnixMicro() - f.From.UnixMicro())
}

// BucketStart returns the start of t's bucket.
func BucketStart(t time.Time, interval time.Duration) time.Time {
	us := t.UnixMicro()
	iv := interval.Microseconds()
	b := us - mod(us, iv)
	return time.UnixMicro(b).UTC()
}

func mod(a, b int64) int64 {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}

// Cursor is the position of an event in newest-first order.
type Cursor struct {
	Time time.Time
	ID   string
}

// String encodes the cursor: "<unix microseconds>.<id>".
func (c Cursor) String() string { return strconv.FormatInt(c.Time.UnixMicro(), 10) + "." + c.ID }

// ParseCursor decodes a Next cursor.
func ParseCursor(s string) (Cursor, error) {
	ts, id, ok := strings.Cut(s, ".")
	us, err := strconv.ParseInt(ts, 10, 64)
	if !ok || err != nil || id == "" || len(id) > 128 {
		return Cursor{}, fmt.Errorf("invalid cursor %q", s)
	}
	return Cursor{Time: time.UnixMicro(us).UTC(), ID: id}, nil
}

// GroupField checks that a field can be grouped on and returns it.
func GroupField(name string) (*query.Field, error) {
	f := query.Lookup(name)
	if f == nil {
		return nil, fmt.Errorf("group by: unknown field %q", name)
	}
	switch f.Type {
	case query.Time, query.Strings, query.Uints:
		return nil, fmt.Errorf("group by: %s is a %s field; group on a single value (histograms count over time)", name, f.Type)
	}
	return f, nil
}

// Check validates a GroupsRequest's fields and limit.
func (r *GroupsRequest) Check() error {
	if len(r.By) == 0 {
		return errors.New("group by: name at least one field")
	}
	if len(r.By) > 8 {
		return errors.New("group by: at most 8 fields")
	}
	for _, b := range r.By {
		if _, err := GroupField(b); err != nil {
			return err
		}
	}
	switch {
	case r.Limit <= 0:
		r.Limit = DefaultLimit
	case r.Limit > MaxGroups:
		r.Limit = MaxGroups
	}
	return nil
}

// Fields returns the fields of a checked request's By.
func (r *GroupsRequest) Fields() []*query.Field {
	out := make([]*query.Field, len(r.By))
	for i, name := range r.By {
		out[i] = query.Lookup(name)
	}
	return out
}

// PageLimit applies the default and the bound to a page size.
func PageLimit(n int) int {
	switch {
	case n <= 0:
		return DefaultLimit
	case n > MaxLimit:
		return MaxLimit
	}
	return n
}

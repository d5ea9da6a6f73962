package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/alertgw/alertgw/config"
	"github.com/alertgw/alertgw/outputs/format"
	"github.com/alertgw/alertgw/outputs/postgres"
	storeout "github.com/alertgw/alertgw/outputs/store"
	"github.com/alertgw/alertgw/query"
	"github.com/alertgw/alertgw/store"
	pgstore "github.com/alertgw/alertgw/store/postgres"
	"github.com/alertgw/alertgw/store/sqlite"
)

func init() { extraCommands = append(extraCommands, searchCmd) }

// searchOptions are the search command's flags.
type searchOptions struct {
	config  string
	output  string
	dsn     string
	table   string
	from    string
	to      string
	limit   int
	format  string
	groupBy string
	timeout time.Duration
	query   string
}

func searchCmd() *cobra.Command {
	var o searchOptions
	c := &cobra.Command{
		Use:   "search [flags] [QUERY]",
		Short: "Search the event store (exit 0 with results, 1 with none, 2 on a query or usage error)",
		Long: `Search finds stored events by field and time, newest first, and prints them
one native-schema JSON line each, exactly as the file output writes them, or
counts them by the values of fields (--group-by).

The store is the configuration's store output (--output picks one when there
are several) or a PostgreSQL table written by the postgres output (--dsn, or a
postgres output of the configuration). It works while the gateway runs.

TIME is RFC 3339 (2026-11-22T14:00:00Z), a date (2026-11-22), or a length of
time before now: 15m, 24h, 7d.

The query language is described in docs/search.md:
  kind:alert src_ip:10.0.0.0/8 -dest_port:[1 TO 1024] (signature.id:2001219 OR "ssh scan")`,
		Example: `  alertgw search 'signature.id:2001219 src_ip:10.0.0.0/8' --from 7d
  alertgw search --group-by signature.id,src_ip,dest_ip kind:alert
  alertgw search --format table --limit 20 '"potential ssh scan"'
  alertgw search -- -kind:flow -action:allowed
  alertgw search --dsn postgres://alertgw@db/alerts 'dest_port:[1 TO 1024]'`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.query = strings.Join(args, " ")
			return runSearch(cmd.Context(), o, cmd.OutOrStdout(), cmd.ErrOrStderr(), time.Now())
		},
	}
	c.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return usage("%v (a query that starts with '-' goes after --: alertgw search -- -kind:flow)", err)
	})
	f := c.Flags()
	f.StringVarP(&o.config, "config", "c", "", "configuration file (YAML) naming the store; the embedded default when empty")
	f.StringVar(&o.output, "output", "", "the store or postgres output of the configuration to search (needed when there are several)")
	f.StringVar(&o.dsn, "dsn", "", "search a PostgreSQL database written by the postgres output instead")
	f.StringVar(&o.table, "table", "", "the postgres output's table (with --dsn; default alertgw_events)")
	f.StringVar(&o.from, "from", "24h", "start of the time range (RFC 3339, date, or 15m/24h/7d before now)")
	f.StringVar(&o.to, "to", "now", "end of the time range (exclusive)")
	f.IntVar(&o.limit, "limit", store.DefaultLimit, fmt.Sprintf("events (or groups) to print, newest (largest) first; at most %d", store.MaxLimit))
	f.StringVar(&o.format, "format", "json", "json (one line per event or group) or table (for people)")
	f.StringVar(&o.groupBy, "group-by", "", "count events by these fields (comma-separated), largest count first")
	f.DurationVar(&o.timeout, "timeout", store.DefaultTimeout, "stop searching after this long and print what was found")
	return c
}

// usage is a usage or query error: exit code 2.
func usage(format string, args ...any) error {
	return &exitError{code: 2, err: fmt.Errorf(format, args...)}
}

func runSearch(ctx context.Context, o searchOptions, stdout, stderr io.Writer, now time.Time) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if o.format != "json" && o.format != "table" {
		return usage("--format must be json or table, not %q", o.format)
	}
	if o.limit < 1 || o.limit > store.MaxLimit {
		return usage("--limit must be between 1 and %d", store.MaxLimit)
	}
	from, err := store.ParseTime(o.from, now)
	if err != nil {
		return usage("--from: %v", err)
	}
	to, err := store.ParseTime(o.to, now)
	if err != nil {
		return usage("--to: %v", err)
	}
	if !from.Before(to) {
		return usage("--from %s is not before --to %s", from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	q, err := query.Parse(o.query)
	if err != nil {
		var qe *query.Error
		if errors.As(err, &qe) {
			fmt.Fprintln(stderr, qe.Pointer(o.query))
		}
		return &exitError{code: 2, err: err}
	}
	var by []string
	if o.groupBy != "" {
		by = strings.Split(o.groupBy, ",")
		for i := range by {
			by[i] = strings.TrimSpace(by[i])
			if _, err := store.GroupField(by[i]); err != nil {
				return usage("--group-by: %v", err)
			}
		}
	}
	rd, err := openStore(ctx, o)
	if err != nil {
		return err
	}
	defer rd.Close()
	f := store.Filter{Query: q, From: from, To: to, Timeout: o.timeout}
	if by != nil {
		res, err := rd.Groups(ctx, store.GroupsRequest{Filter: f, By: by, Limit: o.limit})
		if err != nil {
			return &exitError{code: 2, err: err}
		}
		warn(stderr, res.Warnings, res.TimedOut, res.Truncated, "groups")
		if o.format == "table" {
			printGroupsTable(stdout, res)
		} else if err := printGroupsJSON(stdout, res); err != nil {
			return err
		}
		if len(res.Groups) == 0 {
			return &exitError{code: 1, err: errors.New("")}
		}
		return nil
	}
	res, err := rd.Events(ctx, store.EventsRequest{Filter: f, Limit: o.limit})
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	warn(stderr, res.Warnings, res.TimedOut, res.Truncated, "events")
	if o.format == "table" {
		printEventsTable(stdout, res)
	} else {
		for _, e := range res.Events {
			if _, err := stdout.Write(append(e.JSON, '\n')); err != nil {
				return err
			}
		}
	}
	if len(res.Events) == 0 {
		return &exitError{code: 1, err: errors.New("")}
	}
	return nil
}

func warn(w io.Writer, warnings []string, timedOut, truncated bool, what string) {
	for _, s := range warnings {
		fmt.Fprintln(w, "alertgw: warning:", s)
	}
	if timedOut {
		fmt.Fprintf(w, "alertgw: warning: the search timed out; these are the %s found until then (raise --timeout or narrow the range)\n", what)
	}
	if truncated {
		fmt.Fprintf(w, "alertgw: more %s match than --limit\n", what)
	}
}

// openStore finds the store to search: --dsn, or the configuration's store
// or postgres output.
func openStore(ctx context.Context, o searchOptions) (store.Reader, error) {
	if o.dsn != "" {
		return storeTarget{dsn: o.dsn, table: o.table}.open(ctx)
	}
	_, _, outs, probs, err := loadConfig(o.config)
	if err != nil {
		return nil, usage("%v", err)
	}
	t, err := pickStore(o.config, outs, probs, o.output, "--output")
	if err != nil {
		return nil, err
	}
	return t.open(ctx)
}

// storeTarget is where a store's events are: a store output's directory
// (SQLite) or a postgres output's table. `alertgw search` and the console
// find it the same way.
type storeTarget struct {
	dir        string // SQLite store directory
	dsn, table string // PostgreSQL
}

func (t storeTarget) String() string {
	if t.dir != "" {
		return t.dir
	}
	return "postgres table " + t.table
}

// pickStore picks the output to read from a configuration: the one named
// output (flag names the option that gave it, for messages), else the only
// store output, else the only postgres output.
func pickStore(configPath string, outs []decodedOutput, probs config.Problems, output, flag string) (storeTarget, error) {
	var candidates []decodedOutput
	for _, d := range outs {
		if d.plugin.Type != storeout.Type && d.plugin.Type != "postgres" {
			continue
		}
		if output != "" && d.block.Name != output {
			continue
		}
		candidates = append(candidates, d)
	}
	// A store output wins over postgres ones when no name is given.
	if output == "" {
		var stores []decodedOutput
		for _, d := range candidates {
			if d.plugin.Type == storeout.Type {
				stores = append(stores, d)
			}
		}
		if len(stores) > 0 {
			candidates = stores
		}
	}
	switch {
	case len(candidates) == 0 && output != "":
		return storeTarget{}, usage("%s has no store or postgres output named %q", displayPath(configPath), output)
	case len(candidates) == 0:
		return storeTarget{}, usage("%s has no store output: add one (docs/search.md) or use --dsn", displayPath(configPath))
	case len(candidates) > 1:
		names := make([]string, len(candidates))
		for i, d := range candidates {
			names[i] = d.block.Name
		}
		return storeTarget{}, usage("%s has several outputs to search (%s): pick one with %s", displayPath(configPath), strings.Join(names, ", "), flag)
	}
	d := candidates[0]
	for _, p := range probs {
		if strings.HasPrefix(p.Path, d.block.Path) {
			return storeTarget{}, usage("%s: %v", displayPath(configPath), p)
		}
	}
	if d.plugin.Type == storeout.Type {
		return storeTarget{dir: storeout.Dir(d.opts.(*storeout.Options))}, nil
	}
	po := d.opts.(*postgres.Options)
	return storeTarget{dsn: po.DSN, table: po.Table}, nil
}

// open opens the target's reader.
func (t storeTarget) open(ctx context.Context) (store.Reader, error) {
	if t.dir != "" {
		rd, err := sqlite.OpenReader(t.dir)
		if err != nil {
			return nil, usage("%v", err)
		}
		return rd, nil
	}
	return openPostgres(ctx, t.dsn, t.table)
}

func openPostgres(ctx context.Context, dsn, table string) (store.Reader, error) {
	if table == "" {
		table = "alertgw_events"
	}
	rd, err := pgstore.Open(ctx, pgstore.Options{DSN: dsn, Table: table})
	if err != nil {
		return nil, &exitError{code: 2, err: err}
	}
	return rd, nil
}

// printGroupsJSON writes one line per group:
// {"key":{"<field>":<value>,…},"count":N,"first":"<time>","last":"<time>"}.
func printGroupsJSON(w io.Writer, res *store.GroupsResult) error {
	var b []byte
	for _, g := range res.Groups {
		b = append(b[:0], `{"key":{`...)
		for i, f := range res.By {
			if i > 0 {
				b = append(b, ',')
			}
			b = format.AppendString(b, f)
			b = append(b, ':')
			b = appendKeyValue(b, g.Key[i])
		}
		b = append(b, `},"count":`...)
		b = strconv.AppendInt(b, g.Count, 10)
		b = append(b, `,"first":`...)
		b = format.AppendTime(b, g.First)
		b = append(b, `,"last":`...)
		b = format.AppendTime(b, g.Last)
		b = append(b, "}\n"...)
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	return nil
}

// appendKeyValue writes a group key value as JSON.
func appendKeyValue(b []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...)
	case string:
		return format.AppendString(b, x)
	case uint64:
		return strconv.AppendUint(b, x, 10)
	case int64:
		return strconv.AppendInt(b, x, 10)
	case float64:
		return strconv.AppendFloat(b, x, 'f', -1, 64)
	case bool:
		return strconv.AppendBool(b, x)
	case json.RawMessage:
		return append(b, x...)
	}
	return format.AppendString(b, fmt.Sprint(v))
}

func keyText(v any) string {
	switch x := v.(type) {
	case nil:
		return "-"
	case json.RawMessage:
		var s string
		if json.Unmarshal(x, &s) == nil {
			return s
		}
		return string(x)
	}
	return fmt.Sprint(v)
}

func printGroupsTable(w io.Writer, res *store.GroupsResult) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "COUNT\t"+strings.ToUpper(strings.Join(res.By, "\t"))+"\tFIRST\tLAST")
	var n int64
	for _, g := range res.Groups {
		cells := make([]string, len(g.Key))
		for i, v := range g.Key {
			cells[i] = tableCell(keyText(v))
		}
		n += g.Count
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", g.Count, strings.Join(cells, "\t"), g.First.Format(time.RFC3339), g.Last.Format(time.RFC3339))
	}
	tw.Flush()
	fmt.Fprintf(w, "%d groups, %d events", len(res.Groups), n)
	if res.Truncated {
		fmt.Fprintf(w, " (%d events in all groups)", res.Total)
	}
	fmt.Fprintln(w)
}

// tableCell keeps a cell on one line: a sensor's text may hold anything.
func tableCell(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if len(s) > 60 {
		s = s[:57] + "…"
	}
	if s == "" {
		return "-"
	}
	return s
}

// tableEvent is what the table shows of an event.
type tableEvent struct {
	Timestamp string `json:"timestamp"`
	Kind      string `json:"kind"`
	Action    string `json:"action"`
	SrcIP     string `json:"src_ip"`
	SrcPort   *int   `json:"src_port"`
	DestIP    string `json:"dest_ip"`
	DestPort  *int   `json:"dest_port"`
	ProtoName string `json:"proto_name"`
	Source    struct {
		Sensor string `json:"sensor"`
	} `json:"source"`
	Signature *struct {
		ID   uint32 `json:"id"`
		Name string `json:"name"`
	} `json:"signature"`
	AppProto string `json:"app_proto"`
}

func endpoint(ip string, port *int) string {
	if ip == "" {
		return "-"
	}
	if port == nil {
		return ip
	}
	if strings.Contains(ip, ":") {
		return "[" + ip + "]:" + strconv.Itoa(*port)
	}
	return ip + ":" + strconv.Itoa(*port)
}

func printEventsTable(w io.Writer, res *store.EventsResult) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tKIND\tACTION\tSRC\tDEST\tPROTO\tSENSOR\tWHAT")
	for _, e := range res.Events {
		var t tableEvent
		if err := json.Unmarshal(e.JSON, &t); err != nil {
			fmt.Fprintf(tw, "%s\t?\t\t\t\t\t\t%s\n", e.Time.Format(time.RFC3339), tableCell(err.Error()))
			continue
		}
		what := t.AppProto
		if t.Signature != nil {
			what = fmt.Sprintf("[%d] %s", t.Signature.ID, t.Signature.Name)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Time.Format("2006-01-02T15:04:05.000Z07:00"),
			tableCell(t.Kind), tableCell(t.Action), tableCell(endpoint(t.SrcIP, t.SrcPort)), tableCell(endpoint(t.DestIP, t.DestPort)),
			tableCell(t.ProtoName), tableCell(t.Source.Sensor), tableCell(what))
	}
	tw.Flush()
	more := ""
	if res.Truncated {
		more = " (more match: raise --limit)"
	}
	fmt.Fprintf(w, "%d events%s\n", len(res.Events), more)
}

package console

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/alertgw/alertgw/store"
)

// Export bounds: a download holds at most maxExport events (the newest of
// the search), read from the store a page at a time.
const (
	defaultExport = 10_000
	maxExport     = 100_000
	exportPage    = 2_000
)

// exporter writes one event of an export.
type exporter interface {
	header(w *bufio.Writer) error
	event(w *bufio.Writer, e store.Event) error
	flush(w *bufio.Writer) error
}

// export streams the events of a search as CSV (the chosen columns), JSON
// lines (the native events exactly as stored), ECS or OCSF (re-encoded by
// the output encoders).
func (s *Server) export(w http.ResponseWriter, r *http.Request) {
	f := s.parseFilter(r, "24h")
	if f.Err != "" {
		s.renderError(w, r, http.StatusBadRequest, f.Err)
		return
	}
	cols, cerr := parseColumns(columnsParam(r))
	if cerr != "" {
		s.renderError(w, r, http.StatusBadRequest, cerr)
		return
	}
	max := defaultExport
	if m := r.URL.Query().Get("max"); m != "" {
		n, err := strconv.Atoi(m)
		if err != nil || n < 1 || n > maxExport {
			s.renderError(w, r, http.StatusBadRequest, fmt.Sprintf("max must be between 1 and %d.", maxExport))
			return
		}
		max = n
	}
	format := r.URL.Query().Get("format")
	var ex exporter
	var ctype, ext string
	switch format {
	case "csv":
		ex, ctype, ext = &csvExporter{cols: cols}, "text/csv; charset=utf-8", "csv"
	case "jsonl":
		ex, ctype, ext = jsonlExporter{}, "application/x-ndjson", "jsonl"
	case "ecs", "ocsf":
		var err error
		if ex, err = newEncodedExporter(format); err != nil {
			s.renderError(w, r, http.StatusNotImplemented, err.Error())
			return
		}
		ctype, ext = "application/x-ndjson", format+".jsonl"
	default:
		s.renderError(w, r, http.StatusBadRequest, "Export format must be csv, jsonl, ecs or ocsf.")
		return
	}
	ctx := r.Context()
	flt := s.storeFilter(f)
	// The first page is read before answering, so that a store error is
	// still a proper error page.
	res, err := s.deps.Store.Events(ctx, store.EventsRequest{Filter: flt, Limit: min(exportPage, max)})
	if err != nil {
		s.storeFailed(w, r, err)
		return
	}
	name := "alertgw-" + s.now().UTC().Format("20060102-150405") + "." + ext
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	bw := bufio.NewWriterSize(w, 64<<10)
	if err := ex.header(bw); err != nil {
		return
	}
	n := 0
	for {
		for _, e := range res.Events {
			if n >= max {
				break
			}
			if err := ex.event(bw, e); err != nil {
				s.log.Warn().Err(err).Str("id", e.ID).Msg("console: export: event skipped")
				continue
			}
			n++
		}
		if n >= max || res.Next == "" || res.TimedOut {
			break
		}
		if res, err = s.deps.Store.Events(ctx, store.EventsRequest{Filter: flt, Limit: min(exportPage, max-n), After: res.Next}); err != nil {
			s.log.Warn().Err(err).Msg("console: export cut by a store error")
			break
		}
	}
	ex.flush(bw)
	bw.Flush()
	s.log.Info().Str("user", caller(r).sess.User).Str("format", format).Int("events", n).Str("query", f.Q).Msg("console: export")
}

// csvExporter writes the chosen columns. Values a spreadsheet would run as
// a formula (a sensor can send "=cmd|…") are prefixed with a quote.
type csvExporter struct {
	cols []string
	cw   *csv.Writer
}

func (c *csvExporter) header(w *bufio.Writer) error {
	c.cw = csv.NewWriter(w)
	return c.cw.Write(c.cols)
}

func (c *csvExporter) event(_ *bufio.Writer, e store.Event) error {
	doc, err := decodeObject(e.JSON)
	if err != nil {
		return err
	}
	rec := make([]string, len(c.cols))
	for i, col := range c.cols {
		v, _ := lookupPath(doc, col)
		rec[i] = defuseFormula(v)
	}
	return c.cw.Write(rec)
}

func (c *csvExporter) flush(*bufio.Writer) error {
	c.cw.Flush()
	return c.cw.Error()
}

func defuseFormula(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		// Numbers stay numbers: "-5" is not a formula.
		if _, err := strconv.ParseFloat(v, 64); err != nil {
			return "'" + v
		}
	}
	return v
}

// jsonlExporter writes each event's stored native JSON, one per line.
type jsonlExporter struct{}

func (jsonlExporter) header(*bufio.Writer) error { return nil }
func (jsonlExporter) event(w *bufio.Writer, e store.Event) error {
	if _, err := w.Write(e.JSON); err != nil {
		return err
	}
	return w.WriteByte('\n')
}
func (jsonlExporter) flush(*bufio.Writer) error { return nil }

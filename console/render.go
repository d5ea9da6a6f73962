package console

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/alertgw/alertgw/internal/numfmt"
)

//go:embed assets/templates/*.html
var templateFS embed.FS

//go:embed assets/static
var staticFS embed.FS

// page is what every template gets: the layout's fields and the page's own
// data in Body.
type page struct {
	Title  string
	Nav    string // which menu entry is current
	Error  string
	Notice string
	Body   any

	// Filled by render from the session.
	User      string
	Role      string
	CSRF      string
	CanTriage bool
	ByLink    bool
	Version   string
}

var templates = template.Must(template.New("").Funcs(templateFuncs).ParseFS(templateFS, "assets/templates/*.html"))

var templateFuncs = template.FuncMap{
	"ts":       formatTime,
	"tsShort":  formatTimeShort,
	"rfc3339":  func(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) },
	"num":      formatCount,
	"pivot":    pivotURL,
	"qv":       quoteValue,
	"add":      func(a, b int) int { return a + b },
	"sub":      func(a, b int) int { return a - b },
	"contains": func(list []string, s string) bool { return contains(list, s) },
	"list":     func(xs ...int) []int { return xs },
	"int64":    func(n int) int64 { return int64(n) },
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// formatTime shows times in UTC to the millisecond: the console is read by
// people in several time zones, and sensors log in UTC.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05.000")
}

func formatTimeShort(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("01-02 15:04:05")
}

// formatCount writes 1234567 as 1,234,567.
func formatCount(n any) string {
	var v int64
	switch x := n.(type) {
	case int:
		v = int64(x)
	case int64:
		v = x
	case uint64:
		v = int64(x)
	default:
		return fmt.Sprint(n)
	}
	return numfmt.Group(strconv.FormatInt(v, 10))
}

// quoteValue writes a value as a query-language term value: bare when it is
// a plain word, quoted (with \" and \\ escaped) otherwise.
func quoteValue(v string) string {
	plain := v != ""
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`()"\*[]{}<>:`, c) >= 0 {
			plain = false
			break
		}
	}
	if plain && v != "OR" && v != "AND" && v != "NOT" && !strings.HasPrefix(v, "-") {
		return v
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range v {
		if r == '"' || r == '\\' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return b.String()
}

// pivotURL is a search for field:value (the pivot from any value on a page).
func pivotURL(field, value string) template.URL {
	return template.URL("/search?q=" + urlQueryEscape(field+":"+quoteValue(value)))
}

// render executes a page template into a buffer first, so that a template
// error becomes a clean 500 instead of half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	if c := caller(r); c != nil {
		p.User, p.Role, p.CSRF = c.sess.User, string(c.sess.Role), c.sess.CSRF
		p.CanTriage, p.ByLink = c.sess.Role.CanTriage(), c.sess.ByLink
	}
	p.Version = s.deps.Version
	var buf bytes.Buffer
	if err := templates.ExecuteTemplate(&buf, name, p); err != nil {
		s.log.Error().Err(err).Str("template", name).Msg("console: page failed to render")
		http.Error(w, "internal error rendering the page (logged)", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if _, err := w.Write(buf.Bytes()); err != nil {
		s.log.Debug().Err(err).Str("template", name).Msg("console: client went away")
	}
}

func (s *Server) renderError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	s.render(w, r, status, "error", page{Title: http.StatusText(status), Error: msg})
}

func staticHandler() http.Handler {
	sub, err := fs.Sub(staticFS, "assets/static")
	if err != nil {
		panic(err)
	}
	fsrv := http.FileServerFS(sub)
	return http.StripPrefix("/static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") || r.URL.Path == "" {
			http.NotFound(w, r) // no directory listings
			return
		}
		// Assets change only with the binary; the version in their
		// URL (?v=) makes a new binary's assets load.
		w.Header().Set("Cache-Control", "public, max-age=86400")
		fsrv.ServeHTTP(w, r)
	}))
}

package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	fwdin "github.com/alertgw/alertgw/inputs/forward"
	kafkain "github.com/alertgw/alertgw/inputs/kafka"
	"github.com/alertgw/alertgw/internal/admin"
	"github.com/alertgw/alertgw/stats"
)

// TestOperationsDocMatchesBinary: docs/operations.md documents every
// metric the binary exports and no metric it does not, every command of
// the binary, and what each signal does.
func TestOperationsDocMatchesBinary(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "operations.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	ch := make(chan *prometheus.Desc, 256)
	admin.NewCollector(stats.NewRegistry(), "v").Describe(ch)
	close(ch)
	exported := map[string]bool{}
	name := regexp.MustCompile(`fqName: "([a-z_]+)"`)
	for d := range ch {
		if m := name.FindStringSubmatch(d.String()); m != nil {
			exported[m[1]] = true
			if !strings.Contains(doc, "`"+m[1]+"`") {
				t.Errorf("docs/operations.md does not document the metric %s", m[1])
			}
		}
	}
	// The families inputs export themselves (stats.Input.SetExtra), with
	// their labels beside input and type.
	for _, fams := range [][]*stats.Family{(&fwdin.Input{}).Metrics(), (&kafkain.Input{}).Metrics()} {
		for _, f := range fams {
			n := "alertgw_input_" + f.Name
			exported[n] = true
			if !strings.Contains(doc, "| `"+n+"` | "+strings.Join(append([]string{"input", "type"}, f.Labels...), ", ")+" |") {
				t.Errorf("docs/operations.md does not document the metric %s with its labels", n)
			}
		}
	}
	for _, m := range regexp.MustCompile("`(alertgw_[a-z_]+)`").FindAllStringSubmatch(doc, -1) {
		if !exported[m[1]] {
			t.Errorf("docs/operations.md documents %s, which the binary does not export", m[1])
		}
	}
	for _, c := range newRootCmd().Commands() {
		if c.Hidden || c.Name() == "help" || c.Name() == "completion" {
			continue
		}
		if !strings.Contains(doc, "`alertgw "+c.Name()) {
			t.Errorf("docs/operations.md does not document `alertgw %s`", c.Name())
		}
	}
	for _, want := range []string{"| SIGHUP | reopen output files", "reload the configuration file", "| SIGTERM, SIGINT |", "`alertgw reload`"} {
		if !strings.Contains(doc, want) {
			t.Errorf("docs/operations.md lacks %q", want)
		}
	}
}

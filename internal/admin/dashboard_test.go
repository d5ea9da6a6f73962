package admin

import (
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/alertgw/alertgw/stats"
)

// TestDashboardMetricsExist keeps examples/grafana in step with the code:
// every alertgw_* metric the dashboard queries is one the collector exports.
func TestDashboardMetricsExist(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	dash, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "..", "examples", "grafana", "alertgw-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	exported := map[string]bool{}
	ch := make(chan *prometheus.Desc, 64)
	NewCollector(stats.NewRegistry(), "v").Describe(ch)
	close(ch)
	name := regexp.MustCompile(`fqName: "([a-z_]+)"`)
	for d := range ch {
		if m := name.FindStringSubmatch(d.String()); m != nil {
			exported[m[1]] = true
		}
	}
	used := regexp.MustCompile(`alertgw_[a-z_]+`).FindAllString(string(dash), -1)
	if len(used) == 0 {
		t.Fatal("the dashboard queries no alertgw metric")
	}
	for _, m := range used {
		if !exported[m] {
			t.Errorf("dashboard queries %s, which the collector does not export (exported: %s)", m, strings.Join(keys(exported), ", "))
		}
	}
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

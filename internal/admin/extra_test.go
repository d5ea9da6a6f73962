package admin

import (
	"strings"
	"testing"

	"github.com/alertgw/alertgw/stats"
)

// An input's own metric families appear under alertgw_input_, labelled with
// the input, and go away when it removes them.
func TestExtraMetrics(t *testing.T) {
	reg := stats.NewRegistry()
	in := reg.Input("bus", "kafka")
	in.SetExtra(&stats.Family{Name: "kafka_lag", Help: "Records not consumed yet.", Gauge: true, Labels: []string{"topic", "partition"},
		Collect: func(emit func(float64, ...string)) {
			emit(7, "alertgw-alert", "0")
			emit(0, "alertgw-alert", "1")
		}})
	base := startServer(t, reg)
	_, body := get(t, base+"/metrics")
	for _, want := range []string{
		"# TYPE alertgw_input_kafka_lag gauge",
		`alertgw_input_kafka_lag{input="bus",partition="0",topic="alertgw-alert",type="kafka"} 7`,
		`alertgw_input_kafka_lag{input="bus",partition="1",topic="alertgw-alert",type="kafka"} 0`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	in.SetExtra()
	if _, body := get(t, base+"/metrics"); strings.Contains(body, "kafka_lag") {
		t.Error("removed family still exported")
	}
}

package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestE2EReduceAndRoute runs the real binary with outputs filtered
// differently, an output that aggregates alerts and a transactions stage,
// sends the EVE corpus plus a burst of one repeated alert, and stops it with
// SIGTERM: each output holds exactly what its route says, the summaries and
// transactions stand for every event that went in, and nothing is held back
// at shutdown.
func TestE2EReduceAndRoute(t *testing.T) {
	dir := shortDir(t)
	g := &gateway{dir: dir, sock: filepath.Join(dir, "s.sock"), log: filepath.Join(dir, "gateway.log")}
	out := func(name string) string { return filepath.Join(dir, "out", name+".json") }
	cfg := fmt.Sprintf(`sensor: e2e
log: {level: info, format: json}
admin: {listen: ""}
dead_letter: {path: %s}
inputs:
  - name: suricata
    type: suricata
    socket: %s
stages:
  - name: tx
    type: transactions
    idle_timeout: 1h
    max_age: 2h
outputs:
  - name: alerts
    type: file
    path: %s
    filter: kind:alert
    aggregate: {window: 1h}
  - name: flows
    type: file
    path: %s
    filter: 'kind:flow -details.event_type:netflow'
  - name: tx
    type: file
    path: %s
    from: tx
  - name: all
    type: file
    path: %s
`, out("dead"), g.sock, out("alerts"), out("flows"), out("tx"), out("all"))
	cfgPath := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	g.cmd = exec.Command(gatewayBinary(t), "run", "--config", cfgPath)
	g.start(t, g.sock)

	recs := inputRecords(t)
	const burst = 200
	for i := range burst {
		recs = append(recs, fmt.Appendf(nil, `{"timestamp":"2026-12-04T10:00:%02d.000000+0000","flow_id":%d,"event_type":"alert","src_ip":"203.0.113.9","src_port":%d,"dest_ip":"10.0.0.22","dest_port":22,"proto":"TCP","alert":{"action":"allowed","gid":1,"signature_id":2001219,"rev":20,"signature":"ET SCAN Potential SSH Scan","category":"Attempted Information Leak","severity":2}}`, i%60, 7000+i, 40000+i))
	}
	sendRecords(t, "dgram", g.sock, recs)
	// Every record reaches the unfiltered output, or the dead-letter file.
	deadline := time.Now().Add(20 * time.Second)
	var all []string
	for {
		all = readLines(t, out("all"))
		if len(all)+len(readLines(t, out("dead"))) >= len(recs) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d records arrived", len(all), len(recs))
		}
		time.Sleep(20 * time.Millisecond)
	}
	g.stop(t)

	kindsOf := func(lines []string) (map[string]int, []map[string]any) {
		k := map[string]int{}
		var evs []map[string]any
		for _, l := range lines {
			var m map[string]any
			if err := json.Unmarshal([]byte(l), &m); err != nil {
				t.Fatalf("%v: %s", err, l)
			}
			k[m["kind"].(string)]++
			evs = append(evs, m)
		}
		return k, evs
	}
	allKinds, _ := kindsOf(all)

	alertKinds, alerts := kindsOf(readLines(t, out("alerts")))
	if len(alertKinds) != 1 || alertKinds["alert"] == 0 {
		t.Fatalf("alerts output: %v", alertKinds)
	}
	var count float64
	for _, a := range alerts {
		agg, ok := a["aggregate"].(map[string]any)
		if !ok {
			t.Fatalf("an alert without its aggregate object: %v", a)
		}
		count += agg["count"].(float64)
		if agg["closed_by"] != "flush" {
			t.Errorf("closed by %v, want flush (window 1h, closed by SIGTERM)", agg["closed_by"])
		}
	}
	if int(count) != allKinds["alert"] {
		t.Errorf("summaries stand for %v alerts, %d were sent", count, allKinds["alert"])
	}
	if len(alerts) >= allKinds["alert"]-burst+2 {
		t.Errorf("%d summaries for %d alerts: the burst was not folded", len(alerts), allKinds["alert"])
	}

	flowKinds, _ := kindsOf(readLines(t, out("flows")))
	if len(flowKinds) != 1 || flowKinds["flow"] == 0 || flowKinds["flow"] >= allKinds["flow"]+1 {
		t.Errorf("flows output: %v (all: %v)", flowKinds, allKinds)
	}

	txKinds, txs := kindsOf(readLines(t, out("tx")))
	var inTx float64
	for _, x := range txs {
		if x["kind"] != "transaction" {
			continue // records with nothing to join on pass through
		}
		inTx += x["transaction"].(map[string]any)["events"].(float64)
	}
	if int(inTx)+len(txs)-txKinds["transaction"] != len(all) {
		t.Errorf("transactions stand for %v records and %d passed through, %d went in", inTx, len(txs)-txKinds["transaction"], len(all))
	}
}

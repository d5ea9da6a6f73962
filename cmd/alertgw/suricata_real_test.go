package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestRealSuricataWithExample proves examples/suricata/ as pasted: a real
// Suricata 7 reads a public capture offline, with the example's eve-log
// block verbatim in its suricata.yaml, and alertgw runs the example's own
// configuration; the alert arrives normalized in alertgw's output. Both
// run in private namespaces where /run and /var/log are empty, so the
// example's absolute paths are used as written.
func TestRealSuricataWithExample(t *testing.T) {
	suricata, err := exec.LookPath("suricata")
	if err != nil {
		if os.Geteuid() == 0 {
			t.Fatal("suricata is not installed: `make deps` installs it (scripts/deps.d/suricata.sh)")
		}
		t.Skip("suricata not installed (make deps, as root, installs it)")
	}
	for _, tc := range []struct{ eve, alertgw string }{
		{"eve-unix-dgram.yaml", "alertgw-dgram.yaml"},
		{"eve-unix-stream.yaml", "alertgw-stream.yaml"},
	} {
		t.Run(tc.eve, func(t *testing.T) {
			dir := t.TempDir()
			examples, _ := filepath.Abs(filepath.Join("..", "..", "examples", "suricata"))
			eveBlock, err := os.ReadFile(filepath.Join(examples, tc.eve))
			if err != nil {
				t.Fatal(err)
			}
			testdata, _ := filepath.Abs(filepath.Join("testdata", "suricata"))
			// A minimal suricata.yaml around the example's outputs: block,
			// pasted as it is.
			cfg := "%YAML 1.1\n---\n" +
				"default-log-dir: " + dir + "/suricata\n" +
				"default-rule-path: " + testdata + "\n" +
				"rule-files: [test.rules]\n" +
				"classification-file: /etc/suricata/classification.config\n" +
				"reference-config-file: /etc/suricata/reference.config\n" +
				string(eveBlock)
			if err := os.WriteFile(filepath.Join(dir, "suricata.yaml"), []byte(cfg), 0o644); err != nil {
				t.Fatal(err)
			}
			os.Mkdir(filepath.Join(dir, "suricata"), 0o755)
			script := `
"$ALERTGW" run -c "$EXAMPLES/$CONFIG" >"$OUT/alertgw.log" 2>&1 &
gw=$!
wait_for '[ -S /run/alertgw/suricata.sock ]' "alertgw's socket"
"$SURICATA" -c "$OUT/suricata.yaml" -r "$TESTDATA/testmyids.pcap" -k none --runmode single >"$OUT/suricata.log" 2>&1
wait_for 'grep -q "\"kind\":\"alert\"" /var/log/alertgw/events.json 2>/dev/null' "the alert in events.json"
kill -TERM $gw
wait $gw
cp /var/log/alertgw/events.json "$OUT/events.json"
`
			out, err := runIsolated(t, script, "ALERTGW="+gatewayBinary(t), "SURICATA="+suricata, "EXAMPLES="+examples,
				"CONFIG="+tc.alertgw, "OUT="+dir, "TESTDATA="+testdata)
			if err != nil {
				gw, _ := os.ReadFile(filepath.Join(dir, "alertgw.log"))
				su, _ := os.ReadFile(filepath.Join(dir, "suricata.log"))
				t.Fatalf("%v: %s\nalertgw:\n%s\nsuricata:\n%s", err, out, gw, su)
			}
			var alert map[string]any
			for _, l := range readLines(t, filepath.Join(dir, "events.json")) {
				var ev map[string]any
				if err := json.Unmarshal([]byte(l), &ev); err != nil {
					t.Fatal(err)
				}
				if ev["kind"] == "alert" {
					alert = ev
				}
			}
			sig, _ := alert["signature"].(map[string]any)
			if sig == nil || sig["id"] != float64(2100498) || !strings.Contains(sig["name"].(string), "id check returned root") {
				t.Errorf("alert %v", alert)
			}
			su, _ := os.ReadFile(filepath.Join(dir, "suricata.log"))
			if strings.Contains(string(su), "Error connecting to socket") {
				t.Errorf("suricata could not connect:\n%s", su)
			}
		})
	}
}

// TestSensorSnippetsUseAbsolutePaths: every eve-log snippet in README.md,
// docs/ and examples/ names its socket with an absolute path. Suricata
// resolves a relative filename against its default-log-dir, so
// ./run/suricata.sock is never alertgw's socket.
func TestSensorSnippetsUseAbsolutePaths(t *testing.T) {
	root := filepath.Join("..", "..")
	var files []string
	for _, pat := range []string{"README.md", "docs/*.md", "docs/*/*.md", "examples/*/*", "inputs/*/README.md"} {
		m, _ := filepath.Glob(filepath.Join(root, pat))
		files = append(files, m...)
	}
	found := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for i, line := range strings.Split(string(b), "\n") {
			if !strings.Contains(string(b), "eve-log") {
				break
			}
			trimmed := strings.TrimSpace(line)
			// "filename: PATH" in a YAML block, and {… filename: PATH} in
			// one-line comments.
			for _, part := range strings.Split(trimmed, "filename:")[1:] {
				fields := strings.Fields(strings.Trim(part, " {}"))
				if len(fields) == 0 {
					continue
				}
				path := strings.Trim(fields[0], "},\"'`")
				if path == "" || strings.HasPrefix(path, "#") || path == "eve.json" || strings.HasSuffix(path, ".json") {
					continue
				}
				found++
				if !strings.HasPrefix(path, "/") {
					t.Errorf("%s:%d: filename %q is relative: Suricata resolves it against its default-log-dir", f, i+1, path)
				}
			}
		}
	}
	if found < 5 {
		t.Errorf("found only %d eve-log filenames", found)
	}
}

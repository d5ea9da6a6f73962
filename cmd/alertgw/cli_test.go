package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestVersion: `alertgw --version` prints the version; `alertgw version`
// also the commit, build date and Go version.
func TestVersion(t *testing.T) {
	bin := gatewayBinary(t)
	out, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil || !regexp.MustCompile(`^alertgw \S+\n$`).Match(out) {
		t.Errorf("--version: %v %q", err, out)
	}
	out, err = exec.Command(bin, "version").CombinedOutput()
	if err != nil || !regexp.MustCompile(`(?m)^alertgw \S+\ncommit  \S+.*\nbuilt   \S+\ngo      go1\.\d+.* linux/`).Match(out) {
		t.Errorf("version: %v %q", err, out)
	}
	var buf bytes.Buffer
	buildInfo{Version: "v1.2.3", Commit: "0123abc", Date: "2026-01-02T03:04:05Z", Modified: true, Go: "go1.26.0", Platform: "linux/amd64"}.print(&buf)
	want := "alertgw v1.2.3\ncommit  0123abc (with uncommitted changes)\nbuilt   2026-01-02T03:04:05Z\ngo      go1.26.0 linux/amd64\n"
	if buf.String() != want {
		t.Errorf("print:\n%s\nwant\n%s", buf.String(), want)
	}
}

// TestConfigPrint: the effective configuration after ${VAR} expansion and
// ALERTGW_* overrides, with every secret redacted.
func TestConfigPrint(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "c.yaml")
	os.WriteFile(path, []byte(`sensor: ${SITE:-lab}
inputs:
  - {name: eve, type: suricata, socket: /run/alertgw/s.sock}
outputs:
  - {name: search, type: elasticsearch, urls: ["http://elastic:urlpass@es:9200"], api_key: "${ES_API_KEY}"}
  - {name: pg, type: postgres, dsn: "host=db user=alertgw password=dsnpass dbname=x"}
  - {name: c, type: http, url: "https://c/x", bearer_token: bearerpass, headers: {Authorization: "Bearer hdrpass"}}
  - {name: k, type: kafka, brokers: [k:9092], topic: t, sasl: {mechanism: PLAIN, username: u, password: kafkapass}}
`), 0o644)
	cmd := exec.Command(gatewayBinary(t), "config", "print", path)
	cmd.Env = append(os.Environ(), "ES_API_KEY=apikeypass", "ALERTGW_PIPELINE_WORKERS=3", "ALERTGW_OUTPUTS_SEARCH_PASSWORD=envpass")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, secret := range []string{"urlpass", "apikeypass", "dsnpass", "bearerpass", "hdrpass", "kafkapass", "envpass"} {
		if strings.Contains(string(out), secret) {
			t.Errorf("config print shows the secret %q:\n%s", secret, out)
		}
	}
	for _, want := range []string{"sensor: lab", "workers: 3", "failure_grace: 30s", "http://elastic:[redacted]@es:9200",
		"password=[redacted] dbname=x", "api_key: '[redacted]'", "password: '[redacted]'", "username: u", "socket: /run/alertgw/s.sock"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("config print lacks %q:\n%s", want, out)
		}
	}
}

package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alertgw/alertgw/internal/pgtest"
)

// e2eEvent is what the store tests read of a line of the file output.
type e2eEvent struct {
	ID       string `json:"id"`
	Kind     string `json:"kind"`
	Action   string `json:"action"`
	SrcIP    string `json:"src_ip"`
	DestPort *int   `json:"dest_port"`
	Sig      *struct {
		ID   uint32 `json:"id"`
		Name string `json:"name"`
	} `json:"signature"`
	line string
}

func parseLines(t *testing.T, lines []string) []e2eEvent {
	t.Helper()
	out := make([]e2eEvent, len(lines))
	for i, l := range lines {
		if err := json.Unmarshal([]byte(l), &out[i]); err != nil {
			t.Fatal(err)
		}
		out[i].line = l
	}
	return out
}

// search runs `alertgw search args…` in dir and returns stdout, stderr and
// the exit code.
func search(t *testing.T, dir string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(gatewayBinary(t), append([]string{"search"}, args...)...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return stdout.String(), stderr.String(), code
}

// checkSearch runs a search and compares its lines with the file output's
// lines of the events want selects: same events, same bytes.
func checkSearch(t *testing.T, dir string, evs []e2eEvent, want func(e e2eEvent) bool, args ...string) {
	t.Helper()
	out, errOut, code := search(t, dir, append([]string{"--limit", "10000", "--from", "1h"}, args...)...)
	var exp []string
	for _, e := range evs {
		if want(e) {
			exp = append(exp, e.line)
		}
	}
	got := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if out == "" {
		got = nil
	}
	slices.Sort(exp)
	slices.Sort(got)
	if !slices.Equal(got, exp) {
		t.Errorf("search %v: %d lines, want %d of the file output's lines (exit %d, stderr %q)", args, len(got), len(exp), code, errOut)
	}
	if wantCode := map[bool]int{true: 0, false: 1}[len(exp) > 0]; code != wantCode {
		t.Errorf("search %v: exit %d, want %d", args, code, wantCode)
	}
}

// TestE2EStoreSearch is the `make run` story on a fresh machine: the
// embedded default configuration, `alertgw send`, then `alertgw search`
// finds the events by CIDR, range, negation and phrase, exactly as the file
// output wrote them, and groups them; while the gateway runs.
func TestE2EStoreSearch(t *testing.T) {
	g := startDefaultGateway(t)
	dir := g.dir

	const n = 1500
	send := exec.Command(gatewayBinary(t), "send", "--socket", g.sock, "--count", fmt.Sprint(n))
	if out, err := send.CombinedOutput(); err != nil {
		t.Fatalf("alertgw send: %v\n%s", err, out)
	}
	evs := parseLines(t, waitLines(t, g.events, n))
	deadline := time.Now().Add(20 * time.Second)
	for {
		out, _, _ := search(t, dir, "--limit", "10000", "--from", "1h")
		if strings.Count(out, "\n") == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the store holds %d events, want %d", strings.Count(out, "\n"), n)
		}
		time.Sleep(100 * time.Millisecond)
	}

	upper := netip.MustParsePrefix("10.128.0.0/9")
	checkSearch(t, dir, evs, func(e e2eEvent) bool { return upper.Contains(netip.MustParseAddr(e.SrcIP)) }, "src_ip:10.128.0.0/9")
	checkSearch(t, dir, evs, func(e e2eEvent) bool { return e.DestPort != nil && *e.DestPort >= 50 && *e.DestPort <= 100 },
		"dest_port:[50 TO 100]")
	checkSearch(t, dir, evs, func(e e2eEvent) bool { return e.Kind != "flow" && e.Action != "allowed" }, "--", "-kind:flow -action:allowed")
	checkSearch(t, dir, evs, func(e e2eEvent) bool { return e.Sig != nil && strings.Contains(e.Sig.Name, "SSH Scan") },
		`"potential ssh scan"`)
	checkSearch(t, dir, evs, func(e e2eEvent) bool {
		return e.Kind == "alert" && e.Sig.ID == 2001219 && upper.Contains(netip.MustParseAddr(e.SrcIP))
	}, "signature.id:2001219", "src_ip:10.128.0.0/9", "kind:alert")
	checkSearch(t, dir, evs, func(e e2eEvent) bool { return false }, "signature.id:1")

	// Groups: one line per group, largest first, counts as in the file.
	out, _, code := search(t, dir, "--from", "1h", "--group-by", "signature.id,action", "kind:alert")
	want := map[string]int{}
	for _, e := range evs {
		if e.Kind == "alert" {
			want[fmt.Sprintf(`{"signature.id":%d,"action":%q}`, e.Sig.ID, e.Action)]++
		}
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != len(want) {
		t.Fatalf("group-by: exit %d, %d lines, want %d:\n%s", code, len(lines), len(want), out)
	}
	last := n + 1
	for _, l := range lines {
		var gl struct {
			Key   json.RawMessage `json:"key"`
			Count int             `json:"count"`
			First time.Time       `json:"first"`
			Last  time.Time       `json:"last"`
		}
		if err := json.Unmarshal([]byte(l), &gl); err != nil {
			t.Fatalf("group line %q: %v", l, err)
		}
		if want[string(gl.Key)] != gl.Count || gl.Count > last || gl.First.After(gl.Last) {
			t.Errorf("group %s: count %d, want %d (previous %d)", gl.Key, gl.Count, want[string(gl.Key)], last)
		}
		last = gl.Count
	}

	// For people: a table with a total line.
	out, _, code = search(t, dir, "--from", "1h", "--format", "table", "--limit", "5", "kind:alert")
	if code != 0 || !strings.HasPrefix(out, "TIME ") || !strings.Contains(out, "5 events (more match") {
		t.Errorf("table: exit %d\n%s", code, out)
	}
	// A query error: exit 2 and the position.
	_, errOut, code := search(t, dir, "kind:alert dest_prot:22")
	if code != 2 || !strings.Contains(errOut, "position 11") || !strings.Contains(errOut, "           ^") ||
		!strings.Contains(errOut, "did you mean dest_port") {
		t.Errorf("query error: exit %d, stderr %q", code, errOut)
	}
	if _, errOut, code := search(t, dir, "--from", "soon"); code != 2 || !strings.Contains(errOut, "--from") {
		t.Errorf("usage error: exit %d, stderr %q", code, errOut)
	}
	if _, errOut, code := search(t, dir, "-kind:flow"); code != 2 || !strings.Contains(errOut, "after --") {
		t.Errorf("a query like a flag: exit %d, stderr %q", code, errOut)
	}
	g.stop(t)
}

// TestE2EPostgresSearch: the same searches against the table the postgres
// output writes, found through the configuration or given by --dsn.
func TestE2EPostgresSearch(t *testing.T) {
	srv := pgtest.Start(t)
	dir := shortDir(t)
	g := &gateway{dir: dir, sock: filepath.Join(dir, "s.sock"), events: filepath.Join(dir, "events.json"), log: filepath.Join(dir, "gateway.log")}
	cfgPath := filepath.Join(dir, "config.yaml")
	cfg := fmt.Sprintf(`sensor: e2e
admin: {listen: ""}
dead_letter: {path: %s/dead.json}
inputs:
  - {name: suricata, type: suricata, socket: %s}
outputs:
  - {name: events, type: file, path: %s}
  - {name: db, type: postgres, dsn: "%s"}
`, dir, g.sock, g.events, srv.DSN)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	g.cmd = exec.Command(gatewayBinary(t), "run", "--config", cfgPath)
	g.start(t, g.sock)
	const n = 400
	if out, err := exec.Command(gatewayBinary(t), "send", "--socket", g.sock, "--count", fmt.Sprint(n)).CombinedOutput(); err != nil {
		t.Fatalf("alertgw send: %v\n%s", err, out)
	}
	evs := parseLines(t, waitLines(t, g.events, n))
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, _, _ := search(t, dir, "-c", cfgPath, "--limit", "10000", "--from", "1h")
		if strings.Count(out, "\n") == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the table holds %d events, want %d", strings.Count(out, "\n"), n)
		}
		time.Sleep(100 * time.Millisecond)
	}
	g.stop(t)
	lower := netip.MustParsePrefix("10.0.0.0/9")
	for _, where := range [][]string{{"-c", cfgPath}, {"--dsn", srv.DSN}} {
		checkSearch(t, dir, evs, func(e e2eEvent) bool { return lower.Contains(netip.MustParseAddr(e.SrcIP)) },
			append(where, "src_ip:10.0.0.0/9")...)
		checkSearch(t, dir, evs, func(e e2eEvent) bool {
			return e.Sig != nil && strings.Contains(e.Sig.Name, "SSH Scan") && e.Kind != "flow"
		},
			append(where, `"ssh scan" -kind:flow`)...)
		checkSearch(t, dir, evs, func(e e2eEvent) bool { return e.DestPort != nil && *e.DestPort > 1000 },
			append(where, "dest_port:>1000")...)
	}
}

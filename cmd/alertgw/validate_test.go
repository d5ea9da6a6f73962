package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/alertgw/alertgw/config"
)

// TestValidateCatchesWhatRunRefuses: `alertgw validate FILE` reports every
// problem `run` would stop at, and `run` refuses the same file with the
// same messages instead of failing later inside a plugin.
func TestValidateCatchesWhatRunRefuses(t *testing.T) {
	dir := shortDir(t)
	notADir := filepath.Join(dir, "plain-file")
	os.WriteFile(notADir, []byte("x"), 0o644)
	token := filepath.Join(dir, "token")
	os.WriteFile(token, []byte("0123456789abcdef0123456789abcdef\n"), 0o644)
	os.Chmod(token, 0o644) // whatever the umask: readable by everyone
	cfg := fmt.Sprintf(`admin: {listen: localhost, token_file: %[1]s/token}
pipeline: {shutdown_timeout: 10}
dead_letter: {path: %[1]s/dl.json}
enrich:
  geoip: {city: %[1]s/GeoLite2-City.mmdb}
inputs:
  - {name: eve, type: suricata, socket: %[1]s/s.sock}
  - {name: eve2, type: suricata, socket: %[1]s/s.sock}
  - name: snort
    type: snort
    socket: %[1]s/snort_alert
    signatures: {sid_msg_map: [%[1]s/sid-msg.map], classification_config: %[1]s}
outputs:
  - {name: events, type: file, path: %[2]s/events.json}
  - {name: more, type: file, path: %[1]s/dl.json}
`, dir, notADir)
	path := filepath.Join(dir, "bad.yaml")
	os.WriteFile(path, []byte(cfg), 0o644)
	want := []string{
		`admin.listen: "localhost" is not host:port`,
		`pipeline.shutdown_timeout: 10 has no unit`,
		`admin.token_file: ` + token + ` is readable by everyone`,
		`inputs[1].socket: ` + dir + `/s.sock is already bound by inputs[0].socket`,
		`inputs[2].signatures.sid_msg_map[0]: ` + dir + `/sid-msg.map does not exist`,
		`inputs[2].signatures.classification_config: ` + dir + ` is a directory, not a file`,
		`enrich.geoip.city: ` + dir + `/GeoLite2-City.mmdb does not exist`,
		`outputs[0].path: ` + notADir + ` is not a directory`,
		`outputs[1].path: ` + dir + `/dl.json is already written by dead_letter.path`,
	}
	bin := gatewayBinary(t)
	out, err := exec.Command(bin, "validate", path).CombinedOutput() // FILE as an argument
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 {
		t.Errorf("validate exited %v, want 2\n%s", err, out)
	}
	for _, w := range want {
		if !strings.Contains(string(out), w) {
			t.Errorf("validate does not report %q:\n%s", w, out)
		}
	}
	out, err = exec.Command(bin, "run", "-c", path).CombinedOutput()
	if !errors.As(err, &ee) || ee.ExitCode() != 2 {
		t.Errorf("run exited %v, want 2\n%s", err, out)
	}
	for _, w := range want {
		if !strings.Contains(string(out), w) {
			t.Errorf("run does not refuse with %q:\n%s", w, out)
		}
	}
	if _, err := os.Lstat(filepath.Join(dir, "s.sock")); err == nil {
		t.Error("run bound a socket before refusing the configuration")
	}
}

// TestValidateDirectoriesAsAnotherUser: run as an unprivileged user (as a
// service user would be), validate reports an existing directory it cannot
// write as an error, and one that does not exist and that it could not
// create as a warning (systemd may create it), exiting 0 for warnings only.
func TestValidateDirectoriesAsAnotherUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run validate as another user (make test runs as root)")
	}
	dir := shortDir(t)
	os.Chmod(dir, 0o755)
	bin := filepath.Join(dir, "alertgw")
	b, err := os.ReadFile(gatewayBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(bin, b, 0o755)
	ro := filepath.Join(dir, "ro") // root's, 0755: nobody may not write in it
	os.Mkdir(ro, 0o755)
	nobody := func(cfg string) (string, int) {
		p := filepath.Join(dir, fmt.Sprintf("c%d.yaml", len(cfg)))
		os.WriteFile(p, []byte(cfg), 0o644)
		cmd := exec.Command(bin, "validate", p)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		out, err := cmd.CombinedOutput()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return string(out), code
	}
	base := "admin: {listen: \"\"}\ndead_letter: {path: \"\"}\ninputs: [{type: stats}]\n"
	out, code := nobody(base + "outputs: [{type: file, path: " + ro + "/events.json}]\n")
	if code != 2 || !strings.Contains(out, "outputs[0].path: directory "+ro+" is not writable by") {
		t.Errorf("existing unwritable directory: exit %d\n%s", code, out)
	}
	out, code = nobody(base + "outputs: [{type: file, path: " + ro + "/later/events.json, buffer: {path: " + ro + "/buf}}]\n")
	if code != 0 || !strings.Contains(out, "warning: outputs[0].path: directory "+ro+"/later does not exist and") ||
		!strings.Contains(out, "warning: outputs[0].buffer.path: directory "+ro+"/buf does not exist") || !strings.Contains(out, "2 warning(s)") {
		t.Errorf("directories that may appear later: exit %d\n%s", code, out)
	}
}

// TestPreflightWarnsIgnoredBatchSize: pipeline.batch_size, which never had
// an effect, still loads (configurations from the earlier sample have it)
// but run and validate say it is ignored.
func TestPreflightWarnsIgnoredBatchSize(t *testing.T) {
	for _, tc := range []struct {
		name     string
		pipeline string
		warn     bool
	}{
		{"set", "pipeline: {batch_size: 256}\n", true},
		{"absent", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := fmt.Sprintf(`admin: {listen: ""}
dead_letter: {path: %[1]s/dl.json}
%[2]sinputs:
  - {name: eve, type: suricata, socket: %[1]s/s.sock}
outputs:
  - {name: out, type: file, path: %[1]s/out.json}
`, dir, tc.pipeline)
			errs, warns := preflightOf(t, dir, cfg)
			if errs.Err() != nil {
				t.Fatalf("preflight: %v", errs.Err())
			}
			got := strings.Contains(fmt.Sprint(warns), "pipeline.batch_size")
			if got != tc.warn {
				t.Errorf("warning about pipeline.batch_size: %v, want %v (warnings: %v)", got, tc.warn, warns)
			}
		})
	}
}

// TestPreflightChecksTheConsole: validate and run check what the console
// would refuse at start: its certificate files, and users when it is
// reachable from other hosts.
func TestPreflightChecksTheConsole(t *testing.T) {
	for _, tc := range []struct {
		name    string
		console string
		want    []string // problem keys
	}{
		{"loopback without users", "{listen: 127.0.0.1:0, users: %[1]s/users}", nil},
		{"beyond loopback without users", "{listen: 0.0.0.0:0, users: %[1]s/users}", []string{"console.listen"}},
		{"missing certificate", "{listen: 127.0.0.1:0, users: %[1]s/users, tls: {cert: %[1]s/c.pem, key: %[1]s/c.key}}", []string{"console.tls.cert", "console.tls.key"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := fmt.Sprintf(`admin: {listen: ""}
dead_letter: {path: %[1]s/dl.json}
console: `+tc.console+`
inputs:
  - {name: eve, type: suricata, socket: %[1]s/s.sock}
outputs:
  - {name: store, type: store, path: %[1]s/store}
`, dir)
			errs, _ := preflightOf(t, dir, cfg)
			var got []string
			for _, p := range errs {
				got = append(got, p.Path)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("problems %v, want keys %v", errs, tc.want)
			}
		})
	}
}

// preflightOf writes cfg into dir, loads it (which must succeed) and
// returns what run and validate check beyond that.
func preflightOf(t *testing.T, dir, cfg string) (errs, warns config.Problems) {
	t.Helper()
	path := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	f, ins, outs, probs, err := loadConfig(path)
	if err != nil || probs.Err() != nil {
		t.Fatalf("load: %v %v", err, probs.Err())
	}
	return preflight(f, ins, outs)
}

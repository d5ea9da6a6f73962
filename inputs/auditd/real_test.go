package auditd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/alertgw/alertgw/inputs"
	"github.com/alertgw/alertgw/internal/schematest"
	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/outputs/format"
)

// privateAuditd starts Debian's auditd on a private configuration whose
// only plugin is af_unix on a socket in dir, in the given format. It stops
// it by PID at cleanup. The kernel's audit state is shared by the whole
// machine: the caller adds rules with addRule, which removes them again.
func privateAuditd(t *testing.T, dir, format string) (sock string) {
	t.Helper()
	sock = filepath.Join(dir, "audispd_events")
	plugin := fmt.Sprintf("active = yes\ndirection = out\npath = builtin_af_unix\ntype = builtin\nargs = 0600 %s\nformat = %s\n", sock, format)
	startAuditd(t, dir, "af_unix.conf", plugin, sock)
	return sock
}

// startAuditd runs auditd -f on a private configuration in dir with one
// plugin, and waits until waitFor exists. It stops auditd by PID at cleanup.
func startAuditd(t *testing.T, dir, pluginName, plugin, waitFor string) {
	t.Helper()
	plugins := filepath.Join(dir, "plugins.d")
	if err := os.MkdirAll(plugins, 0o700); err != nil {
		t.Fatal(err)
	}
	conf := fmt.Sprintf(`local_events = yes
write_logs = no
log_file = %s/audit.log
log_format = ENRICHED
flush = NONE
freq = 0
max_log_file = 8
num_logs = 2
max_log_file_action = IGNORE
space_left = 2
space_left_action = IGNORE
admin_space_left = 1
admin_space_left_action = IGNORE
disk_full_action = IGNORE
disk_error_action = IGNORE
name_format = NONE
q_depth = 2000
overflow_action = SYSLOG
plugin_dir = %s
end_of_event_timeout = 2
`, dir, plugins)
	if err := os.WriteFile(filepath.Join(dir, "auditd.conf"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(plugins, pluginName), []byte(plugin), 0o600); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd := exec.Command("auditd", "-f", "-c", dir)
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start auditd: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(waitFor); err == nil {
			return
		}
		select {
		case <-exited:
			t.Fatalf("auditd exited:\n%s", stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("auditd did not create %s:\n%s", waitFor, stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// auditStatus returns auditctl -s's "enabled" and "pid".
func auditStatus(t *testing.T) (enabled string, pid int) {
	t.Helper()
	out, err := exec.Command("auditctl", "-s").Output()
	if err != nil {
		t.Fatalf("auditctl -s: %v", err)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(l, "enabled "); ok {
			enabled = strings.TrimSpace(v)
		}
		if v, ok := strings.CutPrefix(l, "pid "); ok {
			pid, _ = strconv.Atoi(strings.TrimSpace(v))
		}
	}
	return enabled, pid
}

// addRule adds one audit rule and removes exactly it at cleanup.
func addRule(t *testing.T, rule ...string) {
	t.Helper()
	if out, err := exec.Command("auditctl", append([]string{"-a"}, rule...)...).CombinedOutput(); err != nil {
		t.Fatalf("auditctl -a %v: %v\n%s", rule, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("auditctl", append([]string{"-d"}, rule...)...).CombinedOutput(); err != nil {
			t.Errorf("auditctl -d %v: %v\n%s", rule, err, out)
		}
	})
}

func requireAuditd(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: starts a private auditd and adds kernel audit rules")
	}
	for _, bin := range []string{"auditd", "auditctl"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s not installed (scripts/deps.d/auditd.sh lists the package; make deps installs it)", bin)
		}
	}
	// A container without CAP_AUDIT_CONTROL, or a kernel booted with
	// audit=0, cannot run these tests whatever is installed.
	if out, err := exec.Command("auditctl", "-s").CombinedOutput(); err != nil {
		t.Skipf("the kernel's audit interface is not available here (auditctl -s: %v: %s)", err, bytes.TrimSpace(out))
	}
	if _, pid := auditStatus(t); pid != 0 {
		t.Skipf("an audit daemon (pid %d) already owns the kernel's audit stream; not taking it over", pid)
	}
}

// TestRealAuditd runs commands under a real auditd and checks the events
// the input makes of them: hex-encoded arguments decoded into argv, the
// parent's exe and exec serial, and a label inherited from the parent.
func TestRealAuditd(t *testing.T) {
	requireAuditd(t)
	for _, format := range []string{FormatString, FormatBinary} {
		t.Run(format, func(t *testing.T) { realAuditd(t, format) })
	}
}

func realAuditd(t *testing.T, afFormat string) {
	enabled, _ := auditStatus(t)
	t.Cleanup(func() { _ = exec.Command("auditctl", "-e", enabled).Run() })

	dir := t.TempDir()
	sock := privateAuditd(t, dir, afFormat)

	// Only our own commands are audited: they run under a login uid no one
	// else has, set by the first shell before it execs the rest.
	auid := 700000 + os.Getpid()%100000
	key := fmt.Sprintf("alertgw-test-%d", os.Getpid())
	rule := []string{"always,exit", "-F", "arch=b64", "-S", "execve", "-F", fmt.Sprintf("auid=%d", auid), "-k", key}

	// A copy of the shell named apt-get plays the package manager whose
	// children must all carry the software_mgmt label.
	aptGet := filepath.Join(dir, "apt-get")
	sh, err := os.ReadFile("/bin/sh")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(aptGet, sh, 0o755); err != nil {
		t.Fatal(err)
	}

	in, st := newInput(t, func(o *Options) {
		o.Socket, o.Format = sock, afFormat
		o.ResolveIDs = true
		o.Labels = []LabelRule{{Label: "software_mgmt", Exe: []string{`/apt-get$`}}, {Label: "tested", Keys: []string{key}}}
	})
	col := &collector{}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- in.Run(ctx, col) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("input: %v", err)
		}
	})
	addRule(t, rule...)

	// Arguments that force hex encoding: a space, a double quote, non-ASCII.
	script := `/bin/echo "hello world" 'say "hi"' héllo; /bin/true plain`
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", fmt.Sprintf(`echo %d > /proc/self/loginuid && exec %s -c "$0"`, auid, aptGet), script)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("commands: %v\n%s", err, out)
	}

	// Wait (bounded) for the three execve events: apt-get, echo, true.
	find := func(exe string) *normalize.Event {
		col.mu.Lock()
		defer col.mu.Unlock()
		for _, ev := range col.events {
			var p struct{ Exe string }
			_ = json.Unmarshal(ev.Details.Get("process"), &p)
			if p.Exe == exe && strings.Contains(string(ev.Details.Get("key")), key) {
				return ev
			}
		}
		return nil
	}
	deadline := time.Now().Add(15 * time.Second)
	for find("/usr/bin/true") == nil || find("/usr/bin/echo") == nil || find(aptGet) == nil {
		if time.Now().After(deadline) {
			t.Fatalf("events missing after 15s; got %d events", len(col.events))
		}
		time.Sleep(50 * time.Millisecond)
	}

	type proc struct {
		PID    uint32   `json:"pid"`
		PPID   uint32   `json:"ppid"`
		Exe    string   `json:"exe"`
		Argv   []string `json:"argv"`
		Labels []string `json:"labels"`
		Parent *struct {
			PID        uint32 `json:"pid"`
			Exe        string `json:"exe"`
			ExecSerial uint32 `json:"exec_serial"`
		} `json:"parent"`
	}
	parse := func(ev *normalize.Event) (p proc, serial uint32) {
		if err := json.Unmarshal(ev.Details.Get("process"), &p); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(ev.Details.Get("serial"), &serial); err != nil {
			t.Fatal(err)
		}
		return p, serial
	}
	apt, aptSerial := parse(find(aptGet))
	echo, _ := parse(find("/usr/bin/echo"))
	tru, _ := parse(find("/usr/bin/true"))

	if want := []string{aptGet, "-c", script}; !slices.Equal(apt.Argv, want) {
		t.Errorf("apt-get argv %q, want %q", apt.Argv, want)
	}
	if want := []string{"/bin/echo", "hello world", `say "hi"`, "héllo"}; !slices.Equal(echo.Argv, want) {
		t.Errorf("echo argv %q, want %q", echo.Argv, want)
	}
	if want := []string{"/bin/true", "plain"}; !slices.Equal(tru.Argv, want) {
		t.Errorf("true argv %q, want %q", tru.Argv, want)
	}
	for name, p := range map[string]proc{"echo": echo, "true": tru} {
		if p.Parent == nil || p.Parent.PID != apt.PID || p.Parent.Exe != aptGet || p.Parent.ExecSerial != aptSerial {
			t.Errorf("%s parent %+v, want pid %d exe %s exec_serial %d", name, p.Parent, apt.PID, aptGet, aptSerial)
		}
		if p.PPID != apt.PID {
			t.Errorf("%s ppid %d, want %d", name, p.PPID, apt.PID)
		}
		if !slices.Contains(p.Labels, "software_mgmt") || !slices.Contains(p.Labels, "tested") {
			t.Errorf("%s labels %v, want software_mgmt (inherited from apt-get) and tested", name, p.Labels)
		}
	}
	// apt-get's parent is this test process, which started before any
	// audited execve: the process table learnt it from /proc.
	if self, _ := os.Executable(); apt.Parent == nil || apt.Parent.PID != uint32(os.Getpid()) || apt.Parent.Exe != self {
		t.Errorf("apt-get parent %+v, want this test (pid %d, %s) from /proc", apt.Parent, os.Getpid(), self)
	}
	if !slices.Contains(apt.Labels, "software_mgmt") {
		t.Errorf("apt-get labels %v, want software_mgmt", apt.Labels)
	}
	var user map[string]struct {
		ID   uint64 `json:"id"`
		Name string `json:"name"`
	}
	if err := json.Unmarshal(find("/usr/bin/echo").Details.Get("user"), &user); err != nil {
		t.Fatal(err)
	}
	if user["auid"].ID != uint64(auid) || user["uid"].Name != "root" {
		t.Errorf("user %+v, want auid %d and uid named root", user, auid)
	}
	col.mu.Lock()
	for _, ev := range col.events {
		e := *ev // as the pipeline hands it on: with an id and a received time
		e.ID, e.Received = "1", time.Now().UTC()
		schematest.Validate(t, format.Native{}.AppendEvent(nil, &e))
	}
	col.mu.Unlock()
	if n := st.Dropped.Get(DropFraming); n != 0 {
		t.Errorf("framing errors: %d", n)
	}
	if len(col.failed) > 0 {
		t.Errorf("failed records: %q", col.failed)
	}
	if err := errors.Join(ctx.Err()); err != nil {
		t.Fatal(err)
	}
}

const (
	pluginDirEnv    = "ALERTGW_TEST_PLUGIN_DIR"
	pluginFormatEnv = "ALERTGW_TEST_PLUGIN_FORMAT" // format/binary_framing
)

// TestStdinPluginHelper is not a test on its own: TestRealAuditdPlugin has
// auditd start this test binary as a plugin (type = always), running only
// this function, which reads the dispatcher stream on standard input with
// source stdin and appends each event to events.jsonl.
func TestStdinPluginHelper(t *testing.T) {
	dir := os.Getenv(pluginDirEnv)
	if dir == "" {
		t.Skip("helper process for TestRealAuditdPlugin")
	}
	out, err := os.OpenFile(filepath.Join(dir, "events.jsonl"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	in, _ := newInput(t, func(o *Options) {
		o.Source = SourceStdin
		if f := os.Getenv(pluginFormatEnv); f != "" {
			o.Format, o.BinaryFraming, _ = strings.Cut(f, "/")
		}
	})
	w := &fileEmitter{f: out}
	if err := os.WriteFile(filepath.Join(dir, "ready"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := in.Run(context.Background(), w); err != nil {
		t.Fatal(err)
	}
}

// fileEmitter writes every event to a file at once, one JSON line each.
type fileEmitter struct{ f *os.File }

func (w *fileEmitter) Messages(*inputs.Batch)       {}
func (w *fileEmitter) Failed([]byte, string, error) {}
func (w *fileEmitter) Events(evs []*normalize.Event, done func()) {
	for _, ev := range evs {
		b := format.Native{}.AppendEvent(nil, ev)
		_, _ = w.f.Write(append(b, '\n'))
	}
	if done != nil {
		done()
	}
}

// TestRealAuditdPlugin runs alertgw's stdin source as a real auditd plugin,
// in both formats.
func TestRealAuditdPlugin(t *testing.T) {
	requireAuditd(t)
	for _, c := range []struct{ name, auditdFormat, ours string }{
		{"string", "string", "string/fixed"},
		{"binary", "binary", "binary/" + FramingFixed},
	} {
		t.Run(c.name, func(t *testing.T) { realAuditdPlugin(t, c.auditdFormat, c.ours) })
	}
}

func realAuditdPlugin(t *testing.T, auditdFormat, ours string) {
	enabled, _ := auditStatus(t)
	t.Cleanup(func() { _ = exec.Command("auditctl", "-e", enabled).Run() })

	dir := t.TempDir()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(dir, "alertgw-plugin.sh")
	body := fmt.Sprintf("#!/bin/sh\n%s=%s %s=%s exec %s -test.run='^TestStdinPluginHelper$' -test.count=1 >%s/helper.log 2>&1\n",
		pluginDirEnv, dir, pluginFormatEnv, ours, self, dir)
	if err := os.WriteFile(script, []byte(body), 0o750); err != nil { // auditd insists on 0750
		t.Fatal(err)
	}
	plugin := fmt.Sprintf("active = yes\ndirection = out\npath = %s\ntype = always\nformat = %s\n", script, auditdFormat)
	startAuditd(t, dir, "alertgw.conf", plugin, filepath.Join(dir, "ready"))

	auid := 600000 + os.Getpid()%100000
	key := fmt.Sprintf("alertgw-plugin-%d", os.Getpid())
	addRule(t, "always,exit", "-F", "arch=b64", "-S", "execve", "-F", fmt.Sprintf("auid=%d", auid), "-k", key)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", fmt.Sprintf(`echo %d > /proc/self/loginuid && exec /bin/echo "plugin stream" héllo`, auid))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("command: %v\n%s", err, out)
	}
	want := `"argv":["/bin/echo","plugin stream","héllo"]`
	for {
		b, _ := os.ReadFile(filepath.Join(dir, "events.jsonl"))
		if bytes.Contains(b, []byte(want)) && bytes.Contains(b, []byte(key)) {
			return
		}
		if ctx.Err() != nil {
			log, _ := os.ReadFile(filepath.Join(dir, "helper.log"))
			t.Fatalf("no event with %s from the plugin; events:\n%s\nhelper log:\n%s", want, b, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/maxmind/mmdbwriter/mmdbtype"
	"go.yaml.in/yaml/v3"
)

// exampleConfigs lists the alertgw configurations under examples/ (not the
// sensor snippets, Kubernetes manifests or compose files), relative to the
// repository root.
func exampleConfigs(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(filepath.Join(root, "examples"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yaml") {
			return err
		}
		b, _ := os.ReadFile(path)
		if configKey.Match(b) && !strings.Contains(string(b), "apiVersion:") && !strings.Contains(string(b), "eve-log:") &&
			!strings.Contains(string(b), "services:") {
			rel, _ := filepath.Rel(root, path)
			out = append(out, rel)
		}
		return nil
	})
	slices.Sort(out)
	return out
}

// TestExamplesOwnAdminAndDeadLetter: every example sets its own admin
// address (or turns it off) and its own dead-letter file, so that it runs
// beside `make run` (127.0.0.1:9477, ./data/deadletter.json) and beside the
// other examples.
func TestExamplesOwnAdminAndDeadLetter(t *testing.T) {
	root := filepath.Join("..", "..")
	admins, deadLetters := map[string]string{"127.0.0.1:9477": "make run"}, map[string]string{"./data/deadletter.json": "make run"}
	examples := exampleConfigs(t, root)
	if len(examples) < 10 {
		t.Fatalf("found %d example configurations", len(examples))
	}
	for _, ex := range examples {
		b, _ := os.ReadFile(filepath.Join(root, ex))
		var doc struct {
			Admin      *struct{ Listen *string } `yaml:"admin"`
			DeadLetter *struct{ Path *string }   `yaml:"dead_letter"`
		}
		if err := yaml.Unmarshal(b, &doc); err != nil {
			t.Fatalf("%s: %v", ex, err)
		}
		switch {
		case doc.Admin == nil || doc.Admin.Listen == nil:
			t.Errorf("%s: sets no admin.listen (the default 127.0.0.1:9477 collides with make run)", ex)
		case *doc.Admin.Listen != "":
			if prev, dup := admins[*doc.Admin.Listen]; dup {
				t.Errorf("%s: admin.listen %s is also %s's", ex, *doc.Admin.Listen, prev)
			}
			admins[*doc.Admin.Listen] = ex
		}
		switch {
		case doc.DeadLetter == nil || doc.DeadLetter.Path == nil:
			t.Errorf("%s: sets no dead_letter.path (the default ./data/deadletter.json collides with make run)", ex)
		case *doc.DeadLetter.Path != "":
			if prev, dup := deadLetters[*doc.DeadLetter.Path]; dup {
				t.Errorf("%s: dead_letter.path %s is also %s's", ex, *doc.DeadLetter.Path, prev)
			}
			deadLetters[*doc.DeadLetter.Path] = ex
		}
	}
}

// TestContainerExamples: the compose and Kubernetes examples name an image
// tag (never latest), and a pod on the host's network does not publish the
// admin endpoint on the node's addresses.
func TestContainerExamples(t *testing.T) {
	root := filepath.Join("..", "..")
	files, _ := filepath.Glob(filepath.Join(root, "examples", "kubernetes", "*.yaml"))
	files = append(files, filepath.Join(root, "examples", "compose", "compose.yaml"))
	image := regexp.MustCompile(`(?m)^\s*image:\s*(\S+)`)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range image.FindAllStringSubmatch(string(b), -1) {
			if name, tag, ok := strings.Cut(m[1], ":"); !ok || tag == "" || tag == "latest" {
				t.Errorf("%s: image %s names no tag (or latest)", f, m[1])
			} else if name == "alertgw" && !strings.Contains(readmeText(t), "alertgw:"+tag) {
				t.Errorf("%s: image alertgw:%s is not the tag the README builds", f, tag)
			}
		}
		s := string(b)
		if strings.Contains(s, "hostNetwork: true") {
			if strings.Contains(s, "httpGet") {
				t.Errorf("%s: a hostNetwork pod probes the admin endpoint over HTTP, so it must listen on the node's address", f)
			}
		}
		// Every alertgw configuration embedded in the manifests is valid
		// and, on the host's network, keeps the admin endpoint on loopback.
		for _, cfg := range embeddedConfigs(t, s) {
			p := filepath.Join(t.TempDir(), "embedded.yaml")
			os.WriteFile(p, []byte(cfg), 0o644)
			f2, _, _, probs, err := loadConfig(p)
			if err != nil || len(probs) > 0 {
				t.Errorf("%s: embedded configuration: %v %v", f, err, probs)
				continue
			}
			if host, _, _ := strings.Cut(f2.Admin.Listen, ":"); host != "127.0.0.1" && host != "localhost" && f2.Admin.Listen != "" &&
				hostNetworkFor(s) {
				t.Errorf("%s: admin.listen %s on a hostNetwork pod publishes the admin endpoint on the node", f, f2.Admin.Listen)
			}
		}
	}
}

func readmeText(t *testing.T) string {
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// embeddedConfigs returns the alertgw.yaml values of the ConfigMaps in a
// manifest.
func embeddedConfigs(t *testing.T, manifest string) []string {
	var out []string
	dec := yaml.NewDecoder(strings.NewReader(manifest))
	for {
		var doc struct {
			Kind string            `yaml:"kind"`
			Data map[string]string `yaml:"data"`
		}
		if err := dec.Decode(&doc); err == io.EOF {
			return out
		} else if err != nil {
			t.Fatal(err)
		}
		if doc.Kind == "ConfigMap" && doc.Data["alertgw.yaml"] != "" {
			out = append(out, doc.Data["alertgw.yaml"])
		}
	}
}

// hostNetworkFor: the ConfigMaps in examples/kubernetes serve pods on the
// host's network (both pods there use hostNetwork).
func hostNetworkFor(manifest string) bool {
	return strings.Contains(manifest, "hostNetwork: true") || strings.Contains(manifest, "name: alertgw\ndata:")
}

// TestExamplesRunBesideMakeRun runs, from a clean copy of the repository
// (its tracked files only) in a throw-away copy of the machine (see
// runIsolated): the README quick start as written (`make run`, then its
// send and tail commands), and, while `make run` keeps running, every
// example configuration with `alertgw run -c` exactly as written, one after
// the other, each until it is up (its admin endpoint answers, or its start
// is logged) and then stopped with SIGTERM. The files the examples read
// from the sensors' side (sid-msg.map, GeoIP databases, audit.log) are put
// where the examples say; the systemd example is installed with the
// commands of its unit file and run as the unit would (User=alertgw).
func TestExamplesRunBesideMakeRun(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Fatal("make is needed: it is what the README tells a new user to run")
	}
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	clone := filepath.Join(shortDir(t), "alertgw")
	cleanCopy(t, root, clone)
	fix := fixtures(t, root)
	logs := t.TempDir()

	var script strings.Builder
	script.WriteString(`
cd "$CLONE"
# What the sensors' packages leave on a host, where the examples look.
mkdir -p /etc/snort /var/lib/GeoIP /var/log/audit /var/log/snort /var/log/barnyard2 /etc/alertgw/tls
cp "$FIX/sid-msg.map" "$FIX/gen-msg.map" "$FIX/classification.config" /etc/snort/
cp "$FIX/console.crt" "$FIX/console.key" /etc/alertgw/tls/
cp "$FIX"/GeoLite2-*.mmdb /var/lib/GeoIP/
# What an administrator puts in place for the fleet examples: secrets, and
# the Kafka cluster's CA (the lab certificates come from the examples'
# headers, alertgw cert).
mkdir -p /etc/alertgw/tokens /run/secrets
install -m 0600 /dev/null /etc/alertgw/es-api-key; echo 'id:api-key' >/etc/alertgw/es-api-key
install -m 0600 /dev/null /etc/alertgw/tokens/vector-dmz; echo 'a-token-for-vector-dmz' >/etc/alertgw/tokens/vector-dmz
install -m 0600 /dev/null /run/secrets/kafka-password; echo 'kafka-password' >/run/secrets/kafka-password
cp "$FIX/console.crt" /etc/alertgw/kafka-ca.pem
for f in audit.log audit.log.1 audit.log.2; do cp "$FIX/audit.log" /var/log/audit/$f; done

# The README quick start, as written.
setsid make run >"$LOGS/make-run.log" 2>&1 </dev/null &
makerun=$!
wait_for '[ -S run/suricata.sock ]' 'make run to listen' 240
`)
	// The quick start's commands, one by one as a reader types them.
	for _, line := range readmeTryIt(t) {
		fmt.Fprintf(&script, "%s >>\"$LOGS/quickstart.out\" 2>&1\n", line)
		if strings.Contains(line, " send ") {
			script.WriteString(`wait_for '[ "$(wc -l <data/events.json)" -ge 1000 ]' '1000 events from the quick start' 30` + "\n")
			// The store commits in batches of its own, after the file: a
			// reader typing the next command is slower than that, a script
			// is not (CI once searched before the store's first commit).
			script.WriteString(`wait_for '[ "$(./bin/alertgw search --limit 10000 2>/dev/null | wc -l)" -ge 1000 ]' 'the store to hold the 1000 events' 30` + "\n")
		}
	}
	// An input on standard input (auditd's plugin protocol) gets a pipe
	// that stays open, as auditd's is.
	script.WriteString(`mkfifo "$LOGS/stdin"; exec 3<>"$LOGS/stdin"` + "\n")
	examples := exampleConfigs(t, root)
	for _, ex := range examples {
		b, _ := os.ReadFile(filepath.Join(root, ex))
		var doc struct {
			Admin struct{ Listen string } `yaml:"admin"`
		}
		yaml.Unmarshal(b, &doc)
		name := strings.NewReplacer("/", "_", ".yaml", "").Replace(ex)
		stdin := "</dev/null"
		if strings.Contains(string(b), "source: stdin") {
			stdin = `<"$LOGS/stdin"`
		}
		up := fmt.Sprintf(`wait_for './bin/alertgw health --addr %s >/dev/null 2>&1' '%s to answer on %s' 20`, doc.Admin.Listen, ex, doc.Admin.Listen)
		if doc.Admin.Listen == "" {
			up = fmt.Sprintf(`wait_for 'grep -q "alertgw running" "$LOGS/%s.log"' '%s to start' 20`, name, ex)
		}
		// What the example's header says to run first (console users, lab
		// certificates).
		for _, l := range strings.Split(string(b), "\n") {
			if cmd, ok := strings.CutPrefix(strings.TrimLeft(l, "# "), "alertgw user add "); ok && strings.HasPrefix(l, "#") {
				fmt.Fprintf(&script, "echo 'correct horse battery staple' | ./bin/alertgw user add %s --password-stdin >\"$LOGS/%s.user\" 2>&1\n", cmd, name)
			}
			if cmd, ok := strings.CutPrefix(strings.TrimLeft(l, "# "), "alertgw cert "); ok && strings.HasPrefix(l, "#") {
				fmt.Fprintf(&script, "./bin/alertgw cert %s >>\"$LOGS/%s.cert\" 2>&1\n", cmd, name)
			}
		}
		if ex == "examples/systemd/alertgw.yaml" {
			script.WriteString(systemdInstall(t, root))
			fmt.Fprintf(&script, `
setpriv --reuid alertgw --regid alertgw --init-groups /usr/local/bin/alertgw validate /etc/alertgw/alertgw.yaml >"$LOGS/%[1]s.validate" 2>&1 || { cat "$LOGS/%[1]s.validate"; exit 1; }
setpriv --reuid alertgw --regid alertgw --init-groups /usr/local/bin/alertgw run --config /etc/alertgw/alertgw.yaml >"$LOGS/%[1]s.log" 2>&1 </dev/null &
`, name)
		} else {
			fmt.Fprintf(&script, "\n./bin/alertgw run -c %s >\"$LOGS/%s.log\" 2>&1 %s &\n", ex, name, stdin)
		}
		fmt.Fprintf(&script, `pid=$!
%s || { echo "EXAMPLE %s did not come up"; cat "$LOGS/%s.log"; exit 1; }
./bin/alertgw health --addr 127.0.0.1:9477 >/dev/null || { echo "make run stopped answering beside %s"; exit 1; }
kill -TERM $pid 2>/dev/null || true # a one-shot replay may have finished
if wait $pid; then echo "EXAMPLE %s ok"; else echo "EXAMPLE %s exit $?"; cat "$LOGS/%s.log"; fi
`, up, ex, name, ex, ex, ex, name)
	}
	script.WriteString(`
kill -TERM -$makerun
wait $makerun || true
tail -1 data/events.json >"$LOGS/last-event.json"
`)
	out, err := runIsolated(t, script.String(), "CLONE="+clone, "FIX="+fix, "LOGS="+logs)
	if err != nil {
		mr, _ := os.ReadFile(filepath.Join(logs, "make-run.log"))
		qs, _ := os.ReadFile(filepath.Join(logs, "quickstart.out"))
		t.Fatalf("%v\n%s\nquick start:\n%s\nmake run:\n%s", err, out, qs, mr)
	}
	for _, ex := range examples {
		if !strings.Contains(string(out), "EXAMPLE "+ex+" ok") {
			t.Errorf("%s did not run and stop cleanly beside make run:\n%s", ex, out)
		}
	}
	qs, _ := os.ReadFile(filepath.Join(logs, "quickstart.out"))
	if !strings.Contains(string(qs), `"kind":`) {
		t.Errorf("the quick start's tail printed no event:\n%s", qs)
	}
	mr, _ := os.ReadFile(filepath.Join(logs, "make-run.log"))
	if !strings.Contains(string(mr), "point Suricata here") {
		t.Errorf("make run does not print the socket path to paste into suricata.yaml:\n%s", mr)
	}
}

// readmeTryIt returns the commands of the README's quick start that follow
// `make run`, verbatim.
func readmeTryIt(t *testing.T) []string {
	readme := readmeText(t)
	start := strings.Index(readme, "## Quick start")
	end := strings.Index(readme[start+1:], "\n## ")
	blocks := regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(readme[start:start+1+end], -1)
	if len(blocks) < 2 || !strings.Contains(blocks[0][1], "make run") {
		t.Fatalf("the README's quick start has changed shape: %d sh blocks", len(blocks))
	}
	return strings.Split(strings.TrimSpace(blocks[1][1]), "\n")
}

// systemdInstall returns the unit file's installation commands, run as
// written, and what systemd does before ExecStart (the unit's
// RuntimeDirectory=, StateDirectory= and LogsDirectory=).
func systemdInstall(t *testing.T, root string) string {
	b, err := os.ReadFile(filepath.Join(root, "examples", "systemd", "alertgw.service"))
	if err != nil {
		t.Fatal(err)
	}
	var cmds []string
	for _, l := range strings.Split(string(b), "\n") {
		if c, ok := strings.CutPrefix(l, "#   install "); ok {
			cmds = append(cmds, "install "+c)
		}
		if strings.HasPrefix(l, "# and `useradd") {
			cmds = append([]string{strings.Trim(strings.TrimPrefix(l, "# and "), "`:")}, cmds...)
		}
	}
	if len(cmds) < 4 {
		t.Fatalf("alertgw.service: found %d installation commands: %q", len(cmds), cmds)
	}
	// A host where only the package is installed: nothing left by the
	// examples run before as root.
	return "\nrm -rf /run/alertgw /var/lib/alertgw /var/log/alertgw\n" + strings.Join(cmds, "\n") + `
[ "$(stat -c '%U:%G %a' /etc/alertgw/alertgw.yaml)" = "root:alertgw 640" ] || { echo "EXAMPLE config not root:alertgw 0640: $(stat -c '%U:%G %a' /etc/alertgw/alertgw.yaml)"; exit 1; }
install -d -o alertgw -g alertgw -m 0750 /run/alertgw
install -d -o alertgw -g alertgw -m 0755 /var/lib/alertgw /var/log/alertgw
`
}

// cleanCopy copies the files git tracks (as they are in the work tree) to
// dst: what a fresh clone has, without build outputs or local data.
func cleanCopy(t *testing.T, root, dst string) {
	t.Helper()
	out, err := exec.Command("git", "-C", root, "ls-files", "-z").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	for _, rel := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		src := filepath.Join(root, rel)
		fi, err := os.Lstat(src)
		if err != nil { // deleted in the work tree, not yet committed
			continue
		}
		target := filepath.Join(dst, rel)
		os.MkdirAll(filepath.Dir(target), 0o755)
		if fi.Mode()&fs.ModeSymlink != 0 {
			l, _ := os.Readlink(src)
			os.Symlink(l, target)
			continue
		}
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(target, b, fi.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
}

// fixtures writes the sensor-side files the examples name: signature maps,
// GeoIP databases, an audit log.
func fixtures(t *testing.T, root string) string {
	dir := t.TempDir()
	copyFile := func(src, dst string) {
		b, err := os.ReadFile(filepath.Join(root, src))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, dst), b, 0o644)
	}
	copyFile("normalize/unified2/testdata/djcas9-unified2_seeds_sid-msg.map.excerpt", "sid-msg.map")
	copyFile("normalize/snort/testdata/classification.config", "classification.config")
	copyFile("inputs/auditd/testdata/go-libaudit_normal.log", "audit.log")
	os.WriteFile(filepath.Join(dir, "gen-msg.map"), []byte("1 || 1 || snort general alert\n116 || 420 || (snort_decoder) WARNING: TCP SYN with FIN\n"), 0o644)
	writeSelfSigned(t, filepath.Join(dir, "console.crt"), filepath.Join(dir, "console.key"))
	writeTestMMDB(t, filepath.Join(dir, "GeoLite2-City.mmdb"), "GeoLite2-City", mmdbtype.Map{"country": mmdbtype.Map{"iso_code": mmdbtype.String("GB")}})
	writeTestMMDB(t, filepath.Join(dir, "GeoLite2-ASN.mmdb"), "GeoLite2-ASN", mmdbtype.Map{"autonomous_system_number": mmdbtype.Uint32(64500)})
	return dir
}

// writeSelfSigned writes a self-signed certificate and its key (PEM), as an
// administrator's certificate for the console would be.
func writeSelfSigned(t *testing.T, certPath, keyPath string) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sensor-1"},
		DNSNames: []string{"sensor-1", "localhost"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
}

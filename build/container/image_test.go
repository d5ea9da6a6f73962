package container

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestImage builds the image from a freshly built static binary with buildah
// and checks, through `buildah mount` (podman run does not work on the CI
// machines), that the binary runs from the image's root file system alone,
// that the image runs as non-root, and that its health check, volumes and
// entry point are set.
func TestImage(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("buildah needs root here; run `make test` as root")
	}
	if _, err := exec.LookPath("buildah"); err != nil {
		t.Skip("buildah not installed; `make deps` installs it (scripts/deps.d/container.sh)")
	}
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")

	// A private build context: the repository's Containerfile wants bin/alertgw.
	ctxDir := t.TempDir()
	run(t, root, "go", "build", "-trimpath", "-o", filepath.Join(ctxDir, "bin", "alertgw"), "./cmd/alertgw")
	run(t, root, "cp", "-r", "build", ctxDir)

	tag := "localhost/alertgw-test:" + filepath.Base(ctxDir)
	run(t, ctxDir, "buildah", "bud", "--format", "docker", "-q", "-t", tag, "-f", "build/container/Containerfile.prebuilt", ".")
	t.Cleanup(func() { exec.Command("buildah", "rmi", "-f", tag).Run() })

	ctr := strings.TrimSpace(run(t, ctxDir, "buildah", "from", tag))
	t.Cleanup(func() { exec.Command("buildah", "rm", ctr).Run() })
	mnt := strings.TrimSpace(run(t, ctxDir, "buildah", "mount", ctr))
	t.Cleanup(func() { exec.Command("buildah", "umount", ctr).Run() })

	// Static and self-contained: it runs chrooted into the image with nothing else.
	if out := run(t, ctxDir, "chroot", mnt, "/alertgw", "version"); !strings.HasPrefix(out, "alertgw ") {
		t.Errorf("alertgw version in the image printed %q", out)
	}
	if out := run(t, ctxDir, "chroot", mnt, "/alertgw", "validate", "--config", "/etc/alertgw/alertgw.yaml"); !strings.Contains(out, "OK") {
		t.Errorf("the image's config does not validate: %s", out)
	}
	for _, dir := range []string{"run/alertgw", "data"} {
		st, err := os.Stat(filepath.Join(mnt, dir))
		if err != nil || !st.IsDir() {
			t.Errorf("%s missing in the image: %v", dir, err)
		}
	}

	var img struct {
		Docker struct {
			Config struct {
				User        string
				Entrypoint  []string
				Volumes     map[string]any
				Healthcheck struct{ Test []string }
			}
		}
	}
	if err := json.Unmarshal([]byte(run(t, ctxDir, "buildah", "inspect", "--type", "image", tag)), &img); err != nil {
		t.Fatal(err)
	}
	cfg := img.Docker.Config
	if cfg.User != "65532:65532" {
		t.Errorf("user %q, want non-root 65532:65532", cfg.User)
	}
	if strings.Join(cfg.Healthcheck.Test, " ") != "CMD /alertgw health --ready" {
		t.Errorf("healthcheck %q", cfg.Healthcheck.Test)
	}
	if _, ok := cfg.Volumes["/run/alertgw"]; !ok {
		t.Errorf("volumes %v lack /run/alertgw", cfg.Volumes)
	}
	if len(cfg.Entrypoint) != 1 || cfg.Entrypoint[0] != "/alertgw" {
		t.Errorf("entrypoint %q", cfg.Entrypoint)
	}
}

func run(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// Package tmpfs mounts small tmpfs file systems for tests that must fill a
// disk for real (ENOSPC on a write, a flush or an fsync), and unmounts them
// when the test ends. Mounting needs root (CAP_SYS_ADMIN): `make test` runs
// as root in CI; elsewhere such tests are skipped with the reason.
package tmpfs

import (
	"fmt"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// Mount mounts a tmpfs of size bytes on a fresh directory and returns it.
// It is unmounted (lazily, so that a process still holding a file there
// cannot make the test fail) and removed at the end of the test.
func Mount(t testing.TB, size int64) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root (make test runs as root)")
	}
	dir, err := os.MkdirTemp("", "agwtmpfs")
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("tmpfs", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, fmt.Sprintf("size=%d,mode=0755", size)); err != nil {
		os.Remove(dir)
		t.Fatalf("mount tmpfs on %s: %v", dir, err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
		os.Remove(dir)
	})
	return dir
}

// Resize changes the size of the tmpfs mounted on dir (it cannot shrink
// below what its files use).
func Resize(t testing.TB, dir string, size int64) {
	t.Helper()
	if err := unix.Mount("tmpfs", dir, "tmpfs", unix.MS_REMOUNT|unix.MS_NOSUID|unix.MS_NODEV, fmt.Sprintf("size=%d", size)); err != nil {
		t.Fatalf("resize tmpfs %s to %d bytes: %v", dir, size, err)
	}
}

// Fill writes a file of zeros in dir until the file system is full and
// returns its path: removing it gives the space back.
func Fill(t testing.TB, dir string) string {
	t.Helper()
	f, err := os.CreateTemp(dir, "filler")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	for {
		if _, err := f.Write(buf); err != nil {
			break
		}
	}
	return f.Name()
}

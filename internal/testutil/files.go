package testutil

import (
	"compress/gzip"
	"io"
	"os"
	"testing"
)

// ReadGz returns the decompressed content of a gzip file (test data kept
// compressed), failing t when it cannot.
func ReadGz(t testing.TB, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	b, err := io.ReadAll(z)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return b
}

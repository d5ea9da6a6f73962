package sigfiles

import (
	"os"
	"path/filepath"
	"testing"
)

func TestLoadAndReload(t *testing.T) {
	if m, err := Load(Files{}); m != nil || err != nil {
		t.Fatalf("no files: %v %v", m, err)
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "sid-msg.map")
	os.WriteFile(p, []byte("100 || before\n"), 0o644)
	f := Files{SidMsg: []string{p}}
	m, err := Load(f)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(p, []byte("100 || after\n"), 0o644)
	if err := Reload(m, f); err != nil {
		t.Fatal(err)
	}
	if s, _ := m.Tables().Signature(1, 100); s.Msg != "after" {
		t.Errorf("not reloaded: %q", s.Msg)
	}
	os.WriteFile(p, []byte("garbage\n"), 0o644)
	if err := Reload(m, f); err == nil {
		t.Error("bad file reloaded")
	}
	if s, _ := m.Tables().Signature(1, 100); s.Msg != "after" {
		t.Error("a failed reload dropped the tables")
	}
	if _, err := Load(Files{GenMsg: filepath.Join(dir, "missing")}); err == nil {
		t.Error("a missing file must fail")
	}
	if err := Reload(nil, f); err != nil {
		t.Errorf("nil map: %v", err)
	}
}

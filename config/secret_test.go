package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"
)

func TestSecretNeverPrinted(t *testing.T) {
	s := Secret("hunter2")
	var logs bytes.Buffer
	lg := zerolog.New(&logs)
	lg.Info().Interface("opts", struct{ Password Secret }{s}).Stringer("s", s).Msg("x")
	js, _ := json.Marshal(map[string]Secret{"p": s})
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%v %s %+v", s, s, struct{ P Secret }{s}), string(js), logs.String()} {
		if strings.Contains(out, "hunter2") {
			t.Errorf("secret printed: %s", out)
		}
	}
	if s.Reveal() != "hunter2" {
		t.Error("Reveal")
	}
}

func TestSecretLoad(t *testing.T) {
	f := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(f, []byte("from-file\n"), 0o600)
	var s Secret = "inline"
	if err := s.Load(""); err != nil || s != "inline" {
		t.Errorf("no file: %q %v", s, err)
	}
	if err := s.Load(f); err != nil || s.Reveal() != "from-file" {
		t.Errorf("file: %q %v", s.Reveal(), err)
	}
	if err := s.Load(f + ".missing"); err == nil {
		t.Error("missing file: want error")
	}
	var p Problems
	CheckSecret(&p, "password", "x", f)
	if len(p) != 1 || p[0].Path != "password_file" {
		t.Errorf("both given: %v", p)
	}
}

package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

type tlsLike struct {
	Enabled bool   `mapstructure:"enabled"`
	CA      string `mapstructure:"ca_file"`
}

func (t *tlsLike) PathUses() []PathUse {
	if !t.Enabled {
		return nil
	}
	return []PathUse{{Key: "ca_file", Path: t.CA, Use: PathRead}}
}

type sockOpts struct {
	Mode string `mapstructure:"mode"`
}

type pathOpts struct {
	Socket   string   `mapstructure:"socket" path:"socket"`
	Maps     []string `mapstructure:"maps" path:"read"`
	sockOpts `mapstructure:",squash"`
	Out      struct {
		Dir string `mapstructure:"dir" path:"writedir"`
	} `mapstructure:"out"`
	TLS  tlsLike `mapstructure:"tls"`
	Skip string  `mapstructure:"-" path:"read"`
}

func TestPathUses(t *testing.T) {
	o := &pathOpts{Socket: "/run/x.sock", Maps: []string{"/a", "/etc/*.map", ""}, TLS: tlsLike{Enabled: true, CA: "/ca.pem"}}
	o.Out.Dir = "/var/lib/x"
	got := PathUses(o, "inputs[2]")
	want := []PathUse{
		{"inputs[2].socket", "/run/x.sock", PathSocket},
		{"inputs[2].maps[0]", "/a", PathRead},
		{"inputs[2].out.dir", "/var/lib/x", PathWriteDir},
		{"inputs[2].tls.ca_file", "/ca.pem", PathRead},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("PathUses:\n got %v\nwant %v (globs and empty paths left out)", got, want)
	}
	o.TLS.Enabled = false
	if uses := PathUses(o, ""); len(uses) != 3 {
		t.Errorf("TLS off: %v", uses)
	}
}

func TestCheckPaths(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	os.WriteFile(file, []byte("x"), 0o644)
	errs, warns := CheckPaths([]PathUse{
		{"a", file, PathRead},
		{"b", filepath.Join(dir, "missing"), PathRead},
		{"c", dir, PathRead},
		{"d", file, PathDir},
		{"e", filepath.Join(dir, "new", "deeper", "out.json"), PathWrite}, // created at start
		{"f", filepath.Join(file, "out.json"), PathWrite},
		{"g", filepath.Join(dir, "s.sock"), PathSocket},
		{"h", filepath.Join(dir, "s.sock"), PathSocket},
		{"i", filepath.Join(dir, "buf"), PathWriteDir},
		{"j", filepath.Join(dir, "buf"), PathWriteDir},
		{"k", dir, PathWrite},
	})
	want := map[string]string{
		"b": "missing does not exist",
		"c": "is a directory, not a file",
		"d": "is not a directory",
		"f": "is not a directory",
		"h": "is already bound by g",
		"j": "is already used by i",
		"k": "is a directory",
	}
	for _, e := range errs {
		w, ok := want[e.Path]
		if !ok || !strings.Contains(e.Msg, w) {
			t.Errorf("unexpected %s", e)
		}
		delete(want, e.Path)
	}
	if len(want) > 0 || len(warns) > 0 {
		t.Errorf("missing %v; warnings %v", want, warns)
	}
}

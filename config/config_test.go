package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func writeConfig(t *testing.T, yaml string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "alertgw.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadDefault(t *testing.T) {
	f, probs, err := Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(probs) != 0 {
		t.Fatalf("default config has problems: %v", probs)
	}
	if f.Sensor == "" {
		t.Error("sensor should default to the host name")
	}
	if len(f.Inputs) != 1 || f.Inputs[0].Type != "suricata" || f.Inputs[0].Options["socket"] != "./run/suricata.sock" {
		t.Errorf("inputs = %+v", f.Inputs)
	}
	// A JSON-lines file and, beside it, the store `alertgw search` reads.
	if len(f.Outputs) != 2 || f.Outputs[0].Type != "file" || f.Outputs[0].Path != "outputs[0]" ||
		f.Outputs[1].Type != "store" || f.Outputs[1].Options["path"] != "./data/store" {
		t.Errorf("outputs = %+v", f.Outputs)
	}
	if f.Console["listen"] != "127.0.0.1:8470" {
		t.Errorf("console = %+v", f.Console)
	}
	if f.Pipeline.ShutdownTimeout != 10*time.Second || f.DeadLetter.MaxSize != 64<<20 {
		t.Errorf("pipeline/dead_letter = %+v %+v", f.Pipeline, f.DeadLetter)
	}
}

func TestLoadProblems(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string // every problem, in order
	}{
		{
			name: "unknown top-level and nested keys",
			yaml: "sensr: x\npipeline: {workers: 2, wrokers: 3}\ninputs: [{type: a}]\noutputs: [{type: b}]\n",
			want: []string{"pipeline.wrokers: unknown key", "sensr: unknown key"},
		},
		{
			name: "wrong types and impossible values",
			yaml: "pipeline: {workers: many, shutdown_timeout: soon}\nlog: {level: loud}\ninputs: [{type: a}]\noutputs: [{type: b}]\n",
			want: []string{"pipeline.shutdown_timeout:", "pipeline.workers: expected an integer", "log.level: must be one of"},
		},
		{
			name: "blocks without type, duplicate names, nothing configured",
			yaml: "inputs:\n  - {name: x, type: a}\n  - {name: x, type: a}\n  - {socket: /tmp/s}\noutputs: []\n",
			want: []string{"inputs[1].name: \"x\" is already used by inputs[0]", "inputs[2].type: is required", "outputs: at least one output is required"},
		},
		{
			name: "inputs not a list",
			yaml: "inputs: {type: a}\noutputs: [{type: b}]\n",
			want: []string{"inputs: must be a list of blocks"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, probs, err := Load(writeConfig(t, tt.yaml), nil)
			if err != nil {
				t.Fatal(err)
			}
			got := make([]string, len(probs))
			for i, p := range probs {
				got[i] = p.String()
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d problems %q, want %d like %q", len(got), got, len(tt.want), tt.want)
			}
			for _, w := range tt.want {
				if !slices.ContainsFunc(got, func(g string) bool { return strings.HasPrefix(g, w) }) {
					t.Errorf("no problem starting with %q in %q", w, got)
				}
			}
		})
	}
}

func TestLoadUnreadable(t *testing.T) {
	if _, _, err := Load(filepath.Join(t.TempDir(), "missing.yaml"), nil); err == nil {
		t.Error("missing file: want error")
	}
	if _, _, err := Load(writeConfig(t, "inputs: [\n"), nil); err == nil || !strings.Contains(err.Error(), "parse config") {
		t.Errorf("bad YAML: err = %v", err)
	}
}

func TestEnvOverrides(t *testing.T) {
	yaml := `
sensor: file-sensor
inputs:
  - name: eve-main
    type: suricata
    socket: /a.sock
    socket_type: dgram
outputs:
  - name: events
    type: file
    path: /a.json
`
	env := []string{
		"PATH=/usr/bin",
		"ALERTGW_SENSOR=edge-1",
		"ALERTGW_PIPELINE_WORKERS=4",
		"ALERTGW_INPUTS_0_SOCKET_TYPE=stream", // longest key wins over "socket"
		"ALERTGW_INPUTS_EVE_MAIN_SOCKET=/b.sock",
		"ALERTGW_OUTPUTS_EVENTS_ROTATE={max_size: 1MiB}", // a new nested key: a YAML value
		"ALERTGW_OUTPUTS_0_GROUPS=[1, 2]",
	}
	f, probs, err := Load(writeConfig(t, yaml), env)
	if err != nil {
		t.Fatal(err)
	}
	if len(probs) != 0 {
		t.Fatalf("problems: %v", probs)
	}
	in, out := f.Inputs[0].Options, f.Outputs[0].Options
	checks := []struct {
		name      string
		got, want any
	}{
		{"sensor", f.Sensor, "edge-1"},
		{"workers", f.Pipeline.Workers, 4},
		{"socket_type", in["socket_type"], "stream"},
		{"socket", in["socket"], "/b.sock"},
		{"rotate.max_size", out["rotate"].(map[string]any)["max_size"], "1MiB"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v (%T), want %v", c.name, c.got, c.got, c.want)
		}
	}
	if g, ok := out["groups"].([]any); !ok || len(g) != 2 || g[0] != 1 {
		t.Errorf("groups = %#v, want [1 2] as a list", out["groups"])
	}
}

func TestEnvOverrideErrors(t *testing.T) {
	yaml := "inputs: [{name: a, type: suricata}]\noutputs: [{type: file}]\n"
	tests := []struct{ env, want string }{
		{"ALERTGW_INPUTS_5_SOCKET=/x", "inputs has no item 5"},
		{"ALERTGW_INPUTS_NOPE_SOCKET=/x", `inputs has no block named "nope"`},
		// The problem names the variable, not the file.
		{"ALERTGW_OUTPUTS=x", "outputs (set by ALERTGW_OUTPUTS): must be a list of blocks"},
		{"ALERTGW_PIPELINE_SHUTDOWN_TIMEOUT=soon", "pipeline.shutdown_timeout (set by ALERTGW_PIPELINE_SHUTDOWN_TIMEOUT): expected a duration"},
	}
	for _, tt := range tests {
		_, probs, err := Load(writeConfig(t, yaml), []string{tt.env})
		if err != nil {
			t.Fatal(err)
		}
		if len(probs) == 0 || !strings.Contains(probs[0].String(), tt.want) {
			t.Errorf("%s: problems %v, want %q", tt.env, probs, tt.want)
		}
	}
}

type pluginOpts struct {
	Socket  string        `mapstructure:"socket"`
	Mode    FileMode      `mapstructure:"socket_mode"`
	MaxSize Size          `mapstructure:"max_size"`
	Timeout time.Duration `mapstructure:"timeout"`
	TLS     struct {
		CA string `mapstructure:"ca"`
	} `mapstructure:"tls"`
}

func (o *pluginOpts) Validate() Problems {
	var p Problems
	if o.Socket == "" {
		p.Add("socket", "is required")
	}
	return p
}

type commonOpts struct {
	Format string `mapstructure:"format"`
}

func TestDecodeBlock(t *testing.T) {
	b := Block{Path: "outputs[2]", Options: map[string]any{
		"name": "x", "type": "t", "format": "native",
		"socket_mode": "0640", "max_size": "16MiB", "timeout": "1m30s",
		"tls":   map[string]any{"ca": "/ca.pem", "cert": "/c.pem"},
		"bogus": 1,
	}}
	var common commonOpts
	var opts pluginOpts
	probs := DecodeBlock(b, &common, &opts)
	want := []string{"outputs[2].bogus: unknown key", "outputs[2].tls.cert: unknown key", "outputs[2].socket: is required"}
	got := make([]string, len(probs))
	for i, p := range probs {
		got[i] = p.String()
	}
	if !slices.Equal(got, want) {
		t.Errorf("problems = %q\nwant       %q", got, want)
	}
	if common.Format != "native" || opts.Mode != 0o640 || opts.MaxSize != 16<<20 || opts.Timeout != 90*time.Second || opts.TLS.CA != "/ca.pem" {
		t.Errorf("decoded %+v %+v", common, opts)
	}
}

func TestDecodeTypeErrors(t *testing.T) {
	b := Block{Path: "inputs[1]", Options: map[string]any{
		"type": "t", "socket": 5, "socket_mode": "rw", "max_size": "lots",
	}}
	var opts pluginOpts
	probs := DecodeBlock(b, &opts)
	for _, w := range []string{"inputs[1].socket: expected a string", "inputs[1].socket_mode:", "inputs[1].max_size:"} {
		if !slices.ContainsFunc(probs, func(p Problem) bool { return strings.HasPrefix(p.String(), w) }) {
			t.Errorf("no problem starting with %q in %v", w, probs)
		}
	}
}

func TestSize(t *testing.T) {
	tests := []struct {
		in   string
		want Size
		ok   bool
	}{
		{"65536", 65536, true}, {"64KiB", 64 << 10, true}, {"1 MiB", 1 << 20, true}, {"2GiB", 2 << 30, true},
		{"10MB", 10e6, true}, {"5K", 5 << 10, true}, {"12B", 12, true},
		{"", 0, false}, {"-1", 0, false}, {"1.5MiB", 0, false}, {"99999999999TiB", 0, false}, {"MiB", 0, false},
	}
	for _, tt := range tests {
		var s Size
		err := s.UnmarshalText([]byte(tt.in))
		if (err == nil) != tt.ok || (tt.ok && s != tt.want) {
			t.Errorf("Size(%q) = %d, %v; want %d ok=%v", tt.in, s, err, tt.want, tt.ok)
		}
	}
}

func TestFileMode(t *testing.T) {
	tests := []struct {
		in   string
		want FileMode
		ok   bool
	}{
		{"0660", 0o660, true}, {"660", 0o660, true}, {"0750", 0o750, true},
		{"0999", 0, false}, {"rw-", 0, false}, {"17777", 0, false},
	}
	for _, tt := range tests {
		var m FileMode
		err := m.UnmarshalText([]byte(tt.in))
		if (err == nil) != tt.ok || (tt.ok && m != tt.want) {
			t.Errorf("FileMode(%q) = %o, %v; want %o ok=%v", tt.in, m, err, tt.want, tt.ok)
		}
	}
	if FileMode(0o660).String() != "0660" {
		t.Error("String")
	}
}

// community_id.seed: the gateway's, an ALERTGW_* override, an input's own
// (InputCommon), and the 16-bit range checked at each place.
func TestCommunityIDSeed(t *testing.T) {
	p := writeConfig(t, "community_id: {seed: 1}\ninputs: [{type: a}, {type: b, community_id: {seed: 7}}]\noutputs: [{type: o}]\n")
	f, probs, err := Load(p, nil)
	if err != nil || len(probs) != 0 {
		t.Fatalf("%v %v", err, probs)
	}
	var a, b InputCommon
	if pr := DecodeBlock(f.Inputs[0], &a); len(pr) != 0 {
		t.Fatal(pr)
	}
	if pr := DecodeBlock(f.Inputs[1], &b); len(pr) != 0 {
		t.Fatal(pr)
	}
	if got := f.CommunityIDSeed(a); got != 1 {
		t.Errorf("input without its own seed: %d, want the gateway's 1", got)
	}
	if got := f.CommunityIDSeed(b); got != 7 {
		t.Errorf("input with community_id.seed 7: %d", got)
	}

	f, probs, err = Load(p, []string{"ALERTGW_COMMUNITY_ID_SEED=443"})
	if err != nil || len(probs) != 0 || f.CommunityID.Seed != 443 {
		t.Fatalf("ALERTGW_COMMUNITY_ID_SEED: %+v %v %v", f.CommunityID, probs, err)
	}
	d, _, _ := Load("", nil)
	if d.CommunityID.Seed != 0 {
		t.Errorf("default seed %d, want 0", d.CommunityID.Seed)
	}

	p = writeConfig(t, "community_id: {seed: 65536}\ninputs: [{type: a, community_id: {seed: -1}}]\noutputs: [{type: o}]\n")
	f, probs, err = Load(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(probs) != 1 || probs[0].Path != "community_id.seed" || !strings.Contains(probs[0].Msg, "between 0 and 65535") {
		t.Errorf("global seed out of range: %v", probs)
	}
	probs = DecodeBlock(f.Inputs[0], &a)
	if len(probs) != 1 || probs[0].Path != "inputs[0].community_id.seed" {
		t.Errorf("input seed out of range: %v", probs)
	}
}

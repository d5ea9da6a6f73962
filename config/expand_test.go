package config

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestExpandVars(t *testing.T) {
	yaml := `
sensor: ${SITE}-${HOST:-gw}
pipeline: {shutdown_timeout: "${STOP:-15s}", workers: "${WORKERS}"}
dead_letter: {path: "$${HOME}/dl.json"}
inputs:
  - name: eve
    type: suricata
    socket: ${RUN_DIR:-/run/alertgw}/suricata.sock
    password: pa$$word$
outputs:
  - name: search
    type: elasticsearch
    api_key: ${ES_API_KEY}
    urls: ["https://${ES_HOST}:9200"]
`
	env := []string{"SITE=fra1", "HOST=", "WORKERS=3", "ES_API_KEY=id:secret", "ES_HOST=es-1"}
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
		{"sensor (empty HOST takes the default)", f.Sensor, "fra1-gw"},
		{"shutdown_timeout (default)", f.Pipeline.ShutdownTimeout, 15 * time.Second},
		{"workers (a number from a string)", f.Pipeline.Workers, 3},
		{"dead_letter.path ($${ is literal)", f.DeadLetter.Path, "${HOME}/dl.json"},
		{"socket", in["socket"], "/run/alertgw/suricata.sock"},
		{"a lone $ stays", in["password"], "pa$$word$"},
		{"api_key", out["api_key"], "id:secret"},
		{"inside a list", out["urls"].([]any)[0], "https://es-1:9200"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v (%T), want %v", c.name, c.got, c.got, c.want)
		}
	}
	if got := f.Origins["outputs[0].api_key"]; got != "${ES_API_KEY}" {
		t.Errorf("origin of api_key = %q", got)
	}
}

func TestExpandVarsErrors(t *testing.T) {
	tests := []struct {
		value string
		env   []string
		want  string
	}{
		{"${ES_API_KEY}", nil, "inputs[0].api_key: environment variable ES_API_KEY is not set"},
		{"${ES_API_KEY}", []string{"ES_API_KEY="}, "environment variable ES_API_KEY is empty"},
		{"x${OPEN", nil, "unterminated ${"},
		{"${1X}", nil, `"1X" is not an environment variable name`},
		{"${A-B}", nil, `"A-B" is not an environment variable name`},
	}
	for _, tt := range tests {
		yaml := "inputs: [{name: a, type: suricata, api_key: '" + tt.value + "'}]\noutputs: [{type: file}]\n"
		_, probs, err := Load(writeConfig(t, yaml), tt.env)
		if err != nil {
			t.Fatal(err)
		}
		if len(probs) != 1 || !strings.Contains(probs[0].String(), tt.want) {
			t.Errorf("%s %v: problems %v, want %q", tt.value, tt.env, probs, tt.want)
		}
	}
	// ${NAME:-} allows an empty value on purpose.
	_, probs, _ := Load(writeConfig(t, "sensor: '${NOPE:-}'\ninputs: [{type: a}]\noutputs: [{type: b}]\n"), nil)
	if len(probs) != 0 {
		t.Errorf("${NOPE:-}: %v", probs)
	}
}

// A value from ${VAR} that does not fit names the variable.
func TestExpandedValueProblemNamesVariable(t *testing.T) {
	yaml := "pipeline: {workers: '${WORKERS}'}\ninputs: [{type: a}]\noutputs: [{type: b}]\n"
	_, probs, _ := Load(writeConfig(t, yaml), []string{"WORKERS=many"})
	if len(probs) != 1 || !strings.HasPrefix(probs[0].String(), "pipeline.workers (from ${WORKERS}): expected an integer") {
		t.Errorf("problems %v", probs)
	}
}

func TestDurationWithoutUnit(t *testing.T) {
	tests := []struct {
		value string
		ok    bool
	}{
		{"10", false}, {"1.5", false}, {"0", true}, {"10s", true}, {`"10"`, false},
	}
	for _, tt := range tests {
		yaml := "pipeline: {shutdown_timeout: " + tt.value + "}\ninputs: [{type: a}]\noutputs: [{type: b}]\n"
		f, probs, err := Load(writeConfig(t, yaml), nil)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, p := range probs {
			if strings.HasPrefix(p.Path, "pipeline.shutdown_timeout") && !strings.Contains(p.Msg, "must be positive") {
				got = append(got, p.String())
			}
		}
		if tt.ok != (len(got) == 0) {
			t.Errorf("shutdown_timeout: %s → %v (%s), want ok=%v", tt.value, got, f.Pipeline.ShutdownTimeout, tt.ok)
		}
		if !tt.ok && len(got) > 0 && tt.value != `"10"` && !strings.Contains(got[0], "has no unit") {
			t.Errorf("%s: message %q should say the unit is missing", tt.value, got[0])
		}
	}
}

func TestUnknownKeySuggestion(t *testing.T) {
	yaml := "pipeline: {wrokers: 2}\nadmin: {lisen: x}\nsensr: s\ninputs: [{type: a}]\noutputs: [{type: b}]\n"
	_, probs, _ := Load(writeConfig(t, yaml), nil)
	want := map[string]string{
		"pipeline.wrokers": `unknown key; did you mean "workers"?`,
		"admin.lisen":      `unknown key; did you mean "listen"?`,
		"sensr":            `unknown key; did you mean "sensor"?`,
	}
	for _, p := range probs {
		if w, ok := want[p.Path]; ok && p.Msg != w {
			t.Errorf("%s: %q, want %q", p.Path, p.Msg, w)
		}
		delete(want, p.Path)
	}
	if len(want) > 0 {
		t.Errorf("missing problems for %v in %v", want, probs)
	}
	// Nothing close: no guess.
	b := Block{Path: "outputs[0]", Options: map[string]any{"zzzzzz": 1}}
	var opts pluginOpts
	probs = DecodeBlock(b, &opts)
	for _, p := range probs {
		if p.Path == "outputs[0].zzzzzz" && p.Msg != "unknown key" {
			t.Errorf("%s", p)
		}
	}
	// Nested: tls.caa → ca.
	b = Block{Path: "outputs[0]", Options: map[string]any{"socket": "x", "tls": map[string]any{"caa": "/x"}}}
	probs = DecodeBlock(b, &opts)
	if len(probs) != 1 || probs[0].String() != `outputs[0].tls.caa: unknown key; did you mean "ca"?` {
		t.Errorf("nested: %v", probs)
	}
}

// A typo next to a value that fails to decode is still reported.
func TestUnknownKeyNextToBadValue(t *testing.T) {
	yaml := "pipeline: {wrokers: 3, shutdown_timeout: 10}\ninputs: [{type: a}]\noutputs: [{type: b}]\n"
	_, probs, _ := Load(writeConfig(t, yaml), nil)
	var got []string
	for _, p := range probs {
		got = append(got, p.String())
	}
	want := []string{`pipeline.wrokers: unknown key; did you mean "workers"?`, "pipeline.shutdown_timeout: 10 has no unit"}
	for _, w := range want {
		if !slices.ContainsFunc(got, func(g string) bool { return strings.HasPrefix(g, w) }) {
			t.Errorf("missing %q in %v", w, got)
		}
	}
}

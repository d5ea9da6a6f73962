package nflog

import (
	"strings"
	"testing"

	"github.com/alertgw/alertgw/config"
)

func TestOptionsDecodeAndValidate(t *testing.T) {
	block := config.Block{Path: "inputs[0]", Type: "nflog", Options: map[string]any{
		"type": "nflog",
		"groups": []any{
			map[string]any{"group": 1, "action": "allowed"},
			map[string]any{"group": 2, "action": "drop"},
		},
		"prefix_rules":  []any{map[string]any{"glob": "REJECT*", "action": "blocked"}},
		"copy_mode":     "packet",
		"copy_range":    128,
		"qthreshold":    20,
		"timeout":       "50ms",
		"socket_buffer": "8MiB",
		"families":      []any{"inet", "inet6"},
		"sequence":      true,
	}}
	o := DefaultOptions()
	if probs := config.DecodeBlock(block, o); len(probs) != 0 {
		t.Fatalf("problems: %v", probs)
	}
	if o.SocketBuffer != 8<<20 || o.CopyRange != 128 || o.Timeout.Milliseconds() != 50 || len(o.Groups) != 2 || !o.Sequence {
		t.Errorf("decoded %+v", o)
	}
	l, err := o.labeler()
	if err != nil {
		t.Fatal(err)
	}
	if l.Label(2, "x") != "blocked" || l.Label(1, "REJECT in") != "blocked" || l.Label(1, "x") != "allowed" {
		t.Error("labeler does not follow the options")
	}
}

func TestOptionsProblems(t *testing.T) {
	for _, tc := range []struct {
		mod  func(*Options)
		path string
	}{
		{func(o *Options) { o.Groups = nil }, "groups"},
		{func(o *Options) { o.Groups = append(o.Groups, GroupOptions{Group: 1}) }, "groups[1].group"},
		{func(o *Options) { o.Groups[0].Action = "maybe" }, "groups[0].action"},
		{func(o *Options) { o.PrefixRules = []PrefixRuleOptions{{Regexp: "(", Action: "allowed"}} }, "prefix_rules"},
		{func(o *Options) { o.CopyMode = "all" }, "copy_mode"},
		{func(o *Options) { o.Families = []string{"ipx"} }, "families[0]"},
		{func(o *Options) { o.BatchSize = 0 }, "batch_size"},
	} {
		o := DefaultOptions()
		o.Groups = []GroupOptions{{Group: 1, Action: "allowed"}}
		tc.mod(o)
		probs := o.Validate()
		found := false
		for _, p := range probs {
			found = found || p.Path == tc.path
		}
		if !found {
			t.Errorf("want a problem at %s, got %v", tc.path, probs)
		}
	}
	o := DefaultOptions()
	o.Groups = []GroupOptions{{Group: 1, Action: "allowed"}}
	if probs := o.Validate(); len(probs) != 0 {
		t.Errorf("valid options: %v", probs)
	}
	if !strings.Contains(ErrNoNetAdmin.Error(), "CAP_NET_ADMIN") {
		t.Error("error does not name the capability")
	}
}

package nflog

import (
	"testing"

	"github.com/alertgw/alertgw/normalize"
)

func TestLabeler(t *testing.T) {
	const (
		A = normalize.ActionAllowed
		B = normalize.ActionBlocked
		U = normalize.ActionUnknown
	)
	groups := map[uint16]normalize.Action{1: A, 2: B}
	rules := []PrefixRule{
		{Glob: "DROP*", Action: B},
		{Regexp: `(?i)reject`, Action: B},
		{Glob: "ACCEPT-?", Action: A},
		{Glob: "AUDIT *", Action: U, Groups: []uint16{1}}, // overrides group 1's "allowed" for audit-only logs
	}
	l, err := NewLabeler(groups, rules)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		group  uint16
		prefix string
		want   normalize.Action
	}{
		{1, "", A},                  // group action
		{2, "anything", B},          // group action
		{9, "anything", U},          // no group, no rule: never guessed
		{1, "DROP-IN ", B},          // first rule wins over the group
		{9, "DROP", B},              // glob matches the whole prefix, * may be empty
		{9, "xDROP", U},             // globs are anchored
		{2, "ACCEPT-1", A},          // rule before group
		{2, "ACCEPT-12", B},         // ? is one character: falls back to the group
		{9, "ipv4 Rejected", B},     // regexp matches anywhere
		{1, "AUDIT ssh", U},         // rule limited to group 1
		{2, "AUDIT ssh", B},         // … so group 2 keeps its action
		{9, "ACCEPT-a\nb", U},       // ? does not swallow the rest
		{9, "DROP\nsecond line", B}, // * crosses newlines
	} {
		if got := l.Label(tc.group, tc.prefix); got != tc.want {
			t.Errorf("Label(%d, %q) = %s, want %s", tc.group, tc.prefix, got, tc.want)
		}
	}
}

func TestLabelerErrors(t *testing.T) {
	for _, rules := range [][]PrefixRule{
		{{Action: normalize.ActionAllowed}},
		{{Glob: "a", Regexp: "b", Action: normalize.ActionAllowed}},
		{{Regexp: "(", Action: normalize.ActionAllowed}},
		{{Glob: "a", Action: "accept"}},
	} {
		if _, err := NewLabeler(nil, rules); err == nil {
			t.Errorf("rules %+v: no error", rules)
		}
	}
}

func TestParseAction(t *testing.T) {
	for in, want := range map[string]normalize.Action{
		"allowed": normalize.ActionAllowed, "ACCEPT": normalize.ActionAllowed, "drop": normalize.ActionBlocked,
		"reject": normalize.ActionBlocked, "blocked": normalize.ActionBlocked, "unknown": normalize.ActionUnknown,
	} {
		if got, err := ParseAction(in); err != nil || got != want {
			t.Errorf("ParseAction(%q) = %s, %v", in, got, err)
		}
	}
	if _, err := ParseAction("maybe"); err == nil {
		t.Error("ParseAction(maybe): no error")
	}
}

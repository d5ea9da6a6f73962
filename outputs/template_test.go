package outputs

import (
	"testing"
	"time"

	"github.com/alertgw/alertgw/normalize"
)

func TestTemplate(t *testing.T) {
	e := &normalize.Event{Kind: normalize.KindAlert, Action: normalize.ActionBlocked,
		Timestamp: time.Date(2026, 11, 22, 23, 59, 0, 0, time.FixedZone("x", 3600)),
		Source:    normalize.Source{Type: "suricata", Input: "eve", Sensor: "s1"}}
	for _, tc := range []struct{ tmpl, want, err string }{
		{tmpl: "alerts", want: "alerts"},
		{tmpl: "alertgw-{kind}", want: "alertgw-alert"},
		{tmpl: "{source}.{input}.{sensor}.{action}", want: "suricata.eve.s1.blocked"},
		{tmpl: "alertgw-{kind}-{date:2006.01.02}", want: "alertgw-alert-2026.11.22"},
		{tmpl: "x-{nope}", err: "unknown placeholder"},
		{tmpl: "x-{kind", err: "unclosed"},
		{tmpl: "x-{date:}", err: "unknown placeholder"},
	} {
		t.Run(tc.tmpl, func(t *testing.T) {
			tm, err := ParseTemplate(tc.tmpl)
			if tc.err != "" {
				if err == nil {
					t.Fatalf("no error, want %q", tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			n := NewNames(tm)
			if got := n.For(e); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
			if got := n.For(e); got != tc.want {
				t.Fatalf("cached: got %q, want %q", got, tc.want)
			}
		})
	}
}

package sigmap

import (
	"strings"
	"testing"

	"github.com/alertgw/alertgw/normalize"
)

func TestParseFormats(t *testing.T) {
	var tb Tables
	sidV1 := "# comment\n2000001 || ET MALWARE thing || url,example.org\n\n1 || one\n"
	sidV2 := "#v2\n1 || 2100498 || 7 || bad-unknown || 0 || GPL ATTACK_RESPONSE id check returned root || url,x\n3 || 13 || 2 || trojan-activity || 1 || SHARED OBJ\n"
	gen := "116 || 420 || (snort_decoder) WARNING: TCP SYN with FIN\n1 || 1 || generic\n"
	class := "config classification: bad-unknown,Potentially Bad Traffic, 2\nconfig classification: trojan-activity,A Network Trojan was detected, 1\nconfig other: x\n"
	for _, step := range []struct {
		parse func(r *strings.Reader) error
		in    string
	}{
		{func(r *strings.Reader) error { return tb.ParseSidMsg(r) }, sidV1},
		{func(r *strings.Reader) error { return tb.ParseSidMsg(r) }, sidV2},
		{func(r *strings.Reader) error { return tb.ParseGenMsg(r) }, gen},
		{func(r *strings.Reader) error { return tb.ParseClassification(r) }, class},
	} {
		if err := step.parse(strings.NewReader(step.in)); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		gid, sid, class uint32
		want            normalize.Signature
	}{
		{1, 2000001, 0, normalize.Signature{GID: 1, ID: 2000001, Name: "ET MALWARE thing"}},
		{1, 2100498, 0, normalize.Signature{GID: 1, ID: 2100498, Name: "GPL ATTACK_RESPONSE id check returned root", Category: "Potentially Bad Traffic", Priority: 2}},
		{3, 13, 0, normalize.Signature{GID: 3, ID: 13, Name: "SHARED OBJ", Category: "A Network Trojan was detected", Priority: 1}},
		{116, 420, 2, normalize.Signature{GID: 116, ID: 420, Name: "(snort_decoder) WARNING: TCP SYN with FIN", Category: "A Network Trojan was detected", Priority: 1}},
		{1, 1, 0, normalize.Signature{GID: 1, ID: 1, Name: "one"}}, // sid-msg.map wins over gen-msg.map
		{9, 9, 99, normalize.Signature{GID: 9, ID: 9}},
	} {
		s := normalize.Signature{GID: tc.gid, ID: tc.sid}
		tb.Fill(&s, tc.class)
		if s != tc.want {
			t.Errorf("%d:%d: %+v, want %+v", tc.gid, tc.sid, s, tc.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	var tb Tables
	if err := tb.ParseSidMsg(strings.NewReader("not a map line\n")); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("err %v", err)
	}
	if err := tb.ParseClassification(strings.NewReader("config classification: a,b,high\n")); err == nil {
		t.Error("bad priority accepted")
	}
	if err := tb.ParseGenMsg(strings.NewReader(strings.Repeat("x", 70<<10))); err == nil {
		t.Error("a 70 KiB line was accepted")
	}
}

// A Map swaps tables atomically; a nil Map resolves nothing.
func TestMapStore(t *testing.T) {
	var a, b Tables
	if err := a.ParseSidMsg(strings.NewReader("100 || before\n")); err != nil {
		t.Fatal(err)
	}
	if err := b.ParseSidMsg(strings.NewReader("100 || after\n")); err != nil {
		t.Fatal(err)
	}
	m := FromTables(&a)
	m.Store(&b)
	if s, _ := m.Tables().Signature(1, 100); s.Msg != "after" {
		t.Errorf("not swapped: %q", s.Msg)
	}
	var nilMap *Map
	nilMap.Tables().Fill(&normalize.Signature{}, 1) // must not panic
}

func TestParseRules(t *testing.T) {
	rules := `# Snort 2 style
alert tcp $HOME_NET any -> $EXTERNAL_NET any (msg:"GPL ATTACK_RESPONSE id check returned root"; content:"uid=0|28|root|29|"; classtype:bad-unknown; sid:2100498; rev:7;)
# alert udp any any -> any 53 (msg:"disabled \"quoted\"; rule"; sid:5; rev:1; priority:1;)
alert http (
    msg:"LOCAL custom gid, index.html fetched";
    flow:established,to_server;
    http_uri; content:"/index.html";
    gid:2000; sid:1000010; rev:7;
    classtype:protocol-command-decode;
)
alert icmp any any -> any any (msg:"multi \
line"; sid:6; rev:2;)
alert tcp any any -> any any (content:"no sid";)
`
	var tb Tables
	if err := tb.ParseClassification(strings.NewReader("config classification: bad-unknown,Potentially Bad Traffic, 2\nconfig classification: protocol-command-decode,Generic Protocol Command Decode,3\n")); err != nil {
		t.Fatal(err)
	}
	if err := tb.ParseRules(strings.NewReader(rules)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		gid, sid uint32
		want     normalize.Signature
	}{
		{1, 2100498, normalize.Signature{GID: 1, ID: 2100498, Name: "GPL ATTACK_RESPONSE id check returned root", Category: "Potentially Bad Traffic", Priority: 2}},
		{1, 5, normalize.Signature{GID: 1, ID: 5, Name: `disabled "quoted"; rule`, Priority: 1}},
		{2000, 1000010, normalize.Signature{GID: 2000, ID: 1000010, Name: "LOCAL custom gid, index.html fetched", Category: "Generic Protocol Command Decode", Priority: 3}},
		{1, 6, normalize.Signature{GID: 1, ID: 6, Name: "multi line"}},
	} {
		s := normalize.Signature{GID: tc.gid, ID: tc.sid}
		tb.Fill(&s, 0)
		if s != tc.want {
			t.Errorf("%d:%d: %+v, want %+v", tc.gid, tc.sid, s, tc.want)
		}
	}
	if n, _ := tb.Len(); n != 4 {
		t.Errorf("%d signatures", n)
	}
	if err := tb.ParseRules(strings.NewReader("alert tcp any any -> any any (msg:\"unterminated; sid:1;")); err == nil {
		t.Error("an unterminated rule was accepted")
	}
}

// FuzzParse: no input makes a parser panic or loop.
func FuzzParse(f *testing.F) {
	f.Add("1 || 2 || 3 || bad-unknown || 1 || msg || ref\n")
	f.Add("alert tcp any any -> any any (msg:\"a;\\\"b\"; sid:1; rev:2;)\n")
	f.Add("config classification: a,b,3\n")
	f.Fuzz(func(t *testing.T, s string) {
		var tb Tables
		tb.ParseSidMsg(strings.NewReader(s))
		tb.ParseGenMsg(strings.NewReader(s))
		tb.ParseClassification(strings.NewReader(s))
		tb.ParseRules(strings.NewReader(s))
	})
}

package audit

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/alertgw/alertgw/normalize"
)

// TestNodes: an aggregating auditd forwards records of several hosts with
// a node= prefix. Their serials and pids collide; events must not mix, and
// each host has its own process table.
func TestNodes(t *testing.T) {
	rec := func(node, body string) string { return "node=" + node + " " + body }
	syscall := func(pid, ppid, exe string) string {
		return `type=SYSCALL msg=audit(1700000000.100:7): arch=c000003e syscall=59 success=yes exit=0 items=0 ppid=` + ppid + ` pid=` + pid + ` auid=1000 uid=0 comm="x" exe="` + exe + `"`
	}
	lines := []string{
		rec("a", syscall("100", "1", "/usr/bin/apt-get")),
		rec("b", syscall("100", "1", "/usr/bin/vim")),
		rec("a", `type=EXECVE msg=audit(1700000000.100:7): argc=1 a0="apt-get"`),
		rec("b", `type=EXECVE msg=audit(1700000000.100:7): argc=1 a0="vim"`),
		rec("a", `type=EOE msg=audit(1700000000.100:7): `),
		rec("b", `type=EOE msg=audit(1700000000.100:7): `),
		rec("a", strings.Replace(syscall("101", "100", "/usr/bin/dpkg"), ":7)", ":8)", 1)),
		rec("b", strings.Replace(syscall("101", "100", "/usr/bin/ls"), ":7)", ":8)", 1)),
		rec("a", `type=EOE msg=audit(1700000000.100:8): `),
		rec("b", `type=EOE msg=audit(1700000000.100:8): `),
	}
	p := NewProcessor(AssemblerOptions{}, nil, NewTable(TableOptions{Rules: rulesForTest()}))
	p.NewTable = func() *Table { return NewTable(TableOptions{Rules: rulesForTest()}) }
	var evs []*normalize.Event
	for _, l := range lines {
		var err error
		if evs, err = p.Line([]byte(l), evs); err != nil {
			t.Fatal(err)
		}
	}
	evs = p.Close(evs)
	if len(evs) != 4 {
		t.Fatalf("%d events, want 4", len(evs))
	}
	type proc struct {
		Exe    string   `json:"exe"`
		Argv   []string `json:"argv"`
		Labels []string `json:"labels"`
		Parent *struct {
			Exe string `json:"exe"`
		} `json:"parent"`
	}
	got := map[string]proc{}
	for _, ev := range evs {
		var node string
		_ = json.Unmarshal(ev.Details.Get("node"), &node)
		var pr proc
		if err := json.Unmarshal(ev.Details.Get("process"), &pr); err != nil {
			t.Fatal(err)
		}
		got[node+" "+pr.Exe] = pr
	}
	if pr := got["a /usr/bin/apt-get"]; len(pr.Argv) != 1 || pr.Argv[0] != "apt-get" {
		t.Errorf("node a apt-get: %+v (records mixed with node b?)", pr)
	}
	if pr := got["a /usr/bin/dpkg"]; pr.Parent == nil || pr.Parent.Exe != "/usr/bin/apt-get" || len(pr.Labels) != 1 {
		t.Errorf("node a dpkg: %+v, want parent apt-get and label software_mgmt", pr)
	}
	if pr := got["b /usr/bin/ls"]; pr.Parent == nil || pr.Parent.Exe != "/usr/bin/vim" || len(pr.Labels) != 0 {
		t.Errorf("node b ls: %+v, want parent vim and no label", pr)
	}
	if st := p.TableStats(); st.Entries != 4 {
		t.Errorf("table entries %d, want 4 (two per node)", st.Entries)
	}
}

package audit

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/alertgw/alertgw/normalize"
)

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

func at(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }

func rulesForTest() []LabelRule {
	return []LabelRule{
		{Label: "software_mgmt", Exe: regexp.MustCompile(`^/usr/bin/(apt|apt-get|dpkg)$`)},
		{Label: "watched", Key: "watch"},
	}
}

func TestTable(t *testing.T) {
	type step struct {
		a          activity
		wantLabels []string
		wantParent string // "pid exe exec_serial", or "" for none
	}
	exec := func(sec int, serial, pid, ppid uint32, exe string, keys ...string) activity {
		return activity{time: at(sec), serial: serial, pid: pid, ppid: ppid, exe: exe, comm: exe[strings.LastIndexByte(exe, '/')+1:], syscall: "execve", success: true, keys: keys}
	}
	clone := func(sec int, serial, pid, ppid, child uint32) activity {
		return activity{time: at(sec), serial: serial, pid: pid, ppid: ppid, syscall: "clone", success: true, exit: int64(child)}
	}
	exit := func(sec int, serial, pid, ppid uint32) activity {
		return activity{time: at(sec), serial: serial, pid: pid, ppid: ppid, syscall: "exit_group", success: true}
	}
	cases := []struct {
		name  string
		opts  TableOptions
		steps []step
		stats TableStats
	}{
		{
			name: "exe label propagates to children and grandchildren via execve ppid",
			steps: []step{
				{a: exec(0, 10, 100, 1, "/usr/bin/bash")},
				{a: exec(1, 11, 200, 100, "/usr/bin/apt-get"), wantLabels: []string{"software_mgmt"}, wantParent: "100 /usr/bin/bash 10"},
				{a: exec(2, 12, 201, 200, "/usr/bin/sh"), wantLabels: []string{"software_mgmt"}, wantParent: "200 /usr/bin/apt-get 11"},
				{a: exec(3, 13, 202, 201, "/usr/bin/cp"), wantLabels: []string{"software_mgmt"}, wantParent: "201 /usr/bin/sh 12"},
				{a: exec(4, 14, 300, 100, "/usr/bin/ls"), wantParent: "100 /usr/bin/bash 10"},
			},
			stats: TableStats{Entries: 5, Labeled: 1},
		},
		{
			name: "clone creates the child with the parent's exe, exec serial and labels",
			steps: []step{
				{a: exec(0, 20, 100, 1, "/usr/bin/dpkg"), wantLabels: []string{"software_mgmt"}},
				{a: clone(1, 21, 100, 1, 101), wantLabels: []string{"software_mgmt"}},
				// The child exits without exec: its events name the parent.
				{a: exit(2, 22, 101, 100), wantLabels: []string{"software_mgmt"}, wantParent: "100 /usr/bin/dpkg 20"},
			},
			stats: TableStats{Entries: 2, Labeled: 1},
		},
		{
			name: "key rule labels the process and its later children",
			steps: []step{
				{a: activity{time: at(0), serial: 30, pid: 100, ppid: 1, exe: "/usr/bin/vim", syscall: "openat", success: true, keys: []string{"watch"}}, wantLabels: []string{"watched"}},
				{a: exec(1, 31, 101, 100, "/usr/bin/sh"), wantLabels: []string{"watched"}, wantParent: "100 /usr/bin/vim 0"},
			},
			stats: TableStats{Entries: 2, Labeled: 1},
		},
		{
			name: "a reused pid with another parent starts clean",
			steps: []step{
				{a: exec(0, 40, 100, 1, "/usr/bin/apt"), wantLabels: []string{"software_mgmt"}},
				{a: exec(1, 41, 200, 100, "/usr/bin/true"), wantLabels: []string{"software_mgmt"}, wantParent: "100 /usr/bin/apt 40"},
				{a: exec(2, 42, 200, 50, "/usr/bin/false")},
			},
			stats: TableStats{Entries: 2, Labeled: 1},
		},
		{
			name: "exited processes expire after ExitedTTL (event time)",
			opts: TableOptions{ExitedTTL: 10 * time.Second},
			steps: []step{
				{a: exec(0, 50, 100, 1, "/usr/bin/sleep")},
				{a: exit(1, 51, 100, 1)},
				{a: exec(5, 52, 200, 100, "/usr/bin/true"), wantParent: "100 /usr/bin/sleep 50"},
				{a: exec(30, 53, 300, 100, "/usr/bin/true")}, // 100 is gone
			},
			stats: TableStats{Entries: 2, Expired: 1},
		},
		{
			name: "size cap evicts the least recently seen",
			opts: TableOptions{MaxEntries: 2},
			steps: []step{
				{a: exec(0, 60, 100, 1, "/usr/bin/a")},
				{a: exec(1, 61, 200, 1, "/usr/bin/b")},
				{a: exec(2, 62, 300, 1, "/usr/bin/c")},
				{a: exec(3, 63, 400, 100, "/usr/bin/d")}, // 100 was evicted
			},
			stats: TableStats{Entries: 2, Evicted: 2},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.opts.Rules = rulesForTest()
			tbl := NewTable(c.opts)
			for i, s := range c.steps {
				self, parent := tbl.observe(&s.a)
				if self == nil {
					t.Fatalf("step %d: no process", i)
				}
				if !slices.Equal(self.Labels, s.wantLabels) {
					t.Errorf("step %d: labels %v, want %v", i, self.Labels, s.wantLabels)
				}
				got := ""
				if parent != nil {
					got = fmt.Sprintf("%d %s %d", parent.PID, parent.Exe, parent.ExecSerial)
				}
				if got != s.wantParent {
					t.Errorf("step %d: parent %q, want %q", i, got, s.wantParent)
				}
			}
			if st := tbl.Stats(); st != c.stats {
				t.Errorf("stats %+v, want %+v", st, c.stats)
			}
		})
	}
}

// TestTableLookup: parents the table has not seen are learnt through
// Lookup (as /proc would answer), with their ancestors' labels.
func TestTableLookup(t *testing.T) {
	running := map[uint32][3]string{
		50: {"1", "/usr/sbin/sshd", "sshd"},
		60: {"50", "/usr/bin/apt-get", "apt-get"},
		70: {"60", "/usr/bin/sh", "sh"},
	}
	calls := 0
	tbl := NewTable(TableOptions{Rules: rulesForTest(), Lookup: func(pid uint32) (uint32, string, string, bool) {
		calls++
		r, ok := running[pid]
		if !ok {
			return 0, "", "", false
		}
		ppid, _ := strconv.Atoi(r[0])
		return uint32(ppid), r[1], r[2], true
	}})
	// A command run by the shell that apt-get started before the gateway.
	self, parent := tbl.observe(&activity{time: at(0), serial: 1, pid: 80, ppid: 70, exe: "/usr/bin/dpkg-deb", comm: "dpkg-deb", syscall: "execve", success: true})
	if parent == nil || parent.Exe != "/usr/bin/sh" || parent.PPID != 60 {
		t.Fatalf("parent %+v", parent)
	}
	if !slices.Equal(self.Labels, []string{"software_mgmt"}) {
		t.Errorf("labels %v, want software_mgmt from the running apt-get", self.Labels)
	}
	// Known now: no more lookups.
	before := calls
	tbl.observe(&activity{time: at(1), serial: 2, pid: 81, ppid: 70, exe: "/usr/bin/true", syscall: "execve", success: true})
	if calls != before {
		t.Errorf("%d more lookups for a known parent", calls-before)
	}
	if st := tbl.Stats(); st.Adopted != 3 {
		t.Errorf("adopted %d, want 3 (sh, apt-get, sshd)", st.Adopted)
	}
	// An unknown parent (gone): no parent info, no error.
	if _, parent := tbl.observe(&activity{time: at(2), serial: 3, pid: 90, ppid: 99, exe: "/x", syscall: "execve", success: true}); parent != nil {
		t.Errorf("parent %+v for a pid Lookup does not know", parent)
	}
}

// TestTableThroughMapper runs the records of an apt-get session through the
// whole chain and checks what lands in details.process.
func TestTableThroughMapper(t *testing.T) {
	lines := []string{
		`type=SYSCALL msg=audit(1700000000.100:100): arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=4 items=1 ppid=10 pid=20 auid=1000 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=3 comm="apt-get" exe="/usr/bin/apt-get" key="exec"`,
		`type=EXECVE msg=audit(1700000000.100:100): argc=3 a0="apt-get" a1="install" a2="cowsay"`,
		`type=EOE msg=audit(1700000000.100:100): `,
		`type=SYSCALL msg=audit(1700000000.200:101): arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=4 items=1 ppid=20 pid=21 auid=1000 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=3 comm="dpkg" exe="/usr/bin/dpkg" key="exec"`,
		`type=EXECVE msg=audit(1700000000.200:101): argc=2 a0="dpkg" a1=2D2D7374617475732D666420313233`,
		`type=PROCTITLE msg=audit(1700000000.200:101): proctitle=64706B67002D2D7374617475732D666420313233`,
		`type=EOE msg=audit(1700000000.200:101): `,
	}
	p := NewProcessor(AssemblerOptions{}, fixedResolver{}, NewTable(TableOptions{Rules: rulesForTest()}))
	var evs []*normalize.Event
	for _, l := range lines {
		var err error
		if evs, err = p.Line([]byte(l), evs); err != nil {
			t.Fatal(err)
		}
	}
	if len(evs) != 2 {
		t.Fatalf("%d events, want 2", len(evs))
	}
	got := string(evs[1].Details.Get("process"))
	want := `{"pid":21,"ppid":20,"exe":"/usr/bin/dpkg","comm":"dpkg","argc":2,"argv":["dpkg","--status-fd 123"],"title":"dpkg --status-fd 123","tty":"pts0","labels":["software_mgmt"],"parent":{"pid":20,"ppid":10,"exe":"/usr/bin/apt-get","comm":"apt-get","exec_serial":100}}`
	if got != want {
		t.Errorf("process:\n got %s\nwant %s", got, want)
	}
	if got, want := string(evs[1].Details.Get("user")), `{"auid":{"id":1000,"name":"alice"},"uid":{"id":0,"name":"root"},"euid":{"id":0,"name":"root"},"suid":{"id":0,"name":"root"},"fsuid":{"id":0,"name":"root"},"gid":{"id":0,"name":"root"},"egid":{"id":0,"name":"root"},"sgid":{"id":0,"name":"root"},"fsgid":{"id":0,"name":"root"}}`; got != want {
		t.Errorf("user:\n got %s\nwant %s", got, want)
	}
}

// TestArgvExact: argv keeps what auparse's record values trim (single
// quotes at the ends), and empty or "?" arguments.
func TestArgvExact(t *testing.T) {
	lines := []string{
		`type=SYSCALL msg=audit(1700000000.100:5): arch=c000003e syscall=59 success=yes exit=0 items=0 ppid=1 pid=2 auid=0 uid=0 comm="echo" exe="/bin/echo"`,
		`type=EXECVE msg=audit(1700000000.100:5): argc=4 a0="echo" a1="'x'" a2="" a3="?"`,
		`type=EOE msg=audit(1700000000.100:5): `,
	}
	p := NewProcessor(AssemblerOptions{}, nil, nil)
	var evs []*normalize.Event
	for _, l := range lines {
		evs, _ = p.Line([]byte(l), evs)
	}
	if len(evs) != 1 {
		t.Fatalf("%d events", len(evs))
	}
	if got, want := string(evs[0].Details.Get("process")), `"argv":["echo","'x'","","?"]`; !strings.Contains(got, want) {
		t.Errorf("process %s, want %s", got, want)
	}
}

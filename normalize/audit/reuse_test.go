package audit

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/elastic/go-libaudit/v2/auparse"

	"github.com/alertgw/alertgw/internal/nativetest"
	"github.com/alertgw/alertgw/normalize"
)

// TestMapperReuse: a Mapper keeps scratch space and memos (decoded
// strings, the last user ids and enriched names) from one event to the
// next. Mapping every event of the corpus logs with one Mapper must give
// the same bytes as mapping each with a fresh one, and an event mapped
// earlier must not change when later ones are mapped.
func TestMapperReuse(t *testing.T) {
	logs, err := filepath.Glob("testdata/*.log")
	if err != nil || len(logs) == 0 {
		t.Fatalf("no corpus logs: %v", err)
	}
	sources := map[string]func(*testing.T) [][]*auparse.AuditMessage{"enriched": enrichedGroups}
	for _, path := range logs {
		sources[filepath.Base(path)] = func(t *testing.T) [][]*auparse.AuditMessage { return groupLog(t, path) }
	}
	for name, source := range sources {
		t.Run(name, func(t *testing.T) {
			groups := source(t)
			for _, r := range []Resolver{nil, fixedResolver{}} {
				shared := Mapper{Resolver: r}
				var evs []*normalize.Event
				var want [][]byte
				for _, g := range groups {
					fresh := Mapper{Resolver: r}
					var a, b normalize.Event
					errA, errB := fresh.Map(g, &a), shared.Map(g, &b)
					if (errA == nil) != (errB == nil) {
						t.Fatalf("errors differ: %v vs %v", errA, errB)
					}
					wa, wb := nativetest.Line(&a), nativetest.Line(&b)
					if !bytes.Equal(wa, wb) {
						t.Fatalf("reused mapper differs:\nfresh  %s\nshared %s", wa, wb)
					}
					evs, want = append(evs, &b), append(want, wb)
				}
				for i, ev := range evs {
					if got := nativetest.Line(ev); !bytes.Equal(got, want[i]) {
						t.Fatalf("event %d changed after later events were mapped:\nwas %s\nnow %s", i, want[i], got)
					}
				}
			}
		})
	}
}

// enrichedGroups: execve events in auditd's enriched format, in which the
// users, their ids and the names' spelling change from one event to the
// next and come back.
func enrichedGroups(t *testing.T) [][]*auparse.AuditMessage {
	users := []struct{ ids, names string }{
		{"auid=1000 uid=1000 gid=1000 euid=1000 suid=1000 fsuid=1000 egid=1000 sgid=1000 fsgid=1000",
			`AUID="alice" UID="alice" GID="alice" EUID="alice" SUID="alice" FSUID="alice" EGID="alice" SGID="alice" FSGID="alice"`},
		{"auid=1000 uid=1000 gid=1000 euid=1000 suid=1000 fsuid=1000 egid=1000 sgid=1000 fsgid=1000",
			`AUID="alice" UID="alice" GID="staff" EUID="alice" SUID="alice" FSUID="alice" EGID="staff" SGID="staff" FSGID="staff"`},
		{"auid=1001 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0",
			`AUID="bob" UID="root" GID="root" EUID="root" SUID="root" FSUID="root" EGID="root" SGID="root" FSGID="root"`},
		{"auid=4294967295 uid=1000 gid=1000 euid=1000 suid=1000 fsuid=1000 egid=1000 sgid=1000 fsgid=1000",
			`auid="unset" Uid="alice"`},
		{"auid=1000 uid=1000 gid=1000 euid=1000 suid=1000 fsuid=1000 egid=1000 sgid=1000 fsgid=1000 ouid=7", ``},
	}
	const ids = "auid=1000 uid=1000 gid=1000 euid=1000 suid=1000 fsuid=1000 egid=1000 sgid=1000 fsgid=1000"
	const names = `AUID="alice" UID="alice" GID="alice" EUID="alice" SUID="alice" FSUID="alice" EGID="alice" SGID="alice" FSGID="alice"`
	asm := NewAssembler(AssemblerOptions{Timeout: time.Hour})
	var groups [][]*auparse.AuditMessage
	serial := 0
	for round := 0; round < 3; round++ {
		for _, u := range users {
			serial++
			for _, tmpl := range benchEvent {
				l := strings.Replace(strings.Replace(tmpl, ids, u.ids, 1), names, u.names, 1)
				msg, err := ParseLine([]byte(fmtSerial(l, serial)))
				if err != nil {
					t.Fatal(err)
				}
				groups = append(groups, asm.Push(msg)...)
			}
		}
	}
	return append(groups, asm.Close()...)
}

// groupLog returns the records of a log grouped into events.
func groupLog(t *testing.T, path string) [][]*auparse.AuditMessage {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	asm := NewAssembler(AssemblerOptions{Timeout: time.Hour})
	var groups [][]*auparse.AuditMessage
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, MaxRecordLen+1024)
	for sc.Scan() {
		msg, err := ParseLine(sc.Bytes())
		if err != nil {
			continue
		}
		groups = append(groups, asm.Push(msg)...)
	}
	groups = append(groups, asm.Close()...)
	if len(groups) == 0 {
		t.Fatalf("%s: no events", path)
	}
	return groups
}

// TestEmptyArgv: an EXECVE record with argc=0 (execve with an empty
// argument vector) gives an empty argv, not a missing one.
func TestEmptyArgv(t *testing.T) {
	msg, err := ParseLine([]byte("type=EXECVE msg=audit(1.1:1): argc=0"))
	if err != nil {
		t.Fatal(err)
	}
	var m Mapper
	var ev normalize.Event
	if err := m.Map([]*auparse.AuditMessage{msg}, &ev); err != nil {
		t.Fatal(err)
	}
	if got, want := string(ev.Details.Get("process")), `{"argc":0,"argv":[]}`; got != want {
		t.Fatalf("process = %s, want %s", got, want)
	}
}

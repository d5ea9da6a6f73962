package audit

import (
	"fmt"
	"testing"

	"github.com/elastic/go-libaudit/v2/auparse"

	"github.com/alertgw/alertgw/internal/cputime"
	"github.com/alertgw/alertgw/internal/nativetest"
	"github.com/alertgw/alertgw/normalize"
)

// A typical execve event as auditd 3.0 writes it on Debian 12 (enriched
// format, Debian's default): SYSCALL,
// EXECVE (one argument hex-encoded), CWD, two PATHs, PROCTITLE, EOE.
var benchEvent = []string{
	`type=SYSCALL msg=audit(1700000000.100:%d): arch=c000003e syscall=59 success=yes exit=0 a0=55d0c8a1b2c0 a1=55d0c8a1b3a0 a2=55d0c8a1b3c0 a3=8 items=2 ppid=4242 pid=4243 auid=1000 uid=1000 gid=1000 euid=1000 suid=1000 fsuid=1000 egid=1000 sgid=1000 fsgid=1000 tty=pts0 ses=3 comm="grep" exe="/usr/bin/grep" subj=unconfined key="exec"` + "\x1d" + `ARCH=x86_64 SYSCALL=execve AUID="alice" UID="alice" GID="alice" EUID="alice" SUID="alice" FSUID="alice" EGID="alice" SGID="alice" FSGID="alice"`,
	`type=EXECVE msg=audit(1700000000.100:%d): argc=3 a0="grep" a1="-r" a2=68656C6C6F20776F726C64`,
	`type=CWD msg=audit(1700000000.100:%d): cwd="/home/alice"`,
	`type=PATH msg=audit(1700000000.100:%d): item=0 name="/usr/bin/grep" inode=1234 dev=08:01 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0`,
	`type=PATH msg=audit(1700000000.100:%d): item=1 name="/lib64/ld-linux-x86-64.so.2" inode=5678 dev=08:01 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0`,
	`type=PROCTITLE msg=audit(1700000000.100:%d): proctitle=67726570002D720068656C6C6F20776F726C64`,
	`type=EOE msg=audit(1700000000.100:%d): `,
}

// BenchmarkExecveEvent: parse + reassemble + coalesce + map + native
// encode, per audit event (7 records).
func BenchmarkExecveEvent(b *testing.B) {
	const n = 1024
	lines := make([][][]byte, n)
	for i := range lines {
		for _, l := range benchEvent {
			lines[i] = append(lines[i], []byte(fmtSerial(l, i+1)))
		}
	}
	p := NewProcessor(AssemblerOptions{}, fixedResolver{}, NewTable(TableOptions{Rules: rulesForTest()}))
	var evs []*normalize.Event
	var buf []byte
	b.ReportAllocs()
	cpu0 := cputime.Process()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// Serials must grow, or the reassembler sees a reset.
		if i%n == 0 && i > 0 {
			b.StopTimer()
			for j := range lines {
				for k, l := range benchEvent {
					lines[j][k] = []byte(fmtSerial(l, i+j+1))
				}
			}
			b.StartTimer()
		}
		for _, l := range lines[i%n] {
			evs, _ = p.LineOwned(l, evs[:0]) // as the input does: lines are never modified
			for _, ev := range evs {
				buf = nativetest.Append(buf[:0], ev)
			}
		}
	}
	b.StopTimer()
	// CPU time, not wall time: on a shared machine the wall clock also
	// counts the time other processes held the cores. (It includes the
	// untimed serial rewrites, one per 1024 events, and GC threads.)
	b.ReportMetric(float64(cputime.Process()-cpu0)/float64(b.N), "cpu-ns/op")
}

func fmtSerial(l string, serial int) string { return fmt.Sprintf(l, serial) }

// BenchmarkMapEncode is the coalesce+normalize+encode step alone: the
// records are parsed and grouped once, then mapped (records' fields
// parsed, coalesced, process table) and encoded per iteration.
func BenchmarkMapEncode(b *testing.B) {
	var msgs []*auparse.AuditMessage
	for _, l := range benchEvent {
		msg, err := ParseLine([]byte(fmtSerial(l, 1)))
		if err != nil {
			b.Fatal(err)
		}
		msgs = append(msgs, msg)
	}
	m := Mapper{Resolver: fixedResolver{}, Table: NewTable(TableOptions{Rules: rulesForTest()})}
	var buf []byte
	var ev normalize.Event
	b.ReportAllocs()
	cpu0 := cputime.Process()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ev = normalize.Event{}
		if err := m.Map(msgs, &ev); err != nil {
			b.Fatal(err)
		}
		buf = nativetest.Append(buf[:0], &ev)
	}
	b.StopTimer()
	b.ReportMetric(float64(cputime.Process()-cpu0)/float64(b.N), "cpu-ns/op")
}

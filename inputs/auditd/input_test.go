package auditd

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/alertgw/alertgw/config"
	"github.com/alertgw/alertgw/inputs"
	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/stats"
)

// collector is the pipeline as the input sees it, recording what it gets.
type collector struct {
	mu     sync.Mutex
	events []*normalize.Event
	failed []string
}

func (c *collector) Messages(*inputs.Batch) { panic("auditd emits events") }
func (c *collector) Events(evs []*normalize.Event, done func()) {
	c.mu.Lock()
	c.events = append(c.events, evs...)
	c.mu.Unlock()
	if done != nil {
		done()
	}
}
func (c *collector) Failed(raw []byte, reason string, err error) {
	c.mu.Lock()
	c.failed = append(c.failed, reason+": "+string(raw))
	c.mu.Unlock()
}

func (c *collector) serials() []uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []uint64
	for _, ev := range c.events {
		var s uint64
		_ = json.Unmarshal(ev.Details.Get("serial"), &s)
		out = append(out, s)
	}
	return out
}

func (c *collector) waitFor(t *testing.T, n int, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		c.mu.Lock()
		got := len(c.events)
		c.mu.Unlock()
		if got >= n {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("got %d events (serials %v), want %d", len(c.events), c.serials(), n)
}

func newInput(t *testing.T, mutate func(*Options)) (*Input, *stats.Input) {
	t.Helper()
	o := defaultOptions().(*Options)
	o.ResolveIDs = false
	o.EventTimeout = 200 * time.Millisecond
	mutate(o)
	if p := config.Problems(o.Validate()); len(p) > 0 {
		t.Fatalf("options: %v", p)
	}
	st := &stats.Input{Name: "audit", Type: "auditd"}
	in, err := New(inputs.Env{Name: "audit", Sensor: "s1", Log: zerolog.New(zerolog.NewTestWriter(t)), Stats: st}, o)
	if err != nil {
		t.Fatal(err)
	}
	return in.(*Input), st
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimRight(string(b), "\n"), "\n")
}

// frame encodes one record as the af_unix plugin's binary format does:
// protocol 1 (a formatted line), in host byte order; fixed pads the body
// to 8970 bytes as auditd 3.0.x does.
func frame(line string, fixed bool) []byte {
	b := make([]byte, hdrLen, hdrLen+maxAuditMessage)
	binary.NativeEndian.PutUint32(b[0:], protoFormatted)
	binary.NativeEndian.PutUint32(b[4:], hdrLen)
	binary.NativeEndian.PutUint32(b[8:], 0)
	binary.NativeEndian.PutUint32(b[12:], uint32(len(line)+1))
	b = append(b, line...)
	b = append(b, '\n')
	if fixed {
		b = append(b, make([]byte, maxAuditMessage-len(line)-1)...)
	}
	return b
}

// kernelFrame encodes a record in protocol 0: the type in the header and
// the kernel's text ("audit(…): …").
func kernelFrame(typ uint32, text string) []byte {
	b := make([]byte, hdrLen)
	binary.NativeEndian.PutUint32(b[0:], protoKernel)
	binary.NativeEndian.PutUint32(b[4:], hdrLen)
	binary.NativeEndian.PutUint32(b[8:], typ)
	binary.NativeEndian.PutUint32(b[12:], uint32(len(text)))
	return append(b, text...)
}

// server is a stand-in for auditd's af_unix plugin: a stream socket that
// serves one client at a time whatever bytes the test gives it.
func server(t *testing.T, path string) (send chan []byte, closeConn chan struct{}) {
	t.Helper()
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	send, closeConn = make(chan []byte), make(chan struct{})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
		serve:
			for {
				select {
				case b := <-send:
					if _, err := c.Write(b); err != nil {
						break serve
					}
				case <-closeConn:
					break serve
				}
			}
			c.Close()
		}
	}()
	return send, closeConn
}

func TestSocketFormats(t *testing.T) {
	lines := readLines(t, "testdata/go-libaudit_normal.log")
	cases := []struct {
		name    string
		format  string
		framing string
		encode  func(string) []byte
	}{
		{"string", FormatString, FramingFixed, func(l string) []byte { return []byte(l + "\n") }},
		{"binary 3.0 fixed", FormatBinary, FramingFixed, func(l string) []byte { return frame(l, true) }},
		{"binary 3.1 exact", FormatBinary, FramingExact, func(l string) []byte { return frame(l, false) }},
		{"binary 3.1 kernel form", FormatBinary, FramingExact, func(l string) []byte {
			// type=NAME msg=audit(…): … → header type + "audit(…): …"
			typ := map[string]uint32{"SYSCALL": 1300, "SOCKADDR": 1306, "EXECVE": 1309, "CWD": 1307, "PATH": 1302, "PROCTITLE": 1327, "EOE": 1320}
			name := l[len("type="):strings.IndexByte(l, ' ')]
			return kernelFrame(typ[name], l[strings.Index(l, "msg=")+4:])
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sock := filepath.Join(t.TempDir(), "audispd_events")
			send, _ := server(t, sock)
			in, st := newInput(t, func(o *Options) { o.Socket, o.Format, o.BinaryFraming = sock, c.format, c.framing })
			col := &collector{}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			done := make(chan error)
			go func() { done <- in.Run(ctx, col) }()
			var all []byte
			for _, l := range lines {
				all = append(all, c.encode(l)...)
			}
			// Split writes at odd places: frames must survive partial reads.
			for len(all) > 0 {
				n := min(len(all), 777)
				send <- all[:n]
				all = all[n:]
			}
			col.waitFor(t, 4, 5*time.Second) // the 5th (accept, no EOE) completes on timeout or close
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if got := col.serials(); len(got) != 5 || got[0] != 58 || got[4] != 62 {
				t.Errorf("serials %v, want 58…62", got)
			}
			if len(col.failed) > 0 {
				t.Errorf("failed: %v", col.failed)
			}
			if got := st.Received.Load(); got != uint64(len(lines)) {
				t.Errorf("received %d records, want %d", got, len(lines))
			}
			ev := col.events[1]
			if ev.Source.Input != "audit" || ev.Source.Sensor != "s1" || ev.Kind != normalize.KindAudit {
				t.Errorf("source %+v kind %s", ev.Source, ev.Kind)
			}
			if got := string(ev.Details.Get("process")); !strings.Contains(got, `"argv":["grep","--color=auto","mapping"]`) {
				t.Errorf("process %s", got)
			}
		})
	}
}

// TestReconnect: auditd goes away and comes back; the input reconnects and
// counts the serials it missed meanwhile.
func TestReconnect(t *testing.T) {
	lines := readLines(t, "testdata/go-libaudit_normal.log")
	sock := filepath.Join(t.TempDir(), "audispd_events")
	send, closeConn := server(t, sock)
	in, st := newInput(t, func(o *Options) { o.Socket = sock; o.ReconnectMin = 10 * time.Millisecond })
	col := &collector{}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error)
	go func() { done <- in.Run(ctx, col) }()

	// Serial 58 (2 records, single SOCKADDR completes… it has no EOE), then 59.
	for _, l := range lines[:7] {
		send <- []byte(l + "\n")
	}
	col.waitFor(t, 1, 5*time.Second)
	closeConn <- struct{}{}
	// While "down", serials 60 and 61 were lost; 62 arrives after reconnecting.
	for _, l := range lines {
		if strings.Contains(l, ":62)") {
			send <- []byte(l + "\n")
		}
	}
	col.waitFor(t, 3, 5*time.Second)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if in.reconnects != 1 {
		t.Errorf("reconnects = %d, want 1", in.reconnects)
	}
	if got := st.Dropped.Get(DropSequenceGap); got != 2 {
		t.Errorf("sequence_gap = %d, want 2 (serials 60, 61); serials %v", got, col.serials())
	}
}

// checkIdentity checks, once the input stopped, that every record is
// accounted for once: received = normalized + merged + failed + dropped.
func checkIdentity(t *testing.T, st *stats.Input, c *collector) {
	t.Helper()
	c.mu.Lock()
	events, failed := uint64(len(c.events)), uint64(len(c.failed))
	c.mu.Unlock()
	if got, want := st.Received.Load(), events+st.Merged.Load()+failed+st.Dropped.Total(); got != want {
		t.Errorf("received %d ≠ %d events + %d merged + %d failed + %d dropped %v",
			got, events, st.Merged.Load(), failed, st.Dropped.Total(), st.Dropped.Snapshot())
	}
}

func TestFileSource(t *testing.T) {
	in, st := newInput(t, func(o *Options) { o.Source, o.Files = SourceFile, []string{"testdata/*.log"} })
	col := &collector{}
	if err := in.Run(context.Background(), col); err != nil {
		t.Fatal(err)
	}
	if got := col.serials(); len(got) != 5 {
		t.Errorf("serials %v, want 5 events", got)
	}
	// 17 records, 5 events: 12 records folded into their event.
	if st.Received.Load() != 17 || st.Merged.Load() != 12 {
		t.Errorf("received %d merged %d, want 17 and 12", st.Received.Load(), st.Merged.Load())
	}
	checkIdentity(t, st, col)
}

// Records of one event, its EOE, a serial missing in between and a
// record that fails to parse: each is counted once.
func TestAccountingIdentity(t *testing.T) {
	in, st := newInput(t, func(o *Options) { o.Source = SourceStdin })
	var b bytes.Buffer
	b.WriteString(`type=SYSCALL msg=audit(1700000000.000:10): arch=c000003e syscall=59 success=yes exit=0 items=1 ppid=1 pid=2 auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=1 comm="true" exe="/bin/true" key=(null)` + "\n")
	b.WriteString(`type=EXECVE msg=audit(1700000000.000:10): argc=1 a0="true"` + "\n")
	b.WriteString(`type=PROCTITLE msg=audit(1700000000.000:10): proctitle="true"` + "\n")
	b.WriteString("type=EOE msg=audit(1700000000.000:10): \n")
	b.WriteString("not an audit record\n")
	// Serials 11 and 12 never come.
	b.WriteString(`type=USER_LOGIN msg=audit(1700000001.000:13): pid=1 uid=0 auid=4294967295 ses=4294967295 msg='op=login acct="bob" exe="/usr/sbin/sshd" hostname=? addr=192.0.2.1 terminal=ssh res=failed'` + "\n")
	in.stdin = bufio.NewReader(&b)
	col := &collector{}
	if err := in.Run(context.Background(), col); err != nil {
		t.Fatal(err)
	}
	if len(col.events) != 2 || len(col.failed) != 1 {
		t.Fatalf("%d events, %d failed; want 2 and 1", len(col.events), len(col.failed))
	}
	if st.Merged.Load() != 3 || st.Dropped.Get(DropSequenceGap) != 2 {
		t.Errorf("merged %d, sequence_gap %d; want 3 (EXECVE, PROCTITLE, EOE) and 2", st.Merged.Load(), st.Dropped.Get(DropSequenceGap))
	}
	checkIdentity(t, st, col)
}

func TestStdinGarbage(t *testing.T) {
	in, st := newInput(t, func(o *Options) { o.Source = SourceStdin })
	var b bytes.Buffer
	b.WriteString("this is not audit\n")
	b.WriteString(strings.Repeat("x", 300<<10) + "\n") // longer than any record
	b.WriteString("type=EOE msg=audit(1.1:1): \n")
	b.WriteString(`type=USER_LOGIN msg=audit(1700000000.000:9): pid=1 uid=0 auid=4294967295 ses=4294967295 msg='op=login acct="bob" exe="/usr/sbin/sshd" hostname=? addr=192.0.2.1 terminal=ssh res=failed'` + "\n")
	in.stdin = bufio.NewReader(&b)
	col := &collector{}
	if err := in.Run(context.Background(), col); err != nil {
		t.Fatal(err)
	}
	if len(col.events) != 1 {
		t.Fatalf("%d events, want 1", len(col.events))
	}
	if len(col.failed) != 1 || !strings.HasPrefix(col.failed[0], "malformed: this is not audit") {
		t.Errorf("failed = %q", col.failed)
	}
	if st.Dropped.Get(DropTooLong) != 1 {
		t.Errorf("too_long = %d, want 1", st.Dropped.Get(DropTooLong))
	}
	checkIdentity(t, st, col)
}

func TestBadFrameHeader(t *testing.T) {
	in, st := newInput(t, func(o *Options) { o.Source, o.Format, o.BinaryFraming = SourceStdin, FormatBinary, FramingExact })
	in.stdin = bytes.NewReader(append(frame("type=EOE msg=audit(1.1:1): ", true), frame("x", false)...))
	col := &collector{}
	err := in.Run(context.Background(), col)
	if err == nil || !strings.Contains(err.Error(), "binary_framing") {
		t.Errorf("err = %v, want a framing error naming binary_framing", err)
	}
	if st.Dropped.Get(DropFraming) != 1 {
		t.Errorf("framing drops = %d", st.Dropped.Get(DropFraming))
	}
	checkIdentity(t, st, col)
}

func TestValidate(t *testing.T) {
	o := defaultOptions().(*Options)
	o.Source, o.Format, o.BinaryFraming = "tcp", "xml", "loose"
	o.Labels = []LabelRule{{Exe: []string{"("}}}
	got := o.Validate()
	want := []string{"source", "format", "binary_framing", "labels[0].label", "labels[0].exe"}
	for _, w := range want {
		found := false
		for _, p := range got {
			found = found || p.Path == w
		}
		if !found {
			t.Errorf("no problem at %s in %v", w, got)
		}
	}
}

// TestExampleConfigs: the auditd blocks of the shipped examples decode
// and validate without problems.
func TestExampleConfigs(t *testing.T) {
	files, _ := filepath.Glob("../../examples/alertgw/auditd*.yaml")
	if len(files) == 0 {
		t.Fatal("no examples")
	}
	for _, f := range files {
		cfg, _, err := config.Load(f, nil)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		n := 0
		for _, b := range cfg.Inputs {
			if b.Type != Plugin.Type {
				continue
			}
			n++
			opts := Plugin.Options()
			if probs := config.DecodeBlock(b, opts); len(probs) > 0 {
				t.Errorf("%s: %v", f, probs)
			}
			if _, err := New(inputs.Env{Name: b.Name, Log: zerolog.Nop(), Stats: &stats.Input{}}, opts); err != nil {
				t.Errorf("%s: %v", f, err)
			}
		}
		if n == 0 {
			t.Errorf("%s: no auditd input", f)
		}
	}
}

// TestStopIsNotAnError: cancelling a stdin input that is waiting for
// records returns nil (a shutdown, not a failure).
func TestStopIsNotAnError(t *testing.T) {
	in, _ := newInput(t, func(o *Options) { o.Source = SourceStdin })
	r, w := io.Pipe()
	defer w.Close()
	in.stdin = r
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- in.Run(ctx, &collector{}) }()
	time.Sleep(50 * time.Millisecond)
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run after cancel = %v, want nil", err)
	}
}

// TestProcLookup reads this test process and its parent from /proc.
func TestProcLookup(t *testing.T) {
	lookup := procLookup("/proc")
	ppid, exe, comm, ok := lookup(uint32(os.Getpid()))
	if !ok || ppid != uint32(os.Getppid()) || comm == "" {
		t.Fatalf("self: ppid %d exe %q comm %q ok %v", ppid, exe, comm, ok)
	}
	if self, _ := os.Executable(); exe != self {
		t.Errorf("exe %q, want %q", exe, self)
	}
	if _, _, _, ok := lookup(1 << 30); ok {
		t.Error("a pid that cannot exist was found")
	}
	// A comm with spaces and parentheses, as /proc writes it.
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "42"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "42", "stat"), []byte("42 (a (b) c) S 7 42 42 0 -1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ppid, _, comm, ok = procLookup(dir)(42)
	if !ok || ppid != 7 || comm != "a (b) c" {
		t.Errorf("got ppid %d comm %q ok %v", ppid, comm, ok)
	}
}

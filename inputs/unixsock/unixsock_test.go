package unixsock

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"

	"github.com/alertgw/alertgw/inputs"
	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/stats"
)

// recorder is an inputs.Emitter that keeps what it is given.
type recorder struct {
	mu      sync.Mutex
	batches []*inputs.Batch
	msgs    [][]byte
	failed  []failure
	notify  chan struct{}
}

type failure struct {
	raw    []byte
	reason string
	err    error
}

func newRecorder() *recorder { return &recorder{notify: make(chan struct{}, 1)} }

func (r *recorder) Messages(b *inputs.Batch) {
	r.mu.Lock()
	r.batches = append(r.batches, b)
	r.msgs = append(r.msgs, b.Msgs...)
	r.mu.Unlock()
	r.poke()
}

func (r *recorder) Events([]*normalize.Event, func()) { panic("not used") }

func (r *recorder) Failed(raw []byte, reason string, err error) {
	r.mu.Lock()
	r.failed = append(r.failed, failure{raw, reason, err})
	r.mu.Unlock()
	r.poke()
}

func (r *recorder) poke() {
	select {
	case r.notify <- struct{}{}:
	default:
	}
}

// waitFor waits until cond holds (checked under the lock) or fails.
func (r *recorder) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		r.mu.Lock()
		ok := cond()
		r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-r.notify:
		case <-time.After(20 * time.Millisecond):
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func (r *recorder) messages() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, len(r.msgs))
	for i, m := range r.msgs {
		out[i] = string(m)
	}
	return out
}

func testConfig(t *testing.T, typ Type, paths ...string) Config {
	o := DefaultOptions()
	o.SocketType = string(typ)
	return Config{Paths: paths, Options: o, TrimNewline: true, Log: zerolog.New(zerolog.NewTestWriter(t)), Stats: &stats.Input{}}
}

// start runs srv until the test ends; it returns a stop function that
// cancels and waits for Run.
// serve binds a socket of typ named name in a fresh directory with the
// test configuration, changed by configure, and runs a server on it into a
// new recorder.
func serve(t *testing.T, typ Type, name string, configure ...func(*Config)) (srv *Server, rec *recorder, path string, stop func() error) {
	t.Helper()
	path = filepath.Join(shortTempDir(t), name)
	cfg := testConfig(t, typ, path)
	for _, f := range configure {
		f(&cfg)
	}
	srv, err := Listen(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rec = newRecorder()
	return srv, rec, path, start(t, srv, rec)
}

func start(t *testing.T, srv *Server, emit inputs.Emitter) (stop func() error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx, emit) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-done:
			case <-time.After(10 * time.Second):
				err = fmt.Errorf("Run did not return after cancel")
			}
		})
		return err
	}
	t.Cleanup(func() { stop() })
	return stop
}

func shortTempDir(t *testing.T) string {
	// t.TempDir paths can exceed sun_path's 108 bytes.
	d, err := os.MkdirTemp("/tmp", "usock")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

func TestSafeCreation(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(t *testing.T, path string)
		wantErr string // empty: bind succeeds
	}{
		{"missing path", func(*testing.T, string) {}, ""},
		{"missing parent directory", nil, ""},
		{"stale socket replaced", func(t *testing.T, path string) {
			l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
			if err != nil {
				t.Fatal(err)
			}
			l.SetUnlinkOnClose(false)
			l.Close() // leaves the file: a crashed gateway's socket
		}, ""},
		{"live socket refused", func(t *testing.T, path string) {
			c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Close() })
		}, "another process is listening"},
		{"live socket of the other type refused", func(t *testing.T, path string) {
			l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { l.Close() })
		}, "socket type other than dgram"},
		{"stale datagram socket replaced", func(t *testing.T, path string) {
			c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
			if err != nil {
				t.Fatal(err)
			}
			c.Close() // datagram sockets leave their file behind
		}, ""},
		{"regular file refused", func(t *testing.T, path string) {
			if err := os.WriteFile(path, []byte("precious"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, "is not a socket (a regular file)"},
		{"symlink refused", func(t *testing.T, path string) {
			if err := os.Symlink("/etc/passwd", path); err != nil {
				t.Fatal(err)
			}
		}, "symbolic link"},
		{"directory refused", func(t *testing.T, path string) {
			if err := os.Mkdir(path, 0o700); err != nil {
				t.Fatal(err)
			}
		}, "is a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := shortTempDir(t)
			path := filepath.Join(dir, "s.sock")
			if tt.prepare == nil {
				path = filepath.Join(dir, "sub", "dir", "s.sock")
			} else {
				tt.prepare(t, path)
			}
			before, _ := os.Lstat(path)
			srv, err := Listen(testConfig(t, Dgram, path))
			if tt.wantErr != "" {
				if err == nil {
					srv.Close()
					t.Fatalf("Listen succeeded, want error containing %q", tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %q does not contain %q", err, tt.wantErr)
				}
				after, lerr := os.Lstat(path)
				if lerr != nil || after.Mode() != before.Mode() || !os.SameFile(before, after) {
					t.Fatalf("the existing path was changed: %v", lerr)
				}
				assertNoTempLeft(t, filepath.Dir(path))
				return
			}
			if err != nil {
				t.Fatalf("Listen: %v", err)
			}
			fi, err := os.Lstat(path)
			if err != nil || fi.Mode()&os.ModeSocket == 0 {
				t.Fatalf("no socket at %s: %v", path, err)
			}
			if fi.Mode().Perm() != 0o660 {
				t.Errorf("mode %v, want 0660", fi.Mode().Perm())
			}
			if di, _ := os.Stat(filepath.Dir(path)); tt.prepare == nil && di.Mode().Perm() != 0o750 {
				t.Errorf("created directory has mode %v, want 0750", di.Mode().Perm())
			}
			// The socket works.
			rec := newRecorder()
			stop := start(t, srv, rec)
			send(t, "unixgram", path, "hello\n")
			rec.waitFor(t, "one message", func() bool { return len(rec.msgs) == 1 })
			if err := stop(); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Lstat(path); !os.IsNotExist(err) {
				t.Errorf("socket file left after shutdown: %v", err)
			}
			assertNoTempLeft(t, filepath.Dir(path))
		})
	}
}

func assertNoTempLeft(t *testing.T, dir string) {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dir, ".agw*"))
	if len(m) > 0 {
		t.Errorf("temporary socket names left behind: %v", m)
	}
}

func TestModeAndGroup(t *testing.T) {
	for _, typ := range []Type{Dgram, Stream} {
		t.Run(string(typ), func(t *testing.T) {
			path := filepath.Join(shortTempDir(t), "m.sock")
			cfg := testConfig(t, typ, path)
			cfg.SocketMode = 0o640
			wantGid := os.Getgid()
			if os.Geteuid() == 0 {
				wantGid = 4242 // root may hand the socket to any group
				cfg.SocketGroup = "4242"
			}
			srv, err := Listen(cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			fi, err := os.Lstat(path)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != 0o640 {
				t.Errorf("mode %v, want 0640", fi.Mode().Perm())
			}
			if gid := fi.Sys().(*syscall.Stat_t).Gid; int(gid) != wantGid {
				t.Errorf("group %d, want %d", gid, wantGid)
			}
		})
	}
}

func TestSocketGroupUnknown(t *testing.T) {
	cfg := testConfig(t, Dgram, filepath.Join(shortTempDir(t), "g.sock"))
	cfg.SocketGroup = "no-such-group-alertgw"
	if _, err := Listen(cfg); err == nil || !strings.Contains(err.Error(), "unknown group") {
		t.Fatalf("got %v, want an unknown group error", err)
	}
}

func TestReceiveBuffer(t *testing.T) {
	path := filepath.Join(shortTempDir(t), "r.sock")
	cfg := testConfig(t, Dgram, path)
	cfg.ReceiveBuffer = 1 << 20
	srv, err := Listen(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	rc, _ := srv.socks[0].rawConn()
	var got int
	rc.Control(func(fd uintptr) { got, _ = syscallGetRcvbuf(int(fd)) })
	if os.Geteuid() == 0 && got < 1<<20 {
		t.Errorf("SO_RCVBUF %d, want at least %d as root (SO_RCVBUFFORCE)", got, 1<<20)
	}
	if got <= 0 {
		t.Errorf("SO_RCVBUF %d", got)
	}
}

func send(t *testing.T, network, path string, msgs ...string) {
	t.Helper()
	c, err := net.Dial(network, path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, m := range msgs {
		if _, err := c.Write([]byte(m)); err != nil {
			t.Fatal(err)
		}
	}
}

func TestDgramBatches(t *testing.T) {
	srv, rec, path, _ := serve(t, Dgram, "d.sock")

	const n = 3000
	want := make([]string, n)
	for i := range want {
		want[i] = fmt.Sprintf(`{"n":%d,"pad":"%s"}`, i, strings.Repeat("x", i%700))
	}
	// Several senders at once, as with several Suricata threads.
	var wg sync.WaitGroup
	for s := range 3 {
		wg.Go(func() {
			c, err := net.Dial("unixgram", path)
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			for i := s; i < n; i += 3 {
				if _, err := c.Write([]byte(want[i] + "\n")); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	rec.waitFor(t, "every datagram", func() bool { return len(rec.msgs) == n })

	got := map[string]bool{}
	for _, m := range rec.messages() {
		got[m] = true
	}
	for _, w := range want {
		if !got[w] {
			t.Fatalf("message %q missing or changed (newline not trimmed?)", w[:20])
		}
	}
	if r := srv.cfg.Stats.Received.Load(); r != n {
		t.Errorf("Received = %d, want %d", r, n)
	}
	rec.mu.Lock()
	nb := len(rec.batches)
	rec.mu.Unlock()
	if nb >= n {
		t.Logf("every datagram came in its own batch (%d batches): the reader was never behind", nb)
	}
	// Messages are immutable: the first batch still holds what it held
	// after thousands of later reads into the same receive buffers.
	first := string(rec.batches[0].Msgs[0])
	if !got[first] {
		t.Errorf("first message was overwritten: %q", first)
	}
}

func TestDgramTruncated(t *testing.T) {
	srv, rec, path, _ := serve(t, Dgram, "t.sock", func(c *Config) { c.MaxMessageSize = 1024 })

	big := `{"big":"` + strings.Repeat("A", 3000) + `"}`
	exact := `{"x":"` + strings.Repeat("b", 1024-9) + `"}` // 1023 bytes + "\n" = 1024: fits exactly
	send(t, "unixgram", path, `{"a":1}`+"\n", big+"\n", exact+"\n", `{"c":3}`+"\n")
	rec.waitFor(t, "3 messages and 1 failure", func() bool { return len(rec.msgs) == 3 && len(rec.failed) == 1 })

	f := rec.failed[0]
	if f.reason != normalize.ReasonTruncated {
		t.Errorf("reason %q, want truncated", f.reason)
	}
	if len(f.raw) != 1024 || !bytes.Equal(f.raw, []byte(big)[:1024]) {
		t.Errorf("dead-lettered prefix is %d bytes, want the first 1024", len(f.raw))
	}
	if !strings.Contains(f.err.Error(), "3011 bytes") {
		t.Errorf("error %q does not give the real size", f.err)
	}
	got := rec.messages()
	if got[0] != `{"a":1}` || got[1] != exact || got[2] != `{"c":3}` {
		t.Errorf("messages around the truncated one: %.30q", got)
	}
	if r := srv.cfg.Stats.Received.Load(); r != 4 {
		t.Errorf("Received = %d, want 4 (truncated ones count as received)", r)
	}
}

func TestDgramDrainOnShutdown(t *testing.T) {
	path := filepath.Join(shortTempDir(t), "q.sock")
	srv, err := Listen(testConfig(t, Dgram, path))
	if err != nil {
		t.Fatal(err)
	}
	// Queue datagrams before anything reads (the kernel keeps at least
	// max_dgram_qlen of them), then run with a context already cancelled.
	qlen, _ := ReadDgramQlen()
	n := min(max(qlen, 1), 8)
	msgs := make([]string, n)
	for i := range msgs {
		msgs[i] = fmt.Sprintf(`{"q":%d}`, i)
	}
	send(t, "unixgram", path, msgs...)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rec := newRecorder()
	if err := srv.Run(ctx, rec); err != nil {
		t.Fatal(err)
	}
	if got := rec.messages(); len(got) != n {
		t.Fatalf("drained %d of %d queued datagrams", len(got), n)
	}
	if _, err := os.Lstat(path); !os.IsNotExist(err) {
		t.Errorf("socket file left after shutdown")
	}
}

func TestStreamLines(t *testing.T) {
	_, rec, path, stop := serve(t, Stream, "s.sock", func(c *Config) { c.MaxLineSize = 1024 })

	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("L", 5000)
	exact := strings.Repeat("e", 1024)
	// Written in awkward pieces: a line split across writes, blank lines,
	// CRLF, an over-long line, a line of exactly max_line_size.
	pieces := []string{`{"a":`, `1}` + "\n\n", "  \r\n" + `{"b":2}` + "\r\n" + long[:3000], long[3000:] + "\n" + `{"c"`, `:3}` + "\n" + exact + "\n", `{"last":true}`}
	for _, p := range pieces {
		if _, err := c.Write([]byte(p)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond) // separate reads on the other side
	}
	c.Close() // the last line has no newline: EOF ends it
	rec.waitFor(t, "5 lines and 1 failure", func() bool { return len(rec.msgs) == 5 && len(rec.failed) == 1 })
	got := rec.messages()
	want := []string{`{"a":1}`, `{"b":2}`, `{"c":3}`, exact, `{"last":true}`}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d = %.40q, want %.40q", i, got[i], want[i])
		}
	}
	f := rec.failed[0]
	if f.reason != normalize.ReasonTooLarge || len(f.raw) != 1024 || string(f.raw) != long[:1024] {
		t.Errorf("over-long line: reason %q, %d bytes dead-lettered, want too_large with its first 1024", f.reason, len(f.raw))
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(path); !os.IsNotExist(err) {
		t.Errorf("socket file left after shutdown")
	}
}

func TestStreamVeryLongLine(t *testing.T) {
	// A line larger than the initial buffer but within max_line_size
	// arrives whole after the buffer grows.
	_, rec, path, _ := serve(t, Stream, "v.sock", func(c *Config) { c.MaxLineSize = 4 << 20 })
	line := `{"payload":"` + strings.Repeat("Q", 3<<20) + `"}`
	send(t, "unix", path, line+"\n"+`{"after":1}`+"\n")
	rec.waitFor(t, "2 lines", func() bool { return len(rec.msgs) == 2 })
	if got := rec.messages(); got[0] != line || got[1] != `{"after":1}` {
		t.Errorf("long line came out %d bytes, want %d", len(got[0]), len(line))
	}
}

func TestStreamManyConnections(t *testing.T) {
	_, rec, path, stop := serve(t, Stream, "c.sock")

	const conns, lines = 20, 300
	var wg sync.WaitGroup
	for c := range conns {
		wg.Go(func() {
			conn, err := net.Dial("unix", path)
			if err != nil {
				t.Error(err)
				return
			}
			defer conn.Close()
			var b strings.Builder
			for i := range lines {
				fmt.Fprintf(&b, `{"conn":%d,"line":%d,"pad":"%s"}`+"\n", c, i, strings.Repeat("p", (c*i)%300))
			}
			// Write in odd-sized chunks so lines straddle writes.
			data := b.String()
			for len(data) > 0 {
				k := min(len(data), 777)
				if _, err := conn.Write([]byte(data[:k])); err != nil {
					t.Error(err)
					return
				}
				data = data[k:]
			}
		})
	}
	wg.Wait()
	rec.waitFor(t, "every line", func() bool { return len(rec.msgs) == conns*lines })
	seen := map[string]bool{}
	for _, m := range rec.messages() {
		if seen[m] {
			t.Fatalf("duplicate line %q", m)
		}
		seen[m] = true
	}
	for c := range conns {
		for i := range lines {
			if !seen[fmt.Sprintf(`{"conn":%d,"line":%d,"pad":"%s"}`, c, i, strings.Repeat("p", (c*i)%300))] {
				t.Fatalf("conn %d line %d missing or corrupted", c, i)
			}
		}
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

func TestStreamShutdownWithOpenConnection(t *testing.T) {
	_, rec, path, stop := serve(t, Stream, "o.sock")
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte(`{"x":1}` + "\n")); err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, "one line", func() bool { return len(rec.msgs) == 1 })
	// The sensor keeps its connection open: shutdown must not wait for it.
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(path); !os.IsNotExist(err) {
		t.Errorf("socket file left after shutdown")
	}
}

func TestExpandPaths(t *testing.T) {
	dir := shortTempDir(t)
	for _, d := range []string{"a", "b"} {
		os.Mkdir(filepath.Join(dir, d), 0o750)
	}
	os.WriteFile(filepath.Join(dir, "x_snort_alert"), nil, 0o600)
	os.WriteFile(filepath.Join(dir, "y_snort_alert"), nil, 0o600)
	tests := []struct {
		patterns []string
		want     []string
		wantErr  bool
	}{
		{[]string{dir + "/plain.sock"}, []string{dir + "/plain.sock"}, false},
		{[]string{dir + "/*/snort_alert"}, []string{dir + "/a/snort_alert", dir + "/b/snort_alert"}, false},
		{[]string{dir + "/*_snort_alert"}, []string{dir + "/x_snort_alert", dir + "/y_snort_alert"}, false},
		{[]string{dir + "/nothing*/s"}, nil, true},
		{[]string{dir + "/a.sock", dir + "/a.sock"}, []string{dir + "/a.sock"}, false},
	}
	for _, tt := range tests {
		got, err := ExpandPaths(tt.patterns)
		if (err != nil) != tt.wantErr || fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("ExpandPaths(%v) = %v, %v; want %v (error %v)", tt.patterns, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestListenSeveralPaths(t *testing.T) {
	dir := shortTempDir(t)
	for _, d := range []string{"i1", "i2"} {
		os.Mkdir(filepath.Join(dir, d), 0o750)
	}
	srv, err := Listen(testConfig(t, Dgram, dir+"/*/snort_alert"))
	if err != nil {
		t.Fatal(err)
	}
	rec := newRecorder()
	start(t, srv, rec)
	if len(srv.Paths()) != 2 {
		t.Fatalf("paths %v", srv.Paths())
	}
	for _, p := range srv.Paths() {
		send(t, "unixgram", p, "from "+filepath.Base(filepath.Dir(p)))
	}
	rec.waitFor(t, "a datagram from each socket", func() bool { return len(rec.msgs) == 2 })
}

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name string
		mut  func(*Options)
		keys []string
	}{
		{"defaults", func(*Options) {}, nil},
		{"bad type", func(o *Options) { o.SocketType = "raw" }, []string{"socket_type"}},
		{"owner cannot read", func(o *Options) { o.SocketMode = 0o066 }, []string{"socket_mode"}},
		{"setuid", func(o *Options) { o.SocketMode = 0o4660 }, []string{"socket_mode"}},
		{"unknown group", func(o *Options) { o.SocketGroup = "no-such-group-alertgw" }, []string{"socket_group"}},
		{"tiny messages", func(o *Options) { o.MaxMessageSize = 10 }, []string{"max_message_size"}},
		{"tiny lines", func(o *Options) { o.MaxLineSize = 10 }, []string{"max_line_size"}},
		{"reader_nice out of range", func(o *Options) { o.ReaderNice = -21 }, []string{"reader_nice"}},
		{"reader_nice on a stream socket", func(o *Options) { o.SocketType = string(Stream); o.ReaderNice = -5 }, []string{"reader_nice"}},
		{"reader_nice on a datagram socket", func(o *Options) { o.ReaderNice = -5 }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := DefaultOptions()
			tt.mut(&o)
			var keys []string
			for _, p := range o.Validate() {
				keys = append(keys, p.Path)
			}
			if fmt.Sprint(keys) != fmt.Sprint(tt.keys) {
				t.Errorf("problems at %v, want %v", keys, tt.keys)
			}
		})
	}
	if p := ValidatePath("socket", "/"+strings.Repeat("x", 120)); len(p) != 1 {
		t.Errorf("a 121-byte path: %v", p)
	}
	if p := ValidatePath("socket", ""); len(p) != 1 {
		t.Errorf("an empty path: %v", p)
	}
}

func syscallGetRcvbuf(fd int) (int, error) {
	return unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF)
}

// blockingEmitter blocks Messages until released.
type blockingEmitter struct {
	*recorder
	release chan struct{}
}

func (b *blockingEmitter) Messages(batch *inputs.Batch) {
	<-b.release
	b.recorder.Messages(batch)
}

func TestHandoffBoundsAndMerges(t *testing.T) {
	em := &blockingEmitter{recorder: newRecorder(), release: make(chan struct{})}
	h := newHandoff(em, 1000, -1)
	batch := func(n int) *inputs.Batch {
		msgs := make([][]byte, n)
		for i := range msgs {
			msgs[i] = []byte("0123456789")
		}
		return &inputs.Batch{Msgs: msgs}
	}
	h.put(batch(40), 400, false) // taken by run, blocked in Messages
	h.put(batch(40), 400, false)
	h.put(batch(20), 200, false) // 1000 bytes pending: the budget is full
	put := make(chan struct{})
	go func() {
		h.put(batch(1), 10, false)
		close(put)
	}()
	select {
	case <-put:
		t.Fatal("put did not wait with the budget used up")
	case <-time.After(50 * time.Millisecond):
	}
	close(em.release)
	<-put
	h.close()
	if n := len(em.msgs); n != 101 {
		t.Fatalf("%d messages handed on, want 101", n)
	}
	if len(em.batches) >= 4 {
		t.Errorf("%d batches: the ones that piled up were not merged", len(em.batches))
	}
}

func TestStreamMaxConnections(t *testing.T) {
	_, rec, path, _ := serve(t, Stream, "x.sock", func(c *Config) { c.MaxConnections = 2 })
	var conns []net.Conn
	for i := range 3 {
		c, err := net.Dial("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns = append(conns, c)
		fmt.Fprintf(c, "{\"c\":%d}\n", i)
		if i < 2 {
			rec.waitFor(t, "the line of an accepted connection", func() bool { return len(rec.msgs) == i+1 })
		}
	}
	// The third connection is closed by the gateway: a read sees EOF.
	conns[2].SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := conns[2].Read(make([]byte, 1)); err == nil || os.IsTimeout(err) {
		t.Fatalf("the connection over the limit was not closed: %v", err)
	}
	// Once one closes, a new connection is served again (retried: the
	// closed one's goroutine ends asynchronously).
	conns[0].Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(c, "{\"c\":3}\n")
		c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		_, err = c.Read(make([]byte, 1))
		c.Close()
		if os.IsTimeout(err) { // still open: accepted
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no connection accepted after one closed")
		}
	}
	rec.waitFor(t, "the line of the connection accepted again", func() bool { return len(rec.msgs) == 3 })
}

func TestHandoffLingerGathersSmallBatches(t *testing.T) {
	rec := newRecorder()
	h := newHandoff(rec, 1<<20, 10*time.Second) // long: the batch must go on once full, not on the timer
	for range 4 {
		msgs := make([][]byte, lingerBatch/4)
		for i := range msgs {
			msgs[i] = []byte("m")
		}
		h.put(&inputs.Batch{Msgs: msgs}, len(msgs), false)
	}
	rec.waitFor(t, "one merged batch", func() bool { return len(rec.msgs) == lingerBatch })
	if len(rec.batches) != 1 {
		t.Errorf("%d batches, want the 4 small ones merged into 1", len(rec.batches))
	}
	h.close()
}

// Config.Shrink sees every datagram that goes on (after the newline is
// trimmed) and the pipeline gets what it returned; truncated datagrams are
// dead-lettered as received, never shrunk.
func TestDgramShrink(t *testing.T) {
	path := filepath.Join(shortTempDir(t), "s.sock")
	cfg := testConfig(t, Dgram, path)
	cfg.MaxMessageSize = 1024
	cfg.Shrink = func(dst, d []byte) []byte {
		if bytes.HasPrefix(d, []byte("pad:")) {
			return append(dst, bytes.TrimRight(d, ".")...)
		}
		return append(dst, d...)
	}
	srv, err := Listen(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rec := newRecorder()
	start(t, srv, rec)

	big := "pad:big" + strings.Repeat(".", 2000)
	send(t, "unixgram", path, "pad:one"+strings.Repeat(".", 900)+"\n", "plain\n", big, "pad:two.\n")
	rec.waitFor(t, "3 messages and 1 failure", func() bool { return len(rec.msgs) == 3 && len(rec.failed) == 1 })

	if got, want := rec.messages(), []string{"pad:one", "plain", "pad:two"}; !slices.Equal(got, want) {
		t.Errorf("messages %q, want %q", got, want)
	}
	if f := rec.failed[0]; len(f.raw) != 1024 || !bytes.Equal(f.raw, []byte(big)[:1024]) {
		t.Errorf("dead-lettered %d bytes, want the first 1024 as received", len(f.raw))
	}
	if got := srv.cfg.Stats.Bytes.Load(); got != uint64(len("pad:one")+901+len("plain\n")+1024+len("pad:two.\n")) {
		t.Errorf("Bytes = %d: should count what was received, not what was shrunk", got)
	}
}

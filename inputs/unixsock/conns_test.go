package unixsock

import (
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// dialIdle opens n connections that never send.
func dialIdle(t *testing.T, path string, n int) []net.Conn {
	t.Helper()
	var conns []net.Conn
	for range n {
		c, err := net.Dial("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		conns = append(conns, c)
	}
	return conns
}

// closedByPeer reports whether the gateway closed c: a read sees EOF
// rather than waiting.
func closedByPeer(c net.Conn, wait time.Duration) bool {
	c.SetReadDeadline(time.Now().Add(wait))
	_, err := c.Read(make([]byte, 1))
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)
}

// Idle clients fill every slot; a sender that connects after them is
// admitted in the place of the oldest idle one, and everything it sends
// arrives. Before, it was refused.
func TestStreamIdleClientsDoNotLockOut(t *testing.T) {
	srv, rec, path, _ := serve(t, Stream, "s.sock", func(c *Config) { c.MaxConnections = 4 })
	cfg := srv.cfg

	idle := dialIdle(t, path, 10)
	sender, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer sender.Close()
	const lines = 100
	for i := range lines {
		if _, err := fmt.Fprintf(sender, "{\"n\":%d}\n", i); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	rec.waitFor(t, "every line of the sender", func() bool { return len(rec.msgs) == lines })

	// More idle clients come: the active sender keeps its place.
	dialIdle(t, path, 10)
	if _, err := fmt.Fprintf(sender, "{\"n\":%d}\n", lines); err != nil {
		t.Fatalf("the sender lost its connection to idle newcomers: %v", err)
	}
	rec.waitFor(t, "the sender's last line", func() bool { return len(rec.msgs) == lines+1 })

	// The oldest idle connections were the ones closed.
	if !closedByPeer(idle[0], 5*time.Second) {
		t.Error("the oldest idle connection was not closed")
	}
	st := cfg.Stats
	waitCounter(t, "evicted", func() uint64 { return st.ConnectionsClosed.Get(ConnEvicted) }, 10+1+10-4)
	// The newcomer is counted just after its victim's eviction: wait for it.
	waitCounter(t, "open connections (max_connections)", func() uint64 { return uint64(st.Connections.Load()) }, 4)
	if got := st.ConnectionsClosed.Get(ConnRefused); got != 0 {
		t.Errorf("refused = %d, want 0", got)
	}
}

func waitCounter(t *testing.T, what string, get func() uint64, want uint64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for get() != want {
		if time.Now().After(deadline) {
			t.Fatalf("%s = %d, want %d", what, get(), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A connection that sends nothing within idle_timeout is closed; one that
// sent is not, however long it is quiet afterwards.
func TestStreamIdleTimeout(t *testing.T) {
	srv, rec, path, _ := serve(t, Stream, "s.sock", func(c *Config) { c.IdleTimeout = 200 * time.Millisecond })
	cfg := srv.cfg

	silent := dialIdle(t, path, 1)[0]
	talker := dialIdle(t, path, 1)[0]
	fmt.Fprintf(talker, "{\"hello\":1}\n")
	rec.waitFor(t, "the talker's line", func() bool { return len(rec.msgs) == 1 })
	start := time.Now()
	if !closedByPeer(silent, 5*time.Second) {
		t.Fatal("a connection that never sent was not closed")
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("closed after %v, want about idle_timeout", el)
	}
	if closedByPeer(talker, 500*time.Millisecond) {
		t.Error("a connection that sent was closed for being idle")
	}
	if got := cfg.Stats.ConnectionsClosed.Get(ConnIdleTimeout); got != 1 {
		t.Errorf("idle_timeout = %d, want 1", got)
	}
}

// When every connection is an active sender, a new one is refused rather
// than any of them closed.
func TestStreamActiveSendersKeepTheirPlace(t *testing.T) {
	srv, rec, path, _ := serve(t, Stream, "s.sock", func(c *Config) { c.MaxConnections = 2 })
	cfg := srv.cfg
	senders := dialIdle(t, path, 2)
	for i, c := range senders {
		fmt.Fprintf(c, "{\"c\":%d}\n", i)
	}
	rec.waitFor(t, "both senders' lines", func() bool { return len(rec.msgs) == 2 })
	late := dialIdle(t, path, 1)[0]
	if !closedByPeer(late, 5*time.Second) {
		t.Error("the connection over the limit was not refused")
	}
	for i, c := range senders {
		if closedByPeer(c, 50*time.Millisecond) {
			t.Errorf("active sender %d was closed", i)
		}
	}
	if got := cfg.Stats.ConnectionsClosed.Get(ConnRefused); got != 1 {
		t.Errorf("refused = %d, want 1", got)
	}
}

// Closing a connection (eviction, idle timeout) loses nothing the sender
// wrote before: the gateway shuts down its receiving side, reads what is
// queued to EOF, and the sender's next write fails with EPIPE, so that it
// knows to reconnect.
func TestConnCloseIsLossless(t *testing.T) {
	path := filepath.Join(shortTempDir(t), "s.sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	server, err := ln.AcceptUnix()
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()

	srv := &Server{cfg: Config{Stats: testConfig(t, Stream).Stats}}
	srv.cfg.fill()
	tab := newConnTable(srv, &socket{path: path})
	sc := tab.admit(server)
	// Written, never read by the gateway: queued in the kernel.
	if _, err := client.Write([]byte("queued before the close\n")); err != nil {
		t.Fatal(err)
	}
	tab.mu.Lock()
	tab.closeLocked(sc, ConnEvicted)
	tab.mu.Unlock()

	got, err := io.ReadAll(server)
	if err != nil || string(got) != "queued before the close\n" {
		t.Errorf("read after the close: %q, %v; want the queued line, then EOF", got, err)
	}
	if _, err := client.Write([]byte("after\n")); !errors.Is(err, syscall.EPIPE) {
		t.Errorf("the sender's write after the close: %v, want EPIPE", err)
	}
	if srv.cfg.Stats.Connections.Load() != 0 {
		t.Errorf("open connections = %d after the close", srv.cfg.Stats.Connections.Load())
	}
}

// A sender whose bytes wait in the kernel, not yet read (its reader has
// not run since it connected), is an active sender: an idle connection
// makes room instead, even a younger one.
func TestConnPendingBytesMeanActive(t *testing.T) {
	path := filepath.Join(shortTempDir(t), "s.sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	pair := func() (client net.Conn, server *net.UnixConn) {
		c, err := net.Dial("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		s, err := ln.AcceptUnix()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return c, s
	}
	srv := &Server{cfg: Config{Stats: testConfig(t, Stream).Stats}}
	srv.cfg.fill()
	srv.cfg.MaxConnections = 2
	tab := newConnTable(srv, &socket{path: path})

	sender, senderSide := pair()
	tab.admit(senderSide) // the oldest, never read from
	if _, err := sender.Write([]byte("{\"waiting\":1}\n")); err != nil {
		t.Fatal(err)
	}
	_, idleSide := pair()
	idle := tab.admit(idleSide)
	_, newSide := pair()
	if tab.admit(newSide) == nil {
		t.Fatal("the new connection was refused")
	}
	tab.mu.Lock()
	_, idleKept := tab.conns[idle]
	tab.mu.Unlock()
	if idleKept {
		t.Error("the idle connection was kept and the sender with bytes waiting closed")
	}
	if _, err := sender.Write([]byte("{\"more\":1}\n")); err != nil {
		t.Errorf("the sender lost its connection: %v", err)
	}
}

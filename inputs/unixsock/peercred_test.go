package unixsock

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestPeerHelper is not a test: run by TestPeerCredentials as another user,
// it sends one message to the socket its environment names.
func TestPeerHelper(t *testing.T) {
	path := os.Getenv("ALERTGW_PEER_SOCKET")
	if path == "" {
		t.Skip("helper process for TestPeerCredentials")
	}
	network := map[string]string{"dgram": "unixgram", "stream": "unix"}[os.Getenv("ALERTGW_PEER_TYPE")]
	// A rejected stream peer's connection is closed at once, so its write
	// may fail (EPIPE): what counts is what the receiver got, checked there.
	c, err := net.Dial(network, path)
	if err != nil {
		t.Log(err)
		return
	}
	defer c.Close()
	if _, err := c.Write([]byte(os.Getenv("ALERTGW_PEER_MESSAGE") + "\n")); err != nil {
		t.Log(err)
	}
}

// sendAs sends msg to path from a process running as uid/gid: this test
// binary, copied where that user may run it.
func sendAs(t *testing.T, uid, gid uint32, typ Type, path, msg string) {
	t.Helper()
	bin := filepath.Join(filepath.Dir(path), "sender.test")
	if _, err := os.Stat(bin); err != nil {
		self, err := os.ReadFile(os.Args[0])
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(bin, self, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(bin, "-test.run=^TestPeerHelper$")
	cmd.Env = append(os.Environ(), "ALERTGW_PEER_SOCKET="+path, "ALERTGW_PEER_TYPE="+string(typ), "ALERTGW_PEER_MESSAGE="+msg)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: gid}}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sender as %d:%d: %v\n%s", uid, gid, err, out)
	}
}

// TestPeerCredentials sends from root and from an unprivileged user to a
// socket that admits only root: the other user's data never arrives and is
// counted as rejected.
func TestPeerCredentials(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("sending as another user needs root")
	}
	for _, typ := range []Type{Dgram, Stream} {
		t.Run(string(typ), func(t *testing.T) {
			dir := shortTempDir(t)
			os.Chmod(dir, 0o755) // the unprivileged sender must reach the socket
			path := filepath.Join(dir, "peer.sock")
			cfg := testConfig(t, typ, path)
			cfg.SocketMode = 0o666
			cfg.AllowedUIDs = []uint32{0}
			cfg.AllowedGIDs = []uint32{4242} // a group nobody below has
			srv, err := Listen(cfg)
			if err != nil {
				t.Fatal(err)
			}
			rec := newRecorder()
			stop := start(t, srv, rec)

			sendAs(t, 65534, 65534, typ, path, "from-nobody")
			sendAs(t, 0, 0, typ, path, "from-root")
			sendAs(t, 65534, 4242, typ, path, "from-allowed-group")
			rec.waitFor(t, "the allowed messages", func() bool { return len(rec.msgs) == 2 })
			time.Sleep(50 * time.Millisecond) // nothing else arrives late
			if err := stop(); err != nil {
				t.Fatal(err)
			}
			got := rec.messages()
			if len(got) != 2 || got[0] == "from-nobody" || got[1] == "from-nobody" {
				t.Errorf("messages %q, want from-root and from-allowed-group only", got)
			}
			// A datagram is a message (dropped); a stream connection is not.
			rejected := cfg.Stats.Dropped.Get("peer_rejected")
			if typ == Stream {
				rejected = cfg.Stats.ConnectionsClosed.Get(ConnPeerRejected)
			}
			if rejected != 1 {
				t.Errorf("peer_rejected = %d, want 1", rejected)
			}
			if len(rec.failed) != 0 {
				t.Errorf("rejected data reached the dead-letter path: %+v", rec.failed)
			}
		})
	}
}

func TestParseCredShort(t *testing.T) {
	if _, _, _, ok := parseCred(make([]byte, 8)); ok {
		t.Error("short control data parsed as credentials")
	}
	if _, _, _, ok := parseCred(make([]byte, credSpace)); ok {
		t.Error("zeroed control data parsed as credentials")
	}
}

func TestWorldWritableDirRefused(t *testing.T) {
	dir := shortTempDir(t)
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	_, err := Listen(testConfig(t, Dgram, filepath.Join(dir, "s.sock")))
	if err == nil || !strings.Contains(err.Error(), "world-writable") {
		t.Errorf("err = %v, want a world-writable directory refused", err)
	}
}

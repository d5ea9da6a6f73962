package syslog

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/alertgw/alertgw/config"
	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/outputs"
	"github.com/alertgw/alertgw/outputs/format"
	"github.com/alertgw/alertgw/stats"
)

func event(i int) *normalize.Event {
	e := &normalize.Event{ID: fmt.Sprintf("id-%d", i), Kind: normalize.KindAlert, Action: normalize.ActionBlocked,
		Timestamp: time.Date(2026, 11, 22, 10, 11, 12, 123456789, time.UTC),
		Source:    normalize.Source{Type: "suricata", Input: "eve", Sensor: "sensor-1"},
		SrcIP:     netip.MustParseAddr("10.0.0.1"), DestIP: netip.MustParseAddr("192.0.2.1"),
		SrcPort: 40000, DestPort: 80, HasPorts: true}
	e.SetProto(6)
	e.Signature = &normalize.Signature{GID: 1, ID: 2000 + uint32(i), Rev: 3, Name: `ET "quoted" [x]`, Priority: 2}
	return e
}

func batch(n int) *outputs.Batch {
	var evs []*normalize.Event
	for i := range n {
		evs = append(evs, event(i))
	}
	return &outputs.Batch{Events: evs}
}

// want is the exact message for event i, built by hand from RFC 5424:
// PRI = local5 (21) * 8 + err (3) = 171.
func want(i int, body string) string {
	pid := strconv.Itoa(os.Getpid())
	head := "<171>1 2026-11-22T10:11:12.123456Z sensor-1 alertgw " + pid + " alert "
	if body == "sd" {
		return head + `[alertgw@32473 id="id-` + strconv.Itoa(i) + `" kind="alert" action="blocked" source="suricata" src_ip="10.0.0.1" dest_ip="192.0.2.1" src_port="40000" dest_port="80" proto="6" gid="1" sid="` + strconv.Itoa(2000+i) + `" rev="3"] ET "quoted" [x]`
	}
	return head + "- " + string(format.Native{}.AppendEvent(nil, event(i)))
}

func newOutput(t *testing.T, mod func(*Options)) *Output {
	t.Helper()
	o := Plugin.Options().(*Options)
	mod(o)
	if p := o.Validate(); len(p) > 0 {
		t.Fatal(p)
	}
	w, err := New(outputs.Env{Name: "syslog", Sensor: "sensor-1", Log: zerolog.Nop(), Stats: &stats.Output{}, Encoder: format.Native{}}, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

func TestDatagrams(t *testing.T) {
	for _, network := range []string{"udp", "unixgram"} {
		for _, body := range []string{"json", "sd"} {
			t.Run(network+"/"+body, func(t *testing.T) {
				var pc net.PacketConn
				var err error
				if network == "udp" {
					pc, err = net.ListenPacket("udp", "127.0.0.1:0")
				} else {
					pc, err = net.ListenPacket("unixgram", filepath.Join(t.TempDir(), "log.sock"))
				}
				if err != nil {
					t.Fatal(err)
				}
				defer pc.Close()
				w := newOutput(t, func(o *Options) { o.Network, o.Address, o.Body = network, pc.LocalAddr().String(), body })
				if err := w.Write(context.Background(), batch(3)); err != nil {
					t.Fatal(err)
				}
				buf := make([]byte, 65536)
				for i := range 3 {
					pc.SetReadDeadline(time.Now().Add(5 * time.Second))
					n, _, err := pc.ReadFrom(buf)
					if err != nil {
						t.Fatal(err)
					}
					if got := string(buf[:n]); got != want(i, body) {
						t.Fatalf("datagram %d:\n got %q\nwant %q", i, got, want(i, body))
					}
				}
			})
		}
	}
}

func TestOversizedDatagramIsPermanent(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	w := newOutput(t, func(o *Options) { o.Network, o.Address = "udp", pc.LocalAddr().String() })
	b := batch(2)
	b.Events[0].Details = normalize.Details{{Key: "payload", Value: normalize.RawJSON(`"` + strings.Repeat("A", 70000) + `"`)}}
	err = w.Write(context.Background(), b)
	var pe *outputs.PartialError
	if !errors.As(err, &pe) || len(pe.Failed) != 1 || pe.Failed[0].Index != 0 || !pe.Failed[0].Permanent {
		t.Fatalf("want event 0 failed permanently, got %v", err)
	}
}

// readStream reads n octet-counted (or newline-framed) messages from c.
func readStream(t *testing.T, c net.Conn, n int, framing string) []string {
	r := bufio.NewReader(c)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var msgs []string
	for range n {
		if framing == "newline" {
			line, err := r.ReadString('\n')
			if err != nil {
				t.Fatal(err)
			}
			msgs = append(msgs, strings.TrimSuffix(line, "\n"))
			continue
		}
		lenStr, err := r.ReadString(' ')
		if err != nil {
			t.Fatal(err)
		}
		size, err := strconv.Atoi(strings.TrimSuffix(lenStr, " "))
		if err != nil {
			t.Fatalf("bad octet count %q", lenStr)
		}
		msg := make([]byte, size)
		if _, err := io.ReadFull(r, msg); err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, string(msg))
	}
	return msgs
}

func TestStreams(t *testing.T) {
	cert := selfSigned(t)
	for _, tc := range []struct{ network, framing, body string }{
		{"tcp", "octet_counting", "json"},
		{"tcp", "newline", "sd"},
		{"tls", "octet_counting", "json"},
	} {
		t.Run(tc.network+"/"+tc.framing, func(t *testing.T) {
			var ln net.Listener
			var err error
			if tc.network == "tls" {
				ln, err = tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert.pair}})
			} else {
				ln, err = net.Listen("tcp", "127.0.0.1:0")
			}
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			w := newOutput(t, func(o *Options) {
				o.Network, o.Address, o.Framing, o.Body = tc.network, ln.Addr().String(), tc.framing, tc.body
				o.TLS.CAFile, o.TLS.ServerName = cert.caFile, "localhost"
			})
			got := make(chan []string, 1)
			go func() {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				defer c.Close()
				got <- readStream(t, c, 4, tc.framing)
			}()
			if err := w.Write(context.Background(), batch(2)); err != nil {
				t.Fatal(err)
			}
			if err := w.Write(context.Background(), batch(2)); err != nil {
				t.Fatal(err)
			}
			msgs := <-got
			for i, m := range msgs {
				if m != want(i%2, tc.body) {
					t.Fatalf("message %d:\n got %q\nwant %q", i, m, want(i%2, tc.body))
				}
			}
		})
	}
}

// TestReconnect: the receiver goes away; the write fails (to be retried)
// and the next one reconnects.
func TestReconnect(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	w := newOutput(t, func(o *Options) { o.Network, o.Address = "tcp", addr })
	ln.Close()
	if err := w.Write(context.Background(), batch(1)); err == nil {
		t.Fatal("write to a closed port succeeded")
	}
	ln, err = net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("port taken meanwhile: %v", err)
	}
	defer ln.Close()
	got := make(chan []string, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			got <- readStream(t, c, 1, "octet_counting")
			c.Close()
		}
	}()
	if err := w.Write(context.Background(), batch(1)); err != nil {
		t.Fatal(err)
	}
	if m := <-got; m[0] != want(0, "json") {
		t.Fatalf("got %q", m[0])
	}
}

type testCert struct {
	pair   tls.Certificate
	caFile string
}

func selfSigned(t *testing.T) testCert {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		DNSNames: []string{"localhost"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	return testCert{pair: tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, caFile: caFile}
}

func BenchmarkEncode(b *testing.B) {
	w := &Output{opts: &Options{AppName: "alertgw", Body: "json"}, fac: 21, host: "sensor-1", pid: "1", env: outputs.Env{Encoder: format.Native{}}}
	e := event(1)
	line := format.Native{}.AppendEvent(nil, e)
	buf := make([]byte, 0, 4096)
	for b.Loop() {
		buf = w.appendHeader(buf[:0], e)
		buf = append(append(buf, " - "...), line...)
	}
	b.SetBytes(int64(len(buf)))
}

// TestTLSFilesCheckedWithoutEnabled: network: tls turns TLS on, so its
// files are listed for validate whether or not tls.enabled is written.
func TestTLSFilesCheckedWithoutEnabled(t *testing.T) {
	for _, tc := range []struct {
		name    string
		network string
		enabled bool
		want    []string
	}{
		{"tls, enabled not written", "tls", false, []string{"syslog.tls.ca_file"}},
		{"tls, enabled", "tls", true, []string{"syslog.tls.ca_file"}},
		{"tcp", "tcp", false, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := &Options{Network: tc.network}
			o.TLS.Enabled, o.TLS.CAFile = tc.enabled, "/etc/alertgw/ca.pem"
			var got []string
			for _, u := range config.PathUses(o, "syslog") {
				got = append(got, u.Key)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("paths %v, want %v", got, tc.want)
			}
		})
	}
}

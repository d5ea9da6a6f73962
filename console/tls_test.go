package console

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alertgw/alertgw/console/auth"
)

// selfSigned writes a certificate for 127.0.0.1 and its key.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "console test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func TestTLSCookies(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t)
	tc := newTestConsole(t, []auth.User{{Name: "alice", Role: auth.RoleAnalyst, Hash: mustHash(t, "alice-password")}}, func(o *Options) {
		o.TLS = TLSOptions{Cert: certFile, Key: keyFile}
	})
	if !strings.HasPrefix(tc.base, "https://") {
		t.Fatalf("URL %s", tc.base)
	}
	c := tc.client()
	jar, _ := cookiejar.New(nil)
	c.c = &http.Client{Jar: jar, Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	_, page := c.get("/login")
	resp, _ := c.post("/login", url.Values{"token": {formToken(t, page, "token")}, "user": {"alice"}, "password": {"alice-password"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login over TLS: %d", resp.StatusCode)
	}
	var sc *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "__Host-"+sessionCookie {
			sc = ck
		}
	}
	if sc == nil || !sc.Secure || !sc.HttpOnly || sc.Path != "/" || sc.Domain != "" {
		t.Fatalf("session cookie over TLS %+v: want __Host- prefix, Secure, HttpOnly, Path=/", sc)
	}
	if resp, _ := c.get("/mutes"); resp.StatusCode != 200 {
		t.Errorf("page over TLS: %d", resp.StatusCode)
	}
	// Plain HTTP to the TLS port gets nothing.
	plain := &http.Client{Timeout: 5 * time.Second}
	if resp, err := plain.Get("http://" + tc.srv.Addr() + "/login"); err == nil && resp.StatusCode == 200 {
		t.Error("the TLS console answered plain HTTP with a page")
	}
}

func TestOptionsValidate(t *testing.T) {
	for _, tc := range []struct {
		mod  func(*Options)
		want string
	}{
		{func(o *Options) { o.Listen = "8470" }, "listen"},
		{func(o *Options) { o.TLS.Cert = "x" }, "tls"},
		{func(o *Options) { o.SessionIdle = time.Second }, "session_idle"},
		{func(o *Options) { o.SessionMax = time.Minute }, "session_max"},
		{func(o *Options) { o.Refresh = time.Second }, "refresh"},
		{func(o *Options) { o.QueryTimeout = time.Hour }, "query_timeout"},
	} {
		o := DefaultOptions()
		o.Listen = DefaultListen
		tc.mod(o)
		probs := o.Validate()
		if len(probs) == 0 || probs[0].Path != tc.want {
			t.Errorf("want a problem at %s, got %v", tc.want, probs)
		}
	}
	if p := func() *Options { o := DefaultOptions(); o.Listen = DefaultListen; return o }().Validate(); len(p) != 0 {
		t.Errorf("defaults: %v", p)
	}
	if _, probs := Decode(map[string]any{"listen": "127.0.0.1:1", "nosuch": 1}); len(probs) != 1 || !strings.Contains(probs[0].String(), "console.nosuch: unknown key") {
		t.Errorf("unknown key: %v", probs)
	}
	for addr, want := range map[string]bool{"127.0.0.1:1": true, "[::1]:1": true, "localhost:1": true, ":1": false, "0.0.0.0:1": false, "10.0.0.1:1": false} {
		if IsLoopback(addr) != want {
			t.Errorf("IsLoopback(%s) != %v", addr, want)
		}
	}
}

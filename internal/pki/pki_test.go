package pki

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func parse(t *testing.T, p *Pair) *x509.Certificate {
	t.Helper()
	b, _ := pem.Decode(p.CertPEM)
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tls.X509KeyPair(p.CertPEM, p.KeyPEM); err != nil {
		t.Fatalf("key does not match certificate: %v", err)
	}
	return c
}

func TestIssueAndVerify(t *testing.T) {
	ca, err := NewCA("lab CA", 0)
	if err != nil {
		t.Fatal(err)
	}
	other, err := NewCA("other CA", 0)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)

	client, err := ca.Issue(Request{Name: "sensor-1", Usage: Client})
	if err != nil {
		t.Fatal(err)
	}
	server, err := ca.Issue(Request{Name: "central", Hosts: []string{"central.example.org", "127.0.0.1"}, Usage: Server})
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := other.Issue(Request{Name: "sensor-1", Usage: Client})
	if err != nil {
		t.Fatal(err)
	}
	expired, err := ca.Issue(Request{Name: "old", Usage: Client, Validity: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	sc := parse(t, server)
	if len(sc.IPAddresses) != 1 || sc.DNSNames[0] != "central.example.org" {
		t.Errorf("server SANs: %v %v", sc.DNSNames, sc.IPAddresses)
	}
	now := time.Now()
	cases := []struct {
		name   string
		chain  []*x509.Certificate
		at     time.Time
		id     string
		reason string
	}{
		{"client", []*x509.Certificate{parse(t, client)}, now, "sensor-1", ""},
		{"none", nil, now, "", RefusedNoCertificate},
		{"other CA", []*x509.Certificate{parse(t, foreign)}, now, "", RefusedUnknownCA},
		{"server cert used as client", []*x509.Certificate{sc}, now, "", RefusedUsage},
		{"expired", []*x509.Certificate{parse(t, expired)}, now.Add(time.Hour), "", RefusedExpired},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			id, err := VerifyClient(roots, c.chain, c.at)
			if c.reason == "" {
				if err != nil || id != c.id {
					t.Fatalf("got %q, %v; want %q", id, err, c.id)
				}
				return
			}
			var re *RefusedError
			if !errors.As(err, &re) || re.Reason != c.reason {
				t.Fatalf("got %v; want reason %s", err, c.reason)
			}
		})
	}
}

func TestSaveLoadCA(t *testing.T) {
	dir := t.TempDir()
	ca, err := NewCA("lab CA", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := ca.Save(dir, "ca"); err != nil {
		t.Fatal(err)
	}
	if err := ca.Save(dir, "ca"); err == nil {
		t.Fatal("Save overwrote an existing CA")
	}
	back, err := LoadCA(filepath.Join(dir, "ca.pem"), filepath.Join(dir, "ca.key"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := back.Issue(Request{Name: "s", Usage: Client | Server, Validity: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	c := parse(t, p)
	if err := c.CheckSignatureFrom(ca.Cert); err != nil {
		t.Fatal(err)
	}
	if c.NotAfter.After(ca.Cert.NotAfter) {
		t.Error("leaf outlives its CA")
	}
	if _, err := LoadCA(filepath.Join(dir, "ca.key"), filepath.Join(dir, "ca.key")); err == nil {
		t.Error("a key file was accepted as a certificate")
	}
}

// A renewed certificate is served once the file changes.
func TestCertLoaderReloads(t *testing.T) {
	dir := t.TempDir()
	ca, err := WriteLab(dir, "central", []string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	l, err := NewCertLoader(filepath.Join(dir, "central.pem"), filepath.Join(dir, "central.key"))
	if err != nil {
		t.Fatal(err)
	}
	first, _ := l.GetCertificate(nil)
	renewed, err := ca.Issue(Request{Name: "central", Hosts: []string{"127.0.0.1"}, Usage: Server})
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "central.key"), renewed.KeyPEM, 0o600)
	os.WriteFile(filepath.Join(dir, "central.pem"), renewed.CertPEM, 0o644)
	later := time.Now().Add(time.Minute)
	os.Chtimes(filepath.Join(dir, "central.pem"), later, later)
	l.mu.Lock()
	l.checked = time.Time{} // as if the recheck interval passed
	l.mu.Unlock()
	second, _ := l.GetClientCertificate(nil)
	if bytes.Equal(first.Certificate[0], second.Certificate[0]) {
		t.Error("the renewed certificate was not loaded")
	}
	if _, err := NewCertLoader(filepath.Join(dir, "central.pem"), filepath.Join(dir, "ca.key")); err == nil {
		t.Error("a mismatched key was accepted")
	}
}

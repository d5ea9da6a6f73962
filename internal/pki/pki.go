// Package pki makes a small certificate authority and the server and client
// certificates that gateways forwarding to each other use for mutual TLS
// (`alertgw cert`). It is meant for tests, labs and small sites; a
// production fleet takes its certificates from its own PKI (docs/fleet.md).
//
// Keys are ECDSA P-256: every TLS stack accepts them and handshakes are
// cheap. Certificates carry the name the receiving gateway reads as the
// sender's identity in the subject's common name and, for servers, the
// host names and addresses clients dial in their subject alternative names.
package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// CA is a certificate authority able to issue certificates.
type CA struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

// Pair is an issued certificate with its private key, PEM-encoded.
type Pair struct {
	CertPEM []byte
	KeyPEM  []byte
}

// Usage says what a certificate is for.
type Usage int

// Usages of issued certificates.
const (
	Server Usage = 1 << iota // TLS server authentication (the central gateway)
	Client                   // TLS client authentication (a sensor gateway)
)

// Request describes a certificate to issue.
type Request struct {
	// Name is the subject's common name: for a client, the identity the
	// receiving gateway records as the sensor (source.sensor).
	Name string
	// Hosts are DNS names and IP addresses put in the subject alternative
	// names; a server needs every name and address clients dial.
	Hosts    []string
	Usage    Usage
	Validity time.Duration // default 1 year
}

// NewCA creates a self-signed CA named name, valid for validity (default 10 years).
func NewCA(name string, validity time.Duration) (*CA, error) {
	if name == "" {
		return nil, errors.New("a CA needs a name")
	}
	if validity <= 0 {
		validity = 10 * 365 * 24 * time.Hour
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate CA key: %w", err)
	}
	tmpl, err := template(name, validity)
	if err != nil {
		return nil, err
	}
	tmpl.IsCA = true
	tmpl.BasicConstraintsValid = true
	tmpl.MaxPathLenZero = true // issues leaf certificates only
	tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("create CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse CA certificate: %w", err)
	}
	return &CA{Cert: cert, Key: key}, nil
}

// Issue makes a certificate signed by the CA.
func (ca *CA) Issue(r Request) (*Pair, error) {
	if r.Name == "" {
		return nil, errors.New("a certificate needs a name")
	}
	if r.Usage == 0 {
		return nil, errors.New("a certificate needs a usage (server, client or both)")
	}
	if r.Validity <= 0 {
		r.Validity = 365 * 24 * time.Hour
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	tmpl, err := template(r.Name, r.Validity)
	if err != nil {
		return nil, err
	}
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	if r.Usage&Server != 0 {
		tmpl.ExtKeyUsage = append(tmpl.ExtKeyUsage, x509.ExtKeyUsageServerAuth)
	}
	if r.Usage&Client != 0 {
		tmpl.ExtKeyUsage = append(tmpl.ExtKeyUsage, x509.ExtKeyUsageClientAuth)
	}
	for _, h := range r.Hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	if tmpl.NotAfter.After(ca.Cert.NotAfter) {
		tmpl.NotAfter = ca.Cert.NotAfter
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, key.Public(), ca.Key)
	if err != nil {
		return nil, fmt.Errorf("create certificate %s: %w", r.Name, err)
	}
	keyPEM, err := encodeKey(key)
	if err != nil {
		return nil, err
	}
	return &Pair{CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), KeyPEM: keyPEM}, nil
}

// CertPEM returns the CA's certificate, PEM-encoded: what both sides list
// as their trust anchor (ca_file).
func (ca *CA) CertPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Cert.Raw})
}

// KeyPEM returns the CA's private key, PEM-encoded.
func (ca *CA) KeyPEM() ([]byte, error) { return encodeKey(ca.Key) }

func template(name string, validity time.Duration) (*x509.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("serial number: %w", err)
	}
	now := time.Now()
	return &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: name, Organization: []string{"alertgw"}},
		NotBefore:    now.Add(-5 * time.Minute), // tolerate small clock skew between hosts
		NotAfter:     now.Add(validity),
	}, nil
}

func encodeKey(k crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, fmt.Errorf("encode private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// Save writes the CA as <dir>/<base>.pem and <base>.key (the key 0600).
func (ca *CA) Save(dir, base string) error {
	key, err := ca.KeyPEM()
	if err != nil {
		return err
	}
	return writePair(dir, base, ca.CertPEM(), key)
}

// Save writes the pair as <dir>/<base>.pem and <base>.key (the key 0600).
func (p *Pair) Save(dir, base string) error { return writePair(dir, base, p.CertPEM, p.KeyPEM) }

func writePair(dir, base string, cert, key []byte) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	certPath, keyPath := filepath.Join(dir, base+".pem"), filepath.Join(dir, base+".key")
	for _, p := range []string{certPath, keyPath} {
		if _, err := os.Lstat(p); err == nil {
			return fmt.Errorf("%s exists: not overwriting it", p)
		}
	}
	if err := os.WriteFile(keyPath, key, 0o600); err != nil {
		return err
	}
	return os.WriteFile(certPath, cert, 0o644)
}

// LoadCA reads a CA written by Save (or any PEM certificate with its PKCS#8,
// EC or PKCS#1 key).
func LoadCA(certFile, keyFile string) (*CA, error) {
	cb, err := os.ReadFile(certFile)
	if err != nil {
		return nil, err
	}
	kb, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(cb)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("%s: no PEM certificate", certFile)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", certFile, err)
	}
	if !cert.IsCA {
		return nil, fmt.Errorf("%s is not a CA certificate", certFile)
	}
	kblock, _ := pem.Decode(kb)
	if kblock == nil {
		return nil, fmt.Errorf("%s: no PEM key", keyFile)
	}
	key, err := parseKey(kblock.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", keyFile, err)
	}
	return &CA{Cert: cert, Key: key}, nil
}

func parseKey(der []byte) (crypto.Signer, error) {
	if k, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		if s, ok := k.(crypto.Signer); ok {
			return s, nil
		}
		return nil, errors.New("key cannot sign")
	}
	if k, err := x509.ParseECPrivateKey(der); err == nil {
		return k, nil
	}
	if k, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return k, nil
	}
	return nil, errors.New("not a PKCS#8, EC or PKCS#1 private key")
}

// WriteLab writes a complete lab PKI into dir: ca.pem/ca.key, a server
// certificate <server>.pem/.key for hosts, and one client certificate per
// name. Tests and `alertgw cert` recipes use it.
func WriteLab(dir, server string, hosts []string, clients ...string) (*CA, error) {
	ca, err := NewCA("alertgw lab CA", 0)
	if err != nil {
		return nil, err
	}
	if err := ca.Save(dir, "ca"); err != nil {
		return nil, err
	}
	srv, err := ca.Issue(Request{Name: server, Hosts: hosts, Usage: Server})
	if err != nil {
		return nil, err
	}
	if err := srv.Save(dir, server); err != nil {
		return nil, err
	}
	for _, c := range clients {
		p, err := ca.Issue(Request{Name: c, Usage: Client})
		if err != nil {
			return nil, err
		}
		if err := p.Save(dir, c); err != nil {
			return nil, err
		}
	}
	return ca, nil
}

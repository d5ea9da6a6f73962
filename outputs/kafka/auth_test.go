package kafka

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/outputs"
)

// TestTLSAndSASL produces to a cluster that requires TLS and SCRAM: the
// right credentials deliver, wrong ones fail the Write (retried, not lost).
func TestTLSAndSASL(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)

	c := kfake.MustCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "alertgw-alert"),
		kfake.TLS(&tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}),
		kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-512", "alertgw", "s3cret"))
	defer c.Close()

	b := &outputs.Batch{Events: []*normalize.Event{event(0), event(3)}}
	good := newOutput(t, c.ListenAddrs(), func(o *Options) {
		o.TLS = outputs.TLS{Enabled: true, CAFile: caFile}
		o.SASL = SASL{Mechanism: "SCRAM-SHA-512", Username: "alertgw", Password: "s3cret"}
	})
	defer good.Close()
	if err := good.Write(context.Background(), b); err != nil {
		t.Fatalf("with TLS and SCRAM: %v", err)
	}
	bad := newOutput(t, c.ListenAddrs(), func(o *Options) {
		o.TLS = outputs.TLS{Enabled: true, CAFile: caFile}
		o.SASL = SASL{Mechanism: "SCRAM-SHA-512", Username: "alertgw", Password: "wrong"}
		o.Timeout = time.Second
	})
	defer bad.Close()
	if err := bad.Write(context.Background(), b); err == nil {
		t.Fatal("wrong password delivered")
	}
}

package pki

import (
	"crypto/tls"
	"fmt"
	"os"
	"sync"
	"time"
)

// CertLoader serves a certificate and its key from files, reading them
// again when the certificate file changes, so that renewed certificates
// take effect without a restart. A half-written pair fails to load and the
// previous one stays in use until the next check.
type CertLoader struct {
	certFile, keyFile string
	mu                sync.Mutex
	cert              *tls.Certificate
	mod               time.Time
	checked           time.Time
}

// recheck is how often the certificate file's modification time is looked at.
const recheck = 10 * time.Second

// NewCertLoader loads the pair once; it fails when the files are not a
// valid pair.
func NewCertLoader(certFile, keyFile string) (*CertLoader, error) {
	l := &CertLoader{certFile: certFile, keyFile: keyFile}
	if err := l.load(); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *CertLoader) load() error {
	st, err := os.Stat(l.certFile)
	if err != nil {
		return fmt.Errorf("certificate: %w", err)
	}
	c, err := tls.LoadX509KeyPair(l.certFile, l.keyFile)
	if err != nil {
		return fmt.Errorf("certificate %s: %w", l.certFile, err)
	}
	l.cert, l.mod = &c, st.ModTime()
	return nil
}

// current returns the pair, reloading it when the file changed.
func (l *CertLoader) current() *tls.Certificate {
	l.mu.Lock()
	defer l.mu.Unlock()
	if time.Since(l.checked) > recheck {
		l.checked = time.Now()
		if st, err := os.Stat(l.certFile); err == nil && !st.ModTime().Equal(l.mod) {
			_ = l.load()
		}
	}
	return l.cert
}

// GetCertificate is tls.Config.GetCertificate (servers).
func (l *CertLoader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return l.current(), nil
}

// GetClientCertificate is tls.Config.GetClientCertificate (clients).
func (l *CertLoader) GetClientCertificate(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
	return l.current(), nil
}

package pki

import (
	"crypto/x509"
	"errors"
	"time"
)

// Identity is the name a certificate's holder is known by: its subject's
// common name or, when that is empty, its first DNS name, then its first
// URI (SPIFFE IDs carry the identity in a URI).
func Identity(c *x509.Certificate) string {
	switch {
	case c.Subject.CommonName != "":
		return c.Subject.CommonName
	case len(c.DNSNames) > 0:
		return c.DNSNames[0]
	case len(c.URIs) > 0:
		return c.URIs[0].String()
	}
	return ""
}

// Reasons a client certificate is refused, as counted by the receiving
// input (short and stable: they label metrics).
const (
	RefusedNoCertificate = "no_certificate"
	RefusedUnknownCA     = "unknown_authority"
	RefusedExpired       = "expired"
	RefusedUsage         = "wrong_usage"
	RefusedInvalid       = "invalid_certificate"
	RefusedNoIdentity    = "no_identity"
)

// RefusedError is a client certificate that did not verify, with the
// reason it is counted under.
type RefusedError struct {
	Reason string
	Err    error
}

func (e *RefusedError) Error() string {
	return "client certificate refused (" + e.Reason + "): " + e.Err.Error()
}
func (e *RefusedError) Unwrap() error { return e.Err }

// VerifyClient checks a TLS client's certificate chain (leaf first, as the
// handshake presents it) against roots for client authentication and
// returns the leaf's identity. Errors are *RefusedError.
func VerifyClient(roots *x509.CertPool, chain []*x509.Certificate, now time.Time) (string, error) {
	if len(chain) == 0 {
		return "", &RefusedError{RefusedNoCertificate, errors.New("the client sent no certificate")}
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	_, err := chain[0].Verify(x509.VerifyOptions{
		Roots: roots, Intermediates: inter, CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	if err != nil {
		reason := RefusedInvalid
		var (
			ua x509.UnknownAuthorityError
			ce x509.CertificateInvalidError
		)
		switch {
		case errors.As(err, &ua):
			reason = RefusedUnknownCA
		case errors.As(err, &ce) && ce.Reason == x509.Expired:
			reason = RefusedExpired
		case errors.As(err, &ce) && ce.Reason == x509.IncompatibleUsage:
			reason = RefusedUsage
		}
		return "", &RefusedError{reason, err}
	}
	id := Identity(chain[0])
	if id == "" {
		return "", &RefusedError{RefusedNoIdentity, errors.New("the certificate names no one (no common name, DNS name or URI)")}
	}
	return id, nil
}

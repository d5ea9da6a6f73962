package outputs

import (
	"net/http"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/alertgw/alertgw/config"
)

// NewHTTPClient is the one way the outputs that speak HTTP (http,
// elasticsearch, splunk_hec) build their client: a clone of Go's default
// transport (proxy from the environment, HTTP/2, keep-alive, its dial and
// handshake timeouts) with the block's TLS, and timeout bounding each
// request. idlePerHost is the idle connections kept per host; 0 keeps Go's
// default (2).
func NewHTTPClient(t *TLS, timeout time.Duration, idlePerHost int, log zerolog.Logger) (*http.Client, error) {
	tc, err := t.ConfigFor(log)
	if err != nil {
		return nil, err
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tc
	if idlePerHost > 0 {
		tr.MaxIdleConnsPerHost = idlePerHost
	}
	return &http.Client{Transport: tr, Timeout: timeout}, nil
}

// CheckURL reports a URL (at key) that is not http:// or https://.
func CheckURL(p *config.Problems, key, url string) {
	if !strings.HasPrefix(url, "http://") && !strings.HasPrefix(url, "https://") {
		p.Add(key, "must start with http:// or https://; got %q", url)
	}
}

// CheckHTTP reports the problems of the keys every HTTP output has
// besides its URL: a timeout of at least a second and the tls block.
func CheckHTTP(p *config.Problems, timeout time.Duration, t *TLS) {
	if timeout < time.Second {
		p.Add("timeout", "must be at least 1s; got %s", timeout)
	}
	*p = append(*p, t.Validate().Prefixed("tls")...)
}

package tlsconf

import (
	"bytes"
	"strings"
	"testing"

	"github.com/rs/zerolog"
)

func TestInsecureSkipVerifyLogged(t *testing.T) {
	var logs bytes.Buffer
	tl := Client{Enabled: true, InsecureSkipVerify: true}
	c, err := tl.ConfigFor(zerolog.New(&logs))
	if err != nil || !c.InsecureSkipVerify {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "NOT verified") {
		t.Errorf("no loud warning: %q", logs.String())
	}
	logs.Reset()
	(&Client{Enabled: true}).ConfigFor(zerolog.New(&logs))
	if logs.Len() != 0 {
		t.Errorf("warning without insecure_skip_verify: %q", logs.String())
	}
}

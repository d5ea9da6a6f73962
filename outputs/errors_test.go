package outputs

import (
	"errors"
	"fmt"
	"testing"
)

func TestRetryableStatus(t *testing.T) {
	for _, tc := range []struct {
		code  int
		retry bool
	}{
		{400, false}, // malformed request / document
		{401, false}, // bad credentials: retrying will not fix them
		{403, false},
		{404, false}, // no such index / endpoint
		{408, true},  // request timeout
		{409, false}, // version conflict
		{413, false}, // too large: the same bytes will always be too large
		{425, true},
		{429, true}, // throttled
		{500, true},
		{501, false},
		{502, true},
		{503, true}, // unavailable
		{504, true},
		{505, false},
	} {
		t.Run(fmt.Sprint(tc.code), func(t *testing.T) {
			if got := RetryableStatus(tc.code); got != tc.retry {
				t.Fatalf("RetryableStatus(%d) = %v, want %v", tc.code, got, tc.retry)
			}
			if got := IsPermanent(HTTPError(tc.code, []byte("body"))); got == tc.retry {
				t.Fatalf("HTTPError(%d) permanent = %v", tc.code, got)
			}
		})
	}
}

func TestPermanentWrapping(t *testing.T) {
	base := errors.New("unknown topic")
	for _, tc := range []struct {
		name string
		err  error
		perm bool
	}{
		{"plain", base, false},
		{"nil", Permanent(nil), false},
		{"permanent", Permanent(base), true},
		{"wrapped permanent", fmt.Errorf("kafka: %w", Permanent(base)), true},
		{"partial", &PartialError{Failed: []ItemFailure{{Index: 0, Permanent: true}}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := IsPermanent(tc.err); got != tc.perm {
				t.Fatalf("IsPermanent = %v, want %v", got, tc.perm)
			}
		})
	}
}

package outputs

import (
	"errors"
	"fmt"
	"testing"
)

func TestRetryableStatus(t *testing.T) {
	for _, tc := range []struct {
		code     int
		retry    bool // an item with this status
		retryReq bool // a whole request answered with it
	}{
		{400, false, false}, // malformed request / document
		{401, false, true},  // credentials: the events wait for the operator
		{403, false, true},
		{404, false, true},  // no such index / endpoint
		{408, true, true},   // request timeout
		{409, false, false}, // version conflict
		{413, false, false}, // too large: the same bytes will always be too large
		{425, true, true},
		{429, true, true}, // throttled
		{500, true, true},
		{501, false, false},
		{502, true, true},
		{503, true, true}, // unavailable
		{504, true, true},
		{505, false, false},
	} {
		t.Run(fmt.Sprint(tc.code), func(t *testing.T) {
			if got := RetryableStatus(tc.code); got != tc.retry {
				t.Fatalf("RetryableStatus(%d) = %v, want %v", tc.code, got, tc.retry)
			}
			if got := RetryableRequestStatus(tc.code); got != tc.retryReq {
				t.Fatalf("RetryableRequestStatus(%d) = %v, want %v", tc.code, got, tc.retryReq)
			}
			if got := IsPermanent(HTTPError(tc.code, []byte("body"))); got == tc.retryReq {
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

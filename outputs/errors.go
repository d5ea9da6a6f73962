package outputs

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// A Write error tells the pipeline what to do with the batch:
//
//   - a plain error: nothing (or nothing known) was delivered; retry the
//     whole batch with backoff;
//   - Permanent(err): the destination refuses the batch for good (bad
//     request, unknown topic); dead-letter every event with err as reason;
//   - *PartialError: the destination answered per event (Elasticsearch
//     _bulk items, HEC); events not listed were delivered, listed ones are
//     retried or dead-lettered one by one.

// PermanentError is a failure that retrying cannot fix.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return "permanent: " + e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent marks err as one that retrying cannot fix.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &PermanentError{Err: err}
}

// IsPermanent reports whether err, or an error it wraps, is permanent.
func IsPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}

// ItemFailure is one event of a batch that the destination did not take.
type ItemFailure struct {
	Index     int    // in the batch's Events
	Permanent bool   // dead-letter it rather than retry
	Reason    string // short and stable (e.g. Elasticsearch's error type): labels the failed counter
	Detail    string // the destination's full words, kept in the dead-letter record
}

// PartialError reports the events of a batch that failed; the others were
// delivered.
type PartialError struct {
	Failed []ItemFailure
}

func (e *PartialError) Error() string {
	var perm int
	for _, f := range e.Failed {
		if f.Permanent {
			perm++
		}
	}
	first := ""
	if len(e.Failed) > 0 {
		first = ": first: " + e.Failed[0].Reason
	}
	return fmt.Sprintf("%d events failed (%d permanently)%s", len(e.Failed), perm, first)
}

// RetryableStatus classifies the HTTP status of one item of a bulk answer
// (an Elasticsearch document):
// throttling (429), timeouts (408), too-early (425) and server errors are
// worth retrying; any other 4xx means the request itself is wrong.
func RetryableStatus(code int) bool {
	switch {
	case code == 408, code == 425, code == 429:
		return true
	case code == 501, code == 505: // not implemented, HTTP version: will never work
		return false
	case code >= 500:
		return true
	case code >= 400:
		return false
	}
	return true // 1xx-3xx as a failure: unexpected, try again
}

// StatusError is an HTTP answer that was not a success.
type StatusError struct {
	Code int
	Body string // the start of the response body, for the log and dead letter
}

func (e *StatusError) Error() string {
	b := strings.TrimSpace(e.Body)
	if len(b) > 512 {
		b = b[:512] + "…"
	}
	return "HTTP " + strconv.Itoa(e.Code) + ": " + b
}

// RetryableRequestStatus classifies the status of a whole request. Beside
// what RetryableStatus retries, answers that blame the configuration rather
// than the events — 401 and 407 (credentials), 403 (permissions), 404 (a
// wrong URL or a missing index) — are retried too: the events are fine and
// must wait, in the queue and the disk buffer, until an operator fixes the
// configuration, not be dead-lettered by the thousand.
func RetryableRequestStatus(code int) bool {
	switch code {
	case 401, 403, 404, 407:
		return true
	}
	return RetryableStatus(code)
}

// HTTPError turns a failed answer to a whole request into a Write error:
// permanent when the status says retrying cannot help.
func HTTPError(code int, body []byte) error {
	err := &StatusError{Code: code, Body: string(body)}
	if RetryableRequestStatus(code) {
		return err
	}
	return Permanent(err)
}

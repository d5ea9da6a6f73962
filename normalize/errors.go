package normalize

import "fmt"

// Reasons for which a message cannot be normalized. They label the
// "failed" counters and dead-letter records, so keep them short and stable.
const (
	ReasonInvalidJSON  = "invalid_json"
	ReasonNotObject    = "not_object"
	ReasonInvalidField = "invalid_field"
	ReasonMissingField = "missing_field"
	ReasonInvalidUTF8  = "invalid_utf8"
	ReasonTruncated    = "truncated"
	ReasonTooLarge     = "too_large"
	ReasonMalformed    = "malformed"
	ReasonUnsupported  = "unsupported"
)

// Error is a message that cannot be normalized, with the reason it is
// counted under.
type Error struct {
	Reason string
	Err    error
}

func (e *Error) Error() string { return e.Reason + ": " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Errorf builds an *Error with a formatted message.
func Errorf(reason, format string, args ...any) *Error {
	return &Error{Reason: reason, Err: fmt.Errorf(format, args...)}
}

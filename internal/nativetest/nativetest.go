// Package nativetest gives the tests of the normalize packages the native
// JSON encoding of an event (outputs/format's "native"), so that they can
// compare events with golden files and validate them against the schema
// without importing outputs: normalize sits below outputs in the one-way
// import rule (docs/architecture.md), in its tests too.
package nativetest

import (
	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/outputs/format"
)

// Append appends ev's native encoding (one JSON object, no newline) to dst.
func Append(dst []byte, ev *normalize.Event) []byte {
	return format.Native{}.AppendEvent(dst, ev)
}

// Line returns ev's native encoding (one JSON object, no newline).
func Line(ev *normalize.Event) []byte { return Append(nil, ev) }

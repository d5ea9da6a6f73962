// Package audit turns Linux audit records (auditd's text form, as written to
// audit.log or sent by its af_unix plugin) into alertgw events: records are
// grouped by serial with go-libaudit's Reassembler, their fields parsed
// (alertgw's scanner for the hot record types, go-libaudit's auparse for
// the rest, with identical results), and each audit event is mapped to one
// normalize.Event of kind "audit", enriched with parent-process information
// and labels from a process table (see Table). go-libaudit's aucoalesce
// summary can be added (Mapper.Summary).
//
// Nothing here does I/O: user and group names come from an injected
// Resolver, time from the records themselves.
package audit

import (
	"fmt"
	"strings"
	"unsafe"

	"github.com/elastic/go-libaudit/v2/auparse"

	"github.com/alertgw/alertgw/normalize"
)

// MaxRecordLen bounds one record. The kernel caps a record at
// MAX_AUDIT_MESSAGE_LENGTH (8970 bytes); auditd adds "type=… msg=" and, in
// the enriched format, the resolved names. Anything longer is not audit.
const MaxRecordLen = 16 << 10

// meta is what the parser learns about a record besides what auparse keeps;
// it rides in AuditMessage.Payload through the reassembler.
type meta struct {
	node     string // "node=" prefix, set when auditd runs with name_format
	enriched string // the part after the 0x1d separator in the enriched format
}

// ParseLine parses one record as auditd writes it in audit.log and in its
// af_unix plugin's "string" format:
//
//	[node=NAME ]type=NAME msg=audit(SEC.MSEC:SERIAL): key=value …[\x1dKEY=value …]
//
// The returned message carries the node name and the enriched fields (when
// present) for the mapper.
func ParseLine(line []byte) (*auparse.AuditMessage, error) {
	return parseLine(line, false)
}

// ParseLineOwned is ParseLine for a line the caller will never modify
// again (an input's per-batch arena): the message refers to its bytes
// instead of copying them.
func ParseLineOwned(line []byte) (*auparse.AuditMessage, error) {
	return parseLine(line, true)
}

func parseLine(line []byte, owned bool) (*auparse.AuditMessage, error) {
	line = trimEOL(line)
	if len(line) == 0 {
		return nil, normalize.Errorf(normalize.ReasonTruncated, "empty audit record")
	}
	if len(line) > MaxRecordLen {
		return nil, normalize.Errorf(normalize.ReasonTooLarge, "audit record of %d bytes exceeds %d", len(line), MaxRecordLen)
	}
	s := asString(line, owned)
	var m meta
	if rest, ok := strings.CutPrefix(s, "node="); ok {
		sp := strings.IndexByte(rest, ' ')
		if sp < 0 {
			return nil, normalize.Errorf(normalize.ReasonMalformed, "audit record has a node= prefix and nothing else")
		}
		m.node, s = rest[:sp], strings.TrimLeft(rest[sp:], " ")
	}
	if i := strings.IndexByte(s, 0x1d); i >= 0 {
		// auditd's enriched format appends resolved names (UID="root" …)
		// after a group separator; auparse must not see them.
		m.enriched, s = s[i+1:], s[:i]
	}
	if !strings.HasPrefix(s, "type=") {
		return nil, normalize.Errorf(normalize.ReasonMalformed, "audit record does not start with type=")
	}
	msg, err := auparse.ParseLogLine(s)
	if err != nil {
		return nil, &normalize.Error{Reason: normalize.ReasonMalformed, Err: fmt.Errorf("audit record header: %w", err)}
	}
	if m != (meta{}) {
		// A copy, so that m stays on the stack for the records without a
		// node or enriched part (most of them).
		mm := m
		msg.Payload = &mm
	}
	return msg, nil
}

// ParseKernel parses a record in the kernel's own form, as auditd's
// dispatcher sends it in binary protocol version 0: the record type comes
// from the frame header and text is "audit(SEC.MSEC:SERIAL): key=value …".
func ParseKernel(typ uint32, text []byte) (*auparse.AuditMessage, error) {
	return parseKernel(typ, text, false)
}

// ParseKernelOwned is ParseKernel for bytes the caller will never modify.
func ParseKernelOwned(typ uint32, text []byte) (*auparse.AuditMessage, error) {
	return parseKernel(typ, text, true)
}

func parseKernel(typ uint32, text []byte, owned bool) (*auparse.AuditMessage, error) {
	text = trimEOL(text)
	if len(text) == 0 {
		return nil, normalize.Errorf(normalize.ReasonTruncated, "empty audit record")
	}
	if len(text) > MaxRecordLen {
		return nil, normalize.Errorf(normalize.ReasonTooLarge, "audit record of %d bytes exceeds %d", len(text), MaxRecordLen)
	}
	if typ > 0xffff {
		return nil, normalize.Errorf(normalize.ReasonInvalidField, "audit record type %d out of range", typ)
	}
	msg, err := auparse.Parse(auparse.AuditMessageType(typ), asString(text, owned))
	if err != nil {
		return nil, &normalize.Error{Reason: normalize.ReasonMalformed, Err: fmt.Errorf("audit record header: %w", err)}
	}
	return msg, nil
}

func metaOf(msg *auparse.AuditMessage) *meta {
	if m, ok := msg.Payload.(*meta); ok {
		return m
	}
	return nil
}

// body returns the record's text after "audit(…): ".
func body(msg *auparse.AuditMessage) string {
	s := msg.RawData
	if i := strings.Index(s, "): "); i >= 0 {
		return s[i+3:]
	}
	return ""
}

// trimEOL drops trailing newlines, carriage returns and NULs.
func trimEOL(b []byte) []byte {
	for len(b) > 0 {
		switch b[len(b)-1] {
		case '\n', '\r', 0:
			b = b[:len(b)-1]
			continue
		}
		break
	}
	return b
}

// asString returns b as a string: a copy, or, for bytes the caller owns
// and will not modify, the same memory (one copy fewer per record on the
// input's hot path).
func asString(b []byte, owned bool) string {
	if !owned || len(b) == 0 {
		return string(b)
	}
	return unsafe.String(&b[0], len(b))
}

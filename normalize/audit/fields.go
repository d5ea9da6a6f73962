package audit

import (
	"encoding/hex"
	"strconv"
	"strings"
)

// nextField scans s for the next key=value pair and returns the key, the
// value as written (quotes kept) and the rest of s. ok is false at the end.
// Audit values never contain a space or a quote unless quoted with single
// quotes (user-space "msg='…'"), because the kernel hex-encodes such values.
func nextField(s string) (key, val, rest string, ok bool) {
	// One pass over the bytes: this runs for every field of every record.
	i := 0
	for {
		for i < len(s) && s[i] == ' ' {
			i++
		}
		if i == len(s) {
			return "", "", "", false
		}
		j := i
		for j < len(s) && s[j] != '=' && s[j] != ' ' {
			j++
		}
		if j == len(s) {
			return "", "", "", false // no "=" left
		}
		if s[j] == ' ' {
			// A word without "=" (old "avc: denied { read }"-style text): skip it.
			i = j + 1
			continue
		}
		key, s = s[i:j], s[j+1:]
		break
	}
	switch {
	case s == "":
		return key, "", "", true
	case s[0] == '"' || s[0] == '\'':
		end := strings.IndexByte(s[1:], s[0])
		if end < 0 {
			return key, s, "", true // unterminated: keep what is there
		}
		return key, s[:end+2], s[end+2:], true
	default:
		// A bare value ends at a space or a quote (auparse's
		// [^"'\s]+): auditd sometimes leaves a stray quote behind a
		// hex key.
		for end := 0; end < len(s); end++ {
			if c := s[end]; c == ' ' || c == '"' || c == '\'' {
				return key, s[:end], s[end:], true
			}
		}
		return key, s, "", true
	}
}

// decodeString returns an audit string value as text: quoted values are the
// text between the quotes; unquoted ones are hex (the kernel encodes values
// holding spaces, quotes, control or non-ASCII bytes that way), unless they
// are not valid hex, in which case they are returned as written ("(null)").
func decodeString(v string) string {
	if n := len(v); n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n-1] == v[0] {
		return v[1 : n-1]
	}
	if b, ok := decodeHex(v); ok {
		return string(b)
	}
	return v
}

// decodeStringIn is decodeString with the decoded bytes in a.
func decodeStringIn(a *scratch, v string) string {
	if n := len(v); n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n-1] == v[0] {
		return v[1 : n-1]
	}
	if s, ok := a.hex(v); ok {
		return s
	}
	return v
}

// splitNULIn is splitNUL with the slice taken from a.
func splitNULIn(a *scratch, s string) []string {
	s = strings.TrimRight(s, "\x00")
	if s == "" {
		return nil
	}
	return a.split(s, 0)
}

func decodeHex(v string) ([]byte, bool) {
	if len(v) == 0 || len(v)%2 != 0 {
		return nil, false
	}
	b, err := hex.DecodeString(v)
	if err != nil {
		return nil, false
	}
	return b, true
}

// execveArgs rebuilds argv from one or more EXECVE records. The kernel
// writes a0=… a1=…, or for an argument too long for one record
// "aN_len=TOTAL aN[0]=… aN[1]=…", possibly across several records.
func execveArgs(bodies []string) (argv []string, argc int, complete bool) {
	if len(bodies) == 1 && !strings.Contains(bodies[0], "[") {
		if argv, argc, ok := execveSimple(bodies[0]); ok {
			return argv, argc, true
		}
	}
	argc = -1
	parts := map[int]*strings.Builder{}
	whole := map[int]string{}
	for _, b := range bodies {
		for k, v, rest, ok := nextField(b); ok; k, v, rest, ok = nextField(rest) {
			if k == "argc" {
				if n, err := strconv.Atoi(v); err == nil && n >= 0 && n < 1<<20 {
					argc = n
				}
				continue
			}
			if len(k) < 2 || k[0] != 'a' {
				continue
			}
			idx, sub := k[1:], ""
			if i := strings.IndexByte(idx, '['); i >= 0 && strings.HasSuffix(idx, "]") {
				idx, sub = idx[:i], idx[i+1:len(idx)-1]
			} else if strings.HasSuffix(idx, "_len") {
				continue
			}
			n, err := strconv.Atoi(idx)
			if err != nil || n < 0 || n >= 1<<20 {
				continue
			}
			if sub == "" {
				whole[n] = decodeString(v)
				continue
			}
			sb := parts[n]
			if sb == nil {
				sb = &strings.Builder{}
				parts[n] = sb
			}
			// Pieces of a long argument are hex unless quoted, each piece
			// on its own; they arrive in order within and across records.
			sb.WriteString(decodeString(v))
		}
	}
	if argc < 0 {
		argc = 0
		for n := range whole {
			argc = max(argc, n+1)
		}
		for n := range parts {
			argc = max(argc, n+1)
		}
	}
	complete = true
	argv = make([]string, 0, min(argc, 64))
	for i := range argc {
		if s, ok := whole[i]; ok {
			argv = append(argv, s)
		} else if sb, ok := parts[i]; ok {
			argv = append(argv, sb.String())
		} else {
			complete = false
			argv = append(argv, "")
		}
	}
	return argv, argc, complete
}

// execveSimple handles the common case without maps: one record holding
// argc=N a0=… … a(N-1)=… in order.
func execveSimple(b string) (argv []string, argc int, ok bool) {
	k, v, rest, more := nextField(b)
	if !more || k != "argc" {
		return nil, 0, false
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > 1<<16 {
		return nil, 0, false
	}
	argv = make([]string, 0, n)
	for i := 0; i < n; i++ {
		k, v, rest, more = nextField(rest)
		if !more || len(k) < 2 || k[0] != 'a' {
			return nil, 0, false
		}
		if idx, err := strconv.Atoi(k[1:]); err != nil || idx != i {
			return nil, 0, false
		}
		argv = append(argv, decodeString(v))
	}
	return argv, n, true
}

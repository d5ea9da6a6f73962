package sigmap

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// ParseRules reads Snort 2 or Snort 3 rules and takes from each rule its
// gid (default 1), sid, rev, msg, classtype and priority: Snort 3 ships no
// sid-msg.map, so its rules are where unified2 names come from. Commented
// rules ("# alert …") are included too: a disabled rule may still have
// fired in the files being read. Rules may span lines (a trailing
// backslash, or Snort 3's parentheses left open). A rule without a sid is
// skipped; one that cannot be parsed is an error with its line number.
func (t *Tables) ParseRules(r io.Reader) error {
	t.init()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	var (
		rule  strings.Builder
		start int
		n     int
	)
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if rule.Len() == 0 {
			body := strings.TrimSpace(strings.TrimLeft(line, "#"))
			if !strings.Contains(body, "(") || !isRuleStart(body) {
				continue
			}
			line, start = body, n
		}
		cont := strings.HasSuffix(line, `\`)
		rule.WriteString(strings.TrimSuffix(line, `\`))
		if !cont {
			rule.WriteByte(' ') // a backslash joins lines as they are
		}
		if cont || !balanced(rule.String()) {
			if rule.Len() > 1<<20 {
				return fmt.Errorf("line %d: rule longer than 1 MiB", start)
			}
			continue
		}
		if err := t.addRule(rule.String()); err != nil {
			return fmt.Errorf("line %d: %w", start, err)
		}
		rule.Reset()
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("line %d: %w", n+1, err)
	}
	if rule.Len() > 0 {
		return fmt.Errorf("line %d: rule not terminated at the end of the file", start)
	}
	return nil
}

// isRuleStart reports whether s starts with a rule action.
func isRuleStart(s string) bool {
	act, _, _ := strings.Cut(s, " ")
	switch act {
	case "alert", "log", "pass", "drop", "reject", "sdrop", "block", "rewrite", "activate", "dynamic":
		return true
	}
	return false
}

// balanced reports whether every "(" outside quotes is closed.
func balanced(s string) bool {
	depth, inQuote := 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && inQuote:
			i++
		case c == '"':
			inQuote = !inQuote
		case c == '(' && !inQuote:
			depth++
		case c == ')' && !inQuote:
			depth--
		}
	}
	return depth <= 0 && !inQuote
}

func (t *Tables) addRule(rule string) error {
	open := strings.IndexByte(rule, '(')
	end := strings.LastIndexByte(rule, ')')
	if open < 0 || end < open {
		return fmt.Errorf("no option list in parentheses")
	}
	var sig Signature
	gid, sid := uint32(1), uint32(0)
	for _, opt := range splitOptions(rule[open+1 : end]) {
		k, v, _ := strings.Cut(opt, ":")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch k {
		case "msg":
			sig.Msg = unquote(v)
		case "sid":
			sid = atou(v)
		case "gid":
			gid = atou(v)
		case "rev":
			sig.Rev = atou(v)
		case "classtype":
			sig.Class = v
		case "priority":
			sig.Priority = atou(v)
		}
	}
	if sid == 0 {
		return nil
	}
	t.sigs[key{gid, sid}] = sig
	return nil
}

// splitOptions splits "a:b; c:\"x;y\"; d" at semicolons outside quotes.
func splitOptions(s string) []string {
	var out []string
	inQuote, start := false, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if inQuote {
				i++
			}
		case '"':
			inQuote = !inQuote
		case ';':
			if !inQuote {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	if rest := strings.TrimSpace(s[start:]); rest != "" {
		out = append(out, rest)
	}
	return out
}

// unquote removes the quotes around a rule string and its escapes.
func unquote(v string) string {
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
	}
	if !strings.Contains(v, `\`) {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) {
			i++
		}
		b.WriteByte(v[i])
	}
	return b.String()
}

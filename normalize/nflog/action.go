package nflog

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/alertgw/alertgw/normalize"
)

// NFLOG carries no verdict: the rule logs before it decides. Whether a
// packet was allowed or blocked therefore comes from configuration, as
// ulogd2's numeric_label does, but with two levels:
//
//  1. prefix rules, in order: the first whose pattern matches the log
//     prefix gives the action;
//  2. otherwise the action configured for the packet's group;
//  3. otherwise "unknown". Nothing is guessed from the prefix's wording.

// PrefixRule maps log prefixes to an action. Exactly one of Glob and Regexp
// is set. A glob matches the whole prefix, with * (any run of characters)
// and ? (one character); a regexp matches anywhere unless anchored.
type PrefixRule struct {
	Glob   string
	Regexp string
	Action normalize.Action
	// Groups, when not empty, limits the rule to these groups.
	Groups []uint16
}

// Labeler decides the action of a packet from its group and prefix. It is
// immutable once built and safe for concurrent use.
type Labeler struct {
	groups map[uint16]normalize.Action
	rules  []compiledRule
}

type compiledRule struct {
	re     *regexp.Regexp
	action normalize.Action
	groups []uint16
}

// ParseAction accepts allowed/blocked/unknown and the verdict words used in
// firewall configurations (accept, drop, reject …).
func ParseAction(s string) (normalize.Action, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "allowed", "allow", "accept", "accepted", "pass":
		return normalize.ActionAllowed, nil
	case "blocked", "block", "drop", "dropped", "reject", "rejected", "deny", "denied":
		return normalize.ActionBlocked, nil
	case "unknown", "":
		return normalize.ActionUnknown, nil
	}
	return "", fmt.Errorf("unknown action %q: use allowed, blocked or unknown", s)
}

// NewLabeler compiles the group actions and prefix rules.
func NewLabeler(groups map[uint16]normalize.Action, rules []PrefixRule) (*Labeler, error) {
	l := &Labeler{groups: make(map[uint16]normalize.Action, len(groups))}
	for g, a := range groups {
		l.groups[g] = a
	}
	for i, r := range rules {
		var pattern string
		switch {
		case r.Glob != "" && r.Regexp != "":
			return nil, fmt.Errorf("prefix rule %d: set glob or regexp, not both", i)
		case r.Glob != "":
			pattern = GlobToRegexp(r.Glob)
		case r.Regexp != "":
			pattern = r.Regexp
		default:
			return nil, fmt.Errorf("prefix rule %d: needs a glob or a regexp", i)
		}
		re, err := regexp.Compile(pattern)
		if err != nil {
			return nil, fmt.Errorf("prefix rule %d: %w", i, err)
		}
		switch r.Action {
		case normalize.ActionAllowed, normalize.ActionBlocked, normalize.ActionUnknown:
		default:
			return nil, fmt.Errorf("prefix rule %d: action %q is not allowed, blocked or unknown", i, r.Action)
		}
		l.rules = append(l.rules, compiledRule{re: re, action: r.Action, groups: r.Groups})
	}
	return l, nil
}

// Label returns the action for a packet logged to group with prefix (the
// trailing NUL already removed).
func (l *Labeler) Label(group uint16, prefix string) normalize.Action {
	for _, r := range l.rules {
		if len(r.groups) > 0 && !containsGroup(r.groups, group) {
			continue
		}
		if r.re.MatchString(prefix) {
			return r.action
		}
	}
	if a, ok := l.groups[group]; ok {
		return a
	}
	return normalize.ActionUnknown
}

func containsGroup(gs []uint16, g uint16) bool {
	for _, x := range gs {
		if x == g {
			return true
		}
	}
	return false
}

// GlobToRegexp turns a glob (* and ?, everything else literal) into an
// anchored regular expression.
func GlobToRegexp(glob string) string {
	var b strings.Builder
	b.WriteString(`(?s)^`)
	for _, r := range glob {
		switch r {
		case '*':
			b.WriteString(`.*`)
		case '?':
			b.WriteString(`.`)
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString(`$`)
	return b.String()
}

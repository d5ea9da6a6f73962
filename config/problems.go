package config

import (
	"fmt"
	"strings"
)

// Problem is one thing wrong with a configuration, at a key path.
type Problem struct {
	Path string // e.g. "inputs[1].socket"
	Msg  string
}

func (p Problem) String() string {
	if p.Path == "" {
		return p.Msg
	}
	return p.Path + ": " + p.Msg
}

// Problems collects every problem found, so that one run of `alertgw
// validate` reports them all.
type Problems []Problem

// Add records a problem at path.
func (p *Problems) Add(path, format string, args ...any) {
	*p = append(*p, Problem{Path: path, Msg: fmt.Sprintf(format, args...)})
}

// Prefixed returns the problems with prefix joined in front of their paths.
func (p Problems) Prefixed(prefix string) Problems {
	out := make(Problems, len(p))
	for i, pr := range p {
		out[i] = Problem{Path: joinPath(prefix, pr.Path), Msg: pr.Msg}
	}
	return out
}

// Merge appends more, leaving out problems at paths that already have one:
// a value that failed to decode need not also be reported as out of range.
func (p Problems) Merge(more Problems) Problems {
	for _, m := range more {
		dup := false
		for _, q := range p {
			if q.Path == m.Path {
				dup = true
				break
			}
		}
		if !dup {
			p = append(p, m)
		}
	}
	return p
}

// Err returns nil when there are no problems, else one error listing them.
func (p Problems) Err() error {
	if len(p) == 0 {
		return nil
	}
	lines := make([]string, len(p))
	for i, pr := range p {
		lines[i] = pr.String()
	}
	return fmt.Errorf("%w:\n  %s", ErrInvalid, strings.Join(lines, "\n  "))
}

// Validator is implemented by option structs that check their own values.
// Paths are relative to the block ("socket", "rotate.max_size").
type Validator interface {
	Validate() Problems
}

func joinPath(prefix, key string) string {
	switch {
	case prefix == "":
		return key
	case key == "":
		return prefix
	case key[0] == '[':
		return prefix + key
	default:
		return prefix + "." + key
	}
}

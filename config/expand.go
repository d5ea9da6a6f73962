package config

import (
	"fmt"
	"sort"
	"strings"
)

// expandVars replaces ${NAME} and ${NAME:-default} in every string value of
// tree (keys are left alone) with the environment variable NAME, as Vector,
// Filebeat and Telegraf do, so that a secret or a host-specific path need
// not be written in the file:
//
//	api_key: ${ES_API_KEY}
//	socket: ${RUN_DIR:-/run/alertgw}/suricata.sock (not ALERTGW_…: those are key overrides)
//
// ${NAME:-default} takes default when NAME is unset or empty; ${NAME}
// with NAME unset or empty is a problem naming the variable, never a
// silently empty value.
// $${ is a literal ${. A lone $ (in a password, say) stays as it is.
//
// Only values are expanded, after the YAML is parsed, so a variable cannot
// add keys or change the structure of the file. from records, by key path,
// the variables each expanded value came from, so that a later problem
// with that value can name them.
func expandVars(tree map[string]any, environ []string, from map[string]string) Problems {
	env := make(map[string]string, len(environ))
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	var probs Problems
	var walk func(path string, v any) any
	walk = func(path string, v any) any {
		switch x := v.(type) {
		case string:
			out, vars, err := expandString(x, env)
			if err != nil {
				probs.Add(path, "%v", err)
				return x
			}
			if len(vars) > 0 {
				from[path] = strings.Join(vars, ", ")
			}
			return out
		case map[string]any:
			for _, k := range sortedKeys(x) {
				x[k] = walk(joinPath(path, k), x[k])
			}
		case []any:
			for i := range x {
				x[i] = walk(fmt.Sprintf("%s[%d]", path, i), x[i])
			}
		}
		return v
	}
	walk("", tree)
	return probs
}

// expandString expands the references in s and returns the names of the
// variables it used, as ${NAME}.
func expandString(s string, env map[string]string) (string, []string, error) {
	if !strings.Contains(s, "${") {
		return s, nil, nil
	}
	var b strings.Builder
	var used []string
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String(), used, nil
		}
		if i > 0 && s[i-1] == '$' { // $${ is a literal ${
			b.WriteString(s[:i-1])
			b.WriteString("${")
			s = s[i+2:]
			continue
		}
		b.WriteString(s[:i])
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return "", nil, fmt.Errorf("unterminated ${ in %q: write ${NAME} or ${NAME:-default} (and $${ for a literal ${)", s)
		}
		ref := s[i+2 : i+end]
		name, def, hasDef := strings.Cut(ref, ":-")
		if !validVarName(name) {
			return "", nil, fmt.Errorf("${%s}: %q is not an environment variable name (letters, digits and _, not starting with a digit)", ref, name)
		}
		used = append(used, "${"+name+"}")
		val, set := env[name]
		switch {
		case set && val != "":
			b.WriteString(val)
		case hasDef:
			b.WriteString(def)
		case set:
			// An empty variable is as good as unset: an empty secret or
			// path would otherwise pass silently. ${NAME:-} asks for empty.
			return "", nil, fmt.Errorf("environment variable %s is empty (referenced as ${%s}; give it a value, or write ${%s:-} to allow empty)", name, name, name)
		default:
			return "", nil, fmt.Errorf("environment variable %s is not set (referenced as ${%s}; set it, or give a default: ${%s:-value})", name, name, name)
		}
		s = s[i+end+1:]
	}
}

func validVarName(n string) bool {
	if n == "" || (n[0] >= '0' && n[0] <= '9') {
		return false
	}
	for _, c := range n {
		if !(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
			return false
		}
	}
	return true
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

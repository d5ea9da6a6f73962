package config

import (
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// EnvPrefix starts every variable that overrides a configuration key.
const EnvPrefix = "ALERTGW_"

// applyEnv overrides keys of tree from ALERTGW_* variables. The variable
// name is the key path in upper case with "_" between parts; list items are
// named by index or by their block's name:
//
//	ALERTGW_SENSOR=edge-1
//	ALERTGW_PIPELINE_WORKERS=4
//	ALERTGW_INPUTS_0_SOCKET=/run/alertgw/eve.sock
//	ALERTGW_OUTPUTS_EVENTS_PATH=/data/events.json   (the output named "events")
//
// Values are read as YAML, so numbers, booleans and [lists] keep their type.
// Since keys contain "_" themselves, the longest key that exists wins; a
// key that does not exist yet is created from the rest of the name.
//
// from records the key path each variable set, so that a problem with the
// value names the variable rather than the file.
func applyEnv(tree map[string]any, environ []string, from map[string]string) Problems {
	var probs Problems
	for _, kv := range environ {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(name, EnvPrefix) {
			continue
		}
		parts := strings.Split(strings.ToLower(strings.TrimPrefix(name, EnvPrefix)), "_")
		var v any
		if err := yaml.Unmarshal([]byte(value), &v); err != nil {
			v = value
		}
		path, err := setPath(tree, "", parts, v)
		if err != nil {
			probs.Add(name, "%v", err)
			continue
		}
		from[path] = name
		// A variable replaces what ${…} expanded there.
		for k := range from {
			if k != path && under(k, path) {
				delete(from, k)
			}
		}
	}
	return probs
}

// setPath sets the key that parts name under node (at key path at) and
// returns its key path.
func setPath(node map[string]any, at string, parts []string, v any) (string, error) {
	if len(parts) == 0 || parts[0] == "" {
		return "", fmt.Errorf("names no key")
	}
	// Longest existing key first, so "socket_type" beats "socket".
	for n := len(parts); n >= 1; n-- {
		key := strings.Join(parts[:n], "_")
		child, exists := node[key]
		if !exists {
			continue
		}
		if n == len(parts) {
			node[key] = v
			return joinPath(at, key), nil
		}
		switch c := child.(type) {
		case map[string]any:
			return setPath(c, joinPath(at, key), parts[n:], v)
		case []any:
			return setInList(c, joinPath(at, key), parts[n:], v, key)
		}
	}
	// The top-level lists may not exist yet in the file: create the item.
	if parts[0] == "inputs" || parts[0] == "outputs" {
		list := []any{}
		node[parts[0]] = list
		return setInList(list, parts[0], parts[1:], v, parts[0])
	}
	key := strings.Join(parts, "_")
	node[key] = v
	return joinPath(at, key), nil
}

func setInList(list []any, at string, parts []string, v any, listKey string) (string, error) {
	if len(parts) < 2 {
		return "", fmt.Errorf("names the list %q: add an index or a block name and a key", listKey)
	}
	if i, err := strconv.Atoi(parts[0]); err == nil {
		if i < 0 || i >= len(list) {
			return "", fmt.Errorf("%s has no item %d", listKey, i)
		}
		item, ok := list[i].(map[string]any)
		if !ok {
			return "", fmt.Errorf("%s[%d] is not a block", listKey, i)
		}
		return setPath(item, fmt.Sprintf("%s[%d]", at, i), parts[1:], v)
	}
	// By block name: the longest run of parts that names a block.
	for n := len(parts) - 1; n >= 1; n-- {
		want := strings.Join(parts[:n], "_")
		for i, it := range list {
			item, ok := it.(map[string]any)
			if !ok {
				continue
			}
			if name, _ := item["name"].(string); strings.ReplaceAll(strings.ToLower(name), "-", "_") == want {
				return setPath(item, fmt.Sprintf("%s[%d]", at, i), parts[n:], v)
			}
		}
	}
	return "", fmt.Errorf("%s has no block named %q", listKey, parts[0])
}

// under reports whether key path k is path or below it.
func under(k, path string) bool {
	if !strings.HasPrefix(k, path) {
		return false
	}
	rest := k[len(path):]
	return rest == "" || rest[0] == '.' || rest[0] == '['
}

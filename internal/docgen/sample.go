package docgen

import (
	"fmt"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// commentedKey is a key left commented out in a sample to show it with its
// default ("    # copy_mode: packet", nested "    #   max_entries: 1",
// in a list "    #   - label: x"); prose comments start with "##" or are
// not "key:" lines.
var commentedKey = regexp.MustCompile(`^(\s*)#( +)((- )?[a-z_][a-z0-9_]*:( .*)?)$`)

// Uncomment returns the sample with its commented-out keys enabled, so
// that a YAML parser sees every key the sample mentions.
func Uncomment(sample []byte) []byte {
	lines := strings.Split(string(sample), "\n")
	for i, l := range lines {
		if m := commentedKey.FindStringSubmatch(l); m != nil {
			lines[i] = m[1] + m[2][1:] + m[3]
		}
	}
	return []byte(strings.Join(lines, "\n"))
}

// MissingKeys lists the keys (not fragments, not below lists of objects) a
// sample of one block under section ("inputs" or "outputs") does not
// mention, set or commented out.
func MissingKeys(sample []byte, section string, keys []Key) ([]string, error) {
	var doc map[string][]map[string]any
	if err := yaml.Unmarshal(Uncomment(sample), &doc); err != nil {
		return nil, fmt.Errorf("sample with its keys uncommented: %w", err)
	}
	blocks := doc[section]
	if len(blocks) != 1 {
		return nil, fmt.Errorf("want one block under %s, found %d", section, len(blocks))
	}
	var missing []string
	for _, k := range keys {
		if k.Fragment != nil || strings.Contains(k.Path, "[]") {
			continue
		}
		if !has(blocks[0], strings.Split(k.Path, ".")) {
			missing = append(missing, k.Path)
		}
	}
	return missing, nil
}

func has(m map[string]any, path []string) bool {
	v, ok := m[path[0]]
	if !ok {
		return false
	}
	if len(path) == 1 {
		return true
	}
	sub, ok := v.(map[string]any)
	return ok && has(sub, path[1:])
}

package config

import (
	"reflect"
	"strings"
)

// suggestKeys adds "did you mean …?" to the unknown-key problems among
// probs, from the keys the targets know at the same level. Paths of probs
// start with prefix.
func suggestKeys(probs Problems, prefix string, targets []any) {
	var known []string
	for _, t := range targets {
		known = appendKeys(known, reflect.TypeOf(t), "")
	}
	for i, p := range probs {
		if p.Msg != "unknown key" {
			continue
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(p.Path, prefix), ".")
		if best := closest(rel, known); best != "" {
			probs[i].Msg = `unknown key; did you mean "` + best + `"?`
		}
	}
}

// appendKeys lists the key paths a struct type decodes, nested blocks
// included ("rotate.max_size"). Maps take any key and are not listed below.
func appendKeys(keys []string, t reflect.Type, at string) []string {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return keys
	}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("mapstructure")
		name, opts, _ := strings.Cut(tag, ",")
		switch {
		case name == "-":
			continue
		case strings.Contains(opts, "squash"):
			keys = appendKeys(keys, f.Type, at)
			continue
		case name == "":
			if !f.IsExported() {
				continue
			}
			name = strings.ToLower(f.Name)
		}
		key := joinPath(at, name)
		keys = append(keys, key)
		keys = appendKeys(keys, f.Type, key)
	}
	return keys
}

// closest returns the known key nearest to key at the same level, when
// it is near enough to be a typo.
func closest(key string, known []string) string {
	parent, leaf := "", key
	if i := strings.LastIndexByte(key, '.'); i >= 0 {
		parent, leaf = key[:i], key[i+1:]
	}
	best, bestD := "", len(leaf)/3+2
	for _, k := range known {
		kp, kl := "", k
		if i := strings.LastIndexByte(k, '.'); i >= 0 {
			kp, kl = k[:i], k[i+1:]
		}
		if kp != parent {
			continue
		}
		if d := editDistance(leaf, kl); d < bestD {
			best, bestD = kl, d
		}
	}
	return best
}

// editDistance is the Damerau–Levenshtein distance (adjacent swaps count
// as one edit: "wrokers" is one away from "workers").
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

// typeUnused lists the keys of raw (key paths under at) that the struct
// type t does not decode. It descends into nested blocks only where t has
// a struct; a map, list or scalar field takes whatever is below it.
func typeUnused(raw map[string]any, t reflect.Type, at string) []string {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return nil
	}
	fields := map[string]reflect.Type{}
	var collect func(t reflect.Type)
	collect = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		for i := range t.NumField() {
			f := t.Field(i)
			name, opts, _ := strings.Cut(f.Tag.Get("mapstructure"), ",")
			switch {
			case name == "-":
			case strings.Contains(opts, "squash") && f.Type.Kind() == reflect.Struct:
				collect(f.Type)
			case name != "":
				fields[name] = f.Type
			case f.IsExported():
				fields[strings.ToLower(f.Name)] = f.Type
			}
		}
	}
	collect(t)
	var out []string
	for k, v := range raw {
		ft, ok := fields[k]
		key := joinPath(at, k)
		if !ok {
			out = append(out, key)
			continue
		}
		if sub, isMap := v.(map[string]any); isMap {
			out = append(out, typeUnused(sub, ft, key)...)
		}
	}
	return out
}

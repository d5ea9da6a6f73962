package normalize

import "slices"

// RawJSON is one valid, compact JSON value (no newline inside).
type RawJSON []byte

// Field is one key of Details with its value.
type Field struct {
	Key   string
	Value RawJSON
}

// Details is an ordered set of JSON fields. Order is the source's, so the
// output reads like the input; lookups are linear, which beats a map for the
// handful of keys a record carries.
type Details []Field

// Set adds key, or replaces its value when present.
func (d *Details) Set(key string, v RawJSON) {
	for i := range *d {
		if (*d)[i].Key == key {
			(*d)[i].Value = v
			return
		}
	}
	*d = append(*d, Field{Key: key, Value: v})
}

// Get returns the value of key, or nil.
func (d Details) Get(key string) RawJSON {
	for _, f := range d {
		if f.Key == key {
			return f.Value
		}
	}
	return nil
}

// Delete removes key if present.
func (d *Details) Delete(key string) {
	*d = slices.DeleteFunc(*d, func(f Field) bool { return f.Key == key })
}

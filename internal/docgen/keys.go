// Package docgen writes the generated parts of the documentation from the
// code: each plugin README's block (its sample.yaml and a table of its keys
// built from its options struct: key, type, default, the field's doc
// comment), the key tables of the shared fragments (Unix socket options,
// TLS, signature maps, delivery keys) and the index of plugins. `make docs`
// writes them (cmd/alertgw's TestGeneratedDocs with -update); the same test
// fails when a page differs from what the generator writes.
package docgen

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/alertgw/alertgw/config"
)

// Module is the module path; a package's folder is its path after it.
const Module = "github.com/alertgw/alertgw"

// Key is one configuration key of an options struct.
type Key struct {
	Path    string // dotted: rotate.max_size; a list of objects: groups[].group
	Type    string // string, integer, boolean, duration, size, …
	Default string // the default's YAML form; "" when zero
	Doc     string // the field's doc comment, as one paragraph
	// Fragment, when set, is the shared set of keys (Unix socket options,
	// TLS) this key belongs to: its description is on the fragment's page,
	// its default is this plugin's.
	Fragment *Fragment
	// Container keys (a nested object, a list of objects) have their keys
	// listed after them.
	Container bool
}

// Fragment is a set of keys several plugins share, documented once.
type Fragment struct {
	Name string // what a row links with: "Unix socket options"
	Page string // its page, relative to the module root
}

// Generator reads option structs and their doc comments.
type Generator struct {
	src *sources
	// Fragments maps a shared options type to its page.
	Fragments map[reflect.Type]*Fragment
}

// New returns a generator reading Go sources under root (the module root).
func New(root string, fragments map[reflect.Type]*Fragment) *Generator {
	return &Generator{src: newSources(root), Fragments: fragments}
}

// Keys lists the keys of an options struct (a pointer to it, defaults
// set), in declaration order. Fields of a shared fragment type are one Key.
func (g *Generator) Keys(opts any) ([]Key, error) {
	v := reflect.ValueOf(opts)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return nil, fmt.Errorf("options must be a pointer to a struct, got %T", opts)
	}
	var keys []Key
	err := g.walk(v.Elem(), nil, "", nil, &keys)
	return keys, err
}

// walk appends the keys of struct value v under prefix. fields are the doc
// comments of v's fields by name when v is an anonymous struct (nil: read
// them from v's type declaration).
//
// Keys found inside a shared fragment type (frag) are marked with it.
func (g *Generator) walk(v reflect.Value, fields map[string]string, prefix string, frag *Fragment, keys *[]Key) error {
	t := v.Type()
	if fields == nil {
		var err error
		if fields, err = g.src.fieldDocs(t); err != nil {
			return err
		}
	}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("mapstructure")
		name, opt, _ := strings.Cut(tag, ",")
		if name == "-" || (!f.IsExported() && opt != "squash") {
			continue
		}
		fv := v.Field(i)
		fieldFrag := frag
		if fr := g.Fragments[f.Type]; fr != nil && frag == nil {
			fieldFrag = fr
		}
		if opt == "squash" {
			if err := g.walk(fv, nil, prefix, fieldFrag, keys); err != nil {
				return err
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		path := prefix + name
		doc := fields[f.Name]
		ft := f.Type
		switch {
		case isStruct(ft):
			*keys = append(*keys, Key{Path: path, Type: "object", Doc: doc, Container: true, Fragment: fieldFrag})
			var sub map[string]string
			if ft.Name() == "" { // anonymous: its fields' comments are in the parent's declaration
				sub = g.src.inlineDocs(t, f.Name)
			}
			if fv.Kind() == reflect.Pointer {
				fv = reflect.New(ft.Elem()).Elem()
			}
			if err := g.walk(fv, sub, path+".", fieldFrag, keys); err != nil {
				return err
			}
		case ft.Kind() == reflect.Slice && isStruct(ft.Elem()):
			*keys = append(*keys, Key{Path: path, Type: "list of objects", Doc: doc, Container: true, Fragment: fieldFrag})
			var sub map[string]string
			if ft.Elem().Name() == "" {
				sub = g.src.inlineDocs(t, f.Name)
			}
			if err := g.walk(reflect.New(ft.Elem()).Elem(), sub, path+"[].", fieldFrag, keys); err != nil {
				return err
			}
		default:
			*keys = append(*keys, Key{Path: path, Type: typeName(ft), Default: yamlValue(fv), Doc: doc, Fragment: fieldFrag})
		}
	}
	return nil
}

func isStruct(t reflect.Type) bool {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return false
	}
	// Types that decode from one scalar are values, not objects.
	return !reflect.PointerTo(t).Implements(textUnmarshaler) && t != reflect.TypeFor[time.Time]()
}

var textUnmarshaler = reflect.TypeFor[interface{ UnmarshalText([]byte) error }]()

// docTyped is a config type that names itself in the docs ("duration or
// days") and prints its values with String.
type docTyped interface {
	DocType() string
	String() string
}

// typeName is a key's type as a user writes it.
func typeName(t reflect.Type) string {
	if d, ok := reflect.Zero(t).Interface().(docTyped); ok {
		return d.DocType()
	}
	switch t {
	case reflect.TypeFor[time.Duration]():
		return "duration"
	case reflect.TypeFor[config.Size]():
		return "size"
	case reflect.TypeFor[config.FileMode]():
		return "file mode"
	}
	if t.Name() == "Secret" {
		return "secret"
	}
	if t.Kind() == reflect.Slice && reflect.PointerTo(t).Implements(textUnmarshaler) {
		return "list of " + typeName(t.Elem()) + "s, or one"
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice:
		return "list of " + typeName(t.Elem()) + "s"
	case reflect.Map:
		return "map of " + typeName(t.Elem()) + "s"
	case reflect.Pointer:
		return typeName(t.Elem())
	}
	return t.String()
}

// yamlValue is v's default as a user writes it; "" when it is zero,
// except for booleans and numbers, whose zero says something.
func yamlValue(v reflect.Value) string {
	if d, ok := v.Interface().(docTyped); ok {
		return d.String()
	}
	switch x := v.Interface().(type) {
	case time.Duration:
		if x == 0 {
			return "0"
		}
		return shortDuration(x)
	case config.Size:
		return sizeString(uint64(x))
	case config.FileMode:
		if x == 0 {
			return ""
		}
		return `"` + x.String() + `"`
	}
	switch v.Kind() {
	case reflect.String:
		if v.String() == "" {
			return ""
		}
		return v.String()
	case reflect.Bool:
		return strconv.FormatBool(v.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(v.Int(), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.FormatUint(v.Uint(), 10)
	case reflect.Float32, reflect.Float64:
		return strconv.FormatFloat(v.Float(), 'g', -1, 64)
	case reflect.Slice:
		if v.Len() == 0 {
			return ""
		}
		var parts []string
		for i := range v.Len() {
			parts = append(parts, yamlValue(v.Index(i)))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case reflect.Map:
		if v.Len() == 0 {
			return ""
		}
		var parts []string
		for _, k := range v.MapKeys() {
			parts = append(parts, fmt.Sprint(k.Interface())+": "+yamlValue(v.MapIndex(k)))
		}
		slices.Sort(parts)
		return "{" + strings.Join(parts, ", ") + "}"
	case reflect.Pointer:
		if v.IsNil() {
			return ""
		}
		return yamlValue(v.Elem())
	}
	return fmt.Sprint(v.Interface())
}

// shortDuration drops the zero units time.Duration.String leaves: 1m, not
// 1m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// sizeString writes a size with the largest binary unit that divides it.
func sizeString(n uint64) string {
	for _, u := range []struct {
		unit string
		size uint64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n >= u.size && n%u.size == 0 {
			return strconv.FormatUint(n/u.size, 10) + u.unit
		}
	}
	return strconv.FormatUint(n, 10)
}

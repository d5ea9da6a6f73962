// Package schematest validates native JSON lines against the published
// JSON Schema, docs/schema/event-v1.json, so that every golden test of every
// input checks the schema and the encoder agree.
package schematest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// SchemaFile is the schema's path relative to the module root.
const SchemaFile = "docs/schema/event-v1.json"

var (
	once     sync.Once
	compiled *jsonschema.Schema
	loadErr  error
)

// Validate fails t unless line is one native event (a single JSON object,
// no newline inside; a trailing newline is allowed) that validates against
// docs/schema/event-v1.json, format assertions (date-time, ipv4, ipv6)
// included.
func Validate(t testing.TB, line []byte) {
	t.Helper()
	if err := validate(line); err != nil {
		t.Errorf("schema %s: %v\nline: %s", SchemaFile, err, line)
	}
}

func validate(line []byte) error {
	sch, err := schema()
	if err != nil {
		return err
	}
	line = bytes.TrimSuffix(line, []byte("\n"))
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		return fmt.Errorf("newline at offset %d inside the line", i)
	}
	dec := bytes.NewReader(line)
	v, err := jsonschema.UnmarshalJSON(dec)
	if err != nil {
		return fmt.Errorf("not one JSON value: %w", err)
	}
	return sch.Validate(v)
}

func schema() (*jsonschema.Schema, error) {
	once.Do(func() {
		path, err := schemaPath()
		if err != nil {
			loadErr = err
			return
		}
		c := jsonschema.NewCompiler()
		c.DefaultDraft(jsonschema.Draft2020)
		c.AssertFormat()
		compiled, loadErr = c.Compile(path)
		if loadErr != nil {
			loadErr = fmt.Errorf("compile %s: %w", path, loadErr)
		}
	})
	return compiled, loadErr
}

// schemaPath finds the schema from any package's test: next to this source
// file when its path is known (not under -trimpath), else in the nearest
// directory above the working directory (a package directory, under go
// test) that holds it.
func schemaPath() (string, error) {
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		p := filepath.Join(filepath.Dir(file), "..", "..", filepath.FromSlash(SchemaFile))
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, filepath.FromSlash(SchemaFile))
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("cannot find " + SchemaFile + " above the working directory")
		}
		dir = parent
	}
}

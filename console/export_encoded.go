package console

import "errors"

// newEncodedExporter re-encodes stored native events as ECS or OCSF.
func newEncodedExporter(format string) (exporter, error) {
	return nil, errors.New(format + " export needs the native decoder (normalize/native), not merged yet")
}

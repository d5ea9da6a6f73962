package console

import (
	"bufio"
	"fmt"

	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/normalize/native"
	"github.com/alertgw/alertgw/outputs/format"
	"github.com/alertgw/alertgw/store"
)

// encodedExporter re-encodes stored native events as ECS or OCSF: the store
// keeps the native line, so each event is decoded back into a
// normalize.Event and written by the same encoder the outputs use, which
// makes an export read exactly like that output's documents.
type encodedExporter struct {
	enc format.Encoder
	ev  normalize.Event
	buf []byte
}

// newEncodedExporter returns the exporter of an output format ("ecs" or
// "ocsf").
func newEncodedExporter(name string) (exporter, error) {
	enc, err := format.Lookup(name)
	if err != nil {
		return nil, err
	}
	return &encodedExporter{enc: enc}, nil
}

func (*encodedExporter) header(*bufio.Writer) error { return nil }

func (x *encodedExporter) event(w *bufio.Writer, e store.Event) error {
	if err := (native.Decoder{}).Decode(e.JSON, &x.ev); err != nil {
		return fmt.Errorf("stored event is not native JSON: %w", err)
	}
	x.buf = x.enc.AppendEvent(x.buf[:0], &x.ev)
	x.buf = append(x.buf, '\n')
	_, err := w.Write(x.buf)
	return err
}

func (*encodedExporter) flush(*bufio.Writer) error { return nil }

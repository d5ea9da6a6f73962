package unified2

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/alertgw/alertgw/inputs"
	"github.com/alertgw/alertgw/normalize"
	u2 "github.com/alertgw/alertgw/normalize/unified2"
)

// FileReader reads whole unified2 files for `alertgw replay --type
// unified2`: any record type, aggregated into events (event + packets +
// extra data) and mapped as the live input does.
type FileReader struct {
	Mapper    *u2.Mapper
	BatchSize int // events per Events call; 0: 256
}

// newFileReader is the plugin's Files: signature maps and packet_bytes
// come from the options (replay's --sid-msg-map and friends).
func newFileReader(o any) (inputs.FileReader, error) {
	opts := o.(*Options)
	m, err := newMapper(opts)
	if err != nil {
		return nil, err
	}
	return &FileReader{Mapper: m, BatchSize: opts.BatchSize}, nil
}

// ReadFile implements inputs.FileReader.
func (fr *FileReader) ReadFile(ctx context.Context, name string, r *bufio.Reader, emit inputs.Emitter) error {
	size := cmp.Or(fr.BatchSize, 256)
	rd := u2.NewReader(r, 0)
	var g u2.Aggregator
	var batch []*normalize.Event
	flush := func() {
		if len(batch) > 0 {
			emit.Events(batch, nil)
			batch = nil
		}
	}
	add := func(a *u2.Alert) {
		ev := &normalize.Event{}
		fr.Mapper.Map(a, ev)
		batch = append(batch, ev)
		if len(batch) >= size {
			flush()
		}
	}
	defer flush()
	for ctx.Err() == nil {
		rec, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			if a := g.Flush(); a != nil {
				add(a)
			}
			emit.Failed(nil, reasonOf(err), fmt.Errorf("%s: %w", name, err))
			return err
		}
		a, aerr := g.Add(rec)
		if aerr != nil {
			emit.Failed(slices.Clone(rec.Body), normalize.ReasonMalformed, fmt.Errorf("%s: %w", name, aerr))
		}
		if a != nil {
			add(a)
		}
	}
	if a := g.Flush(); a != nil {
		add(a)
	}
	return nil
}

func reasonOf(err error) string {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return normalize.ReasonTruncated
	}
	return normalize.ReasonMalformed
}

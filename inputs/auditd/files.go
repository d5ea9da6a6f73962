package auditd

import (
	"bufio"
	"context"
	"errors"
	"io"

	"github.com/rs/zerolog"

	"github.com/alertgw/alertgw/inputs"
	"github.com/alertgw/alertgw/stats"
)

// fileReader reads audit.log files for `alertgw replay --type auditd`:
// the same framer, assembler, process table and labels as the live input
// with `source: file`. One processor serves every file given, in order, so
// an event whose records straddle a rotation is still assembled; Finish
// completes what is left after the last file.
type fileReader struct {
	opts *Options
	in   *Input
	s    *session
}

func newFileReader(o any) (inputs.FileReader, error) {
	opts := *o.(*Options)
	opts.Source = SourceFile
	opts.ProcLookup = false // another host's (or another time's) processes are not in our /proc
	return &fileReader{opts: &opts}, nil
}

// ReadFile implements inputs.FileReader.
func (r *fileReader) ReadFile(ctx context.Context, _ string, br *bufio.Reader, emit inputs.Emitter) error {
	if r.in == nil {
		in, err := New(inputs.Env{Name: Plugin.Type, Log: zerolog.Nop(), Stats: &stats.Input{}}, r.opts)
		if err != nil {
			return err
		}
		r.in = in.(*Input)
		r.s = &session{in: r.in}
		r.in.proc.Failed = func(raw []byte, err error) { r.s.failed = append(r.s.failed, failure{raw, err}) }
	}
	r.s.emit = emit
	if err := r.s.stream(ctx, br, nil); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

// Finish implements replay.Finisher: events still open at the end of the
// last file are completed and emitted.
func (r *fileReader) Finish(_ context.Context, emit inputs.Emitter) error {
	if r.in == nil {
		return nil
	}
	r.s.emit = emit
	r.s.flush(r.in.proc.Close(nil))
	return nil
}

package pipeline

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"time"
)

// ErrNotRunning is returned by reload operations outside Run.
var ErrNotRunning = errors.New("pipeline is not running")

// InputNames lists the running inputs.
func (p *Pipeline) InputNames() []string {
	p.reloadMu.Lock()
	defer p.reloadMu.Unlock()
	names := make([]string, len(p.inputs))
	for i, in := range p.inputs {
		names[i] = in.Name
	}
	return names
}

// StopInput stops the named input and waits (up to the shutdown timeout)
// for it to release its sockets. What it already read goes through the
// pipeline as usual.
func (p *Pipeline) StopInput(name string) error {
	p.reloadMu.Lock()
	defer p.reloadMu.Unlock()
	if !p.running {
		return ErrNotRunning
	}
	i := slices.IndexFunc(p.inputs, func(in *inputRunner) bool { return in.Name == name })
	if i < 0 {
		return fmt.Errorf("no input named %q", name)
	}
	in := p.inputs[i]
	in.stop()
	select {
	case <-in.stopped:
	case <-time.After(p.opts.ShutdownTimeout):
		return fmt.Errorf("input %s did not stop within %s", name, p.opts.ShutdownTimeout)
	}
	p.inputs = slices.Delete(p.inputs, i, i+1)
	return nil
}

// StartInput adds and starts an input.
func (p *Pipeline) StartInput(in Input) error {
	p.reloadMu.Lock()
	defer p.reloadMu.Unlock()
	if !p.running {
		return ErrNotRunning
	}
	if slices.ContainsFunc(p.inputs, func(r *inputRunner) bool { return r.Name == in.Name }) {
		return fmt.Errorf("input %q is already running", in.Name)
	}
	r := newInputRunner(in)
	p.inputs = append(p.inputs, r)
	p.startInput(r)
	return nil
}

// OutputChanges says how a reload changes the outputs. Outputs named in none
// of the lists keep running untouched.
type OutputChanges struct {
	Add     []Output // new names
	Replace []Output // same name, new configuration
	Remove  []string
	// Stages, when not nil, is the new list of named stages: a stage whose
	// configuration is unchanged keeps running with what it holds; one that
	// changed or left hands on (flushes) what it held.
	Stages *[]Stage
}

// ChangeOutputs applies changes without losing events:
//   - an added output receives every batch fanned out from now on;
//   - a replaced output's old writer finishes what it had queued, then
//     closes; the new one receives everything fanned out from the swap on,
//     and starts writing once the old one closed, so two writers never
//     share a file. When both use the same disk buffer directory, the new
//     one opens it only then, and replays what the old one left there;
//   - a removed output finishes what it had queued, then closes.
func (p *Pipeline) ChangeOutputs(c OutputChanges) error {
	p.reloadMu.Lock()
	defer p.reloadMu.Unlock()
	if !p.running {
		return ErrNotRunning
	}
	old := p.topo.Load()
	byName := func(name string) *outputRunner {
		i := slices.IndexFunc(old.outputs, func(o *outputRunner) bool { return o.Name == name })
		if i < 0 {
			return nil
		}
		return old.outputs[i]
	}
	var built []*outputRunner // to undo on error
	fail := func(err error) error {
		for _, r := range built {
			r.q.closeDisk()
			r.Writer.Close()
		}
		return err
	}

	next := slices.Clone(old.outputs)
	type swap struct{ old, new *outputRunner }
	var swaps []swap
	for _, o := range c.Replace {
		prev := byName(o.Name)
		if prev == nil {
			return fail(fmt.Errorf("no output named %q to replace", o.Name))
		}
		r, err := newOutputRunnerFor(o, prev)
		if err != nil {
			return fail(err)
		}
		built = append(built, r)
		swaps = append(swaps, swap{prev, r})
		next[slices.Index(next, prev)] = r
	}
	for _, o := range c.Add {
		if byName(o.Name) != nil {
			return fail(fmt.Errorf("output %q already exists", o.Name))
		}
		r, err := newOutputRunner(o)
		if err != nil {
			return fail(err)
		}
		built = append(built, r)
		next = append(next, r)
	}
	var removed []*outputRunner
	for _, name := range c.Remove {
		prev := byName(name)
		if prev == nil {
			return fail(fmt.Errorf("no output named %q to remove", name))
		}
		removed = append(removed, prev)
		next = slices.DeleteFunc(next, func(o *outputRunner) bool { return o == prev })
	}

	stages := old.stages
	if c.Stages != nil {
		stages = nil
		for _, sc := range *c.Stages {
			i := slices.IndexFunc(old.stages, func(s *stage) bool { return sameStage(s.Stage, sc) })
			if i >= 0 {
				stages = append(stages, old.stages[i])
				continue
			}
			s, err := newStage(sc)
			if err != nil {
				return fail(err)
			}
			stages = append(stages, s)
		}
	}

	// From here on nothing fails: swap, then retire what left. Stages
	// that changed or left, and the own aggregations of outputs that did,
	// hand on what they held first (a stage's readers are looked up in the
	// new topology; an output's aggregation empties into its own queue,
	// before that queue retires).
	t := newTopology(next, stages)
	p.topo.Store(t)
	for _, s := range old.stages {
		if !slices.Contains(stages, s) {
			p.emit(s, s.flush())
		}
	}
	for _, s := range swaps {
		if s.old.agg != nil {
			p.emit(s.old.agg, s.old.agg.flush())
		}
		s.old.q.retire(s.new.q)
		p.startOutput(s.new)
	}
	for _, r := range removed {
		if r.agg != nil {
			p.emit(r.agg, r.agg.flush())
		}
		r.q.retire(nil)
	}
	p.startStages(t)
	for _, r := range built {
		if !slices.ContainsFunc(swaps, func(s swap) bool { return s.new == r }) {
			p.startOutput(r)
		}
	}
	return nil
}

// newOutputRunnerAfter builds an output that writes only once after is
// closed (nil: at once), opening its disk buffer then.
func newOutputRunnerAfter(o Output, after <-chan struct{}) (*outputRunner, error) {
	if after == nil {
		return newOutputRunner(o)
	}
	return newDeferredRunner(o, after, "takeover")
}

// newDeferredRunner builds an output runner on a memory queue that starts
// writing once after is closed, attaching its disk buffer first.
func newDeferredRunner(o Output, after <-chan struct{}, why string) (*outputRunner, error) {
	memOnly := o
	memOnly.Buffer.Path, memOnly.Buffer.Type = "", "memory"
	r, err := newOutputRunner(memOnly)
	if err != nil {
		return nil, err
	}
	r.q.diskType = o.Buffer.Type == BufferDisk // the journal waits for it
	r.Output = o                               // the real buffer settings, for the attach below and for stats
	if o.Buffer.Path != "" {
		o.Stats.BufferLimit.Store(int64(o.Buffer.MaxBytes))
	}
	start := make(chan struct{})
	r.start = start
	go func() {
		<-after
		if err := r.q.attachDisk(o.Buffer); err != nil {
			o.Log.Error().Err(err).Str("after", why).Msg("cannot open the disk buffer; this output runs on memory only")
		}
		close(start)
	}()
	return r, nil
}

// newOutputRunnerFor builds the replacement of prev. Its writer waits for
// prev to close; when both use one disk buffer directory, the disk part is
// attached only then.
func newOutputRunnerFor(o Output, prev *outputRunner) (*outputRunner, error) {
	sameDisk := o.Buffer.Path != "" && o.Buffer.Path == prev.Buffer.Path
	if !sameDisk {
		r, err := newOutputRunner(o)
		if err != nil {
			return nil, err
		}
		r.start = prev.finished
		return r, nil
	}
	r, err := newDeferredRunner(o, prev.finished, "reload")
	if err != nil {
		return nil, err
	}
	return r, nil
}

// sameStage says whether a running stage can stay as it is under config b.
func sameStage(a, b Stage) bool {
	a.Stats, b.Stats = nil, nil
	return reflect.DeepEqual(a, b)
}

package main

import (
	"errors"
	"fmt"
	"reflect"
	"sync"

	"github.com/rs/zerolog"

	"github.com/alertgw/alertgw/config"
	"github.com/alertgw/alertgw/pipeline"
	"github.com/alertgw/alertgw/stats"
)

// reloader applies a changed configuration file to the running pipeline
// (SIGHUP, `alertgw reload`). Inputs and outputs are compared by name:
// unchanged ones keep running (an input keeps its socket: Suricata and Snort
// keep sending to it), removed ones stop after draining, changed ones are
// replaced, new ones start. A file with problems is rejected and the running
// configuration keeps going.
type reloader struct {
	mu   sync.Mutex
	path string
	p    *pipeline.Pipeline
	log  zerolog.Logger
	reg  *stats.Registry
	js   *journals
	cur  *config.File
	// What runs now, by name: the blocks as last applied.
	inputs, outputs map[string]config.Block
	// secrets, when set, learns the credentials of the outputs a reload
	// builds (the admin endpoint never shows them).
	secrets func(...string)
}

func newReloader(path string, f *config.File, p *pipeline.Pipeline, log zerolog.Logger, reg *stats.Registry, js *journals) *reloader {
	r := &reloader{path: path, p: p, log: log, reg: reg, js: js, cur: f, inputs: map[string]config.Block{}, outputs: map[string]config.Block{}}
	for _, b := range f.Inputs {
		r.inputs[b.Name] = b
	}
	for _, b := range f.Outputs {
		r.outputs[b.Name] = b
	}
	return r
}

// Reload reads the configuration file again and applies the differences.
func (r *reloader) Reload() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	f, ins, outs, probs, err := loadConfig(r.path)
	if err != nil {
		return fmt.Errorf("reload rejected: %w", err)
	}
	if err := probs.Err(); err != nil {
		return fmt.Errorf("reload rejected, the running configuration goes on: %w", err)
	}
	r.warnRestartOnly(f)
	if lvl, err := zerolog.ParseLevel(f.Log.Level); err == nil {
		zerolog.SetGlobalLevel(lvl)
	}

	var errs []error
	// Inputs: stop what went or changed first, so a changed input can bind
	// its socket path again.
	wanted := map[string]decodedInput{}
	for _, d := range ins {
		wanted[d.block.Name] = d
	}
	for name, b := range r.inputs {
		if d, ok := wanted[name]; ok && sameBlock(b, d.block) {
			continue
		}
		if err := r.p.StopInput(name); err != nil {
			errs = append(errs, fmt.Errorf("stop input %s: %w", name, err))
			continue
		}
		delete(r.inputs, name)
		if _, kept := wanted[name]; !kept {
			r.reg.RemoveInput(name) // a changed input keeps its counters
		}
		r.log.Info().Str("input", name).Msg("reload: input stopped")
	}
	for _, d := range ins {
		if _, running := r.inputs[d.block.Name]; running {
			continue
		}
		in, err := buildInput(f, d, r.log, r.reg, r.js)
		if err == nil && r.secrets != nil {
			r.secrets(secretsOf(d.opts)...)
		}
		if err == nil {
			if err = r.p.StartInput(in); err != nil {
				in.Reader.Close() // built, never run: release its sockets
			}
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("start input %s: %w", d.block.Name, err))
			continue
		}
		r.inputs[d.block.Name] = d.block
		r.log.Info().Str("input", d.block.Name).Msg("reload: input started")
	}

	// Outputs: one atomic change.
	var ch pipeline.OutputChanges
	applied := map[string]config.Block{}
	for _, d := range outs {
		prev, exists := r.outputs[d.block.Name]
		if exists && sameBlock(prev, d.block) {
			continue
		}
		o, err := buildOutput(f, d, r.log, r.reg)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if r.secrets != nil {
			r.secrets(secretsOf(d.opts)...)
		}
		if exists {
			ch.Replace = append(ch.Replace, o)
		} else {
			ch.Add = append(ch.Add, o)
		}
		applied[d.block.Name] = d.block
	}
	stillWanted := map[string]bool{}
	for _, d := range outs {
		stillWanted[d.block.Name] = true
	}
	for name := range r.outputs {
		if !stillWanted[name] {
			ch.Remove = append(ch.Remove, name)
		}
	}
	// Stages: handed over whole; the pipeline keeps those that did not
	// change and flushes the others.
	if stages, _ := decodeStages(f, outs, r.reg); !reflect.DeepEqual(f.Stages, r.cur.Stages) {
		ch.Stages = &stages
	}
	if len(ch.Add)+len(ch.Replace)+len(ch.Remove) > 0 || ch.Stages != nil {
		if err := r.p.ChangeOutputs(ch); err != nil {
			for _, o := range append(ch.Add, ch.Replace...) {
				o.Writer.Close()
			}
			errs = append(errs, fmt.Errorf("change outputs: %w", err))
		} else {
			for name, b := range applied {
				r.outputs[name] = b
			}
			for _, name := range ch.Remove {
				delete(r.outputs, name)
				r.reg.RemoveOutput(name)
				r.reg.RemoveStage(name + ".aggregate")
			}
			if ch.Stages != nil {
				r.forgetStages(f)
			}
			r.log.Info().Int("added", len(ch.Add)).Int("replaced", len(ch.Replace)).Int("removed", len(ch.Remove)).Msg("reload: outputs changed")
		}
	}
	r.cur = f
	return errors.Join(errs...)
}

// forgetStages drops the counters of named stages the new file no longer has.
func (r *reloader) forgetStages(f *config.File) {
	kept := map[string]bool{}
	for _, b := range f.Stages {
		kept[b.Name] = true
	}
	for _, b := range r.cur.Stages {
		if !kept[b.Name] {
			r.reg.RemoveStage(b.Name)
		}
	}
}

// warnRestartOnly logs the settings a reload cannot change.
func (r *reloader) warnRestartOnly(f *config.File) {
	for _, c := range []struct {
		key      string
		old, new any
	}{
		{"sensor", r.cur.Sensor, f.Sensor},
		{"pipeline", r.cur.Pipeline, f.Pipeline},
		{"dead_letter", r.cur.DeadLetter, f.DeadLetter},
		{"admin", r.cur.Admin, f.Admin},
		{"run_as", r.cur.RunAs, f.RunAs},
		{"enrich", r.cur.Enrich, f.Enrich},                 // the GeoIP files themselves reload on their own
		{"community_id", r.cur.CommunityID, f.CommunityID}, // an input's own community_id applies when it restarts
	} {
		if !reflect.DeepEqual(c.old, c.new) {
			r.log.Warn().Str("key", c.key).Msg("reload: this setting changes only at restart")
		}
	}
}

// sameBlock reports whether a block's configuration is unchanged.
func sameBlock(a, b config.Block) bool {
	return a.Type == b.Type && reflect.DeepEqual(a.Options, b.Options)
}

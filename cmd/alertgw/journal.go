package main

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"sync"

	"github.com/rs/zerolog"

	"github.com/alertgw/alertgw/config"
	"github.com/alertgw/alertgw/inputs"
	"github.com/alertgw/alertgw/inputs/journal"
	"github.com/alertgw/alertgw/pipeline"
)

// journals opens the socket inputs' journals (pipeline.journal) and keeps
// them, by input name, for the life of the process: an input that a reload
// rebuilds goes on with the journal that holds what its predecessor read,
// and acknowledgements of what it read arrive until the outputs are done.
type journals struct {
	mu   sync.Mutex
	on   bool
	dir  string
	byIn map[string]*journal.Journal
	log  zerolog.Logger
	// deferred: the process takes over from another (SIGUSR2) that still
	// holds the journals and disk buffers: journals are opened by Start,
	// outputs built at first use, once takeover is closed.
	deferred bool
	takeover <-chan struct{}
}

// newJournals decides, from the configuration at start, whether inputs
// journal: with mode auto, when an output has buffer.type: disk (only those
// keep events across a kill, so only they need the window before their disk
// buffer closed).
func newJournals(f *config.File, outs []decodedOutput, log zerolog.Logger, takeover <-chan struct{}) *journals {
	js := &journals{dir: f.Pipeline.Journal.Path, byIn: map[string]*journal.Journal{}, log: log,
		deferred: takeover != nil, takeover: takeover}
	switch f.Pipeline.Journal.Mode {
	case config.JournalAlways:
		js.on = true
	case config.JournalAuto:
		for _, o := range outs {
			if o.common.Buffer.Type == pipeline.BufferDisk {
				js.on = true
			}
		}
	}
	return js
}

// forInput returns the journal of the named input, opening it the first
// time; nil when journaling is off or the input type does not journal.
func (js *journals) forInput(name string, p inputs.Plugin) (*journal.Journal, error) {
	if js == nil || !js.on || !p.Journaled {
		return nil, nil
	}
	js.mu.Lock()
	defer js.mu.Unlock()
	if j := js.byIn[name]; j != nil {
		return j, nil
	}
	dir := filepath.Join(js.dir, url.PathEscape(name))
	if js.deferred {
		j := journal.Unopened(journal.Options{Dir: dir})
		js.byIn[name] = j
		return j, nil
	}
	j, err := journal.Open(journal.Options{Dir: dir})
	if err != nil {
		return nil, err
	}
	if e, m := j.Pending(); e > 0 {
		js.log.Info().Str("input", name).Str("path", dir).Int("messages", m).Msg("journal: messages left by the last run will be replayed")
	}
	if c := j.Counts(); c.Corrupt > 0 {
		js.log.Warn().Str("input", name).Int64("bytes", c.Corrupt).Msg("journal: torn tail cut off (the gateway was killed during a write)")
	}
	js.byIn[name] = j
	return j, nil
}

// Start opens the journals of a takeover once the old process has exited;
// journals opened from then on open at once.
func (js *journals) Start() error {
	js.mu.Lock()
	defer js.mu.Unlock()
	js.deferred = false
	var err error
	for name, j := range js.byIn {
		if serr := j.Start(); serr != nil {
			err = errors.Join(err, fmt.Errorf("input %s: %w", name, serr))
		}
	}
	return err
}

// Close closes every journal once the pipeline has stopped: what was not
// acknowledged is replayed at the next start.
func (js *journals) Close() error {
	if js == nil {
		return nil
	}
	js.mu.Lock()
	defer js.mu.Unlock()
	var err error
	for name, j := range js.byIn {
		if n := j.Counts().Unacknowledged; n > 0 {
			js.log.Info().Str("input", name).Int("batches", n).Msg("journal: batches kept for the next start")
		}
		err = errors.Join(err, j.Close())
	}
	return err
}

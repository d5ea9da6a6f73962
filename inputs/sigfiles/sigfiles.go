// Package sigfiles reads the signature-map files that the Snort-family
// inputs name (sid-msg.map v1 and v2, gen-msg.map, classification.config,
// Snort 2/3 rules) into normalize/sigmap's tables, and reads them again on
// SIGHUP. normalize/sigmap parses; this package opens the files.
package sigfiles

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/alertgw/alertgw/normalize/sigmap"
)

// Files names the signature-map files of an input block (its `signatures`
// keys); empty names are skipped.
type Files struct {
	// SidMsg lists sid-msg.map files: v1 `sid || msg || refs` and v2
	// `gid || sid || rev || class || priority || msg || refs`, detected
	// per line.
	SidMsg []string `mapstructure:"sid_msg_map" path:"read"`
	// GenMsg is a gen-msg.map file (`gid || sid || msg`): messages of the
	// preprocessor and decoder events.
	GenMsg string `mapstructure:"gen_msg_map" path:"read"`
	// Classification is a classification.config file: the class id in a
	// record is the 1-based position of its `config classification:`
	// line, whose description becomes the event's category.
	Classification string `mapstructure:"classification_config" path:"read"`
	// Rules lists Snort 2/3 rules files: msg, gid, sid, rev, classtype and
	// priority of every rule (commented-out rules too). Snort 3 has no
	// sid-msg.map: point this at its rules. A sid-msg.map entry for the
	// same gid:sid wins.
	Rules []string `mapstructure:"rules" path:"read"`
}

// Empty reports whether no file is named.
func (f Files) Empty() bool {
	return len(f.SidMsg) == 0 && f.GenMsg == "" && f.Classification == "" && len(f.Rules) == 0
}

// LoadTables reads and parses the named files.
func LoadTables(f Files) (*sigmap.Tables, error) {
	t := &sigmap.Tables{}
	var errs []error
	// Rules first: a sid-msg.map entry, written for the sensor, wins.
	for _, p := range f.Rules {
		errs = append(errs, parseFile(p, t.ParseRules))
	}
	for _, p := range f.SidMsg {
		errs = append(errs, parseFile(p, t.ParseSidMsg))
	}
	if f.GenMsg != "" {
		errs = append(errs, parseFile(f.GenMsg, t.ParseGenMsg))
	}
	if f.Classification != "" {
		errs = append(errs, parseFile(f.Classification, t.ParseClassification))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return t, nil
}

func parseFile(path string, parse func(io.Reader) error) error {
	fh, err := os.Open(path)
	if err != nil {
		return err
	}
	defer fh.Close()
	if err := parse(fh); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// Load reads the files into a new Map; nil, nil when f names none.
func Load(f Files) (*sigmap.Map, error) {
	if f.Empty() {
		return nil, nil
	}
	t, err := LoadTables(f)
	if err != nil {
		return nil, fmt.Errorf("signature maps: %w", err)
	}
	return sigmap.FromTables(t), nil
}

// Reload reads the files again into m. On error m keeps the tables it had.
// A nil m (no files) has nothing to reload.
func Reload(m *sigmap.Map, f Files) error {
	if m == nil {
		return nil
	}
	t, err := LoadTables(f)
	if err != nil {
		return fmt.Errorf("signature maps: %w", err)
	}
	m.Store(t)
	return nil
}

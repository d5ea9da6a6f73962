// Package sigmap resolves what unified2 records and Snort's Alertpkt do not
// carry: a signature's message (sid-msg.map v1 and v2, gen-msg.map) and a
// classification id's name and default priority (classification.config).
//
// The package does no I/O: Parse* take an io.Reader, and a Map holds the
// parsed tables behind an atomic pointer, so decoders on many goroutines
// look up without locks while a reload swaps in new ones. Reading the
// files an input names, and reading them again on SIGHUP, is
// inputs/sigfiles' job.
package sigmap

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/alertgw/alertgw/normalize"
)

// Signature is what a map says about one gid:sid.
type Signature struct {
	Msg      string
	Rev      uint32 // 0 when the map does not say (v1, gen-msg.map)
	Class    string // classification short name (v2 only)
	Priority uint32 // 0 when the map does not say
}

// Class is one classification.config entry. Its id is its 1-based position
// among the `config classification:` lines, as Snort numbers them.
type Class struct {
	ShortName   string
	Description string
	Priority    uint32
}

type key struct{ gid, sid uint32 }

// Tables is one parsed set of files. The zero value is empty and usable.
type Tables struct {
	sigs    map[key]Signature
	classes []Class
	byName  map[string]uint32 // short name → id
}

// Signature looks up gid:sid.
func (t *Tables) Signature(gid, sid uint32) (Signature, bool) {
	if t == nil {
		return Signature{}, false
	}
	s, ok := t.sigs[key{gid, sid}]
	return s, ok
}

// Class looks up a classification id (1-based).
func (t *Tables) Class(id uint32) (Class, bool) {
	if t == nil || id == 0 || int(id) > len(t.classes) {
		return Class{}, false
	}
	return t.classes[id-1], true
}

// ClassByName looks up a classification by its short name.
func (t *Tables) ClassByName(name string) (Class, bool) {
	if t == nil {
		return Class{}, false
	}
	id, ok := t.byName[name]
	if !ok {
		return Class{}, false
	}
	return t.classes[id-1], true
}

// Len reports how many signatures and classifications are loaded.
func (t *Tables) Len() (sigs, classes int) {
	if t == nil {
		return 0, 0
	}
	return len(t.sigs), len(t.classes)
}

func (t *Tables) init() {
	if t.sigs == nil {
		t.sigs = make(map[key]Signature)
		t.byName = make(map[string]uint32)
	}
}

// ParseSidMsg reads a sid-msg.map, either format:
//
//	v1: sid || msg [|| reference …]                       (gid 1)
//	v2: gid || sid || rev || classification || priority || msg [|| reference …]
//
// The format is decided line by line, so a file with a "#v2" header and one
// without both work.
func (t *Tables) ParseSidMsg(r io.Reader) error {
	t.init()
	return eachLine(r, func(n int, line string) error {
		f := splitFields(line)
		if len(f) >= 6 && isUint(f[0]) && isUint(f[1]) && isUint(f[2]) && (f[4] == "" || isUint(f[4])) {
			gid, sid, rev := atou(f[0]), atou(f[1]), atou(f[2])
			t.sigs[key{gid, sid}] = Signature{Msg: f[5], Rev: rev, Class: f[3], Priority: atou(f[4])}
			return nil
		}
		if len(f) >= 2 && isUint(f[0]) {
			t.sigs[key{1, atou(f[0])}] = Signature{Msg: f[1]}
			return nil
		}
		return fmt.Errorf("line %d: want `sid || msg` or `gid || sid || rev || class || priority || msg`", n)
	})
}

// ParseGenMsg reads a gen-msg.map: gid || sid || msg.
func (t *Tables) ParseGenMsg(r io.Reader) error {
	t.init()
	return eachLine(r, func(n int, line string) error {
		f := splitFields(line)
		if len(f) < 3 || !isUint(f[0]) || !isUint(f[1]) {
			return fmt.Errorf("line %d: want `gid || sid || msg`", n)
		}
		k := key{atou(f[0]), atou(f[1])}
		if _, ok := t.sigs[k]; !ok { // a sid-msg.map entry is more specific
			t.sigs[k] = Signature{Msg: f[2]}
		}
		return nil
	})
}

// ParseClassification reads classification.config lines
// `config classification: shortname,description,priority`.
func (t *Tables) ParseClassification(r io.Reader) error {
	t.init()
	return eachLine(r, func(n int, line string) error {
		rest, ok := strings.CutPrefix(line, "config classification:")
		if !ok {
			return nil // other config lines may share the file
		}
		parts := strings.Split(rest, ",")
		if len(parts) < 3 {
			return fmt.Errorf("line %d: want `config classification: name,description,priority`", n)
		}
		name := strings.TrimSpace(parts[0])
		prio := strings.TrimSpace(parts[len(parts)-1])
		desc := strings.TrimSpace(strings.Join(parts[1:len(parts)-1], ","))
		if !isUint(prio) {
			return fmt.Errorf("line %d: priority %q is not a number", n, prio)
		}
		t.classes = append(t.classes, Class{ShortName: name, Description: desc, Priority: atou(prio)})
		t.byName[name] = uint32(len(t.classes))
		return nil
	})
}

// Map holds the Tables in use behind an atomic pointer, so that decoders on
// many goroutines look up without locks while a reload (SIGHUP) stores
// freshly parsed ones. A nil *Map resolves nothing.
type Map struct {
	cur atomic.Pointer[Tables]
}

// FromTables returns a Map holding t.
func FromTables(t *Tables) *Map {
	m := &Map{}
	m.cur.Store(t)
	return m
}

// Store swaps in t for every lookup from now on.
func (m *Map) Store(t *Tables) { m.cur.Store(t) }

// Tables returns the tables in use (nil for a nil Map).
func (m *Map) Tables() *Tables {
	if m == nil {
		return nil
	}
	return m.cur.Load()
}

// eachLine calls fn for every non-blank, non-comment line, trimmed. Lines
// longer than 64 KiB are an error, not an allocation.
func eachLine(r io.Reader, fn func(n int, line string) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		if err := fn(n, line); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("line %d: %w", n+1, err)
	}
	return nil
}

func splitFields(line string) []string {
	f := strings.Split(line, "||")
	for i := range f {
		f[i] = strings.TrimSpace(f[i])
	}
	return f
}

func isUint(s string) bool {
	_, err := strconv.ParseUint(s, 10, 32)
	return err == nil
}

func atou(s string) uint32 {
	n, _ := strconv.ParseUint(s, 10, 32)
	return uint32(n)
}

// Fill completes a signature from the tables: the message when the record
// had none, the category (classification description, as Snort prints it)
// from classID, and the priority when the record had none (the map's, else
// the classification's default).
func (t *Tables) Fill(s *normalize.Signature, classID uint32) {
	if t == nil || s == nil {
		return
	}
	sig, haveSig := t.Signature(s.GID, s.ID)
	if s.Name == "" && haveSig {
		s.Name = sig.Msg
	}
	c, haveClass := t.Class(classID)
	if !haveClass && haveSig && sig.Class != "" {
		c, haveClass = t.ClassByName(sig.Class)
	}
	if haveClass && s.Category == "" {
		s.Category = c.Description
	}
	if s.Priority == 0 {
		switch {
		case haveSig && sig.Priority != 0:
			s.Priority = sig.Priority
		case haveClass:
			s.Priority = c.Priority
		}
	}
}

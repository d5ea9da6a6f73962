package audit

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Proc is what the process table knows about one process.
type Proc struct {
	PID, PPID  uint32
	Exe, Comm  string
	ExecSerial uint32   // serial of the event of its last execve; 0 when not seen
	Labels     []string // sorted, shared: never modified in place

	seen       time.Time // event time it was last mentioned
	exited     time.Time // event time of its exit, zero while alive
	prev, next *Proc     // LRU list, most recently seen at the head
}

// LabelRule turns an audit rule key or an executable path into a process
// label. A label sticks to the process and is inherited by every process
// it starts afterwards.
type LabelRule struct {
	Label string
	Key   string         // exact audit rule key (-k) carried by the process's events
	Exe   *regexp.Regexp // matched against the executable path at execve
}

// TableOptions bound the process table.
type TableOptions struct {
	MaxEntries int           // processes tracked at most (least recently seen evicted); default 32768
	ExitedTTL  time.Duration // how long an exited process stays, for late events; default 1m
	IdleTTL    time.Duration // a process not mentioned for this long is forgotten; 0: never
	Rules      []LabelRule
	// Lookup, when set, is asked about a parent the table has not seen
	// (it started before the gateway, or forked without an audited
	// execve): a live source reads /proc. It is followed up the ancestry
	// so that labels of running ancestors reach new children.
	Lookup func(pid uint32) (ppid uint32, exe, comm string, ok bool)
}

// TableStats are the process table's counters.
type TableStats struct {
	Entries int    // processes tracked now
	Evicted uint64 // dropped because the table was full
	Expired uint64 // dropped after exit or idleness
	Labeled uint64 // label assignments made by rules
	Adopted uint64 // processes learnt through Lookup
}

// Table follows processes through execve, clone/fork and exit events, so
// that every event can name its parent and carry inherited labels, without
// joins downstream (what LAUREL calls parent info and labels). Time is the
// events' own, so a replayed log gives the same result as a live stream.
// A Table is used by one goroutine.
type Table struct {
	o           TableOptions
	procs       map[uint32]*Proc
	head, tail  *Proc
	now         time.Time
	exits       []exitMark           // exited processes, oldest exit first
	misses      map[uint32]time.Time // pids Lookup did not know, and when
	exeLabels   map[string][]string  // executable path → labels its Exe rules give
	hasExeRules bool
	stats       TableStats
}

type exitMark struct {
	p  *Proc
	at time.Time
}

// NewTable returns an empty process table.
func NewTable(o TableOptions) *Table {
	if o.MaxEntries <= 0 {
		o.MaxEntries = 32768
	}
	if o.ExitedTTL <= 0 {
		o.ExitedTTL = time.Minute
	}
	t := &Table{o: o, procs: make(map[uint32]*Proc, min(o.MaxEntries, 4096)), exeLabels: map[string][]string{}}
	for _, r := range o.Rules {
		t.hasExeRules = t.hasExeRules || r.Exe != nil
	}
	return t
}

// Stats returns the table's counters.
func (t *Table) Stats() TableStats {
	s := t.stats
	s.Entries = len(t.procs)
	return s
}

// Lookup returns the tracked process pid, or nil.
func (t *Table) Lookup(pid uint32) *Proc { return t.procs[pid] }

// activity is what one audit event says about its process.
type activity struct {
	pid, ppid uint32
	exe, comm string
	serial    uint32
	time      time.Time
	syscall   string
	success   bool
	exit      int64 // the syscall's return value: the child's pid for clone/fork
	keys      []string
}

// observe updates the table with one event and returns the event's process
// and its parent as known after the update (either may be nil).
func (t *Table) observe(a *activity) (self, parent *Proc) {
	if a.pid == 0 {
		return nil, nil
	}
	if a.time.After(t.now) {
		t.now = a.time
	}

	t.expire()

	self = t.procs[a.pid]
	if self != nil && (!self.exited.IsZero() || a.ppid != 0 && self.PPID != a.ppid && self.PPID != 1) {
		// The pid was reused: the process exited (its exit is its last
		// event, and events come in serial order), or another parent
		// owns it now. Start over. (A parent's exit reparents to 1 or a
		// subreaper, hence the 1.)
		t.remove(self)
		self = nil
	}
	parent = t.procs[a.ppid]
	if parent == nil && a.ppid > 1 && t.o.Lookup != nil {
		parent = t.adopt(a.ppid, 0)
	}
	if self == nil {
		// The table outlives the records: it keeps copies, never
		// sub-strings of record text (an input's whole read buffer).
		self = &Proc{PID: a.pid, PPID: a.ppid, Exe: strings.Clone(a.exe), Comm: strings.Clone(a.comm)}
		if parent != nil {
			self.Labels = parent.Labels
		}
		t.procs[a.pid] = self
		t.pushFront(self)
		t.applyExe(self)
	} else {
		t.touch(self)
		if a.ppid != 0 {
			self.PPID = a.ppid
		}
	}
	self.seen = t.now
	if parent != nil {
		t.touch(parent)
		parent.seen = t.now
		self.Labels = union(self.Labels, parent.Labels)
	}

	switch a.syscall {
	case "execve", "execveat":
		if a.success {
			if self.Exe != a.exe || self.Comm != a.comm {
				self.Exe, self.Comm = strings.Clone(a.exe), strings.Clone(a.comm)
			}
			self.ExecSerial = a.serial
			t.applyExe(self)
		}
	case "clone", "clone3", "fork", "vfork":
		// Threads are clones too; tracking them as processes costs an entry
		// each but keeps labels right if they exec.
		if a.success && a.exit > 0 && a.exit <= 1<<22 {
			cpid := uint32(a.exit)
			if old := t.procs[cpid]; old != nil {
				t.remove(old)
			}
			child := &Proc{PID: cpid, PPID: a.pid, Exe: self.Exe, Comm: self.Comm,
				ExecSerial: self.ExecSerial, Labels: self.Labels, seen: t.now}
			t.procs[cpid] = child
			t.pushFront(child)
		}
	case "exit", "exit_group":
		self.exited = t.now
		t.exits = append(t.exits, exitMark{self, t.now})
	}
	if a.exe != "" && self.Exe == "" {
		self.Exe, self.Comm = strings.Clone(a.exe), strings.Clone(a.comm)
	}
	for _, k := range a.keys {
		for i := range t.o.Rules {
			if r := &t.o.Rules[i]; r.Key != "" && r.Key == k {
				t.addLabel(self, r.Label)
			}
		}
	}
	t.shrink()
	return self, parent
}

// adopt learns a running process through Lookup, and its ancestors as
// needed for their labels; depth bounds the walk.
func (t *Table) adopt(pid uint32, depth int) *Proc {
	if depth > 32 {
		return nil
	}
	if at, ok := t.misses[pid]; ok && t.now.Sub(at) < 10*time.Second {
		return nil
	}
	ppid, exe, comm, ok := t.o.Lookup(pid)
	if !ok {
		// Remember misses for a while: the children of a parent that is
		// gone would otherwise ask on every event. Bounded: cleared when full.
		if len(t.misses) >= 1024 {
			clear(t.misses)
		}
		if t.misses == nil {
			t.misses = make(map[uint32]time.Time)
		}
		t.misses[pid] = t.now
		return nil
	}
	p := &Proc{PID: pid, PPID: ppid, Exe: exe, Comm: comm, seen: t.now}
	t.stats.Adopted++
	t.procs[pid] = p
	t.pushFront(p)
	if ppid > 1 && ppid != pid {
		gp := t.procs[ppid]
		if gp == nil {
			gp = t.adopt(ppid, depth+1)
		}
		if gp != nil {
			p.Labels = gp.Labels
		}
	}
	t.applyExe(p)
	return p
}

func (t *Table) applyExe(p *Proc) {
	if p.Exe == "" || !t.hasExeRules {
		return
	}
	labels, ok := t.exeLabels[p.Exe]
	if !ok {
		// The same few executables run over and over: match each path
		// against the patterns once. (Bounded: cleared when full.)
		for i := range t.o.Rules {
			if r := &t.o.Rules[i]; r.Exe != nil && r.Exe.MatchString(p.Exe) {
				labels = append(labels, r.Label)
			}
		}
		if len(t.exeLabels) >= maxExeCache {
			clear(t.exeLabels)
		}
		t.exeLabels[p.Exe] = labels // p.Exe is the table's own copy
	}
	for _, l := range labels {
		t.addLabel(p, l)
	}
}

// maxExeCache bounds the executables whose label matches are remembered.
const maxExeCache = 4096

func (t *Table) addLabel(p *Proc, l string) {
	if _, found := slices.BinarySearch(p.Labels, l); found {
		return
	}
	t.stats.Labeled++
	p.Labels = union(p.Labels, []string{l})
}

// union returns the sorted union of two sorted label sets, reusing a when
// b adds nothing (labels are shared between processes, never modified).
func union(a, b []string) []string {
	if len(b) == 0 {
		return a
	}
	if len(a) == 0 {
		return b
	}
	var out []string
	for _, l := range b {
		if _, found := slices.BinarySearch(a, l); !found {
			if out == nil {
				out = slices.Clone(a)
			}
			out = append(out, l)
		}
	}
	if out == nil {
		return a
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// expire drops processes that exited more than ExitedTTL ago (in exit
// order) and, from the least recently seen end, those unmentioned for
// IdleTTL.
func (t *Table) expire() {
	for len(t.exits) > 0 {
		e := t.exits[0]
		if t.now.Sub(e.at) <= t.o.ExitedTTL {
			break
		}
		t.exits = t.exits[1:]
		if p := t.procs[e.p.PID]; p == e.p && p.exited.Equal(e.at) {
			t.remove(p)
			t.stats.Expired++
		}
	}
	if len(t.exits) == 0 {
		t.exits = nil // let the backing array go
	}
	for t.o.IdleTTL > 0 && t.tail != nil && t.now.Sub(t.tail.seen) > t.o.IdleTTL {
		t.remove(t.tail)
		t.stats.Expired++
	}
}

func (t *Table) shrink() {
	for len(t.procs) > t.o.MaxEntries && t.tail != nil {
		t.remove(t.tail)
		t.stats.Evicted++
	}
}

func (t *Table) pushFront(p *Proc) {
	p.prev, p.next = nil, t.head
	if t.head != nil {
		t.head.prev = p
	}
	t.head = p
	if t.tail == nil {
		t.tail = p
	}
}

func (t *Table) unlink(p *Proc) {
	if p.prev != nil {
		p.prev.next = p.next
	} else {
		t.head = p.next
	}
	if p.next != nil {
		p.next.prev = p.prev
	} else {
		t.tail = p.prev
	}
	p.prev, p.next = nil, nil
}

func (t *Table) touch(p *Proc) {
	if t.head != p {
		t.unlink(p)
		t.pushFront(p)
	}
}

func (t *Table) remove(p *Proc) {
	if t.procs[p.PID] == p {
		delete(t.procs, p.PID)
	}
	t.unlink(p)
}

// CompileRules builds label rules from their configuration form.
func CompileRules(keys map[string][]string, exes map[string][]string) ([]LabelRule, error) {
	var rules []LabelRule
	for label, ks := range keys {
		for _, k := range ks {
			rules = append(rules, LabelRule{Label: label, Key: k})
		}
	}
	for label, pats := range exes {
		for _, p := range pats {
			re, err := regexp.Compile(p)
			if err != nil {
				return nil, fmt.Errorf("label %q: exe pattern %q: %w", label, p, err)
			}
			rules = append(rules, LabelRule{Label: label, Exe: re})
		}
	}
	return rules, nil
}

package auditd

import (
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/alertgw/alertgw/config"
)

// Sources and formats.
const (
	SourceSocket = "socket" // client of auditd's af_unix plugin socket
	SourceStdin  = "stdin"  // run by auditd as a plugin
	SourceFile   = "file"   // audit.log files, read once (replay)

	FormatString = "string" // one text record per line
	FormatBinary = "binary" // audit_dispatcher_header + record

	FramingFixed = "fixed" // auditd 3.0.x: every binary frame is 16 + 8970 bytes
	FramingExact = "exact" // auditd 3.1+: 16 + header size bytes
)

// Options configure a `type: auditd` input.
type Options struct {
	// Source is where records come from: socket (a client of auditd's
	// af_unix plugin), stdin (run by auditd as a plugin) or file
	// (audit.log files, read once).
	Source string `mapstructure:"source"`
	// Socket is the af_unix plugin's socket path (source: socket); auditd
	// 3.1 and later use /run/audit/audispd_events.
	Socket string `mapstructure:"socket"`
	// Format is what the plugin writes: string (one text record per line)
	// or binary (socket, stdin).
	Format string `mapstructure:"format"`
	// BinaryFraming says how binary frames are sized: fixed for auditd
	// 3.0.x (Debian 12, RHEL 8), exact for 3.1 and later.
	BinaryFraming string `mapstructure:"binary_framing"`
	// Files are audit.log paths or glob patterns (source: file), read in
	// the order given, each pattern's matches sorted.
	Files []string `mapstructure:"files"`

	// ReconnectMin is the first delay before connecting to the socket
	// again after a failure; it doubles up to reconnect_max.
	ReconnectMin time.Duration `mapstructure:"reconnect_min"`
	// ReconnectMax is the longest delay between two connection attempts.
	ReconnectMax time.Duration `mapstructure:"reconnect_max"`

	// BatchDelay is the longest a record waits in the socket buffer so
	// that several are read at once (socket, stdin); 0 reads each at once.
	BatchDelay time.Duration `mapstructure:"batch_delay"`

	// EventTimeout is how long an event waits for its end-of-event (EOE)
	// record before it is completed without it.
	EventTimeout time.Duration `mapstructure:"event_timeout"`
	// MaxInFlight bounds the events being assembled at once (the oldest
	// is completed first).
	MaxInFlight int `mapstructure:"max_in_flight"`
	// ResolveIDs names uids and gids with the host's user database
	// (cached 10 minutes).
	ResolveIDs bool `mapstructure:"resolve_ids"`
	// Summary adds go-libaudit's actor/action/object/how summary as
	// details.summary (about ten times the CPU per event).
	Summary bool `mapstructure:"summary"`

	// ProcessTable bounds the table of processes that gives events their
	// parent and labels.
	ProcessTable TableOptions `mapstructure:"process_table"`
	// ProcLookup reads /proc for parents the table has not seen (live
	// sources only: a replayed log's processes are long gone).
	ProcLookup bool `mapstructure:"proc_lookup"`
	// Labels give a label to the processes whose events carry one of the
	// rule's audit keys or whose executable matches one of its regular
	// expressions; children inherit it (see Labels below).
	Labels []LabelRule `mapstructure:"labels"`
}

// TableOptions bound the process table.
type TableOptions struct {
	// MaxEntries is the most processes tracked; the least recently seen
	// is evicted.
	MaxEntries int `mapstructure:"max_entries"`
	// ExitedTTL is how long an exited process stays, for late events.
	ExitedTTL time.Duration `mapstructure:"exited_ttl"`
	// IdleTTL forgets processes not mentioned for this long; 0: never.
	IdleTTL time.Duration `mapstructure:"idle_ttl"`
}

// LabelRule gives Label to processes whose events carry one of Keys, or
// whose executable matches one of Exe (regular expressions); children
// inherit it.
type LabelRule struct {
	// Label is the label given (event labels, details.process.labels).
	Label string `mapstructure:"label"`
	// Keys are audit rule keys (-k) whose events give the label.
	Keys []string `mapstructure:"keys"`
	// Exe are regular expressions matched against the executable path.
	Exe []string `mapstructure:"exe"`
}

func defaultOptions() any {
	return &Options{
		Source:        SourceSocket,
		Socket:        "/var/run/audispd_events",
		Format:        FormatString,
		BinaryFraming: FramingFixed,
		ReconnectMin:  100 * time.Millisecond,
		ReconnectMax:  5 * time.Second,
		BatchDelay:    25 * time.Millisecond,
		EventTimeout:  2 * time.Second,
		MaxInFlight:   1000,
		ResolveIDs:    true,
		ProcLookup:    true,
		ProcessTable: TableOptions{
			MaxEntries: 32768,
			ExitedTTL:  time.Minute,
		},
	}
}

// Validate implements config.Validator.
func (o *Options) Validate() config.Problems {
	var p config.Problems
	switch o.Source {
	case SourceSocket:
		if o.Socket == "" {
			p.Add("socket", "required for source %q", o.Source)
		}
	case SourceStdin:
	case SourceFile:
		if len(o.Files) == 0 {
			p.Add("files", "list at least one audit.log path or pattern for source %q", o.Source)
		}
	default:
		p.Add("source", "must be socket, stdin or file, not %q", o.Source)
	}
	if o.Format != FormatString && o.Format != FormatBinary {
		p.Add("format", "must be string or binary, not %q", o.Format)
	}
	if o.BinaryFraming != FramingFixed && o.BinaryFraming != FramingExact {
		p.Add("binary_framing", "must be fixed (auditd 3.0.x) or exact (3.1+), not %q", o.BinaryFraming)
	}
	if o.ReconnectMin <= 0 || o.ReconnectMax < o.ReconnectMin {
		p.Add("reconnect_min", "must be positive and not above reconnect_max")
	}
	if o.BatchDelay < 0 || o.BatchDelay > time.Second {
		p.Add("batch_delay", "must be between 0 and 1s")
	}
	if o.EventTimeout <= 0 {
		p.Add("event_timeout", "must be positive")
	}
	if o.MaxInFlight <= 0 {
		p.Add("max_in_flight", "must be positive")
	}
	if o.ProcessTable.MaxEntries <= 0 {
		p.Add("process_table.max_entries", "must be positive")
	}
	for i, r := range o.Labels {
		if r.Label == "" {
			p.Add(labelPath(i, "label"), "required")
		}
		if len(r.Keys) == 0 && len(r.Exe) == 0 {
			p.Add(labelPath(i, ""), "give keys, exe patterns or both")
		}
		for _, e := range r.Exe {
			if _, err := regexp.Compile(e); err != nil {
				p.Add(labelPath(i, "exe"), "%v", err)
			}
		}
	}
	return p
}

func labelPath(i int, k string) string {
	s := "labels[" + strconv.Itoa(i) + "]"
	if k != "" {
		s += "." + k
	}
	return s
}

// PathUses implements config.PathLister: audit.log files are read when
// the source is file (auditd's af_unix socket is auditd's to create).
func (o *Options) PathUses() []config.PathUse {
	if o.Source != SourceFile {
		return nil
	}
	uses := make([]config.PathUse, len(o.Files))
	for i, f := range o.Files {
		uses[i] = config.PathUse{Key: fmt.Sprintf("files[%d]", i), Path: f, Use: config.PathRead}
	}
	return uses
}

// Package config loads alertgw's configuration: a YAML file (or the embedded
// default) read with viper, overridden by ALERTGW_* environment variables,
// decoded strictly so that unknown keys, wrong types and impossible values
// are reported with their key path (inputs[1].socket: …) instead of ignored.
//
// The gateway-wide sections are typed here. Inputs and outputs are lists of
// blocks whose options belong to their plugin; the plugin packages own those
// option structs and decode them with DecodeBlock.
package config

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"maps"
	"net"
	"os"
	"strings"
	"time"

	"github.com/spf13/viper"
)

//go:embed default.yaml
var defaultYAML []byte

// Default returns the embedded default configuration, as printed by
// `alertgw config default`.
func Default() []byte { return bytes.Clone(defaultYAML) }

// File is a whole configuration.
type File struct {
	Sensor     string     `mapstructure:"sensor"`
	Log        Log        `mapstructure:"log"`
	Pipeline   Pipeline   `mapstructure:"pipeline"`
	DeadLetter DeadLetter `mapstructure:"dead_letter"`
	Admin      Admin      `mapstructure:"admin"`
	RunAs      RunAs      `mapstructure:"run_as"`
	Inputs     []Block    `mapstructure:"-"`
	Outputs    []Block    `mapstructure:"-"`
	// Stages are the named reduction stages (aggregate, transactions)
	// that outputs read with from: (docs/pipeline.md).
	Stages []Block `mapstructure:"-"`

	// Enrich is the raw enrich: section; package enrich owns its options
	// and decodes it (cmd/alertgw/build.go), as plugins do with blocks.
	Enrich map[string]any `mapstructure:"enrich"`

	// CommunityID is the gateway-wide Community ID seed; an input block's
	// own community_id overrides it (InputCommon).
	CommunityID CommunityID `mapstructure:"community_id"`

	// Console is the raw console: section; package console owns its
	// options and decodes it (cmd/alertgw/console.go).
	Console map[string]any `mapstructure:"console"`

	// Origins names, by key path, where a value came from when it was not
	// written in the file: the ALERTGW_* variable that set it, or the
	// ${VAR} references expanded into it. Annotate uses it.
	Origins map[string]string `mapstructure:"-"`

	// Tree is the effective configuration as read: the file (or the
	// embedded default) with ${VAR} expanded, ALERTGW_* overrides applied
	// and the gateway-wide defaults filled in (`alertgw config print`).
	Tree map[string]any `mapstructure:"-"`
}

// Annotate adds to each problem the environment variable its value came
// from, so that "admin.listen: missing port" reads
// "admin.listen (set by ALERTGW_ADMIN_LISTEN): missing port" instead of
// pointing at a file (or the embedded default) that does not say it.
func (f *File) Annotate(probs Problems) Problems {
	if len(f.Origins) == 0 {
		return probs
	}
	out := make(Problems, len(probs))
	for i, p := range probs {
		out[i] = p
		best := ""
		for k := range f.Origins {
			if under(p.Path, k) && len(k) > len(best) {
				best = k
			}
		}
		if best != "" {
			how := "set by " + f.Origins[best]
			if strings.HasPrefix(f.Origins[best], "${") {
				how = "from " + f.Origins[best]
			}
			out[i].Path = p.Path + " (" + how + ")"
		}
	}
	return out
}

// Log configures the gateway's own logs.
type Log struct {
	Level  string `mapstructure:"level"`  // trace|debug|info|warn|error
	Format string `mapstructure:"format"` // auto|json|console
}

// Pipeline tunes the normalizer workers and shutdown.
type Pipeline struct {
	Workers int `mapstructure:"workers"` // 0: one per CPU
	// Deprecated: BatchSize never had an effect (batches are bounded by
	// each input's reads, the socket hand-off and each output's
	// batch.max_events). It is accepted, with a warning, so that a
	// configuration written from the earlier sample still loads.
	BatchSize       int           `mapstructure:"batch_size"`
	ShutdownTimeout time.Duration `mapstructure:"shutdown_timeout"` // drain deadline on SIGTERM
	Journal         Journal       `mapstructure:"journal"`
	// MaxInflightBytes bounds the raw messages between the inputs and the
	// output queues (handed to the workers, being normalized).
	MaxInflightBytes Size `mapstructure:"max_inflight_bytes"`
}

// Journal configures the socket inputs' write-ahead journal of raw
// messages (see docs/outputs/delivery.md).
type Journal struct {
	// Mode is auto (journal when an output has buffer.type: disk),
	// always (every journaling input, whatever the outputs) or off.
	Mode string `mapstructure:"mode"`
	// Path is the journal directory: one sub-directory per input.
	Path string `mapstructure:"path"`
}

// Journal modes.
const (
	JournalAuto   = "auto"
	JournalAlways = "always"
	JournalOff    = "off"
)

// DeadLetter configures where unparseable messages go.
type DeadLetter struct {
	Path    string `mapstructure:"path" path:"write"` // "" disables (the messages are still counted)
	MaxSize Size   `mapstructure:"max_size"`          // rotate to PATH.1 beyond this size
}

// defaults of the gateway-wide keys; plugins default their own options.
var defaults = map[string]any{
	"sensor":                      "",
	"log.level":                   "info",
	"log.format":                  "auto",
	"pipeline.workers":            0,
	"pipeline.shutdown_timeout":   "10s",
	"pipeline.journal.mode":       JournalAuto,
	"pipeline.max_inflight_bytes": "64MiB",
	"pipeline.journal.path":       "./data/journal",
	"dead_letter.path":            "./data/deadletter.json",
	"dead_letter.max_size":        "64MiB",
	"admin.listen":                "127.0.0.1:9477",
	"admin.failure_grace":         "30s",
	"admin.token_file":            "",
	"admin.socket":                "",
	"admin.socket_mode":           "0600",
	"run_as.user":                 "",
	"run_as.group":                "",
	"community_id.seed":           0,
}

// Admin configures the HTTP endpoint for metrics, health, status and
// reload. Who may do what: docs/security.md.
type Admin struct {
	Listen string `mapstructure:"listen"` // host:port; "" turns the TCP endpoint off
	// TokenFile holds the bearer token that state-changing requests
	// (POST /-/reload) on Listen must carry; without it they are refused
	// there. `alertgw reload` reads the same file.
	TokenFile string `mapstructure:"token_file"`
	// Socket is a Unix socket serving every route, state-changing ones
	// without a token: its file permissions (SocketMode) decide who may
	// connect. "" for none.
	Socket     string   `mapstructure:"socket"`
	SocketMode FileMode `mapstructure:"socket_mode"` // permission bits of Socket; 0600: the gateway's user and root
	// FailureGrace is how long an output may fail every delivery attempt
	// (while it buffers) before the gateway reports not ready.
	FailureGrace time.Duration `mapstructure:"failure_grace"`
}

// RunAs names the unprivileged user the gateway switches to once its sockets
// are bound, when started as root.
type RunAs struct {
	User  string `mapstructure:"user"`  // "" keeps running as the starting user
	Group string `mapstructure:"group"` // "" uses the user's primary group
}

// Block is one input or output: its name, type and raw options, decoded
// later by the plugin that owns the type.
type Block struct {
	Name    string
	Type    string
	Path    string         // key path for messages, e.g. "inputs[1]"
	Options map[string]any // every key of the block, name and type included
}

// Load reads path (the embedded default when path is ""), applies the
// ALERTGW_* variables of environ and decodes the gateway-wide sections.
// Problems with keys come back as Problems; err is for unreadable input.
func Load(path string, environ []string) (*File, Problems, error) {
	data := defaultYAML
	if path != "" {
		var err error
		if data, err = os.ReadFile(path); err != nil {
			return nil, nil, fmt.Errorf("read config: %w", err)
		}
	}
	v := viper.New()
	v.SetConfigType("yaml")
	// Defaults live in viper so that an ALERTGW_* variable can override a
	// key the file does not mention.
	for k, val := range defaults {
		v.SetDefault(k, val)
	}
	if err := v.ReadConfig(bytes.NewReader(data)); err != nil {
		return nil, nil, fmt.Errorf("parse config %s: %w", displayName(path), err)
	}
	tree := v.AllSettings()
	f := &File{Origins: map[string]string{}}
	probs := expandVars(tree, environ, f.Origins)
	probs = append(probs, applyEnv(tree, environ, f.Origins)...)

	f.Tree = maps.Clone(tree) // the block lists are removed from tree below
	var err error
	if f.Inputs, err = blocks(tree, "inputs", &probs); err != nil {
		return nil, nil, err
	}
	if f.Outputs, err = blocks(tree, "outputs", &probs); err != nil {
		return nil, nil, err
	}
	if f.Stages, err = blocks(tree, "stages", &probs); err != nil {
		return nil, nil, err
	}
	delete(tree, "inputs")
	delete(tree, "outputs")
	delete(tree, "stages")
	probs = append(probs, Decode(tree, "", f)...)
	probs = probs.Merge(f.validate())
	if f.Sensor == "" {
		f.Sensor, _ = os.Hostname()
	}
	return f, f.Annotate(probs), nil
}

func displayName(path string) string {
	if path == "" {
		return "(embedded default)"
	}
	return path
}

func blocks(tree map[string]any, key string, probs *Problems) ([]Block, error) {
	raw, ok := tree[key]
	if !ok || raw == nil {
		return nil, nil
	}
	list, ok := raw.([]any)
	if !ok {
		probs.Add(key, "must be a list of blocks, got %T", raw)
		return nil, nil
	}
	seen := map[string]string{}
	var out []Block
	for i, item := range list {
		path := fmt.Sprintf("%s[%d]", key, i)
		m, ok := item.(map[string]any)
		if !ok {
			probs.Add(path, "must be a block of keys, got %T", item)
			continue
		}
		b := Block{Path: path, Options: m}
		b.Name, _ = m["name"].(string)
		b.Type, _ = m["type"].(string)
		switch {
		case b.Type == "":
			probs.Add(path+".type", "is required")
		case b.Name == "":
			b.Name = b.Type
		}
		if prev, dup := seen[b.Name]; dup && b.Name != "" {
			probs.Add(path+".name", "%q is already used by %s", b.Name, prev)
		}
		seen[b.Name] = path
		out = append(out, b)
	}
	return out, nil
}

func (f *File) validate() Problems {
	var p Problems
	switch f.Log.Level {
	case "trace", "debug", "info", "warn", "error":
	default:
		p.Add("log.level", "must be one of trace, debug, info, warn, error; got %q", f.Log.Level)
	}
	switch f.Log.Format {
	case "auto", "json", "console":
	default:
		p.Add("log.format", "must be auto, json or console; got %q", f.Log.Format)
	}
	if f.Pipeline.Workers < 0 || f.Pipeline.Workers > 256 {
		p.Add("pipeline.workers", "must be between 0 (one per CPU) and 256; got %d", f.Pipeline.Workers)
	}
	if f.Pipeline.MaxInflightBytes < 1<<20 || f.Pipeline.MaxInflightBytes > 1<<40 {
		p.Add("pipeline.max_inflight_bytes", "must be between 1MiB and 1TiB; got %d", uint64(f.Pipeline.MaxInflightBytes))
	}
	switch f.Pipeline.Journal.Mode {
	case JournalAuto, JournalAlways, JournalOff:
	default:
		p.Add("pipeline.journal.mode", "must be auto, always or off; got %q", f.Pipeline.Journal.Mode)
	}
	if f.Pipeline.Journal.Mode != JournalOff && f.Pipeline.Journal.Path == "" {
		p.Add("pipeline.journal.path", "a journal directory is required (or mode: off)")
	}
	if f.Pipeline.ShutdownTimeout <= 0 {
		p.Add("pipeline.shutdown_timeout", "must be positive; got %s", f.Pipeline.ShutdownTimeout)
	}
	if f.Admin.Listen != "" {
		if _, port, err := net.SplitHostPort(f.Admin.Listen); err != nil || port == "" {
			p.Add("admin.listen", "%q is not host:port (for example 127.0.0.1:9477; \"\" turns the endpoint off)", f.Admin.Listen)
		}
	}
	if f.Admin.FailureGrace <= 0 {
		p.Add("admin.failure_grace", "must be positive; got %s", f.Admin.FailureGrace)
	}
	p = append(p, f.CommunityID.Validate().Prefixed("community_id")...)
	if f.Admin.Socket != "" {
		if f.Admin.SocketMode&0o600 != 0o600 {
			p.Add("admin.socket_mode", "%s does not let the owner use the socket", f.Admin.SocketMode)
		}
		if f.Admin.SocketMode&0o7007 != 0 {
			p.Add("admin.socket_mode", "%s lets everyone connect, and the socket needs no token: use 0600 or 0660", f.Admin.SocketMode)
		}
	}
	if len(f.Inputs) == 0 {
		p.Add("inputs", "at least one input is required")
	}
	if len(f.Outputs) == 0 {
		p.Add("outputs", "at least one output is required")
	}
	return p
}

// ErrInvalid is returned (wrapped) when a configuration has problems.
var ErrInvalid = errors.New("invalid configuration")

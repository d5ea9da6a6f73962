package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/alertgw/alertgw/config"
	"github.com/alertgw/alertgw/inputs"
	"github.com/alertgw/alertgw/inputs/replay"
	"github.com/alertgw/alertgw/inputs/sigfiles"
	"github.com/alertgw/alertgw/outputs"
	"github.com/alertgw/alertgw/pipeline"
	"github.com/alertgw/alertgw/stats"
)

func init() { extraCommands = append(extraCommands, replayCmd) }

func replayCmd() *cobra.Command {
	var (
		path, typ, layout string
		inputName         string
		sigFiles          sigfiles.Files
		noProgress, force bool
	)
	c := &cobra.Command{
		Use:   "replay --type TYPE FILE...",
		Short: "Backfill sensor files through the normalizers to the configured outputs",
		Long: `Replay reads files a sensor wrote and sends them, normalized, to the outputs of
the configuration (--config; the embedded default without it). Inputs of the
configuration are not started.

  --type unified2    unified2 files (Snort 2/3, Suricata ≤ 5), any record type
  --type suricata    EVE JSON, one record per line
  --type snort       captured alert_unixsock datagrams, each preceded by its
                     length as a 4-byte big-endian integer
  --type auditd      audit.log files (oldest first), assembled into events
  --type deadletter  a dead-letter file: each message goes again through the
                     decoder of the input type that failed it (after a fix)
  --type nflog       pcap or pcapng captures of NFLOG groups (tcpdump -i nflog:N)

The type's options (NFLOG labelling rules, signature maps) are those of the
configuration's input block of that type: the one named by --input, or the
only one there is; the flags below override them. (--type deadletter uses
each type's defaults, and the flags that apply to it.)

Every input type that declares a file reader can be replayed (` + "`alertgw plugins`" + `
marks them); its files go through the same decoder as its live input.

Files starting with the gzip magic are decompressed on the fly. A progress
bar (share of the files' contents read, events, events/s, bytes, ETA) is
shown on stderr on a terminal, a progress line every 5 s otherwise; the
summary goes to stdout. An output file that another process has open (the
running gateway's ./data/events.json, without --config) is refused unless
--force. The exit code is 1 when a file could not be read to its end or a
record could not be normalized (or, from a dead-letter file, replayed).`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			return runReplay(cmd.OutOrStdout(), cmd.ErrOrStderr(), replayRun{config: path, typ: typ, input: inputName, layout: layout,
				sigFiles: sigFiles, noProgress: noProgress, force: force, files: files})
		},
	}
	c.Flags().StringVarP(&path, "config", "c", "", "configuration file (YAML): its outputs receive the events")
	c.Flags().StringVarP(&typ, "type", "t", "", "file type: an input type with a file reader ("+replayTypes()+")")
	c.Flags().StringVar(&inputName, "input", "", "take the type's options from this input block of the configuration")
	c.Flags().StringVar(&layout, "format", "auto", "snort datagram layout: auto, snort2, snort3 or barnyard2")
	c.Flags().StringSliceVar(&sigFiles.SidMsg, "sid-msg-map", nil, "sid-msg.map file(s), v1 or v2")
	c.Flags().StringVar(&sigFiles.GenMsg, "gen-msg-map", "", "gen-msg.map file")
	c.Flags().StringVar(&sigFiles.Classification, "classification-config", "", "classification.config file")
	c.Flags().StringSliceVar(&sigFiles.Rules, "rules", nil, "Snort 2/3 rules file(s), for signature names (Snort 3 has no sid-msg.map)")
	c.Flags().BoolVar(&noProgress, "no-progress", false, "no progress bar or progress lines")
	c.Flags().BoolVar(&force, "force", false, "write to output files that another process (a running gateway) has open")
	cobra.CheckErr(c.MarkFlagRequired("type"))
	return c
}

// replayRun is what a replay is asked to do.
type replayRun struct {
	config, typ, layout string
	input               string // --input: the configuration's block whose options apply
	sigFiles            sigfiles.Files
	noProgress, force   bool
	files               []string
}

// runReplay replays r.files into the outputs of r.config. The progress and
// the log go to stderr; the summary, all of it, to stdout.
func runReplay(stdout, stderr io.Writer, r replayRun) error {
	f, ins, outs, probs, err := loadConfig(r.config)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	var block *decodedInput
	if r.typ != replayDeadLetter {
		if p, ok := inputPlugins[r.typ]; !ok || p.Files == nil {
			return &exitError{code: 2, err: fmt.Errorf("unknown --type %q (%s)", r.typ, replayTypes())}
		}
		if block, err = replayBlock(stderr, ins, probs, r.typ, r.input); err != nil {
			return &exitError{code: 2, err: err}
		}
	}
	in, dec, err := replayReader(r, block)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	common := config.InputCommon{}
	if block != nil {
		common = block.common
	}
	// Replay starts none of the configured inputs: their problems (or
	// their absence) do not matter here.
	probs = slices.DeleteFunc(probs, func(p config.Problem) bool {
		return p.Path == "inputs" || strings.HasPrefix(p.Path, "inputs[")
	})
	if err := probs.Err(); err != nil {
		return &exitError{code: 2, err: err}
	}
	if err := checkReplayTargets(stderr, r, f, outs); err != nil {
		return &exitError{code: 2, err: err}
	}

	tty := false
	if fd, ok := stderr.(*os.File); ok {
		tty = isatty.IsTerminal(fd.Fd())
	}
	reg := stats.NewRegistry()
	name := "replay"
	if r.typ == replayDeadLetter {
		name = replayDeadLetter // source.input of re-ingested messages
	}
	st := reg.Input(name, r.typ)
	prog := newProgress(stderr, tty, replay.TotalSize(r.files), in.Read.Load, st.Normalized.Load)
	log := newLoggerTo(prog, f.Log.Format == "console" || (f.Log.Format == "auto" && tty), f.Log.Level)
	p, err := buildReplayPipeline(f, outs, log, reg, pipeline.Input{
		Name: name, Type: r.typ, Reader: in, Decoder: dec, Stats: st, Log: log.With().Str("input", name).Logger(),
		CommunityIDSeed: f.CommunityIDSeed(common),
	})
	if err != nil {
		return err
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sig)

	start := time.Now()
	if !r.noProgress {
		interval := 5 * time.Second
		if tty {
			interval = 100 * time.Millisecond
		}
		go prog.run(interval)
	}
	runErr := make(chan error, 1)
	go func() { runErr <- p.Run(ctx) }()
	interrupted := false
	select {
	case <-in.Finished():
	case <-sig:
		interrupted = true
		log.Warn().Msg("interrupted: draining what was read")
	}
	cancel()
	err = <-runErr
	if !r.noProgress {
		prog.stop(!interrupted && len(in.FileErrors) == 0)
	}

	failed := printReplaySummary(stdout, r, in, st, reg, time.Since(start))
	if err != nil {
		return err
	}
	if failed {
		return &exitError{code: 1, err: fmt.Errorf("")}
	}
	return nil
}

// printReplaySummary writes the outcome in plain words and reports
// whether anything could not be replayed.
func printReplaySummary(w io.Writer, r replayRun, in *replay.Input, st *stats.Input, reg *stats.Registry, elapsed time.Duration) (failed bool) {
	events := st.Normalized.Load()
	fmt.Fprintf(w, "replayed %d file(s): %s in %s, %s events (%s events/s)\n", len(r.files), byteSize(in.Read.Load()),
		elapsed.Round(time.Millisecond), thousands(events), thousands(uint64(float64(events)/max(elapsed.Seconds(), 1e-3))))
	nfailed := st.Failed.Total()
	fmt.Fprintf(w, "not normalized: %d%s\n", nfailed, reasonList(st.Failed.Snapshot()))
	if dl, ok := in.Reader.(*deadLetterReader); ok {
		skipped := dl.skippedCounts()
		var n uint64
		for _, v := range skipped {
			n += v
		}
		if n > 0 {
			fmt.Fprintf(w, "skipped: %d%s\n", n, reasonList(skipped))
			failed = true
		}
	}
	for _, o := range reg.Outputs() {
		fmt.Fprintf(w, "output %s: %s written, %d dropped%s\n", o.Name, thousands(o.Written.Load()), o.Dropped.Total(), reasonList(o.Dropped.Snapshot()))
	}
	for _, fe := range in.FileErrors {
		fmt.Fprintln(w, "error:", fe)
	}
	return failed || nfailed > 0 || len(in.FileErrors) > 0
}

// reasonList prints {"truncated": 3, "invalid_json": 1} as
// " (invalid_json: 1, truncated: 3)", or "" when empty.
func reasonList(m map[string]uint64) string {
	if len(m) == 0 {
		return ""
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s: %d", k, m[k]))
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// replayReader makes the reader of r.files and the decoder of what it
// emits, from the type's plugin (or the dead-letter reader).
func replayReader(r replayRun, block *decodedInput) (*replay.Input, inputs.Decoder, error) {
	// The flags are options of the type's configuration block.
	flags := map[string]any{}
	if r.layout != "" && r.layout != "auto" {
		flags["format"] = r.layout
	}
	if !r.sigFiles.Empty() {
		flags["signatures"] = map[string]any{"sid_msg_map": r.sigFiles.SidMsg, "gen_msg_map": r.sigFiles.GenMsg,
			"classification_config": r.sigFiles.Classification, "rules": r.sigFiles.Rules}
	}
	if r.typ == replayDeadLetter {
		return &replay.Input{Files: r.files, Reader: newDeadLetterReader(flags)}, nil, nil
	}
	plugin, ok := inputPlugins[r.typ]
	if !ok || plugin.Files == nil {
		return nil, nil, fmt.Errorf("unknown --type %q (%s)", r.typ, replayTypes())
	}
	opts := plugin.Options()
	if block != nil {
		opts = block.opts
	}
	if err := replayOptions(r.typ, flags, opts); err != nil {
		return nil, nil, err
	}
	var dec inputs.Decoder
	if plugin.Decoder != nil {
		d, err := plugin.Decoder(opts)
		if err != nil {
			return nil, nil, err
		}
		dec = d
	}
	fr, err := plugin.Files(opts)
	if err != nil {
		return nil, nil, err
	}
	return &replay.Input{Files: r.files, Reader: fr}, dec, nil
}

// replayBlock finds the configuration's input block whose options replay
// uses: the one named name, or, without a name, the only block of type
// typ (nil when there is none or several: the type's defaults apply). That
// block must be valid.
func replayBlock(stderr io.Writer, ins []decodedInput, probs config.Problems, typ, name string) (*decodedInput, error) {
	var found []*decodedInput
	for i := range ins {
		d := &ins[i]
		if (name != "" && d.block.Name == name) || (name == "" && d.block.Type == typ) {
			found = append(found, d)
		}
	}
	switch {
	case name != "" && len(found) == 0:
		return nil, fmt.Errorf("--input %q: the configuration has no input of that name", name)
	case name != "" && found[0].block.Type != typ:
		return nil, fmt.Errorf("--input %q is of type %s, not %s", name, found[0].block.Type, typ)
	case len(found) != 1:
		if len(found) > 1 {
			fmt.Fprintf(stderr, "replay: %d %s inputs in the configuration; the type's defaults apply (name one with --input)\n", len(found), typ)
		}
		return nil, nil
	}
	d := found[0]
	mine := slices.DeleteFunc(slices.Clone(probs), func(p config.Problem) bool {
		return p.Path != d.block.Path && !strings.HasPrefix(p.Path, d.block.Path+".")
	})
	if err := mine.Err(); err != nil {
		return nil, fmt.Errorf("input %s: %w", d.block.Name, err)
	}
	fmt.Fprintf(stderr, "replay: with the options of input %s\n", d.block.Name)
	return d, nil
}

// replayTypes lists the input types replay can read.
func replayTypes() string {
	var types []string
	for _, t := range slices.Sorted(maps.Keys(inputPlugins)) {
		if inputPlugins[t].Files != nil {
			types = append(types, t)
		}
	}
	return strings.Join(append(types, replayDeadLetter), ", ")
}

// replayOptions decodes the flags given as options of the type's block.
// Only the keys the flags set are checked: the others keep their defaults,
// and what a live input would need besides (a socket, a directory) does
// not matter to replay.
func replayOptions(typ string, flags map[string]any, opts any) error {
	var probs config.Problems
	for _, p := range config.Decode(flags, "", opts) {
		for k := range flags {
			if p.Path == k || strings.HasPrefix(p.Path, k+".") || strings.HasPrefix(p.Path, k+"[") {
				probs = append(probs, p)
			}
		}
	}
	if len(probs) == 0 {
		return nil
	}
	for i, p := range probs {
		if strings.HasPrefix(p.Msg, "unknown key") {
			probs[i].Msg = "--type " + typ + " takes no such option (a flag for another type)"
		}
	}
	return probs.Err()
}

// buildReplayPipeline builds the configured outputs as `run` does (see
// buildPipeline) with one input: the replay reader.
func buildReplayPipeline(f *config.File, outs []decodedOutput, log zerolog.Logger, reg *stats.Registry, in pipeline.Input) (*pipeline.Pipeline, error) {
	var pouts []pipeline.Output
	for _, d := range outs {
		enc := outputEncoder(d)
		st := reg.Output(d.block.Name, d.block.Type)
		olog := log.With().Str("output", d.block.Name).Logger()
		w, err := d.plugin.New(outputs.Env{Name: d.block.Name, Sensor: f.Sensor, Log: olog, Stats: st, Encoder: enc}, d.opts)
		if err != nil {
			for _, o := range pouts {
				o.Writer.Close()
			}
			return nil, fmt.Errorf("%s (%s): %w", d.block.Path, d.block.Name, err)
		}
		pouts = append(pouts, pipeline.Output{Name: d.block.Name, Type: d.block.Type, Writer: w, Encoder: enc, Buffer: d.common.Buffer, Stats: st, Log: olog})
	}
	var dl *pipeline.DeadLetter
	if f.DeadLetter.Path != "" {
		var err error
		if dl, err = pipeline.OpenDeadLetterWith(pipeline.DeadLetterOptions{Path: f.DeadLetter.Path, MaxSize: int64(f.DeadLetter.MaxSize),
			Stats: reg.DeadLetter(), Log: log.With().Str("component", "dead_letter").Logger()}); err != nil {
			return nil, err
		}
	}
	return pipeline.New(pipeline.Options{
		Sensor: f.Sensor, Workers: f.Pipeline.Workers, ShutdownTimeout: f.Pipeline.ShutdownTimeout, Log: log, DeadLetter: dl,
	}, []pipeline.Input{in}, pouts)
}

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
	"github.com/schollz/progressbar/v3"
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
		noProgress        bool
	)
	c := &cobra.Command{
		Use:   "replay --type TYPE FILE...",
		Short: "Backfill sensor files through the normalizers to the configured outputs",
		Long: `Replay reads files a sensor wrote and sends them, normalized, to the outputs of
the configuration (--config; the embedded default without it). Inputs of the
configuration are not started.

  --type unified2   unified2 files (Snort 2/3, Suricata ≤ 5), any record type
  --type suricata   EVE JSON, one record per line
  --type snort      captured alert_unixsock datagrams, each preceded by its
                    length as a 4-byte big-endian integer
  --type nflog      pcap or pcapng captures of NFLOG groups (tcpdump -i nflog:N)

The type's options (NFLOG labelling rules, signature maps) are those of the
configuration's input block of that type: the one named by --input, or the
only one there is; the flags below override them.

Every input type that declares a file reader can be replayed (` + "`alertgw plugins`" + `
marks them); its files go through the same decoder as its live input.

Files ending in gzip magic are decompressed on the fly. A progress bar is
shown on a terminal, a progress line every 5 s otherwise, and a summary at
the end. The exit code is 1 when a file could not be read to its end or a
record could not be normalized.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			return runReplay(cmd.ErrOrStderr(), path, typ, inputName, layout, sigFiles, noProgress, files)
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
	c.MarkFlagRequired("type")
	return c
}

func runReplay(stderr io.Writer, path, typ, inputName, layout string, sigFiles sigfiles.Files, noProgress bool, files []string) error {
	plugin, ok := inputPlugins[typ]
	if !ok || plugin.Files == nil {
		return &exitError{code: 2, err: fmt.Errorf("unknown --type %q (%s)", typ, replayTypes())}
	}
	f, ins, outs, probs, err := loadConfig(path)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	block, err := replayBlock(stderr, ins, probs, typ, inputName)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	// The flags are options of the type's configuration block.
	flags := map[string]any{}
	if layout != "" && layout != "auto" {
		flags["format"] = layout
	}
	if !sigFiles.Empty() {
		flags["signatures"] = map[string]any{"sid_msg_map": sigFiles.SidMsg, "gen_msg_map": sigFiles.GenMsg,
			"classification_config": sigFiles.Classification, "rules": sigFiles.Rules}
	}
	opts, common := plugin.Options(), config.InputCommon{}
	if block != nil {
		opts, common = block.opts, block.common
	}
	if err := replayOptions(typ, flags, opts); err != nil {
		return &exitError{code: 2, err: err}
	}
	var dec inputs.Decoder
	if plugin.Decoder != nil {
		d, err := plugin.Decoder(opts)
		if err != nil {
			return &exitError{code: 2, err: err}
		}
		dec = d
	}
	fr, err := plugin.Files(opts)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	in := &replay.Input{Files: files, Reader: fr}

	// Replay starts none of the configured inputs: their problems (or
	// their absence) do not matter here.
	probs = slices.DeleteFunc(probs, func(p config.Problem) bool {
		return p.Path == "inputs" || strings.HasPrefix(p.Path, "inputs[")
	})
	if err := probs.Err(); err != nil {
		return &exitError{code: 2, err: err}
	}
	log := newLogger(f.Log)
	reg := stats.NewRegistry()
	// The configuration's outputs, and the replay reader as the only input.
	st := reg.Input("replay", typ)
	p, err := buildReplayPipeline(f, outs, log, reg, pipeline.Input{
		Name: "replay", Type: typ, Reader: in, Decoder: dec, Stats: st, Log: log.With().Str("input", "replay").Logger(),
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

	total := replay.TotalSize(files)
	start := time.Now()
	stopProgress := showProgress(stderr, noProgress, total, in, st)
	runErr := make(chan error, 1)
	go func() { runErr <- p.Run(ctx) }()
	select {
	case <-in.Finished():
	case <-sig:
		fmt.Fprintln(stderr, "interrupted: draining what was read")
	}
	cancel()
	err = <-runErr
	stopProgress()

	elapsed := time.Since(start)
	events := st.Normalized.Load()
	failed := st.Failed.Total()
	fmt.Fprintf(stderr, "replayed %d file(s), %s in %s: %d events (%.0f/s), %d errors %v\n",
		len(files), byteSize(in.Read.Load()), elapsed.Round(time.Millisecond), events,
		float64(events)/max(elapsed.Seconds(), 1e-9), failed, st.Failed.Snapshot())
	for _, o := range reg.Outputs() {
		fmt.Fprintf(stderr, "output %s: %d written, %d dropped\n", o.Name, o.Written.Load(), o.Dropped.Total())
	}
	for _, fe := range in.FileErrors {
		fmt.Fprintln(stderr, "error:", fe)
	}
	if err != nil {
		return err
	}
	if failed > 0 || len(in.FileErrors) > 0 {
		return &exitError{code: 1, err: fmt.Errorf("")}
	}
	return nil
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
	return strings.Join(types, ", ")
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
		if p.Msg == "unknown key" {
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

// showProgress draws a progress bar over the bytes read on a terminal, or
// prints a line every 5 s otherwise. The returned function stops it.
func showProgress(w io.Writer, off bool, total int64, in *replay.Input, st *stats.Input) func() {
	if off {
		return func() {}
	}
	done := make(chan struct{})
	stopped := make(chan struct{})
	tty := false
	if f, ok := w.(*os.File); ok {
		tty = isatty.IsTerminal(f.Fd())
	}
	go func() {
		defer close(stopped)
		if tty {
			bar := progressbar.NewOptions64(total, progressbar.OptionSetWriter(w), progressbar.OptionShowBytes(true),
				progressbar.OptionSetDescription("replay"), progressbar.OptionThrottle(100*time.Millisecond),
				progressbar.OptionShowCount(), progressbar.OptionClearOnFinish())
			t := time.NewTicker(100 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-done:
					bar.Set64(in.Read.Load())
					bar.Finish()
					return
				case <-t.C:
					bar.Set64(in.Read.Load())
				}
			}
		}
		t := time.NewTicker(5 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				read := in.Read.Load()
				pct := 100.0
				if total > 0 {
					pct = 100 * float64(read) / float64(total)
				}
				fmt.Fprintf(w, "replay: %s of %s (%.1f%%), %d events, %d errors\n",
					byteSize(read), byteSize(total), pct, st.Normalized.Load(), st.Failed.Total())
			}
		}
	}()
	return func() {
		close(done)
		<-stopped
	}
}

func byteSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/rs/zerolog"
	"github.com/spf13/cobra"
	"kernel.org/pub/linux/libs/security/libcap/cap"

	"github.com/alertgw/alertgw/config"
	"github.com/alertgw/alertgw/inputs/unixsock/sockdir"
	"github.com/alertgw/alertgw/internal/listenfds"
	"github.com/alertgw/alertgw/internal/privdrop"
	"github.com/alertgw/alertgw/stats"
)

func runCmd() *cobra.Command {
	var path, cpuProfile, memProfile string
	c := &cobra.Command{
		Use:   "run",
		Short: "Run the gateway (the embedded default configuration without --config)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) (err error) {
			defer tuneGC()()
			if cpuProfile != "" {
				stop, err := startCPUProfile(cpuProfile)
				if err != nil {
					return err
				}
				defer stop()
			}
			if memProfile != "" {
				write, perr := startAllocProfile(memProfile)
				if perr != nil {
					return perr
				}
				defer func() {
					if werr := write(); werr != nil && err == nil {
						err = werr
					}
				}()
			}
			return run(cmd.Context(), path)
		},
	}
	c.Flags().StringVarP(&path, "config", "c", "", "configuration file (YAML)")
	c.Flags().StringVar(&cpuProfile, "cpuprofile", "", "write a pprof CPU profile of the whole run to this file (benchmarks)")
	c.Flags().StringVar(&memProfile, "memprofile", "", "write a pprof allocation profile of the whole run to this file at exit (benchmarks)")
	cobra.CheckErr(c.Flags().MarkHidden("cpuprofile"))
	cobra.CheckErr(c.Flags().MarkHidden("memprofile"))
	return c
}

func run(ctx context.Context, path string) error {
	f, ins, outs, probs, err := loadConfig(path)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	// The same checks as `alertgw validate`: a file that cannot be read
	// stops the start here, with its key path, rather than deep inside
	// the plugin that opens it.
	perrs, warns := preflight(f, ins, outs)
	if err := append(probs, perrs...).Err(); err != nil {
		return &exitError{code: 2, err: err}
	}
	log := newLogger(f.Log)
	for _, w := range warns {
		log.Warn().Str("key", w.Path).Msg(w.Msg)
	}
	if f.RunAs.User != "" {
		// The run_as user owns the gateway's directories as much as root
		// does: its socket directories are trusted (package sockdir).
		uid, _, err := privdrop.Resolve(privdrop.Target{User: f.RunAs.User, Group: f.RunAs.Group})
		if err != nil {
			return &exitError{code: 2, err: fmt.Errorf("run_as: %w", err)}
		}
		sockdir.TrustRunAs(uid)
	}
	reg := stats.NewRegistry()
	tk := takeoverFromEnv()
	var takeoverGone <-chan struct{}
	if tk != nil {
		takeoverGone = tk.gone
		log.Info().Msg("taking over from the process that started this one (SIGUSR2): outputs, disk buffers and journals wait until it has exited")
	}
	js := newJournals(f, outs, log.With().Str("component", "journal").Logger(), takeoverGone)
	p, err := buildPipeline(f, ins, outs, log, reg, js)
	if err != nil {
		js.Close()
		return err
	}
	for _, s := range listenfds.Unused() {
		log.Warn().Str("socket", s.Path).Str("name", s.Name).Str("from", s.From).Msg("passed socket not used by any input: closed")
		s.File.Close()
	}

	// SIGINT and SIGTERM stop the gateway, and so does the caller
	// cancelling ctx.
	runCtx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	usr2 := make(chan os.Signal, 1)
	signal.Notify(usr2, syscall.SIGUSR2)
	defer signal.Stop(usr2)
	go func() {
		for range usr2 {
			log.Info().Msg("SIGUSR2: re-executing with the sockets handed over")
			if err := upgrade(log); err != nil {
				log.Error().Err(err).Msg("SIGUSR2: re-exec failed; this process goes on")
				continue
			}
			log.Info().Msg("SIGUSR2: the new process reads the sockets; stopping this one")
			stop()
			return
		}
	}()
	reload := newReloader(path, f, p, log, reg, js)
	adminCtx, stopAdmin := context.WithCancel(context.Background())
	var adminWG sync.WaitGroup
	defer func() { stopAdmin(); adminWG.Wait() }() // its socket file is removed before exit
	startAdmin := func() error {
		if f.Admin.Listen == "" && f.Admin.Socket == "" {
			return nil
		}
		srv, err := buildAdmin(f, ins, outs, reg, reload, log.With().Str("component", "admin").Logger())
		if err != nil {
			return err
		}
		adminWG.Go(func() {
			if err := srv.Serve(adminCtx); err != nil {
				log.Error().Err(err).Msg("admin endpoint stopped")
			}
		})
		return nil
	}
	if tk == nil { // a takeover starts it once the old process released the address
		if err := startAdmin(); err != nil {
			return err
		}
	}
	if tk != nil {
		go func() {
			select {
			case <-p.Started():
			case <-runCtx.Done():
				return
			}
			if err := tk.signalReady(); err != nil {
				log.Error().Err(err).Msg("takeover: cannot tell the old process")
			}
			<-tk.gone
			log.Info().Msg("takeover: the old process has exited; opening journals and disk buffers")
			if err := js.Start(); err != nil {
				log.Error().Err(err).Msg("takeover: journal not opened; inputs run without it")
			}
			p.ReplayJournals()
			if err := startAdmin(); err != nil {
				log.Error().Err(err).Msg("takeover: admin endpoint not started")
			}
		}()
	}
	stopConsole, err := startConsole(f, outs, probs, log)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	defer stopConsole()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for range hup {
			log.Info().Msg("SIGHUP: reopening output files and signature maps, reloading the configuration")
			p.Reopen()
			if path == "" {
				continue // the embedded default cannot change
			}
			if err := reload.Reload(); err != nil {
				log.Error().Err(err).Msg("reload")
			}
		}
	}()

	if f.RunAs.User != "" {
		if err := dropPrivileges(f, log); err != nil {
			return err
		}
	}

	log.Info().Str("version", version).Str("sensor", f.Sensor).Int("inputs", len(ins)).Int("outputs", len(outs)).Msg("alertgw running")
	start := time.Now()
	err = p.Run(runCtx)
	if jerr := js.Close(); jerr != nil {
		err = errors.Join(err, fmt.Errorf("journal: %w", jerr))
	}
	logTotals(log, reg, time.Since(start))
	if err != nil {
		return fmt.Errorf("stopped with errors: %w", err)
	}
	log.Info().Msg("stopped cleanly")
	return nil
}

func logTotals(log zerolog.Logger, reg *stats.Registry, up time.Duration) {
	for _, s := range reg.Inputs() {
		log.Info().Str("input", s.Name).Uint64("received", s.Received.Load()).Uint64("normalized", s.Normalized.Load()).Uint64("merged", s.Merged.Load()).Uint64("replayed", s.Replayed.Load()).
			Interface("failed", s.Failed.Snapshot()).Interface("dropped", s.Dropped.Snapshot()).Dur("uptime", up.Round(time.Millisecond)).Msg("input totals")
	}
	if dl := reg.DeadLetter(); dl.Written.Load() > 0 || len(dl.Dropped.Snapshot()) > 0 {
		log.Info().Uint64("written", dl.Written.Load()).Interface("dropped", dl.Dropped.Snapshot()).Msg("dead-letter totals")
	}
	for _, s := range reg.Outputs() {
		log.Info().Str("output", s.Name).Uint64("written", s.Written.Load()).Uint64("retried", s.Retried.Load()).
			Interface("failed", s.Failed.Snapshot()).Interface("dropped", s.Dropped.Snapshot()).
			Int64("left_in_buffer", s.Queued.Load()).Uint64("spilled", s.Spilled.Load()).Uint64("replayed", s.Replayed.Load()).
			Msg("output totals")
	}
}

// newLogger builds the gateway's logger: JSON when stderr is not a terminal
// (containers, systemd), human-readable console when it is.
func newLogger(c config.Log) zerolog.Logger {
	return newLoggerTo(os.Stderr, c.Format == "console" || (c.Format == "auto" && isatty.IsTerminal(os.Stderr.Fd())), c.Level)
}

func newLoggerTo(w io.Writer, console bool, lvl string) zerolog.Logger {
	level, err := zerolog.ParseLevel(lvl)
	if err != nil {
		level = zerolog.InfoLevel
	}
	zerolog.TimeFieldFormat = time.RFC3339Nano
	// Durations as Go writes them ("10s", "250ms"), in JSON and on the
	// console alike: a bare 10000 leaves the reader guessing the unit.
	zerolog.DurationFieldFormat = zerolog.DurationFormatString
	zerolog.SetGlobalLevel(level) // global, so that a reload can change it
	if console {
		return zerolog.New(zerolog.ConsoleWriter{Out: w, TimeFormat: time.RFC3339}).With().Timestamp().Logger()
	}
	return zerolog.New(w).With().Timestamp().Logger()
}

// dropPrivileges switches to run_as once every socket is bound, keeping
// CAP_NET_ADMIN only when an nflog input needs it to talk to the kernel,
// and CAP_SYS_NICE only when an input raises its reader's priority
// (reader_nice below 0, set when the reader starts, after the drop).
func dropPrivileges(f *config.File, log zerolog.Logger) error {
	keep := keptCapabilities(f.Inputs)
	res, err := privdrop.Drop(privdrop.Target{User: f.RunAs.User, Group: f.RunAs.Group}, keep...)
	if err != nil {
		return fmt.Errorf("run_as: %w", err)
	}
	log.Info().Int("uid", res.UID).Int("gid", res.GID).Interface("capabilities", keep).
		Msg("dropped privileges: every other capability removed from the bounding set, no_new_privs set")
	return nil
}

// keptCapabilities returns what the inputs still need after the drop.
func keptCapabilities(inputs []config.Block) []cap.Value {
	var keep []cap.Value
	add := func(c cap.Value) {
		if !slices.Contains(keep, c) {
			keep = append(keep, c)
		}
	}
	for _, in := range inputs {
		if in.Type == "nflog" {
			add(cap.NET_ADMIN)
		}
		if n, err := strconv.Atoi(fmt.Sprint(in.Options["reader_nice"])); err == nil && n < 0 {
			add(cap.SYS_NICE)
		}
	}
	return keep
}

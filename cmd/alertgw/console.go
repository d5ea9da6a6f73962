package main

import (
	"context"
	"errors"
	"fmt"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/alertgw/alertgw/config"
	"github.com/alertgw/alertgw/console"
	"github.com/alertgw/alertgw/console/triage"
	storeout "github.com/alertgw/alertgw/outputs/store"
	"github.com/alertgw/alertgw/store"
	"github.com/alertgw/alertgw/store/sqlite"
)

func init() { extraCommands = append(extraCommands, consoleCmd) }

// consoleCmd serves the web console over an existing store without
// ingesting: a central analyst host browsing what a fleet wrote.
func consoleCmd() *cobra.Command {
	var path, listen, storeDir string
	c := &cobra.Command{
		Use:   "console",
		Short: "Serve the web console over an existing store, without ingesting",
		Long: `Serve the web console (inbox, search, event pages, overview) over the events
an alertgw store holds: the configuration's store output (console.store names
one when there are several), or a store directory given with --store.
Nothing is ingested: inputs and other outputs of the configuration are ignored.

The console listens on console.listen (default ` + console.DefaultListen + ` here). Beyond
loopback it refuses to start without users (alertgw user add NAME). See docs/console.md.`,
		Example: `  alertgw console -c /etc/alertgw/alertgw.yaml
  alertgw console --store ./data/store --listen 127.0.0.1:8470`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, _, outs, probs, err := loadConfig(path)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			if err := probs.Err(); err != nil {
				return &exitError{code: 2, err: err}
			}
			opts, _ := console.Decode(f.Console)
			if listen != "" {
				opts.Listen = listen
			}
			if opts.Listen == "" {
				opts.Listen = console.DefaultListen
			}
			log := newLogger(f.Log).With().Str("component", "console").Logger()
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			return serveConsole(ctx, opts, outs, storeDir, log, true)
		},
	}
	c.Flags().StringVarP(&path, "config", "c", "", "configuration file (YAML); the embedded default when empty")
	c.Flags().StringVar(&listen, "listen", "", "host:port to serve on (overrides console.listen)")
	c.Flags().StringVar(&storeDir, "store", "", "a store directory to browse (instead of the configuration's store output)")
	return c
}

// consoleBackend is where the console reads events and keeps its triage
// state.
type consoleBackend struct {
	reader store.Reader
	triage *triage.Store
	where  string
}

func (b *consoleBackend) Close() error {
	return errors.Join(b.reader.Close(), b.triage.Close())
}

// openConsoleBackend finds the store the console shows: dir when given,
// else the output named name (or the only store output).
func openConsoleBackend(ctx context.Context, outs []decodedOutput, name, dir string) (*consoleBackend, error) {
	if dir == "" {
		var stores []decodedOutput
		for _, o := range outs {
			if o.block.Type == "store" && (name == "" || o.block.Name == name) {
				stores = append(stores, o)
			}
		}
		switch {
		case len(stores) == 0 && name != "":
			return nil, fmt.Errorf("console.store: no output of type store is named %q", name)
		case len(stores) == 0:
			return nil, errors.New("the console needs an output of type store to show (or --store DIR); see outputs/store/README.md")
		case len(stores) > 1:
			var names []string
			for _, s := range stores {
				names = append(names, s.block.Name)
			}
			return nil, fmt.Errorf("several store outputs (%s): name one in console.store", strings.Join(names, ", "))
		}
		dir = storeout.Dir(stores[0].opts.(*storeout.Options))
	}
	rd, err := sqlite.OpenReader(dir)
	if err != nil {
		return nil, err
	}
	// The triage state lives beside the events, in a directory the
	// store's retention never touches.
	tri, err := triage.OpenSQLite(ctx, filepath.Join(dir, "console"))
	if err != nil {
		rd.Close()
		return nil, err
	}
	return &consoleBackend{reader: rd, triage: tri, where: dir}, nil
}

// serveConsole runs the console until ctx ends.
func serveConsole(ctx context.Context, opts *console.Options, outs []decodedOutput, dir string, log zerolog.Logger, standalone bool) error {
	be, err := openConsoleBackend(ctx, outs, opts.Store, dir)
	if err != nil {
		return &exitError{code: 2, err: fmt.Errorf("console: %w", err)}
	}
	defer be.Close()
	srv, err := console.New(*opts, console.Deps{Store: be.reader, Triage: be.triage, Log: log, Version: version})
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	ev := log.Info().Str("store", be.where)
	if standalone {
		ev.Msg("console: serving an existing store (nothing is ingested)")
	} else {
		ev.Msg("console: serving the gateway's store")
	}
	srv.Announce()
	return srv.Serve(ctx)
}

// startConsole serves the console beside the running gateway when
// console.listen is set; stop ends it.
func startConsole(f *config.File, outs []decodedOutput, log zerolog.Logger) (stop func(), err error) {
	opts, _ := console.Decode(f.Console) // validated already
	if opts.Listen == "" {
		return func() {}, nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	clog := log.With().Str("component", "console").Logger()
	be, err := openConsoleBackend(ctx, outs, opts.Store, "")
	if err != nil {
		cancel()
		return nil, fmt.Errorf("console: %w", err)
	}
	srv, err := console.New(*opts, console.Deps{Store: be.reader, Triage: be.triage, Log: clog, Version: version})
	if err != nil {
		cancel()
		be.Close()
		return nil, err
	}
	srv.Announce()
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ctx); err != nil {
			clog.Error().Err(err).Msg("console stopped")
		}
	}()
	return func() {
		cancel()
		<-done
		be.Close()
	}, nil
}

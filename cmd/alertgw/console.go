package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/mattn/go-isatty"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/alertgw/alertgw/config"
	"github.com/alertgw/alertgw/console"
	"github.com/alertgw/alertgw/console/triage"
	"github.com/alertgw/alertgw/store"
	"github.com/alertgw/alertgw/store/api"
)

func init() { extraCommands = append(extraCommands, consoleCmd) }

// consoleCmd serves the web console over an existing store without
// ingesting: a central analyst host browsing what a fleet wrote.
func consoleCmd() *cobra.Command {
	var path, listen, storeDir, dsn, table string
	c := &cobra.Command{
		Use:   "console",
		Short: "Serve the web console over an existing store, without ingesting",
		Long: `Serve the web console (inbox, search, event pages, overview) over the events
an alertgw store holds: the configuration's store output (console.store names
one when there are several, or a postgres output), a store directory given with
--store, or a PostgreSQL database given with --dsn (fleets writing to one
database through the postgres output).
Nothing is ingested: inputs and other outputs of the configuration are ignored.

The console listens on console.listen (default ` + console.DefaultListen + ` here). Beyond
loopback it refuses to start without users (alertgw user add NAME). See docs/console.md.`,
		Example: `  alertgw console -c /etc/alertgw/alertgw.yaml
  alertgw console --store ./data/store --listen 127.0.0.1:8470
  alertgw console --dsn postgres://alertgw@db/alerts -c central.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, _, outs, probs, err := loadConfig(path)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			opts, cprobs := console.Decode(f.Console)
			if err := cprobs.Err(); err != nil {
				return &exitError{code: 2, err: err}
			}
			t := storeTarget{dir: storeDir, dsn: dsn, table: table}
			if dsn != "" && t.table == "" {
				t.table = "alertgw_events"
			}
			if storeDir == "" && dsn == "" {
				// Only the store output matters here: problems elsewhere
				// in the configuration (an input's socket) do not stop
				// a console that ingests nothing.
				if t, err = pickStore(displayPath(path), outs, probs, opts.Store, "console.store"); err != nil {
					return err
				}
			}
			if listen != "" {
				opts.Listen = listen
			}
			if opts.Listen == "" {
				opts.Listen = console.DefaultListen
			}
			log := newLogger(f.Log).With().Str("component", "console").Logger()
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			return serveConsole(ctx, opts, t, log)
		},
	}
	c.Flags().StringVarP(&path, "config", "c", "", "configuration file (YAML); the embedded default when empty")
	c.Flags().StringVar(&listen, "listen", "", "host:port to serve on (overrides console.listen)")
	c.Flags().StringVar(&storeDir, "store", "", "a store directory to browse (instead of the configuration's store output)")
	c.Flags().StringVar(&dsn, "dsn", "", "browse a PostgreSQL database written by the postgres output instead")
	c.Flags().StringVar(&table, "table", "", "the postgres output's table (with --dsn; default alertgw_events)")
	return c
}

// consoleBackend is where the console reads events and keeps its triage
// state: for a SQLite store, a database in its console/ subdirectory (which
// the store's retention leaves alone); for PostgreSQL, tables beside the
// events' table.
type consoleBackend struct {
	reader store.Reader
	triage *triage.Store
	where  string
}

func (b *consoleBackend) Close() error {
	return errors.Join(b.reader.Close(), b.triage.Close())
}

func openConsoleBackend(ctx context.Context, t storeTarget) (*consoleBackend, error) {
	rd, err := t.open(ctx)
	if err != nil {
		return nil, err
	}
	var tri *triage.Store
	if t.dir != "" {
		tri, err = triage.OpenSQLite(ctx, filepath.Join(t.dir, "console"))
	} else {
		tri, err = triage.OpenPostgres(ctx, t.dsn)
	}
	if err != nil {
		rd.Close()
		return nil, err
	}
	return &consoleBackend{reader: rd, triage: tri, where: t.String()}, nil
}

func newConsole(opts *console.Options, be *consoleBackend, log zerolog.Logger) (*console.Server, error) {
	apiHandler := http.StripPrefix("/api/search", api.New(be.reader, api.Options{Timeout: opts.QueryTimeout}))
	return console.New(*opts, console.Deps{Store: be.reader, API: apiHandler, Triage: be.triage, Log: log, Version: version})
}

// serveConsole runs the console until ctx ends.
func serveConsole(ctx context.Context, opts *console.Options, t storeTarget, log zerolog.Logger) error {
	be, err := openConsoleBackend(ctx, t)
	if err != nil {
		return &exitError{code: 2, err: fmt.Errorf("console: %w", err)}
	}
	defer be.Close()
	srv, err := newConsole(opts, be, log)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	log.Info().Str("store", be.where).Msg("console: serving an existing store (nothing is ingested)")
	announce(srv)
	return srv.Serve(ctx)
}

// announce logs the console's address and, on a terminal, also prints the
// login link plainly, so that `make run` shows it where it cannot be missed.
func announce(srv *console.Server) {
	srv.Announce()
	if link := srv.LoginLink(); link != "" && isatty.IsTerminal(os.Stderr.Fd()) {
		fmt.Fprintf(os.Stderr, "\n  alertgw console: %s\n  (no users yet: this link logs you in until the first `alertgw user add`)\n\n", link)
	}
}

// startConsole serves the console beside the running gateway when
// console.listen is set; stop ends it.
func startConsole(f *config.File, outs []decodedOutput, probs config.Problems, log zerolog.Logger) (stop func(), err error) {
	opts, _ := console.Decode(f.Console) // validated already
	if opts.Listen == "" {
		return func() {}, nil
	}
	t, err := pickStore("the configuration", outs, probs, opts.Store, "console.store")
	if err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	clog := log.With().Str("component", "console").Logger()
	be, err := openConsoleBackend(ctx, t)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("console: %w", err)
	}
	srv, err := newConsole(opts, be, clog)
	if err != nil {
		cancel()
		be.Close()
		return nil, err
	}
	announce(srv)
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

package main

import (
	"fmt"
	"strings"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/alertgw/alertgw/config"
	"github.com/alertgw/alertgw/console"
	"github.com/alertgw/alertgw/console/auth"
	"github.com/alertgw/alertgw/internal/admin"
)

func validateCmd() *cobra.Command {
	var path string
	c := &cobra.Command{
		Use:   "validate [FILE]",
		Short: "Check a configuration as `run` would and print every problem with its key path (exit 2 if any)",
		Long: `Validate reads a configuration (FILE or --config; the embedded default
without either) and reports, with its key path, everything ` + "`run`" + ` would refuse:
unknown keys, wrong types and impossible values, variables that are not
set, two inputs on one socket, and files and directories the configuration
names that cannot be read or written by the user running validate. A
directory that does not exist yet and could not be created by this user is
a warning: systemd or a package may create it before alertgw starts.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				if path != "" && path != args[0] {
					return &exitError{code: 2, err: fmt.Errorf("two configuration files given: %s and --config %s", args[0], path)}
				}
				path = args[0]
			}
			f, ins, outs, probs, err := loadConfig(path)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			errs, warns := preflight(f, ins, outs)
			probs = append(probs, errs...)
			for _, p := range probs {
				fmt.Fprintln(cmd.OutOrStdout(), p)
			}
			for _, w := range warns {
				fmt.Fprintln(cmd.OutOrStdout(), "warning:", w)
			}
			if len(probs) > 0 {
				return &exitError{code: 2, err: fmt.Errorf("%d problem(s) in %s", len(probs), displayPath(path))}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: OK (%d inputs, %d outputs", displayPath(path), len(ins), len(outs))
			if len(warns) > 0 {
				fmt.Fprintf(cmd.OutOrStdout(), ", %d warning(s)", len(warns))
			}
			fmt.Fprintln(cmd.OutOrStdout(), ")")
			return nil
		},
	}
	c.Flags().StringVarP(&path, "config", "c", "", "configuration file (YAML); the embedded default when empty")
	return c
}

// preflight checks the files and directories a configuration names, as
// the current user: what `run` would fail on (errors) and what may be
// fixed by the time it starts (warnings).
func preflight(f *config.File, ins []decodedInput, outs []decodedOutput) (errs, warns config.Problems) {
	uses := config.PathUses(f, "")
	eopts, _ := decodeEnrich(f)
	uses = append(uses, config.PathUses(eopts, "enrich")...)
	for _, d := range ins {
		uses = append(uses, config.PathUses(d.opts, d.block.Path)...)
	}
	for _, d := range outs {
		uses = append(uses, config.PathUses(d.common, d.block.Path)...)
		uses = append(uses, config.PathUses(d.opts, d.block.Path)...)
	}
	// The input journal, when it will be used (see newJournals).
	if js := newJournals(f, outs, zerolog.Nop(), nil); js.on {
		uses = append(uses, config.PathUse{Key: "pipeline.journal.path", Path: f.Pipeline.Journal.Path, Use: config.PathWriteDir})
	}
	// The console run serves (console.listen): its certificate files, and
	// the rule it would refuse to start on.
	copts, cprobs := console.Decode(f.Console)
	if copts.Listen != "" && len(cprobs) == 0 {
		uses = append(uses, config.PathUses(&copts.TLS, "console.tls")...)
	}
	errs, warns = config.CheckPaths(uses)
	if copts.Listen != "" && len(cprobs) == 0 && !console.IsLoopback(copts.Listen) {
		if users, err := auth.ReadUsersFile(copts.Users); err == nil && len(users) == 0 {
			errs.Add("console.listen", "%s is reachable from other hosts and the users file %s has no users: add one with `alertgw user add NAME` (or bind to 127.0.0.1)", copts.Listen, copts.Users)
		}
	}
	if f.Pipeline.BatchSize != 0 { //nolint:staticcheck // the one use of the deprecated key: saying it is ignored
		warns.Add("pipeline.batch_size", "has no effect and is ignored (it never had one): remove it; batch sizes are set per input and by each output's batch.max_events")
	}
	// The admin token file, with the checks run applies to it (it exists,
	// is not readable by everyone, holds one usable token).
	if f.Admin.TokenFile != "" {
		if _, err := admin.ReadTokenFile(f.Admin.TokenFile); err != nil {
			msg := strings.TrimPrefix(strings.TrimPrefix(err.Error(), "admin.token_file"), ": ")
			errs.Add("admin.token_file", "%s", strings.TrimSpace(msg))
		}
	}
	return f.Annotate(errs), f.Annotate(warns)
}

func displayPath(p string) string {
	if p == "" {
		return "embedded default"
	}
	return p
}

// Command alertgw is the alert gateway: it listens for Suricata, Snort,
// Barnyard2, unified2, NFLOG and auditd data, normalizes every message into
// one schema and fans it out to files, stdout and other writers.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// Set at build time: go build -ldflags "-X main.version=…".
var version = "dev"

// exitError carries a process exit code out of a command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func main() {
	root := newRootCmd()
	if err := root.Execute(); err != nil {
		code := 1
		var ee *exitError
		if errors.As(err, &ee) {
			code = ee.code
		}
		if err.Error() != "" {
			fmt.Fprintln(os.Stderr, "alertgw:", err)
		}
		os.Exit(code)
	}
}

// newRootCmd builds the command tree.
func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "alertgw",
		Short:         "Security alert gateway: sensors in, one normalized stream out",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version, // --version
	}
	root.SetVersionTemplate("alertgw {{.Version}}\n")
	root.AddCommand(runCmd(), validateCmd(), configCmd(), versionCmd())
	for _, c := range extraCommands {
		root.AddCommand(c())
	}
	return root
}

// extraCommands are added by files that implement further sub-commands
// (send, replay, status …), each in its own file.
var extraCommands []func() *cobra.Command

// configCommands are further `alertgw config …` sub-commands, each in its
// own file.
var configCommands []func() *cobra.Command

func versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit, build date and Go version",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			currentBuild().print(cmd.OutOrStdout())
		},
	}
}

func configCmd() *cobra.Command {
	c := &cobra.Command{Use: "config", Short: "Work with configuration files"}
	c.AddCommand(&cobra.Command{
		Use:   "default",
		Short: "Print the embedded default configuration",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := cmd.OutOrStdout().Write(configDefault())
			return err
		},
	})
	c.AddCommand(configSampleCmd())
	for _, sub := range configCommands {
		c.AddCommand(sub())
	}
	return c
}

package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func validateCmd() *cobra.Command {
	var path string
	c := &cobra.Command{
		Use:   "validate",
		Short: "Check a configuration and print every problem with its key path (exit 2 if any)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, ins, outs, probs, err := loadConfig(path)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			for _, p := range probs {
				fmt.Fprintln(cmd.OutOrStdout(), p)
			}
			if len(probs) > 0 {
				return &exitError{code: 2, err: fmt.Errorf("%d problem(s) in %s", len(probs), displayPath(path))}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: OK (%d inputs, %d outputs)\n", displayPath(path), len(ins), len(outs))
			return nil
		},
	}
	c.Flags().StringVarP(&path, "config", "c", "", "configuration file (YAML); the embedded default when empty")
	return c
}

func displayPath(p string) string {
	if p == "" {
		return "embedded default"
	}
	return p
}

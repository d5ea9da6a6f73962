package main

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

func init() { extraCommands = append(extraCommands, pluginsCmd) }

func pluginsCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "plugins",
		Short: "List the input and output types, with what each does",
		Long: `Plugins lists every input and output type this binary has. Inputs marked
"replay" can also read files with ` + "`alertgw replay --type TYPE`" + `. A type's sample
block: ` + "`alertgw config sample TYPE`" + `; its keys: inputs/<type>/README.md and
outputs/<type>/README.md (docs/plugins.md lists them).`,
		Args: cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			writePlugins(cmd.OutOrStdout())
		},
	}
}

func writePlugins(out io.Writer) {
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "INPUTS")
	for _, typ := range slices.Sorted(maps.Keys(inputPlugins)) {
		p := inputPlugins[typ]
		mark := ""
		if p.Files != nil {
			mark = "replay"
		}
		fmt.Fprintf(w, "  %s\t%s\t%s\n", typ, mark, p.Summary)
	}
	fmt.Fprintln(w, "\nOUTPUTS")
	for _, typ := range slices.Sorted(maps.Keys(outputPlugins)) {
		fmt.Fprintf(w, "  %s\t\t%s\n", typ, outputPlugins[typ].Summary)
	}
	w.Flush()
}

// configSampleCmd is `alertgw config sample TYPE...`.
func configSampleCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "sample TYPE...",
		Short: "Print a working configuration with one block of each type (see `alertgw plugins`)",
		Long: `Sample prints the sample block of each input or output type named, merged into
one configuration file: ` + "`alertgw config sample suricata file > alertgw.yaml`" + `
starts a working configuration. Keys left commented out show their defaults.
A type that is both an input and an output (kafka, forward) gives both blocks.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, types []string) error {
			b, err := configSample(types)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			_, err = cmd.OutOrStdout().Write(b)
			return err
		},
	}
}

// configSample merges the samples of types into one configuration: the
// input blocks under one inputs: key, the output blocks under one outputs:.
// One type alone gives its sample.yaml unchanged.
func configSample(types []string) ([]byte, error) {
	var ins, outs [][]byte
	seen := map[string]bool{}
	for _, typ := range types {
		if seen[typ] {
			continue
		}
		seen[typ] = true
		in, isIn := inputPlugins[typ]
		out, isOut := outputPlugins[typ]
		if !isIn && !isOut {
			return nil, fmt.Errorf("unknown type %q (inputs: %s; outputs: %s)", typ, known(inputPlugins), known(outputPlugins))
		}
		if isIn {
			ins = append(ins, in.Sample)
		}
		if isOut {
			outs = append(outs, out.Sample)
		}
	}
	if len(ins)+len(outs) == 1 {
		return slices.Concat(ins, outs)[0], nil
	}
	var b bytes.Buffer
	for _, part := range []struct {
		key     string
		samples [][]byte
	}{{"inputs", ins}, {"outputs", outs}} {
		if len(part.samples) == 0 {
			continue
		}
		b.WriteString(part.key + ":\n")
		for _, s := range part.samples {
			body, ok := strings.CutPrefix(string(s), part.key+":\n")
			if !ok {
				return nil, fmt.Errorf("a sample does not start with %q", part.key+":")
			}
			b.WriteString(body)
		}
	}
	return b.Bytes(), nil
}

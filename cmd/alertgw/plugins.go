package main

import (
	"github.com/alertgw/alertgw/inputs"
	"github.com/alertgw/alertgw/inputs/nflog"
	"github.com/alertgw/alertgw/outputs"
	"github.com/alertgw/alertgw/outputs/file"
	"github.com/alertgw/alertgw/outputs/stdout"
)

// Every input and output type is registered here, and only here.
var (
	inputPlugins = pluginMap[inputs.Plugin](
		// one line per input type, e.g. suricata.Plugin,
		nflog.Plugin,
	)
	outputPlugins = pluginMap[outputs.Plugin](
		// one line per output type
		file.Plugin,
		stdout.Plugin,
	)
)

type typed interface{ inputs.Plugin | outputs.Plugin }

func pluginMap[P typed](ps ...P) map[string]P {
	m := make(map[string]P, len(ps))
	for _, p := range ps {
		switch v := any(p).(type) {
		case inputs.Plugin:
			m[v.Type] = p
		case outputs.Plugin:
			m[v.Type] = p
		}
	}
	return m
}

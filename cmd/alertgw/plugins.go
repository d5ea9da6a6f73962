package main

import (
	"github.com/alertgw/alertgw/inputs"
	"github.com/alertgw/alertgw/inputs/auditd"
	fwdin "github.com/alertgw/alertgw/inputs/forward"
	kafkain "github.com/alertgw/alertgw/inputs/kafka"
	"github.com/alertgw/alertgw/inputs/nflog"
	"github.com/alertgw/alertgw/inputs/selfstats"
	"github.com/alertgw/alertgw/inputs/snort"
	"github.com/alertgw/alertgw/inputs/suricata"
	"github.com/alertgw/alertgw/inputs/unified2"
	"github.com/alertgw/alertgw/outputs"
	"github.com/alertgw/alertgw/outputs/elasticsearch"
	"github.com/alertgw/alertgw/outputs/file"
	fwdout "github.com/alertgw/alertgw/outputs/forward"
	"github.com/alertgw/alertgw/outputs/graphite"
	"github.com/alertgw/alertgw/outputs/http"
	"github.com/alertgw/alertgw/outputs/kafka"
	"github.com/alertgw/alertgw/outputs/postgres"
	"github.com/alertgw/alertgw/outputs/splunkhec"
	"github.com/alertgw/alertgw/outputs/stdout"
	storeout "github.com/alertgw/alertgw/outputs/store"
	"github.com/alertgw/alertgw/outputs/syslog"
	"github.com/alertgw/alertgw/outputs/unix"
)

// Every input and output type is registered here, and only here.
var (
	inputPlugins = pluginMap[inputs.Plugin](
		auditd.Plugin,
		fwdin.Plugin,
		kafkain.Plugin,
		nflog.Plugin,
		selfstats.Plugin,
		snort.Plugin,
		suricata.Plugin,
		unified2.Plugin,
	)
	outputPlugins = pluginMap[outputs.Plugin](
		// one line per output type
		elasticsearch.Plugin,
		file.Plugin,
		fwdout.Plugin,
		graphite.Plugin,
		http.Plugin,
		kafka.Plugin,
		postgres.Plugin,
		splunkhec.Plugin,
		stdout.Plugin,
		storeout.Plugin,
		syslog.Plugin,
		unix.Plugin,
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

package main

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/rs/zerolog"

	"github.com/alertgw/alertgw/config"
	"github.com/alertgw/alertgw/console"
	"github.com/alertgw/alertgw/inputs"
	"github.com/alertgw/alertgw/internal/enrich"
	"github.com/alertgw/alertgw/outputs"
	"github.com/alertgw/alertgw/outputs/format"
	"github.com/alertgw/alertgw/pipeline"
	"github.com/alertgw/alertgw/stats"
)

func configDefault() []byte { return config.Default() }

// decodedInput and decodedOutput are blocks whose options were decoded and
// validated, ready to build.
type decodedInput struct {
	block  config.Block
	plugin inputs.Plugin
	common config.InputCommon
	opts   any
}

type decodedOutput struct {
	block  config.Block
	plugin outputs.Plugin
	common *pipeline.Delivery
	route  *pipeline.RouteOptions
	opts   any
}

// loadConfig reads and fully checks a configuration without opening
// anything: what `validate` reports and what `run` refuses to start with.
func loadConfig(path string) (*config.File, []decodedInput, []decodedOutput, config.Problems, error) {
	f, fileProbs, err := config.Load(path, os.Environ())
	if err != nil {
		return nil, nil, nil, nil, err
	}
	// The blocks' problems, annotated with the variables their values
	// came from, as Load did for the gateway-wide keys.
	var probs config.Problems
	var ins []decodedInput
	for _, b := range f.Inputs {
		p, ok := inputPlugins[b.Type]
		if !ok {
			if b.Type != "" {
				probs.Add(b.Path+".type", "unknown input type %q (known: %s)", b.Type, known(inputPlugins))
			}
			continue
		}
		d := decodedInput{block: b, plugin: p, opts: p.Options()}
		probs = append(probs, config.DecodeBlock(b, &d.common, d.opts)...)
		ins = append(ins, d)
	}
	var outs []decodedOutput
	for _, b := range f.Outputs {
		p, ok := outputPlugins[b.Type]
		if !ok {
			if b.Type != "" {
				probs.Add(b.Path+".type", "unknown output type %q (known: %s)", b.Type, known(outputPlugins))
			}
			continue
		}
		common, route, opts := pipeline.DefaultDelivery(), &pipeline.RouteOptions{}, p.Options()
		probs = append(probs, config.DecodeBlock(b, common, route, opts)...)
		outs = append(outs, decodedOutput{block: b, plugin: p, common: common, route: route, opts: opts})
	}
	_, eprobs := decodeEnrich(f)
	probs = append(probs, eprobs...)
	_, sprobs := decodeStages(f, outs, nil)
	probs = append(probs, sprobs...)
	_, cprobs := console.Decode(f.Console)
	probs = append(probs, cprobs...)
	return f, ins, outs, append(fileProbs, f.Annotate(probs)...), nil
}

// decodeEnrich decodes the enrich: section with the enrich package's own
// options (an absent section gives the defaults: nothing enabled).
func decodeEnrich(f *config.File) (*enrich.Options, config.Problems) {
	opts := enrich.DefaultOptions()
	if f.Enrich == nil {
		return opts, opts.Validate().Prefixed("enrich")
	}
	return opts, config.Decode(f.Enrich, "enrich", opts)
}

// decodeStages decodes the stages: list and checks that every stage is read
// by an output and every output's from: names a stage. reg, when not nil,
// gives each stage its counters.
func decodeStages(f *config.File, outs []decodedOutput, reg *stats.Registry) ([]pipeline.Stage, config.Problems) {
	var stages []pipeline.Stage
	var probs config.Problems
	readers := map[string]bool{}
	for _, d := range outs {
		readers[d.route.From] = true
	}
	names := map[string]bool{}
	for _, b := range f.Stages {
		names[b.Name] = true
		common := &pipeline.StageOptions{}
		s := pipeline.Stage{Name: b.Name, Type: b.Type}
		switch b.Type {
		case pipeline.StageAggregate:
			s.Aggregate = pipeline.DefaultAggregateOptions()
			probs = append(probs, config.DecodeBlock(b, common, s.Aggregate)...)
		case pipeline.StageTransactions:
			s.Transactions = pipeline.DefaultTransactionOptions()
			probs = append(probs, config.DecodeBlock(b, common, s.Transactions)...)
		case "":
			continue // reported by config.Load
		default:
			probs.Add(b.Path+".type", "unknown stage type %q (known: %s, %s)", b.Type, pipeline.StageAggregate, pipeline.StageTransactions)
			continue
		}
		s.Filter = common.Filter
		if !readers[b.Name] {
			probs.Add(b.Path, "stage %q feeds no output: name it in an output's from:", b.Name)
		}
		if reg != nil {
			s.Stats = reg.Stage(b.Name, b.Type)
		}
		stages = append(stages, s)
	}
	for _, d := range outs {
		if from := d.route.From; from != "" && !names[from] {
			probs.Add(d.block.Path+".from", "no stage named %q", from)
		}
	}
	return stages, probs
}

func known[P any](m map[string]P) string {
	return strings.Join(slices.Sorted(maps.Keys(m)), ", ")
}

// buildPipeline constructs every input and output. On error, what was
// already built is closed.
func buildPipeline(f *config.File, ins []decodedInput, outs []decodedOutput, log zerolog.Logger, reg *stats.Registry, js *journals) (p *pipeline.Pipeline, err error) {
	var pins []pipeline.Input
	var pouts []pipeline.Output
	defer func() {
		if err != nil {
			for _, o := range pouts {
				o.Writer.Close()
			}
			for _, in := range pins {
				in.Reader.Close()
			}
		}
	}()
	for _, d := range outs {
		o, err := buildOutputLate(f, d, log, reg, js.deferred)
		if err != nil {
			return nil, err
		}
		pouts = append(pouts, o)
	}
	for _, d := range ins {
		in, err := buildInput(f, d, log, reg, js)
		if err != nil {
			return nil, err
		}
		pins = append(pins, in)
	}
	var dl *pipeline.DeadLetter
	if f.DeadLetter.Path != "" {
		if dl, err = pipeline.OpenDeadLetterWith(pipeline.DeadLetterOptions{Path: f.DeadLetter.Path, MaxSize: int64(f.DeadLetter.MaxSize),
			Stats: reg.DeadLetter(), Log: log.With().Str("component", "dead_letter").Logger()}); err != nil {
			return nil, err
		}
	}
	stages, _ := decodeStages(f, outs, reg) // validated already
	popts := pipeline.Options{
		Stages:           stages,
		Sensor:           f.Sensor,
		Workers:          f.Pipeline.Workers,
		ShutdownTimeout:  f.Pipeline.ShutdownTimeout,
		Takeover:         js.takeover,
		MaxInflightBytes: int64(f.Pipeline.MaxInflightBytes),
		Log:              log,
		DeadLetter:       dl,
	}
	eopts, _ := decodeEnrich(f) // validated already
	en, err := enrich.New(eopts, log.With().Str("stage", "enrich").Logger())
	if err != nil {
		return nil, err
	}
	// The enricher lives as long as the process: its GeoIP file watcher
	// stops when alertgw exits.
	if !en.Empty() {
		popts.Enricher = en
	}
	return pipeline.New(popts, pins, pouts)
}

// outputEncoder is the encoder the pipeline prepares batches in for an
// output: its format's, or none for outputs that encode themselves.
func outputEncoder(d decodedOutput) format.Encoder {
	if d.plugin.EncodesItself {
		return nil
	}
	return d.common.Encoder() // validated already
}

func buildOutput(f *config.File, d decodedOutput, log zerolog.Logger, reg *stats.Registry) (pipeline.Output, error) {
	return buildOutputLate(f, d, log, reg, false)
}

// buildOutputLate builds an output; with late, its plugin's New runs at its
// first use (a takeover: see upgrade.go).
func buildOutputLate(f *config.File, d decodedOutput, log zerolog.Logger, reg *stats.Registry, late bool) (pipeline.Output, error) {
	enc := outputEncoder(d)
	st := reg.Output(d.block.Name, d.block.Type)
	olog := log.With().Str("output", d.block.Name).Logger()
	build := func() (outputs.Output, error) {
		w, err := d.plugin.New(outputs.Env{Name: d.block.Name, Sensor: f.Sensor, Log: olog, Stats: st, Encoder: enc}, d.opts)
		if err != nil {
			return nil, fmt.Errorf("%s (%s): %w", d.block.Path, d.block.Name, err)
		}
		return w, nil
	}
	var w outputs.Output
	var err error
	if late {
		w = &lateOutput{build: build}
	} else if w, err = build(); err != nil {
		return pipeline.Output{}, err
	}
	var aggStats *stats.Stage
	if d.route.Aggregate != nil {
		aggStats = reg.Stage(d.block.Name+".aggregate", pipeline.StageAggregate)
	}
	return pipeline.Output{Name: d.block.Name, Type: d.block.Type, Writer: w, Encoder: enc, Buffer: d.common.Buffer,
		Batch: d.common.Batch, Retry: d.common.Retry, Route: d.route.Route(aggStats), Stats: st, Log: olog}, nil
}

func buildInput(f *config.File, d decodedInput, log zerolog.Logger, reg *stats.Registry, js *journals) (pipeline.Input, error) {
	st := reg.Input(d.block.Name, d.block.Type)
	ilog := log.With().Str("input", d.block.Name).Logger()
	j, err := js.forInput(d.block.Name, d.plugin)
	if err != nil {
		return pipeline.Input{}, fmt.Errorf("%s (%s): %w", d.block.Path, d.block.Name, err)
	}
	r, dec, err := d.plugin.Build(inputs.Env{Name: d.block.Name, Sensor: f.Sensor, Log: ilog, Stats: st, Registry: reg, Journal: j}, d.opts)
	if err != nil {
		return pipeline.Input{}, fmt.Errorf("%s (%s): %w", d.block.Path, d.block.Name, err)
	}
	return pipeline.Input{Name: d.block.Name, Type: d.block.Type, Reader: r, Decoder: dec, Stats: st, Log: ilog, Journal: j,
		CommunityIDSeed: f.CommunityIDSeed(d.common)}, nil
}

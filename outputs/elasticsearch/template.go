package elasticsearch

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/segmentio/encoding/json"

	"github.com/alertgw/alertgw/outputs"
	"github.com/alertgw/alertgw/outputs/format"
)

// The mappings alertgw ships, by format: ECS 8.17 (every field the ecs
// format writes, typed as the ECS release says) and the native schema
// (docs/schema/event-v1.json). They are generated from those definitions
// (template_test.go; go test -run TestTemplatesUpToDate -update).
//
//go:embed templates/*.json
var templateFiles embed.FS

// TemplateVersion changes when the shipped mappings change, so that an
// upgrade replaces an installed template (it is in the template's _meta).
const TemplateVersion = 1

// Template values.
const (
	TemplateInstall = "install"
	TemplateSkip    = "skip"
)

// mappingsFor returns the shipped mappings of a format, or nil.
func mappingsFor(formatName string) []byte {
	b, err := templateFiles.ReadFile("templates/" + formatName + ".json")
	if err != nil {
		return nil
	}
	return b
}

// indexPattern turns an index template into the pattern of the index names
// it makes: "alertgw-{kind}-{date:2006.01.02}" → "alertgw-*". Everything
// from the first placeholder on is a wildcard.
func indexPattern(index string) string {
	if i := strings.IndexByte(index, '{'); i >= 0 {
		return index[:i] + "*"
	}
	return index
}

// templateName is the composable template's name: the index pattern's
// literal part and the format ("alertgw-ecs").
func templateName(index, formatName string) string {
	base := strings.TrimRight(strings.TrimSuffix(indexPattern(index), "*"), "-_.")
	if base == "" {
		base = "alertgw"
	}
	return base + "-" + formatName
}

// templateBody builds the composable index template (PUT _index_template).
func templateBody(index string, dataStream bool, formatName string, mappings []byte) ([]byte, error) {
	var m json.RawMessage = mappings
	tmpl := map[string]any{
		"index_patterns": []string{indexPattern(index)},
		// Above the built-in logs-*-* templates (priority 100), so that a
		// data stream named logs-alertgw-… takes these mappings.
		"priority": 200,
		"template": map[string]any{
			"settings": map[string]any{
				// EVE records carry many protocol fields.
				"index.mapping.total_fields.limit": 10000,
			},
			"mappings": m,
		},
		"_meta": map[string]any{
			"managed_by":       "alertgw",
			"format":           formatName,
			"ecs_version":      format.ECSVersion,
			"template_version": TemplateVersion,
		},
	}
	if dataStream {
		tmpl["data_stream"] = map[string]any{}
	}
	return json.Marshal(tmpl)
}

// installTemplate puts the index template before the first document, so
// that every index the output creates gets the shipped mappings (an ip
// field mapped as ip, not as text). A refusal is an error that the
// pipeline retries, with backoff, and that makes the output failing:
// writing documents first would map them dynamically, for the whole life
// of the index.
func (w *Output) installTemplate(ctx context.Context) error {
	body, err := templateBody(w.opts.Index, w.opts.DataStream, w.env.Encoder.Name(), w.mappings)
	if err != nil {
		return outputs.Permanent(err)
	}
	name := templateName(w.opts.Index, w.env.Encoder.Name())
	u := strings.TrimRight(w.opts.URLs[w.url], "/") + "/_index_template/" + name
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, u, bytes.NewReader(body))
	if err != nil {
		return outputs.Permanent(err)
	}
	req.Header.Set("Content-Type", "application/json")
	w.setHeaders(req)
	resp, err := w.client.Do(req)
	if err != nil {
		w.url = (w.url + 1) % len(w.opts.URLs)
		return fmt.Errorf("elasticsearch index template %s: %w", name, err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		hint := ""
		if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
			hint = " (the credentials need the manage_index_templates cluster privilege; or install templates/" + w.env.Encoder.Name() + ".json yourself and set template: skip)"
		}
		return fmt.Errorf("elasticsearch index template %s: %d %s%s", name, resp.StatusCode, strings.TrimSpace(string(answer)), hint)
	}
	w.env.Log.Info().Str("template", name).Str("index_pattern", indexPattern(w.opts.Index)).Msg("elasticsearch index template installed")
	w.templateDone = true
	return nil
}

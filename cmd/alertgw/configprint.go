package main

import (
	"fmt"
	"io"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/alertgw/alertgw/config"
	"github.com/alertgw/alertgw/outputs"
)

func init() { configCommands = append(configCommands, configPrintCmd) }

func configPrintCmd() *cobra.Command {
	var path string
	c := &cobra.Command{
		Use:   "print [FILE]",
		Short: "Print the effective configuration: ${VAR} expanded, ALERTGW_* overrides applied, defaults filled in, secrets redacted",
		Long: `Print shows the configuration the gateway would run with: FILE (or
--config; the embedded default without either) after ${VAR} expansion and
ALERTGW_* overrides, with the gateway-wide defaults filled in. Plugin
options that are not written keep their documented defaults and are not
shown. Passwords, tokens, API keys and the password in a URL or DSN are
printed as [redacted]. Problems are reported as by validate, after the
configuration (exit 2).`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				path = args[0]
			}
			f, ins, outs, probs, err := loadConfig(path)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			if err := printEffective(cmd.OutOrStdout(), path, f, ins, outs); err != nil {
				return err
			}
			if len(probs) > 0 {
				for _, p := range probs {
					fmt.Fprintln(cmd.ErrOrStderr(), p)
				}
				return &exitError{code: 2, err: fmt.Errorf("%d problem(s) in %s", len(probs), displayPath(path))}
			}
			return nil
		},
	}
	c.Flags().StringVarP(&path, "config", "c", "", "configuration file (YAML); the embedded default when empty")
	return c
}

// printEffective writes f.Tree as YAML, in the order of the documentation,
// with secrets redacted.
func printEffective(w io.Writer, path string, f *config.File, ins []decodedInput, outs []decodedOutput) error {
	secrets := map[string]bool{} // key paths of Secret-typed options
	for _, d := range ins {
		secretKeys(reflect.TypeOf(d.opts), d.block.Path, secrets)
	}
	for _, d := range outs {
		secretKeys(reflect.TypeOf(d.opts), d.block.Path, secrets)
	}
	doc := toNode(f.Tree, "", secrets)
	fmt.Fprintf(w, "# alertgw: effective configuration of %s\n# (${VAR} expanded, ALERTGW_* overrides applied, defaults filled in, secrets redacted)\n", displayPath(path))
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return err
	}
	return enc.Close()
}

var secretType = reflect.TypeFor[outputs.Secret]()

// secretKeys records the key paths of the Secret fields of an options type.
func secretKeys(t reflect.Type, at string, out map[string]bool) {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return
	}
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("mapstructure"), ",")
		key := at
		switch {
		case name == "-":
			continue
		case strings.Contains(opts, "squash"):
		case name != "":
			key = at + "." + name
		default:
			continue
		}
		if f.Type == secretType {
			out[key] = true
			continue
		}
		secretKeys(f.Type, key, out)
	}
}

// Key names that hold a secret wherever they appear (sections of other
// plugins, headers); *_file keys name a file and are shown.
var secretName = regexp.MustCompile(`(?i)(password|passwd|secret|token|api_?key|credential|authorization)$`)

// dsnPassword finds password=… in a key=value DSN.
var dsnPassword = regexp.MustCompile(`(?i)(password\s*=\s*)('[^']*'|\S+)`)

const redacted = "[redacted]"

func redact(key, leaf string, v any, secrets map[string]bool) any {
	s, ok := v.(string)
	if !ok || s == "" {
		return v
	}
	if secrets[key] || secretName.MatchString(leaf) {
		return redacted
	}
	if u, err := url.Parse(s); err == nil && u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "REDACTED")
			return strings.Replace(u.String(), "REDACTED", redacted, 1)
		}
	}
	return dsnPassword.ReplaceAllString(s, "${1}"+redacted)
}

// leafOf is the last key of a key path: "outputs[0].urls[1]" → "urls".
func leafOf(key string) string {
	leaf := key[strings.LastIndexByte(key, '.')+1:]
	if i := strings.IndexByte(leaf, '['); i >= 0 {
		leaf = leaf[:i]
	}
	return leaf
}

// topOrder is the order of the gateway-wide sections in the docs.
var topOrder = []string{"sensor", "log", "pipeline", "dead_letter", "admin", "run_as", "enrich", "inputs", "outputs"}

func toNode(v any, key string, secrets map[string]bool) *yaml.Node {
	switch x := v.(type) {
	case map[string]any:
		n := &yaml.Node{Kind: yaml.MappingNode}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		first := []string{"name", "type"}
		if key == "" {
			first = topOrder
		}
		slices.SortFunc(keys, func(a, b string) int {
			ia, ib := slices.Index(first, a), slices.Index(first, b)
			switch {
			case ia >= 0 && ib >= 0:
				return ia - ib
			case ia >= 0:
				return -1
			case ib >= 0:
				return 1
			}
			return strings.Compare(a, b)
		})
		for _, k := range keys {
			child := k
			if key != "" {
				child = key + "." + k
			}
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: k}, toNode(x[k], child, secrets))
		}
		return n
	case []any:
		n := &yaml.Node{Kind: yaml.SequenceNode}
		for i, item := range x {
			n.Content = append(n.Content, toNode(item, fmt.Sprintf("%s[%d]", key, i), secrets))
		}
		return n
	}
	v = redact(key, leafOf(key), v, secrets)
	var n yaml.Node
	if err := n.Encode(v); err != nil {
		return &yaml.Node{Kind: yaml.ScalarNode, Value: fmt.Sprint(v)}
	}
	return &n
}

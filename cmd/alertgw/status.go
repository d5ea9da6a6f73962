package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/alertgw/alertgw/internal/admin"
)

func init() {
	extraCommands = append(extraCommands, statusCmd, healthCmd, reloadCmd)
}

func statusCmd() *cobra.Command {
	var addr string
	c := &cobra.Command{
		Use:   "status",
		Short: "Print a running gateway's inputs, outputs and readiness as a table",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var st admin.Status
			if err := getJSON(cmd.Context(), "http://"+addr+"/status", &st); err != nil {
				return err
			}
			printStatus(cmd.OutOrStdout(), st)
			if !st.Ready {
				return &exitError{code: 1, err: fmt.Errorf("not ready")}
			}
			return nil
		},
	}
	c.Flags().StringVar(&addr, "addr", admin.DefaultListen, "the gateway's admin endpoint (admin.listen)")
	return c
}

// healthCmd is the container HEALTHCHECK: the image has no shell or curl.
func healthCmd() *cobra.Command {
	var addr string
	var ready bool
	c := &cobra.Command{
		Use:   "health",
		Short: "Exit 0 when a running gateway is alive (--ready: ready), 1 otherwise",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path := "/healthz"
			if ready {
				path = "/readyz"
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 3*time.Second)
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+path, nil)
			if err != nil {
				return err
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return &exitError{code: 1, err: err}
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			fmt.Fprint(cmd.OutOrStdout(), string(body))
			if resp.StatusCode != http.StatusOK {
				return &exitError{code: 1, err: fmt.Errorf("%s: %s", path, resp.Status)}
			}
			return nil
		},
	}
	c.Flags().StringVar(&addr, "addr", admin.DefaultListen, "the gateway's admin endpoint (admin.listen)")
	c.Flags().BoolVar(&ready, "ready", false, "check readiness instead of liveness")
	return c
}

func getJSON(ctx context.Context, url string, v any) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("is the gateway running with admin.listen set? %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

func printStatus(w io.Writer, st admin.Status) {
	now := time.Now()
	state := "ready"
	switch {
	case !st.Ready:
		state = "NOT READY"
	case len(st.Degraded) > 0:
		state = "ready, degraded"
	}
	fmt.Fprintf(w, "alertgw %s, up %s, %s\n", st.Version, st.Uptime, state)
	for _, r := range st.NotReady {
		fmt.Fprintf(w, "  not ready: %s\n", r)
	}
	for _, r := range st.Degraded {
		fmt.Fprintf(w, "  degraded: %s\n", r)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "INPUT\tTYPE\tREADY\tRECEIVED\tRATE/s\tLAST EVENT\tNORMALIZED\tFAILED\tDROPPED")
	for _, in := range st.Inputs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%d\t%s\t%s\n", in.Name, in.Type, yesNo(in.Ready), in.Received, rate(in.Rate),
			ago(in.LastEvent, now), in.Normalized, reasons(in.Failed), reasons(in.Dropped))
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "OUTPUT\tTYPE\tSTATE\tQUEUED\tWRITTEN\tRATE/s\tLAST WRITE\tFAILING\tRETRIED\tFAILED\tDROPPED")
	for _, o := range st.Outputs {
		failing := "-"
		if o.FailingFor != "" {
			failing = "for " + o.FailingFor
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d/%d\t%d\t%s\t%s\t%s\t%d\t%s\t%s\n", o.Name, o.Type, o.State, o.Queued, o.Capacity, o.Written,
			rate(o.Rate), ago(o.LastWrite, now), failing, o.Retried, reasons(o.Failed), reasons(o.Dropped))
	}
	tw.Flush()
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "NO"
}

func rate(r float64) string {
	if r >= 100 {
		return fmt.Sprintf("%.0f", r)
	}
	return fmt.Sprintf("%.1f", r)
}

// ago prints a time as "3s ago" (the gateway's clock and this one are the
// same machine's, or close), or "never".
func ago(t *time.Time, now time.Time) string {
	if t == nil {
		return "never"
	}
	d := now.Sub(*t)
	if d < 0 {
		d = 0
	}
	if d < time.Second {
		return "now"
	}
	return d.Round(time.Second).String() + " ago"
}

// reasons prints {"truncated": 3, "enobufs": 1} as "enobufs=1 truncated=3", or 0.
func reasons(m map[string]uint64) string {
	if len(m) == 0 {
		return "0"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s=%d", k, m[k]))
	}
	return strings.Join(parts, " ")
}

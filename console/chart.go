package console

import (
	"fmt"
	"time"

	"github.com/alertgw/alertgw/store"
)

// chart is a bar chart drawn as inline SVG on the server: no script, no
// chart library, and it prints. Each bar can link somewhere (the search
// histogram zooms into its bucket).
type chart struct {
	Width, Height float64
	Bars          []chartBar
	XLabels       []chartLabel
	YMax          string // label of the top of the scale
	Empty         bool   // every bucket is zero
}

type chartBar struct {
	X, Y, W, H float64
	Class      string
	Title      string // tooltip: the bucket and its count
	Href       string
}

type chartLabel struct {
	X    float64
	Text string
}

// chartSeries is one stacked layer of a chart.
type chartSeries struct {
	Name   string
	Class  string
	Counts []int64 // one per bucket
}

const (
	chartW      = 1000.0
	chartPlotH  = 120.0
	chartLeft   = 40.0
	chartBottom = 16.0
)

// buildChart stacks series over buckets of width interval. href, when
// set, gives each bucket's link.
func buildChart(buckets []store.Bucket, interval time.Duration, series []chartSeries, href func(from, to time.Time) string) chart {
	c := chart{Width: chartW, Height: chartPlotH + chartBottom + 4}
	n := len(buckets)
	if n == 0 {
		c.Empty = true
		return c
	}
	var max int64
	for i := range n {
		var sum int64
		for _, s := range series {
			if i < len(s.Counts) {
				sum += s.Counts[i]
			}
		}
		max = maxInt64(max, sum)
	}
	c.Empty = max == 0
	if max == 0 {
		max = 1
	}
	c.YMax = formatCount(max)
	slot := (chartW - chartLeft) / float64(n)
	w := slot * 0.85
	if slot > 3 {
		w = slot - 1
	}
	for i, b := range buckets {
		x := chartLeft + float64(i)*slot
		y := chartPlotH + 2
		for _, s := range series {
			if i >= len(s.Counts) || s.Counts[i] == 0 {
				continue
			}
			h := float64(s.Counts[i]) / float64(max) * chartPlotH
			if h < 1 {
				h = 1
			}
			y -= h
			bar := chartBar{X: x, Y: y, W: w, H: h, Class: s.Class,
				Title: fmt.Sprintf("%s %s: %s", formatTimeShort(b.Start), s.Name, formatCount(s.Counts[i]))}
			if href != nil {
				bar.Href = href(b.Start, b.Start.Add(interval))
			}
			c.Bars = append(c.Bars, bar)
		}
	}
	// About six time labels along the axis.
	step := max1(n / 6)
	for i := 0; i < n; i += step {
		c.XLabels = append(c.XLabels, chartLabel{X: chartLeft + float64(i)*slot, Text: axisTime(buckets[i].Start, interval)})
	}
	return c
}

func axisTime(t time.Time, interval time.Duration) string {
	t = t.UTC()
	switch {
	case interval >= 24*time.Hour:
		return t.Format("01-02")
	case interval >= time.Hour:
		return t.Format("01-02 15h")
	case interval >= time.Minute:
		return t.Format("15:04")
	}
	return t.Format("15:04:05")
}

func maxInt64(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

func max1(n int) int {
	if n < 1 {
		return 1
	}
	return n
}

// counts extracts a histogram's counts.
func counts(h *store.HistogramResult) []int64 {
	out := make([]int64, len(h.Buckets))
	for i, b := range h.Buckets {
		out[i] = b.Count
	}
	return out
}

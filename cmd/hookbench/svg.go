package main

import (
	"encoding/json"
	"fmt"
	"html"
	"io"
	"math"
	"os"
	"strings"
)

// chartSeries is one report drawn in the chart, under a label.
type chartSeries struct {
	label string
	rep   *report
}

// loadSeries reads --svg-from values "label=path.json" (or just a path,
// labelled by its file name).
func loadSeries(specs []string) ([]chartSeries, error) {
	var out []chartSeries
	for _, spec := range specs {
		label, path, ok := strings.Cut(spec, "=")
		if !ok {
			path, label = spec, strings.TrimSuffix(spec[strings.LastIndexByte(spec, '/')+1:], ".json")
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("--svg-from: %w", err)
		}
		var r report
		if err := json.Unmarshal(raw, &r); err != nil {
			return nil, fmt.Errorf("--svg-from %s: %w", path, err)
		}
		out = append(out, chartSeries{label: label, rep: &r})
	}
	return out, nil
}

// writeSVGFile writes the chart of series to path.
func writeSVGFile(path string, series []chartSeries) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("--svg: %w", err)
	}
	writeSVG(f, series)
	if err := f.Close(); err != nil {
		return fmt.Errorf("--svg: %w", err)
	}
	return nil
}

// chartGroup is one cluster of bars: a figure, one bar per series.
type chartGroup struct {
	name   string
	values []float64 // per series; NaN when the series lacks it
}

// seriesColors are the bar colours, one per series in order.
var seriesColors = []string{"#8c8c8c", "#2f6fdf", "#e07b00", "#3a9a3a", "#b03ab0", "#c0392b"}

// writeSVG draws two panels: delivered/s as a ratio to the loopback
// baseline per throughput scenario, and the latency percentiles of the
// latency scenario, one bar per series in each group.
func writeSVG(w io.Writer, series []chartSeries) {
	nan := math.NaN()
	val := func(f func(r *report) (float64, bool)) []float64 {
		vs := make([]float64, len(series))
		for i, s := range series {
			if v, ok := f(s.rep); ok {
				vs[i] = v
			} else {
				vs[i] = nan
			}
		}
		return vs
	}
	tp := func(mode string) func(r *report) (float64, bool) {
		return func(r *report) (float64, bool) {
			t := r.Throughput[mode]
			return ratioOf(t), t != nil && t.Ratio > 0
		}
	}
	ratios := []chartGroup{
		{"batch ingest", val(tp("batch"))},
		{"single-event ingest", val(tp("single"))},
		{"fail-rate", val(func(r *report) (float64, bool) {
			return ratioOfFail(r.FailRate), r.FailRate != nil && r.FailRate.Ratio > 0
		})},
	}
	lat := func(f func(l *latencyResult) float64) []float64 {
		return val(func(r *report) (float64, bool) {
			if r.Latency == nil || r.Latency.Measured == 0 {
				return 0, false
			}
			return f(r.Latency), true
		})
	}
	latencies := []chartGroup{
		{"p50", lat(func(l *latencyResult) float64 { return l.P50Ms })},
		{"p95", lat(func(l *latencyResult) float64 { return l.P95Ms })},
		{"p99", lat(func(l *latencyResult) float64 { return l.P99Ms })},
		{"max", lat(func(l *latencyResult) float64 { return l.MaxMs })},
	}
	const width, panelH, top = 760, 300, 40
	height := top + 2*panelH + 40 + 22*((len(series)+2)/3)
	fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", width, height, width, height)
	fmt.Fprintf(w, `<rect width="100%%" height="100%%" fill="#ffffff"/>`+"\n")
	fmt.Fprintf(w, `<text x="%d" y="22" font-size="15" font-weight="bold">hookbench: delivered/s ÷ loopback baseline (higher is better), latency (lower is better)</text>`+"\n", 16)
	drawPanel(w, 0, top, width, panelH, "delivered/s ÷ baseline", ratios, len(series), "%.3f")
	latTitle := "latency, ingest start → arrival (ms)"
	for _, s := range series {
		if s.rep.Latency != nil {
			latTitle = fmt.Sprintf("latency at %.0f events/s, ingest start → arrival (ms)", s.rep.Latency.RatePerSec)
			break
		}
	}
	drawPanel(w, 0, top+panelH+20, width, panelH, latTitle, latencies, len(series), "%.1f")
	y := top + 2*panelH + 40
	for i, s := range series {
		x := 60 + (i%3)*230
		yy := y + (i/3)*22
		fmt.Fprintf(w, `<rect x="%d" y="%d" width="14" height="14" fill="%s"/>`, x, yy-11, seriesColors[i%len(seriesColors)])
		fmt.Fprintf(w, `<text x="%d" y="%d">%s</text>`+"\n", x+20, yy, html.EscapeString(s.label))
	}
	fmt.Fprintln(w, `</svg>`)
}

func ratioOf(t *throughputResult) float64 {
	if t == nil {
		return 0
	}
	return t.Ratio
}

func ratioOfFail(f *failRateResult) float64 {
	if f == nil {
		return 0
	}
	return f.Ratio
}

// drawPanel draws one bar chart with its own linear scale from 0.
func drawPanel(w io.Writer, x0, y0, width, height int, title string, groups []chartGroup, n int, format string) {
	const left, right, bottom = 60, 16, 36
	plotW, plotH := width-left-right, height-bottom-24
	maxV := 0.0
	for _, g := range groups {
		for _, v := range g.values {
			if !math.IsNaN(v) {
				maxV = max(maxV, v)
			}
		}
	}
	if maxV <= 0 {
		maxV = 1
	}
	maxV = niceCeil(maxV)
	top := y0 + 24
	fmt.Fprintf(w, `<text x="%d" y="%d" font-weight="bold">%s</text>`+"\n", x0+left, y0+14, html.EscapeString(title))
	for i := 0; i <= 4; i++ {
		v := maxV * float64(i) / 4
		y := top + plotH - int(float64(plotH)*float64(i)/4)
		fmt.Fprintf(w, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#dddddd"/>`, x0+left, y, x0+left+plotW, y)
		fmt.Fprintf(w, `<text x="%d" y="%d" text-anchor="end" fill="#555555">%s</text>`+"\n", x0+left-6, y+4, trimFloat(v))
	}
	if len(groups) == 0 || n == 0 {
		return
	}
	groupW := plotW / len(groups)
	barW := max(4, (groupW-24)/n)
	for gi, g := range groups {
		gx := x0 + left + gi*groupW + 12
		for si, v := range g.values {
			if math.IsNaN(v) {
				continue
			}
			h := int(float64(plotH) * v / maxV)
			bx := gx + si*barW
			fmt.Fprintf(w, `<rect x="%d" y="%d" width="%d" height="%d" fill="%s"><title>%s</title></rect>`,
				bx, top+plotH-h, barW-2, h, seriesColors[si%len(seriesColors)], fmt.Sprintf(format, v))
			fmt.Fprintf(w, `<text x="%d" y="%d" text-anchor="middle" font-size="10">%s</text>`+"\n",
				bx+(barW-2)/2, top+plotH-h-3, fmt.Sprintf(format, v))
		}
		fmt.Fprintf(w, `<text x="%d" y="%d" text-anchor="middle">%s</text>`+"\n", x0+left+gi*groupW+groupW/2, top+plotH+16, html.EscapeString(g.name))
	}
	fmt.Fprintf(w, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#333333"/>`+"\n", x0+left, top+plotH, x0+left+plotW, top+plotH)
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

func trimFloat(v float64) string {
	s := fmt.Sprintf("%.3f", v)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	if s == "" || s == "-" {
		return "0"
	}
	return s
}

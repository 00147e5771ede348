package ui

import (
	"html/template"
	"math"
	"strconv"
	"strings"
	"time"
)

// chart is an SVG chart drawn by templates/charts.html. Every coordinate
// is computed here, in the viewBox's units; the template only prints
// numbers and fixed class names.
type chart struct {
	W, H    float64
	Label   string // aria-label
	Lines   []chartLine
	Bars    []chartBar
	YTicks  []chartTick
	XTicks  []chartTick
	Legend  []legendItem
	Empty   bool
	PlotTop float64
	PlotBot float64
	PlotL   float64
	PlotR   float64
}

type chartLine struct {
	Class  string
	Points string // "x,y x,y …", segments split where data is missing
	Area   string // closed polygon under the line (success rate), or ""
	Dots   []chartDot
}

type chartDot struct {
	X, Y  float64
	Title string
}

type chartBar struct {
	X, Y, W, H float64
	Class      string
	Title      string
}

type chartTick struct {
	Pos   float64
	Label string
}

type legendItem struct{ Class, Label string }

// Chart geometry.
const (
	chartW, chartH           = 720.0, 200.0
	marginL, marginR         = 48.0, 12.0
	marginT, marginB         = 10.0, 24.0
	sparkW, sparkH, sparkPad = 120.0, 28.0, 2.0
)

func f1(v float64) string { return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64) }

// appendF1 appends v rounded to one decimal, as f1 prints it.
func appendF1(b []byte, v float64) []byte {
	return strconv.AppendFloat(b, math.Round(v*10)/10, 'f', -1, 64)
}

// linePath draws the points (xs[i], ys[i]) as an SVG path: "Mx,y Lx,y …"
// per run of points, a NaN y ending a run (missing data splits the
// line); a run of one point becomes a short tick so that it still shows.
// It formats straight into one buffer (the overview draws three per row).
func linePath(xs, ys []float64) string {
	b := make([]byte, 0, 12*len(xs))
	start := true // the next point begins a run
	single := -1  // index of a run's only point so far
	end := func() {
		if single >= 0 { // the tick of a one-point run
			b = append(b, " L"...)
			b = appendF1(b, math.Round(xs[single]*10)/10+0.5)
			b = append(b, ',')
			b = appendF1(b, ys[single])
		}
		single = -1
	}
	for i := range xs {
		if math.IsNaN(ys[i]) {
			if !start {
				end()
				start = true
			}
			continue
		}
		if start {
			if len(b) > 0 {
				b = append(b, ' ')
			}
			b = append(b, 'M')
			single, start = i, false
		} else {
			b = append(b, " L"...)
			single = -1
		}
		b = appendF1(b, xs[i])
		b = append(b, ',')
		b = appendF1(b, ys[i])
	}
	if !start {
		end()
	}
	return string(b)
}

// sparkRate draws success rate per bucket (0–100 %) as a sparkline.
func sparkRate(series []Bucket) *chart {
	c := &chart{W: sparkW, H: sparkH, Label: "success rate, last 24 hours"}
	if !hasAttempts(series) {
		c.Empty = true
		return c
	}
	xs, ys := sparkX(len(series)), make([]float64, len(series))
	for i, b := range series {
		ys[i] = math.NaN()
		if b.Attempts > 0 {
			rate := float64(b.Succeeded) / float64(b.Attempts)
			ys[i] = sparkPad + (1-rate)*(sparkH-2*sparkPad)
		}
	}
	class := "ok"
	if worst(series) < 0.99 {
		class = "bad"
	}
	c.Lines = []chartLine{{Class: "spark " + class, Points: linePath(xs, ys)}}
	return c
}

// sparkLatency draws p50 and p99 per bucket on one scale.
func sparkLatency(series []Bucket) *chart {
	c := &chart{W: sparkW, H: sparkH, Label: "latency p50 and p99, last 24 hours"}
	if !hasAttempts(series) {
		c.Empty = true
		return c
	}
	top := 1.0
	for _, b := range series {
		top = max(top, b.P99, b.P50)
	}
	xs := sparkX(len(series))
	p50, p99 := make([]float64, len(series)), make([]float64, len(series))
	for i, b := range series {
		p50[i], p99[i] = math.NaN(), math.NaN()
		if b.Attempts > 0 {
			p50[i] = sparkPad + (1-b.P50/top)*(sparkH-2*sparkPad)
			p99[i] = sparkPad + (1-b.P99/top)*(sparkH-2*sparkPad)
		}
	}
	c.Lines = []chartLine{
		{Class: "spark p99", Points: linePath(xs, p99)},
		{Class: "spark p50", Points: linePath(xs, p50)},
	}
	return c
}

func sparkX(n int) []float64 {
	xs := make([]float64, n)
	for i := range xs {
		if n == 1 {
			xs[i] = sparkW / 2
		} else {
			xs[i] = sparkPad + float64(i)*(sparkW-2*sparkPad)/float64(n-1)
		}
	}
	return xs
}

func hasAttempts(series []Bucket) bool {
	for _, b := range series {
		if b.Attempts > 0 {
			return true
		}
	}
	return false
}

func worst(series []Bucket) float64 {
	w := 1.0
	for _, b := range series {
		if b.Attempts > 0 {
			w = min(w, float64(b.Succeeded)/float64(b.Attempts))
		}
	}
	return w
}

// plotX returns the x of the centre of bucket i of n, and the bucket width.
func plotX(i, n int) (x, w float64) {
	w = (chartW - marginL - marginR) / float64(max(n, 1))
	return marginL + w*(float64(i)+0.5), w
}

func frame(label string) *chart {
	return &chart{W: chartW, H: chartH, Label: label, PlotTop: marginT, PlotBot: chartH - marginB,
		PlotL: marginL, PlotR: chartW - marginR}
}

// xTicks labels about six buckets along the x axis.
func xTicks(series []Bucket, bucket time.Duration) []chartTick {
	n := len(series)
	if n == 0 {
		return nil
	}
	step := max(1, n/6)
	layout := "15:04"
	if bucket >= 24*time.Hour {
		layout = "Jan 2"
	}
	var ticks []chartTick
	for i := 0; i < n; i += step {
		x, _ := plotX(i, n)
		ticks = append(ticks, chartTick{Pos: x, Label: series[i].Start.UTC().Format(layout)})
	}
	return ticks
}

// rateChart draws the success rate over time (0–100 %).
func rateChart(series []Bucket, bucket time.Duration) *chart {
	c := frame("success rate over time")
	if !hasAttempts(series) {
		c.Empty = true
		return c
	}
	h := c.PlotBot - c.PlotTop
	lo := math.Floor(min(worst(series), 0.9)*10) / 10 // zoom in on 90–100 % when healthy
	xs, ys := make([]float64, len(series)), make([]float64, len(series))
	var dots []chartDot
	for i, b := range series {
		xs[i], _ = plotX(i, len(series))
		ys[i] = math.NaN()
		if b.Attempts > 0 {
			rate := float64(b.Succeeded) / float64(b.Attempts)
			ys[i] = c.PlotTop + (1-rate)/(1-lo)*h
			dots = append(dots, chartDot{X: xs[i], Y: ys[i], Title: b.Start.UTC().Format("15:04") + " · " + pct(rate) + " of " + itoa(b.Attempts)})
		}
	}
	c.Lines = []chartLine{{Class: "rate", Points: linePath(xs, ys), Dots: dots}}
	for i := 0; i <= 4; i++ {
		v := lo + (1-lo)*float64(i)/4
		c.YTicks = append(c.YTicks, chartTick{Pos: c.PlotTop + (1-v)/(1-lo)*h, Label: pct0(v)})
	}
	c.XTicks = xTicks(series, bucket)
	return c
}

// latencyChart draws p50 and p99 over time.
func latencyChart(series []Bucket, bucket time.Duration) *chart {
	c := frame("latency percentiles over time")
	if !hasAttempts(series) {
		c.Empty = true
		return c
	}
	top := 1.0
	for _, b := range series {
		top = max(top, b.P99, b.P50)
	}
	top = niceCeil(top)
	h := c.PlotBot - c.PlotTop
	xs := make([]float64, len(series))
	p50, p99 := make([]float64, len(series)), make([]float64, len(series))
	var dots []chartDot
	for i, b := range series {
		xs[i], _ = plotX(i, len(series))
		p50[i], p99[i] = math.NaN(), math.NaN()
		if b.Attempts > 0 {
			p50[i] = c.PlotTop + (1-b.P50/top)*h
			p99[i] = c.PlotTop + (1-b.P99/top)*h
			dots = append(dots, chartDot{X: xs[i], Y: p99[i], Title: b.Start.UTC().Format("15:04") + " · p50 " + ms(b.P50) + " · p99 " + ms(b.P99)})
		}
	}
	c.Lines = []chartLine{
		{Class: "p99", Points: linePath(xs, p99), Dots: dots},
		{Class: "p50", Points: linePath(xs, p50)},
	}
	for i := 0; i <= 4; i++ {
		v := top * float64(i) / 4
		c.YTicks = append(c.YTicks, chartTick{Pos: c.PlotBot - float64(i)/4*h, Label: ms(v)})
	}
	c.XTicks = xTicks(series, bucket)
	c.Legend = []legendItem{{"p50", "p50"}, {"p99", "p99"}}
	return c
}

// attemptsChart draws attempts per bucket, stacked: succeeded below,
// failed above.
func attemptsChart(series []Bucket, bucket time.Duration) *chart {
	c := frame("attempts per " + durLabel(bucket) + " by outcome")
	if !hasAttempts(series) {
		c.Empty = true
		return c
	}
	var top int64 = 1
	for _, b := range series {
		top = max(top, b.Attempts)
	}
	scale := niceCeil(float64(top))
	h := c.PlotBot - c.PlotTop
	for i, b := range series {
		if b.Attempts == 0 {
			continue
		}
		x, w := plotX(i, len(series))
		bw := max(w*0.7, 1)
		okH := float64(b.Succeeded) / scale * h
		failH := float64(b.Failed) / scale * h
		title := b.Start.UTC().Format("15:04") + " · " + itoa(b.Succeeded) + " succeeded · " + itoa(b.Failed) + " failed"
		if okH > 0 {
			c.Bars = append(c.Bars, chartBar{X: x - bw/2, Y: c.PlotBot - okH, W: bw, H: okH, Class: "ok", Title: title})
		}
		if failH > 0 {
			c.Bars = append(c.Bars, chartBar{X: x - bw/2, Y: c.PlotBot - okH - failH, W: bw, H: failH, Class: "bad", Title: title})
		}
	}
	for i := 0; i <= 4; i++ {
		v := scale * float64(i) / 4
		c.YTicks = append(c.YTicks, chartTick{Pos: c.PlotBot - float64(i)/4*h, Label: compact(v)})
	}
	c.XTicks = xTicks(series, bucket)
	c.Legend = []legendItem{{"ok", "succeeded"}, {"bad", "failed"}}
	return c
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

func durLabel(d time.Duration) string {
	switch {
	case d >= 24*time.Hour && d%(24*time.Hour) == 0:
		return plural(int64(d/(24*time.Hour)), "day", "days")
	case d >= time.Hour && d%time.Hour == 0:
		if d == time.Hour {
			return "hour"
		}
		return itoa(int64(d/time.Hour)) + " hours"
	case d == time.Minute:
		return "minute"
	default:
		return itoa(int64(d/time.Minute)) + " minutes"
	}
}

// sparkHTML renders a sparkline as SVG markup. It holds only numbers this
// package computed and fixed class names, never user input, which is why
// it may skip the template's escaping (the overview draws two per row).
func sparkHTML(c *chart) template.HTML {
	if c.Empty {
		return `<span class="spark-empty" title="no attempts in 24 h">no traffic</span>`
	}
	var b strings.Builder
	b.WriteString(`<svg class="spark" viewBox="0 0 ` + f1(c.W) + ` ` + f1(c.H) + `" width="` + f1(c.W) + `" height="` + f1(c.H) +
		`" role="img" aria-label="` + c.Label + `">`)
	for _, l := range c.Lines {
		b.WriteString(`<path d="` + l.Points + `" class="` + l.Class + `"/>`)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

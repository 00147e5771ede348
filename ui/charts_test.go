package ui

import (
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// refPath is how the charts drew a path before linePath (x,y strings
// joined, split and parsed again): linePath must print the same.
func refPath(xs, ys []float64) string {
	var runs, cur []string
	for i := range xs {
		if math.IsNaN(ys[i]) {
			if len(cur) > 0 {
				runs = append(runs, strings.Join(cur, " "))
				cur = nil
			}
			continue
		}
		cur = append(cur, f1(xs[i])+","+f1(ys[i]))
	}
	if len(cur) > 0 {
		runs = append(runs, strings.Join(cur, " "))
	}
	var b strings.Builder
	for _, run := range runs {
		pts := strings.Split(run, " ")
		b.WriteString("M" + pts[0])
		if len(pts) == 1 {
			x, y, _ := strings.Cut(pts[0], ",")
			xv, _ := strconv.ParseFloat(x, 64)
			b.WriteString(" L" + f1(xv+0.5) + "," + y)
		}
		for _, p := range pts[1:] {
			b.WriteString(" L" + p)
		}
		b.WriteByte(' ')
	}
	return strings.TrimSpace(b.String())
}

func TestLinePath(t *testing.T) {
	nan := math.NaN()
	cases := [][2][]float64{
		{{}, {}},
		{{1}, {nan}},
		{{1}, {2.25}},
		{{1, 2, 3}, {4, nan, 6}},
		{{1, 2, 3, 4}, {nan, 5, 6, nan}},
		{{0.05, 10.04, 20.96}, {1.15, 2.349, 3}},
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 500 {
		n := r.IntN(30)
		xs, ys := make([]float64, n), make([]float64, n)
		for i := range n {
			xs[i], ys[i] = r.Float64()*720, r.Float64()*200
			if r.IntN(4) == 0 {
				ys[i] = nan
			}
		}
		cases = append(cases, [2][]float64{xs, ys})
	}
	for _, c := range cases {
		if got, want := linePath(c[0], c[1]), refPath(c[0], c[1]); got != want {
			t.Fatalf("linePath(%v, %v):\n got %q\nwant %q", c[0], c[1], got, want)
		}
	}
}

package main

import (
	"slices"
	"time"
)

// percentiles returns the p-quantiles (0..1, nearest rank) of ds in
// milliseconds, and the maximum; zeros when ds is empty. ds is sorted.
func percentiles(ds []time.Duration, ps ...float64) (qs []float64, maxMs float64) {
	qs = make([]float64, len(ps))
	if len(ds) == 0 {
		return qs, 0
	}
	slices.Sort(ds)
	for i, p := range ps {
		rank := int(p*float64(len(ds))+0.999999) - 1
		rank = min(max(rank, 0), len(ds)-1)
		qs[i] = ms(ds[rank])
	}
	return qs, ms(ds[len(ds)-1])
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// perSec is n per elapsed second (0 when nothing elapsed).
func perSec(n int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

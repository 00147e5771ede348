package rollup

import (
	"slices"
	"strings"
	"time"

	"github.com/hookd/hookd"
)

// SeriesBuilder collects the summed rows of a series read
// (StatsByEndpointSeries) into one series per endpoint: each row is
// counted in the bucket its start falls in. Rows of one endpoint in time
// order (how the stores read them) append; others are placed by search.
type SeriesBuilder struct {
	bucket time.Duration
	hint   int // capacity of a new series' buckets
	byID   map[string]int
	out    []hookd.EndpointSeries
}

// NewSeriesBuilder returns a builder of buckets of size bucket (> 0) over
// [since, until).
func NewSeriesBuilder(since, until time.Time, bucket time.Duration) *SeriesBuilder {
	n := int(until.Sub(since)/bucket) + 2
	return &SeriesBuilder{bucket: bucket, hint: min(n, 64), byID: map[string]int{}}
}

// Floor is the start of the bucket t falls in: t rounded down to a
// multiple of the bucket since the Unix epoch (UTC).
func (b *SeriesBuilder) Floor(t time.Time) time.Time {
	us, d := t.UnixMicro(), b.bucket.Microseconds()
	r := us % d
	if r < 0 {
		r += d
	}
	return time.UnixMicro(us - r).UTC()
}

// Add counts c, a row of endpointID (of tenantID) that starts at start,
// in its bucket.
func (b *SeriesBuilder) Add(endpointID, tenantID string, start time.Time, c *hookd.StatsCounts) {
	i, ok := b.byID[endpointID]
	if !ok {
		i = len(b.out)
		b.byID[endpointID] = i
		b.out = append(b.out, hookd.EndpointSeries{EndpointID: endpointID, TenantID: tenantID,
			Buckets: make([]hookd.StatsBucket, 0, b.hint)})
	}
	s := &b.out[i]
	start = b.Floor(start)
	n := len(s.Buckets)
	switch {
	case n > 0 && s.Buckets[n-1].Start.Equal(start):
		s.Buckets[n-1].Add(c)
	case n == 0 || s.Buckets[n-1].Start.Before(start):
		s.Buckets = append(s.Buckets, hookd.StatsBucket{Start: start, StatsCounts: *c})
	default:
		j, found := slices.BinarySearchFunc(s.Buckets, start, func(x hookd.StatsBucket, t time.Time) int { return x.Start.Compare(t) })
		if found {
			s.Buckets[j].Add(c)
		} else {
			s.Buckets = slices.Insert(s.Buckets, j, hookd.StatsBucket{Start: start, StatsCounts: *c})
		}
	}
}

// Series returns the series, by endpoint id.
func (b *SeriesBuilder) Series() []hookd.EndpointSeries {
	out := b.out
	if out == nil {
		out = []hookd.EndpointSeries{}
	}
	slices.SortFunc(out, func(x, y hookd.EndpointSeries) int { return strings.Compare(x.EndpointID, y.EndpointID) })
	return out
}

package hookd

import (
	"math"
	"strconv"
	"time"
)

// Stats are read from rollups: one row per endpoint and minute that the
// store writes in the same transaction as the attempts (CompleteAttempts,
// CompleteAndClaim), and one per endpoint and hour (and their sums per
// tenant and overall) that Store.RollupHours derives from the minute rows
// off the delivery path; each with the attempt counts, a count per status
// code and a fixed latency histogram. Reading a window never scans
// attempts: the full hours below RollupHours' watermark come from the
// hour rows, the rest (the partial hours at either end, the hours from the
// watermark on) from the minute rows.

// Bounds of stats windows and buckets.
const (
	// StatsResolution is the finest time step of the rollups: windows
	// start and series buckets are aligned to whole minutes.
	StatsResolution = time.Minute
	// MaxStatsWindow is the longest window the API reads (30 days).
	MaxStatsWindow = 30 * 24 * time.Hour
	// DefaultStatsWindow is the window of a stats read that names none.
	DefaultStatsWindow = time.Hour
	// MaxStatsBuckets bounds the series of one read.
	MaxStatsBuckets = 1440
	// DefaultStatsRetention is how long rollups are kept (90 days).
	DefaultStatsRetention = 90 * 24 * time.Hour
)

// LatencyBounds are the upper bounds (inclusive) of the latency histogram
// buckets of the rollups; the last bucket (index len(LatencyBounds)) holds
// everything slower. Changing them needs a migration of the stored columns.
var LatencyBounds = [...]time.Duration{
	1 * time.Millisecond, 2 * time.Millisecond, 5 * time.Millisecond, 10 * time.Millisecond,
	20 * time.Millisecond, 30 * time.Millisecond, 50 * time.Millisecond, 75 * time.Millisecond,
	100 * time.Millisecond, 150 * time.Millisecond, 200 * time.Millisecond, 300 * time.Millisecond,
	500 * time.Millisecond, 750 * time.Millisecond, 1 * time.Second, 1500 * time.Millisecond,
	2 * time.Second, 3 * time.Second, 5 * time.Second, 7500 * time.Millisecond,
	10 * time.Second, 15 * time.Second, 30 * time.Second, 60 * time.Second,
}

// LatencyBuckets is the number of histogram buckets (the bounds + overflow).
const LatencyBuckets = len(LatencyBounds) + 1

// LatencyHistogram counts attempts per latency bucket (see LatencyBounds).
type LatencyHistogram [LatencyBuckets]int64

// LatencyBucket returns the histogram bucket of an attempt that took d.
func LatencyBucket(d time.Duration) int {
	lo, hi := 0, len(LatencyBounds)
	for lo < hi { // first bound >= d
		m := (lo + hi) / 2
		if LatencyBounds[m] < d {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// Observe counts one attempt that took d.
func (h *LatencyHistogram) Observe(d time.Duration) { h[LatencyBucket(d)]++ }

// Add adds o's counts to h.
func (h *LatencyHistogram) Add(o *LatencyHistogram) {
	for i := range h {
		h[i] += o[i]
	}
}

// Count is the number of attempts counted.
func (h *LatencyHistogram) Count() int64 {
	var n int64
	for _, c := range h {
		n += c
	}
	return n
}

// Quantile estimates the q-quantile (0 < q <= 1) of the latencies counted,
// interpolating linearly inside the bucket it falls in (as Prometheus'
// histogram_quantile does); an estimate in the overflow bucket is the last
// bound. It reports false when nothing was counted.
func (h *LatencyHistogram) Quantile(q float64) (time.Duration, bool) {
	total := h.Count()
	if total == 0 {
		return 0, false
	}
	rank := q * float64(total)
	var cum int64
	for i, c := range h {
		if c == 0 || float64(cum+c) < rank {
			cum += c
			continue
		}
		if i == len(LatencyBounds) {
			return LatencyBounds[len(LatencyBounds)-1], true
		}
		lower := time.Duration(0)
		if i > 0 {
			lower = LatencyBounds[i-1]
		}
		frac := (rank - float64(cum)) / float64(c)
		frac = math.Max(0, math.Min(1, frac))
		return lower + time.Duration(frac*float64(LatencyBounds[i]-lower)), true
	}
	return LatencyBounds[len(LatencyBounds)-1], true
}

// StatsCounts are the attempt figures of a span of time.
type StatsCounts struct {
	Attempts  int64
	Succeeded int64 // attempts whose outcome was OutcomeSucceeded
	Failed    int64 // every other attempt
	Latency   LatencyHistogram
}

// Add adds o to c.
func (c *StatsCounts) Add(o *StatsCounts) {
	c.Attempts += o.Attempts
	c.Succeeded += o.Succeeded
	c.Failed += o.Failed
	c.Latency.Add(&o.Latency)
}

// SuccessRate is Succeeded/Attempts, false when there were no attempts.
func (c *StatsCounts) SuccessRate() (float64, bool) {
	if c.Attempts == 0 {
		return 0, false
	}
	return float64(c.Succeeded) / float64(c.Attempts), true
}

// StatsQuery selects what ReadStats sums.
type StatsQuery struct {
	// EndpointID selects one endpoint (ENOTFOUND when it does not exist);
	// empty: every endpoint of TenantID when that is non-nil, else every
	// endpoint but the system tenant's (overall figures never count
	// hookd's own operational deliveries; its endpoint's stats are read by
	// EndpointID or TenantID).
	EndpointID string
	TenantID   *string
	// Since and Until bound the window [Since, Until). Since is rounded
	// down and Until up to whole minutes (StatsResolution); Until zero
	// means now is not known: it must be set.
	Since, Until time.Time
	// Bucket is the size of the series buckets, a whole number of
	// minutes; 0 asks for no series. Buckets are aligned to multiples of
	// Bucket since the Unix epoch (UTC), so the first (and last) may be
	// cut by the window.
	Bucket time.Duration
}

// Stats is what ReadStats returns.
type Stats struct {
	// Since and Until are the window actually read (whole minutes).
	Since, Until time.Time
	StatsCounts
	// StatusCodes counts attempts per HTTP status code (0: no response).
	StatusCodes map[int]int64
	// Series holds one bucket per Bucket of the query, oldest first,
	// covering [Since, Until); their counts add up to the totals.
	Series []StatsBucket
	// Pending and Dead count the deliveries in those states now (read
	// through partial indexes of the deliveries).
	Pending, Dead int64
	// Endpoints counts the endpoints in scope and Circuits their circuit
	// states at Until (open with OpenUntil <= Until counts as half_open).
	Endpoints int
	Circuits  CircuitCounts
	// Circuit is the endpoint's circuit (EndpointID queries only).
	Circuit Circuit
	// LastError is the error of the latest failed attempt in scope (its
	// text, or "HTTP <code>" when the response had no error text) and
	// LastErrorAt when that attempt ended; empty when none failed since
	// the endpoint was created. It is not limited to the window.
	LastError   string
	LastErrorAt time.Time
}

// CircuitCounts counts endpoints per circuit state.
type CircuitCounts struct {
	Closed, Open, HalfOpen int
}

// StatsBucket is one bucket of a series.
type StatsBucket struct {
	Start time.Time
	StatsCounts
}

// EndpointTotals are one endpoint's attempt figures over a window
// (Store.StatsByEndpoint), for alerting and overviews.
type EndpointTotals struct {
	EndpointID string
	TenantID   string
	Attempts   int64
	Succeeded  int64
	Failed     int64
	Latency    LatencyHistogram
}

// EndpointSeries is one endpoint's series over a window
// (Store.StatsByEndpointSeries).
type EndpointSeries struct {
	EndpointID string
	TenantID   string
	// Buckets are the buckets with attempts, oldest first; each Start is
	// a multiple of the series' bucket size since the Unix epoch (UTC),
	// so the first and last may be cut by the window.
	Buckets []StatsBucket
}

// DisplayState is the state c shows at now: an open circuit whose
// OpenUntil has passed lets one probe through, which is half_open.
func (c Circuit) DisplayState(now time.Time) CircuitState {
	switch {
	case c.State == "" || c.State == CircuitClosed:
		return CircuitClosed
	case c.State == CircuitOpen && !c.OpenUntil.After(now):
		return CircuitHalfOpen
	}
	return c.State
}

// StatsWindow returns the whole-minute window [since, until) that a read
// of the last window at now covers: it ends with the current minute and
// spans window rounded down to whole minutes (so a 1h window read with 1m
// buckets has 60 of them, the last one still filling).
func StatsWindow(now time.Time, window time.Duration) (since, until time.Time) {
	until = ceilTime(now.UTC(), StatsResolution)
	since = ceilTime(now.UTC().Add(-window), StatsResolution)
	if !since.Before(until) {
		since = until.Add(-StatsResolution)
	}
	return since, until
}

// DefaultStatsBucket is the series bucket of a window when the caller
// names none: 1m up to 1h, 5m up to 6h, 1h beyond (DESIGN §6).
func DefaultStatsBucket(window time.Duration) time.Duration {
	switch {
	case window <= time.Hour:
		return time.Minute
	case window <= 6*time.Hour:
		return 5 * time.Minute
	}
	return time.Hour
}

// ValidateStatsRange checks a window and a series bucket as the API takes
// them: window in (0, MaxStatsWindow], bucket a whole number of minutes,
// at most the window (rounded up to a minute) and giving at most
// MaxStatsBuckets buckets.
func ValidateStatsRange(window, bucket time.Duration) error {
	switch {
	case window <= 0:
		return FieldErrorf("window", "must be positive, got %s", window)
	case window > MaxStatsWindow:
		return FieldErrorf("window", "must be at most 720h (30 days), got %s", window)
	case bucket < StatsResolution || bucket%StatsResolution != 0:
		return FieldErrorf("bucket", "must be a whole number of minutes (1m, 5m, 1h, …), got %s", bucket)
	case bucket > ceilDuration(window, StatsResolution):
		return FieldErrorf("bucket", "must not exceed the window (%s), got %s", window, bucket)
	case window/bucket > MaxStatsBuckets:
		return FieldErrorf("bucket", "gives %d buckets over %s; at most %d (choose a larger bucket)",
			window/bucket, window, MaxStatsBuckets)
	}
	return nil
}

// SeriesStarts returns the bucket starts of a series of size bucket over
// [since, until): multiples of bucket since the Unix epoch, the first at
// or before since.
func SeriesStarts(since, until time.Time, bucket time.Duration) []time.Time {
	if bucket <= 0 || !until.After(since) {
		return nil
	}
	var out []time.Time
	for t := floorEpoch(since, bucket); t.Before(until); t = t.Add(bucket) {
		out = append(out, t)
	}
	return out
}

// floorEpoch rounds t down to a multiple of d since the Unix epoch.
func floorEpoch(t time.Time, d time.Duration) time.Time {
	us, dus := t.UnixMicro(), d.Microseconds()
	r := us % dus
	if r < 0 {
		r += dus
	}
	return time.UnixMicro(us - r).UTC()
}

func ceilTime(t time.Time, d time.Duration) time.Time {
	f := t.Truncate(d)
	if f.Equal(t) {
		return f
	}
	return f.Add(d)
}

func ceilDuration(x, d time.Duration) time.Duration {
	if x%d == 0 {
		return x
	}
	return (x/d + 1) * d
}

// CircuitChange is one transition of an endpoint's circuit made by
// recording an attempt: it opened (From closed), re-opened after a failed
// probe (From open, To.Opens grew) or closed (To closed).
type CircuitChange struct {
	EndpointID string
	From, To   Circuit
	// LastError is the endpoint's latest failure (the one that opened
	// the circuit, or the last one before it closed); At is when the
	// attempt that changed it ended.
	LastError string
	At        time.Time
}

// Opened reports whether the change opened (or re-opened) the circuit.
func (c CircuitChange) Opened() bool { return c.To.State == CircuitOpen }

// CircuitWatcher is implemented by stores that report circuit transitions:
// after a CompleteAttempts or CompleteAndClaim commits, fn is called once
// for each transition it made, in order, on the caller's goroutine. Each
// transition is reported by exactly the one transaction (of any node of a
// shared database) that made it. Watch before the store is used; a second
// call replaces fn.
type CircuitWatcher interface {
	WatchCircuits(fn func(CircuitChange))
}

// CircuitTransition returns the change from → to, and false when recording
// the attempt did not change the circuit's state (a failure counted while
// closed, a success while closed).
func CircuitTransition(from, to Circuit) bool {
	if from.State == "" {
		from.State = CircuitClosed
	}
	switch {
	case to.State == CircuitOpen:
		return from.State != CircuitOpen || to.Opens != from.Opens
	case to.State == CircuitClosed:
		return from.State != CircuitClosed
	}
	return from.State != to.State
}

// AttemptError is the error text of a failed attempt as stats show it: its
// error, else "HTTP <status code>".
func AttemptError(a *Attempt) string {
	if a.Error != "" {
		return a.Error
	}
	return "HTTP " + strconv.Itoa(a.StatusCode)
}

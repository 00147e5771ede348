// Package rollup holds what both stores share about stats rollups: the
// increments a batch of completed attempts adds (Batch), the column lists
// of the rollup tables, how a window is split between hour and minute rows
// (Split) and how summed rows fold into a series (Fold). The SQL itself
// stays in each store. It must not import any other hookd package except
// hookd: both stores import it.
package rollup

import (
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hookd/hookd"
)

// Span is the length of the rows of a rollup table.
type Span int

const (
	Minute Span = iota // stat_minutes, stat_minute_codes: written with the attempts
	// Hour is the endpoint hour rows (stat_hours, stat_hour_codes), the
	// sums of the minute rows that Store.RollupHours writes below its
	// watermark (FromMinutes).
	Hour
	// Summed is the hour rows summed per tenant (stat_tenant_hours,
	// stat_tenant_hour_codes) and overall (stat_overall_hours,
	// stat_overall_hour_codes) by Store.RollupHours, below its watermark.
	Summed
)

// MarkHours is the name of RollupHours' watermark in stat_rollup_marks.
const MarkHours = "hours"

// MarkRedo is the name, in stat_rollup_marks, of the first hour that
// RollupHours' next run recomputes from the minute rows (its watermark
// minus its redo, written with the watermark): PurgeStats keeps the minute
// rows from it on (KeepMinutes).
const MarkRedo = "hours-redo"

// Duration is the span's length.
func (s Span) Duration() time.Duration {
	if s == Hour || s == Summed {
		return time.Hour
	}
	return time.Minute
}

// Table is the name of the span's counts table.
func (s Span) Table() string {
	if s == Hour {
		return "stat_hours"
	}
	return "stat_minutes"
}

// CodesTable is the name of the span's status code table.
func (s Span) CodesTable() string {
	if s == Hour {
		return "stat_hour_codes"
	}
	return "stat_minute_codes"
}

// Histogram column names, l00..l24 (hookd.LatencyBuckets of them).
var histColumns = func() []string {
	cs := make([]string, hookd.LatencyBuckets)
	for i := range cs {
		cs[i] = fmt.Sprintf("l%02d", i)
	}
	return cs
}()

// CountColumns are the additive columns of a counts table in the order
// Row.Values and the scans use: attempts, succeeded, failed, l00..l24.
var CountColumns = append([]string{"attempts", "succeeded", "failed"}, histColumns...)

// SumColumns is "CAST(sum(attempts) AS bigint), …" for CountColumns (the
// cast: Postgres sums bigint as numeric).
var SumColumns = func() string {
	var b strings.Builder
	for i, c := range CountColumns {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "CAST(sum(%s) AS bigint)", c)
	}
	return b.String()
}()

// NegSumColumns is SumColumns negated, for the Neg ranges of a read.
var NegSumColumns = strings.ReplaceAll(SumColumns, "CAST(sum(", "CAST(-sum(")

// AddAssignments is "attempts = attempts + excluded.attempts, …" (the
// upsert's DO UPDATE SET list; table is the target's name or alias).
func AddAssignments(table string) string {
	var b strings.Builder
	for i, c := range CountColumns {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s = %s.%s + excluded.%s", c, table, c, c)
	}
	return b.String()
}

// Key is one rollup row.
type Key struct {
	Span       Span
	EndpointID string
	Start      time.Time // UTC, a multiple of Span
}

// Row is the increment of one rollup row.
type Row struct {
	Key
	TenantID string
	hookd.StatsCounts
	Codes map[int]int64
}

// Values returns the increments in CountColumns order.
func (r *Row) Values() []any {
	v := make([]any, 0, len(CountColumns))
	v = append(v, r.Attempts, r.Succeeded, r.Failed)
	for _, n := range r.Latency {
		v = append(v, n)
	}
	return v
}

// TopCode returns r's commonest status code (the smallest of a tie; 0,
// no response, is a code too) and false when r counts none.
func (r *Row) TopCode() (int, bool) {
	top, found := 0, false
	for c, n := range r.Codes {
		if m := r.Codes[top]; !found || n > m || n == m && c < top {
			top, found = c, true
		}
	}
	return top, found
}

// SortedCodes returns the status codes of r in ascending order.
func (r *Row) SortedCodes() []int {
	cs := make([]int, 0, len(r.Codes))
	for c := range r.Codes {
		cs = append(cs, c)
	}
	slices.Sort(cs)
	return cs
}

// Batch sums the attempts of one completion transaction into rows.
type Batch struct {
	rows map[Key]*Row
}

// Add counts attempt a to endpointID (of tenantID) in its minute row, by
// its StartedAt. succeeded is whether its outcome was OutcomeSucceeded.
// Only the minute rows are written with the attempts: Store.RollupHours
// derives the endpoint hour rows from them, off the delivery path.
func (b *Batch) Add(endpointID, tenantID string, a *hookd.Attempt, succeeded bool) {
	if b.rows == nil {
		b.rows = map[Key]*Row{}
	}
	k := Key{Span: Minute, EndpointID: endpointID, Start: a.StartedAt.UTC().Truncate(time.Minute)}
	r := b.rows[k]
	if r == nil {
		r = &Row{Key: k, TenantID: tenantID, Codes: map[int]int64{}}
		b.rows[k] = r
	}
	r.Attempts++
	if succeeded {
		r.Succeeded++
	} else {
		r.Failed++
	}
	r.Latency.Observe(a.Latency)
	r.Codes[a.StatusCode]++
}

// Rows returns the rows in a fixed order (endpoint, start), so that
// concurrent writers touch rows in the same order.
func (b *Batch) Rows() []*Row {
	rows := make([]*Row, 0, len(b.rows))
	for _, r := range b.rows {
		rows = append(rows, r)
	}
	slices.SortFunc(rows, func(x, y *Row) int {
		if x.Span != y.Span {
			return int(x.Span - y.Span)
		}
		if c := strings.Compare(x.EndpointID, y.EndpointID); c != 0 {
			return c
		}
		return x.Start.Compare(y.Start)
	})
	return rows
}

// Range is a part of a window read from one table: rows with start in
// [From, To). Neg ranges are subtracted (see SplitSummed).
type Range struct {
	Span     Span
	From, To time.Time
	Neg      bool
}

// Split divides [since, until) (whole minutes) between the tables: the
// whole hours from the hour rows and the partial hours at either end from
// the minute rows (and, by FromMinutes, the hours from RollupHours'
// watermark on from the minute rows too); everything from minute rows when bucket is not a whole
// number of hours (an hour row cannot be cut into smaller buckets).
func Split(since, until time.Time, bucket time.Duration) []Range {
	if !until.After(since) {
		return nil
	}
	if bucket != 0 && bucket%time.Hour != 0 {
		return []Range{{Minute, since, until, false}}
	}
	h1 := since.Truncate(time.Hour)
	if h1.Before(since) {
		h1 = h1.Add(time.Hour)
	}
	h2 := until.Truncate(time.Hour)
	if !h2.After(h1) {
		return []Range{{Minute, since, until, false}}
	}
	var rs []Range
	if since.Before(h1) {
		rs = append(rs, Range{Minute, since, h1, false})
	}
	rs = append(rs, Range{Hour, h1, h2, false})
	if h2.Before(until) {
		rs = append(rs, Range{Minute, h2, until, false})
	}
	return rs
}

// SplitSummed moves the parts of rs that read whole hours before
// watermark to Summed (the per-tenant and overall rows): a tenant's or the
// overall read takes one row per hour there. A partial hour before the
// watermark that covers more than half of its hour is read as the hour's
// summed row minus the minute rows of the rest of the hour (Neg ranges):
// RollupHours sums the hour from its minute rows, so the difference is
// exact once the hour was recomputed after its last attempt,
// and the 30-day window's first hour reads a few minutes of every endpoint
// instead of nearly sixty. Not for minute buckets (bucket not a whole
// number of hours): an hour row cannot be cut into them.
func SplitSummed(rs []Range, watermark time.Time, bucket time.Duration) []Range {
	var out []Range
	for _, r := range rs {
		if r.Span == Minute && !r.Neg && (bucket == 0 || bucket%time.Hour == 0) {
			h := r.From.Truncate(time.Hour)
			if end := h.Add(time.Hour); !end.After(watermark) && !r.To.After(end) && r.To.Sub(r.From) > 30*time.Minute {
				out = append(out, Range{Span: Summed, From: h, To: end})
				if h.Before(r.From) {
					out = append(out, Range{Span: Minute, From: h, To: r.From, Neg: true})
				}
				if r.To.Before(end) {
					out = append(out, Range{Span: Minute, From: r.To, To: end, Neg: true})
				}
				continue
			}
		}
		if r.Span != Hour || !watermark.After(r.From) {
			out = append(out, r)
			continue
		}
		if !watermark.Before(r.To) {
			out = append(out, Range{Span: Summed, From: r.From, To: r.To})
			continue
		}
		out = append(out, Range{Span: Summed, From: r.From, To: watermark}, Range{Span: Hour, From: watermark, To: r.To})
	}
	return out
}

// FromMinutes moves the parts of rs that would read hour rows at or after
// watermark (a whole hour; zero: none yet) to the minute rows: the
// endpoint hour rows are written by Store.RollupHours for the hours below
// its watermark only, so the hours from it on read the minute rows that
// the completions write. Every read applies it last (after SplitSummed
// for a tenant or the overall). Adjacent minute ranges are merged.
func FromMinutes(rs []Range, watermark time.Time) []Range {
	var out []Range
	add := func(r Range) {
		if n := len(out); n > 0 && r.Span == Minute && !r.Neg && out[n-1].Span == Minute && !out[n-1].Neg && out[n-1].To.Equal(r.From) {
			out[n-1].To = r.To
			return
		}
		out = append(out, r)
	}
	for _, r := range rs {
		if r.Span != Hour || !r.To.After(watermark) {
			add(r)
			continue
		}
		if r.From.Before(watermark) {
			add(Range{Span: Hour, From: r.From, To: watermark})
			r.From = watermark
		}
		add(Range{Span: Minute, From: r.From, To: r.To})
	}
	return out
}

// Sum is one summed row of a read: the counts of the rows that start at
// Start.
type Sum struct {
	Start time.Time
	hookd.StatsCounts
}

// ScanTargets returns pointers to c's fields in CountColumns order.
func ScanTargets(c *hookd.StatsCounts) []any {
	t := make([]any, 0, len(CountColumns))
	t = append(t, &c.Attempts, &c.Succeeded, &c.Failed)
	for i := range c.Latency {
		t = append(t, &c.Latency[i])
	}
	return t
}

// Fold adds sums to the totals of st and, when bucket > 0, into a series
// of buckets of that size over [st.Since, st.Until) (hookd.SeriesStarts).
func Fold(st *hookd.Stats, sums []Sum, bucket time.Duration) {
	starts := hookd.SeriesStarts(st.Since, st.Until, bucket)
	if bucket > 0 {
		st.Series = make([]hookd.StatsBucket, len(starts))
		for i, s := range starts {
			st.Series[i].Start = s
		}
	}
	for i := range sums {
		s := &sums[i]
		st.StatsCounts.Add(&s.StatsCounts)
		if len(starts) == 0 {
			continue
		}
		j := int(s.Start.Sub(starts[0]) / bucket)
		if j >= 0 && j < len(st.Series) {
			st.Series[j].Add(&s.StatsCounts)
		}
	}
}

// Watch holds the function a store reports circuit transitions to
// (hookd.CircuitWatcher). The zero value reports to nobody.
type Watch struct {
	fn atomic.Pointer[func(hookd.CircuitChange)]
}

// Set makes fn the receiver of later reports.
func (w *Watch) Set(fn func(hookd.CircuitChange)) {
	if fn == nil {
		w.fn.Store(nil)
		return
	}
	w.fn.Store(&fn)
}

// Report calls the receiver once per change, in order.
func (w *Watch) Report(changes []hookd.CircuitChange) {
	fn := w.fn.Load()
	if fn == nil {
		return
	}
	for _, c := range changes {
		(*fn)(c)
	}
}

// Window rounds [since, until) out to whole minutes, in UTC.
func Window(since, until time.Time) (time.Time, time.Time) {
	since = since.UTC().Truncate(time.Minute)
	u := until.UTC().Truncate(time.Minute)
	if u.Before(until) {
		u = u.Add(time.Minute)
	}
	return since, u
}

// Check validates a query's window and bucket for the stores.
func Check(since, until time.Time, bucket time.Duration) error {
	switch {
	case until.IsZero() || since.IsZero():
		return hookd.Errorf(hookd.EINVALID, "stats: since and until are required")
	case until.Before(since):
		return hookd.Errorf(hookd.EINVALID, "stats: until %s is before since %s", until, since)
	case bucket < 0 || bucket%time.Minute != 0:
		return hookd.Errorf(hookd.EINVALID, "stats: bucket %s is not a whole number of minutes", bucket)
	}
	return nil
}

// CheckSeries validates the window and bucket of a series read
// (StatsByEndpointSeries): as Check, and the bucket must be positive.
func CheckSeries(since, until time.Time, bucket time.Duration) error {
	if bucket <= 0 {
		return hookd.Errorf(hookd.EINVALID, "stats: bucket %s is not a positive whole number of minutes", bucket)
	}
	return Check(since, until, bucket)
}

// Endpoint is what a stats read takes from an endpoint row.
type Endpoint struct {
	Circuit     hookd.Circuit
	LastError   string
	LastErrorAt time.Time
}

// AddEndpoint counts e in st (endpoints, circuit states at st.Until, the
// latest error).
func AddEndpoint(st *hookd.Stats, e *Endpoint) {
	st.Endpoints++
	switch e.Circuit.DisplayState(st.Until) {
	case hookd.CircuitOpen:
		st.Circuits.Open++
	case hookd.CircuitHalfOpen:
		st.Circuits.HalfOpen++
	default:
		st.Circuits.Closed++
	}
	if e.LastError != "" && e.LastErrorAt.After(st.LastErrorAt) {
		st.LastError, st.LastErrorAt = e.LastError, e.LastErrorAt
	}
}

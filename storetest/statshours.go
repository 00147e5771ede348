package storetest

import (
	"reflect"
	"testing"
	"time"

	"github.com/hookd/hookd"
)

// The endpoint hour rows are derived by RollupHours from the minute rows
// (the completions write only those); every read takes the whole hours
// below the watermark from hour rows and the rest from minute rows.

// hourReads is what the endpoint reads answer: ReadStats of each endpoint
// over the windows and buckets of statsQueries, StatsByEndpoint and
// StatsByEndpointSeries (hour and 5-minute buckets) over those windows.
type hourReads struct {
	stats  []*hookd.Stats
	totals [][]hookd.EndpointTotals
	series [][]hookd.EndpointSeries
}

// readHours reads every endpoint read of hourReads and the tenant and
// overall reads of readAll.
func (f *fixture) readHours(eps ...*hookd.Endpoint) hourReads {
	f.t.Helper()
	var r hourReads
	for _, q := range statsQueries() {
		if q.TenantID != nil {
			continue // the windows and buckets once each
		}
		for _, e := range eps {
			eq := q
			eq.EndpointID = e.ID
			st := f.stats(eq)
			for i := range st.Series {
				st.Series[i].Start = ut(st.Series[i].Start)
			}
			st.Since, st.Until, st.LastErrorAt = ut(st.Since), ut(st.Until), ut(st.LastErrorAt)
			st.Circuit.OpenUntil = ut(st.Circuit.OpenUntil)
			r.stats = append(r.stats, st)
		}
		if q.Bucket != 0 {
			continue
		}
		ts, err := f.s.StatsByEndpoint(f.ctx, q.Since, q.Until)
		if err != nil {
			f.t.Fatalf("StatsByEndpoint: %v", err)
		}
		r.totals = append(r.totals, ts)
		for _, bucket := range []time.Duration{time.Hour, 5 * time.Minute} {
			ss, err := f.s.StatsByEndpointSeries(f.ctx, nil, q.Since, q.Until, bucket)
			if err != nil {
				f.t.Fatalf("StatsByEndpointSeries: %v", err)
			}
			for i := range ss {
				for j := range ss[i].Buckets {
					ss[i].Buckets[j].Start = ut(ss[i].Buckets[j].Start)
				}
			}
			r.series = append(r.series, ss)
		}
	}
	return r
}

// sameHourReads fails the test where got and want differ.
func sameHourReads(t *testing.T, what string, got, want hourReads) {
	t.Helper()
	for i := range want.stats {
		if !reflect.DeepEqual(got.stats[i], want.stats[i]) {
			t.Errorf("%s: endpoint read %d:\n got %+v\nwant %+v", what, i, got.stats[i], want.stats[i])
		}
	}
	if !reflect.DeepEqual(got.totals, want.totals) {
		t.Errorf("%s: StatsByEndpoint:\n got %+v\nwant %+v", what, got.totals, want.totals)
	}
	if !reflect.DeepEqual(got.series, want.series) {
		t.Errorf("%s: StatsByEndpointSeries:\n got %+v\nwant %+v", what, got.series, want.series)
	}
}

// testStatsHoursFromMinutes: reads before any rollup (no watermark: all
// from minute rows) equal those after RollupHours (whole hours from the
// hour rows it derives from the minutes); a completion into an hour at or
// above the watermark shows in every read at once; after RollupHours an
// endpoint's hour rows equal the sums of its minute rows (an hour-bucket
// read through them equals the minute-bucket read summed per hour).
func testStatsHoursFromMinutes(t *testing.T, open Opener) {
	f := setup(t, open)
	a := f.endpoint("t1")
	b := f.endpoint("t2")
	f.record("t1", a, false,
		ok(h0.Add(-5*time.Hour-55*time.Minute), 20*time.Millisecond),
		ok(h0.Add(-5*time.Hour+time.Minute), 40*time.Millisecond),
		fail(h0.Add(-3*time.Hour-time.Second), 500, "boom"),
		ok(h0.Add(-time.Hour+59*time.Minute), 300*time.Millisecond),
		ok(h0.Add(time.Hour+5*time.Minute), 40*time.Millisecond))
	f.record("t2", b, true, fail(h0.Add(-4*time.Hour), 503, ""), ok(h0.Add(-90*time.Minute), time.Second),
		ok(h0.Add(30*time.Minute), 2*time.Millisecond))
	before, tenants := f.readHours(a, b), f.readAll()
	if st := f.stats(hookd.StatsQuery{EndpointID: a.ID, Since: h0.Add(-6 * time.Hour), Until: h0.Add(3 * time.Hour)}); st.Attempts != 5 {
		t.Fatalf("before any rollup: endpoint a reads %d attempts, want 5", st.Attempts)
	}

	f.rollUp(h0, 2*time.Hour, 24*time.Hour)
	sameHourReads(t, "after the rollup", f.readHours(a, b), before)
	sameStats(t, "after the rollup", f.readAll(), tenants)

	// A completion into the hour at the watermark (h0) and one above it:
	// counted at once, through the minute rows.
	f.record("t1", a, false, ok(h0.Add(20*time.Minute), 5*time.Millisecond), fail(h0.Add(2*time.Hour+time.Minute), 502, ""))
	for _, q := range []hookd.StatsQuery{
		{EndpointID: a.ID, Since: h0.Add(-6 * time.Hour), Until: h0.Add(3 * time.Hour), Bucket: time.Hour},
		{TenantID: ptr("t1"), Since: h0.Add(-6 * time.Hour), Until: h0.Add(3 * time.Hour), Bucket: time.Hour},
		{Since: h0.Add(-6 * time.Hour), Until: h0.Add(3 * time.Hour)},
	} {
		st := f.stats(q)
		want := int64(7)
		if q.EndpointID == "" && q.TenantID == nil {
			want = 10 // and b's three
		}
		if st.Attempts != want || st.StatusCodes[502] != 1 {
			t.Errorf("%+v after completions above the watermark: %d attempts, codes %v; want %d with the 502", q, st.Attempts, st.StatusCodes, want)
		}
	}
	ts, err := f.s.StatsByEndpoint(f.ctx, h0.Add(-6*time.Hour), h0.Add(3*time.Hour))
	if err != nil || len(ts) != 2 || ts[0].Attempts+ts[1].Attempts != 10 {
		t.Errorf("StatsByEndpoint after completions above the watermark: %+v, %v; want 10 attempts in all", ts, err)
	}

	// Rolled up past them: the hour rows are the minutes' sums.
	now := f.readHours(a, b)
	f.rollUp(h0.Add(3*time.Hour), 2*time.Hour, 24*time.Hour)
	sameHourReads(t, "rolled up past the new attempts", f.readHours(a, b), now)
	for _, e := range []*hookd.Endpoint{a, b} {
		q := hookd.StatsQuery{EndpointID: e.ID, Since: h0.Add(-6 * time.Hour), Until: h0.Add(3 * time.Hour), Bucket: time.Hour}
		hours := f.stats(q) // whole hours below the watermark: hour rows
		q.Bucket = time.Minute
		minutes := f.stats(q) // minute buckets: minute rows only
		if !reflect.DeepEqual(hours.StatsCounts, minutes.StatsCounts) || !reflect.DeepEqual(hours.StatusCodes, minutes.StatusCodes) {
			t.Errorf("endpoint %s: hour rows sum to %+v %v, minute rows to %+v %v", e.ID, hours.StatsCounts, hours.StatusCodes,
				minutes.StatsCounts, minutes.StatusCodes)
		}
		perHour := map[time.Time]hookd.StatsCounts{}
		for _, m := range minutes.Series {
			c := perHour[ut(m.Start).Truncate(time.Hour)]
			c.Add(&m.StatsCounts)
			perHour[ut(m.Start).Truncate(time.Hour)] = c
		}
		for _, h := range hours.Series {
			if want := perHour[ut(h.Start)]; h.StatsCounts != want {
				t.Errorf("endpoint %s, hour %s: hour row %+v, minute rows %+v", e.ID, ut(h.Start), h.StatsCounts, want)
			}
		}
	}
}

// testPurgeStatsKeepsUnrolled: retention never purges minute rows that
// RollupHours has not summed into hour rows yet: none at all before its
// first run, none from its watermark minus its redo on after.
func testPurgeStatsKeepsUnrolled(t *testing.T, open Opener) {
	f := setup(t, open)
	ep := f.endpoint("t")
	f.record("t", ep, false, ok(h0.Add(-50*time.Hour), time.Millisecond), ok(h0.Add(-90*time.Minute), time.Millisecond),
		ok(h0.Add(10*time.Minute), time.Millisecond))
	purge := func(minutes, hours time.Time) int {
		t.Helper()
		total := 0
		for {
			n, err := f.s.PurgeStats(f.ctx, minutes, hours, 100)
			if err != nil {
				t.Fatalf("PurgeStats: %v", err)
			}
			if n == 0 {
				return total
			}
			total += n
		}
	}
	minuteRead := func(at time.Time) int64 {
		t.Helper()
		return f.stats(hookd.StatsQuery{EndpointID: ep.ID, Since: at, Until: at.Add(time.Minute)}).Attempts
	}
	all := hookd.StatsQuery{EndpointID: ep.ID, Since: h0.Add(-51 * time.Hour), Until: h0.Add(time.Hour)}

	// No rollup yet: every minute row is still to sum.
	if n := purge(h0.Add(time.Hour), h0.Add(-100*time.Hour)); n != 0 {
		t.Errorf("PurgeStats before any rollup deleted %d rows, want 0", n)
	}
	if st := f.stats(all); st.Attempts != 3 {
		t.Fatalf("before any rollup, after retention: %d attempts, want 3", st.Attempts)
	}

	// Rolled up to h0 with a redo of 2 h: the minutes from h0-2h on stay.
	f.rollUp(h0, 2*time.Hour, 7*24*time.Hour)
	purge(h0.Add(time.Hour), h0.Add(-100*time.Hour))
	if got := []int64{minuteRead(h0.Add(-50 * time.Hour)), minuteRead(h0.Add(-90 * time.Minute)), minuteRead(h0.Add(10 * time.Minute))}; !reflect.DeepEqual(got, []int64{0, 1, 1}) {
		t.Errorf("minute rows after retention: %v attempts, want [0 1 1] (only the minute before the redo purged)", got)
	}
	// The next runs recompute [h0-2h, ...) from minutes that are all there.
	f.rollUp(h0, 2*time.Hour, 7*24*time.Hour)
	f.rollUp(h0.Add(time.Hour), 2*time.Hour, 7*24*time.Hour)
	if st := f.stats(all); st.Attempts != 3 {
		t.Errorf("after retention and later rollups: %d attempts over the whole window, want 3", st.Attempts)
	}
	hour := f.stats(hookd.StatsQuery{EndpointID: ep.ID, Since: h0.Add(-2 * time.Hour), Until: h0})
	if hour.Attempts != 1 {
		t.Errorf("the hour h0-2h after retention and a recomputation: %d attempts, want 1", hour.Attempts)
	}
}

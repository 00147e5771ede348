package storetest

import (
	"reflect"
	"testing"
	"time"

	"github.com/hookd/hookd"
)

// statsQueries are the tenant and overall reads that RollupHours' rows
// serve, over windows aligned and cut across hours, with and without a
// series.
func statsQueries() []hookd.StatsQuery {
	var qs []hookd.StatsQuery
	for _, tenant := range []*string{nil, ptr("t1"), ptr("t2"), ptr(hookd.SystemTenant), ptr("nobody")} {
		for _, w := range [][2]time.Time{
			{h0.Add(-6 * time.Hour), h0.Add(3 * time.Hour)},
			{h0.Add(-5*time.Hour - 17*time.Minute), h0.Add(2*time.Hour + 9*time.Minute)},
			{h0.Add(-2 * time.Hour), h0},
			// Partial hours of more than half an hour below the watermark:
			// read as the summed hour minus the rest (rollup.SplitSummed).
			{h0.Add(-5*time.Hour - 50*time.Minute), h0.Add(-time.Hour - 15*time.Minute)},
			{h0.Add(-4*time.Hour - 55*time.Minute), h0.Add(-4*time.Hour - 10*time.Minute)},
		} {
			for _, bucket := range []time.Duration{0, time.Hour, 2 * time.Hour, 5 * time.Minute} {
				qs = append(qs, hookd.StatsQuery{TenantID: tenant, Since: w[0], Until: w[1], Bucket: bucket})
			}
		}
	}
	return qs
}

// readAll reads every query of statsQueries.
func (f *fixture) readAll() []*hookd.Stats {
	f.t.Helper()
	var out []*hookd.Stats
	for _, q := range statsQueries() {
		st := f.stats(q)
		for i := range st.Series {
			st.Series[i].Start = ut(st.Series[i].Start)
		}
		st.Since, st.Until, st.LastErrorAt = ut(st.Since), ut(st.Until), ut(st.LastErrorAt)
		out = append(out, st)
	}
	return out
}

// sameStats fails the test where got and want (readAll answers) differ.
func sameStats(t *testing.T, what string, got, want []*hookd.Stats) {
	t.Helper()
	qs := statsQueries()
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("%s: query %+v:\n got %+v\nwant %+v (the endpoint rows' sums)", what, qs[i], got[i], want[i])
		}
	}
}

// endpointSums is what every query of statsQueries sums when it adds up
// ReadStats of each endpoint in its scope (the endpoint rows only): the
// counts, status codes and series of readAll's answers.
func (f *fixture) endpointSums() []*hookd.Stats {
	f.t.Helper()
	eps, _, err := f.s.ListEndpoints(f.ctx, nil, hookd.Page{Limit: hookd.MaxPageLimit})
	if err != nil {
		f.t.Fatalf("ListEndpoints: %v", err)
	}
	var out []*hookd.Stats
	for _, q := range statsQueries() {
		sum := &hookd.Stats{StatusCodes: map[int]int64{}}
		for _, e := range eps {
			if (q.TenantID == nil && e.TenantID == hookd.SystemTenant) || (q.TenantID != nil && e.TenantID != *q.TenantID) {
				continue
			}
			eq := q
			eq.EndpointID, eq.TenantID = e.ID, nil
			st := f.stats(eq)
			sum.StatsCounts.Add(&st.StatsCounts)
			for c, n := range st.StatusCodes {
				sum.StatusCodes[c] += n
			}
			if sum.Series == nil && st.Series != nil {
				sum.Series = make([]hookd.StatsBucket, len(st.Series))
			}
			for i := range st.Series {
				sum.Series[i].Start = ut(st.Series[i].Start)
				sum.Series[i].Add(&st.Series[i].StatsCounts)
			}
		}
		out = append(out, sum)
	}
	return out
}

// sameSums fails the test where the counts, codes or series of got
// (readAll) differ from want (endpointSums).
func sameSums(t *testing.T, what string, got, want []*hookd.Stats) {
	t.Helper()
	qs := statsQueries()
	for i := range want {
		g := &hookd.Stats{StatsCounts: got[i].StatsCounts, StatusCodes: got[i].StatusCodes, Series: got[i].Series}
		if len(want[i].Series) == 0 && len(g.Series) > 0 { // no endpoint in scope: empty buckets
			want[i].Series = make([]hookd.StatsBucket, len(g.Series))
			for j := range g.Series {
				want[i].Series[j].Start = g.Series[j].Start
			}
		}
		if !reflect.DeepEqual(g, want[i]) {
			t.Errorf("%s: query %+v:\n got %+v\nwant %+v (the endpoints' sums)", what, qs[i], g, want[i])
		}
	}
}

// rollUp runs RollupHours until its watermark reaches upTo and returns the
// watermarks it went through.
func (f *fixture) rollUp(upTo time.Time, redo, span time.Duration) []time.Time {
	f.t.Helper()
	var marks []time.Time
	for range 100 {
		m, err := f.s.RollupHours(f.ctx, upTo, redo, span)
		if err != nil {
			f.t.Fatalf("RollupHours(%s): %v", upTo, err)
		}
		marks = append(marks, ut(m))
		if !m.Before(upTo) {
			return marks
		}
	}
	f.t.Fatalf("RollupHours never reached %s: %v", upTo, marks)
	return nil
}

// testRollupHours: tenant and overall stats read through the per-tenant
// and overall hour rows (RollupHours) equal the sums of the endpoint rows
// exactly — status codes, histograms, series — for windows across the
// watermark; a late attempt into a summed hour is counted once the hour is
// recomputed (redo); a deleted endpoint leaves the summed rows too;
// retention purges them; the overall rows leave out the system tenant.
func testRollupHours(t *testing.T, open Opener) {
	f := setup(t, open)
	a := f.endpoint("t1")
	b := f.endpoint("t1")
	c := f.endpoint("t2")
	ops := f.opsEndpoint()
	f.record("t1", a, false,
		ok(h0.Add(-5*time.Hour-55*time.Minute), 20*time.Millisecond), // in the rest of a partial hour: subtracted
		ok(h0.Add(-5*time.Hour-30*time.Minute), 10*time.Millisecond),
		ok(h0.Add(-5*time.Hour+time.Minute), 40*time.Millisecond),
		fail(h0.Add(-3*time.Hour-time.Second), 500, ""),
		ok(h0.Add(-time.Hour+59*time.Minute), 300*time.Millisecond),
		ok(h0.Add(time.Hour+5*time.Minute), 40*time.Millisecond))
	f.record("t1", b, true, fail(h0.Add(-4*time.Hour), 503, "boom"), ok(h0.Add(-2*time.Hour+10*time.Minute), 2*time.Millisecond))
	f.record("t2", c, false, ok(h0.Add(-5*time.Hour), time.Millisecond), fail(h0.Add(-90*time.Minute), 404, ""), ok(h0.Add(30*time.Minute), time.Second))
	f.record(hookd.SystemTenant, ops, false, fail(h0.Add(-4*time.Hour), 0, "ops down"))
	slow := f.readAll()

	// With no watermark the first run starts at the oldest hour row and
	// goes maxSpan at a time.
	marks := f.rollUp(h0, 2*time.Hour, 2*time.Hour)
	want := []time.Time{h0.Add(-4 * time.Hour), h0.Add(-2 * time.Hour), h0}
	if !reflect.DeepEqual(marks, []time.Time{ut(want[0]), ut(want[1]), ut(want[2])}) {
		t.Errorf("watermarks: got %v, want %v", marks, want)
	}
	sameStats(t, "after the rollup", f.readAll(), slow)
	// Again: the same rows (idempotent); an earlier upTo never moves the watermark back.
	if m, err := f.s.RollupHours(f.ctx, h0.Add(-3*time.Hour), 2*time.Hour, 24*time.Hour); err != nil || !ut(m).Equal(ut(h0)) {
		t.Errorf("RollupHours with an earlier upTo: got %s, %v; want the watermark %s kept", m, err, h0)
	}
	f.rollUp(h0, 2*time.Hour, 24*time.Hour)
	sameStats(t, "after a second rollup", f.readAll(), slow)

	// A late attempt into a summed hour: counted once recomputed.
	f.record("t2", c, false, shot{at: h0.Add(-time.Hour - time.Minute), code: 201, latency: 5 * time.Millisecond, outcome: hookd.OutcomeSucceeded})
	f.rollUp(h0.Add(time.Hour), 2*time.Hour, 24*time.Hour)
	sameSums(t, "after a late attempt", f.readAll(), f.endpointSums())
	overall := f.stats(hookd.StatsQuery{Since: h0.Add(-6 * time.Hour), Until: h0.Add(3 * time.Hour)})
	wantCounts(t, "overall", overall.StatsCounts, 12, 9, 3) // not the ops endpoint's failure
	if overall.StatusCodes[201] != 1 {
		t.Errorf("overall status codes: got %v, want the late 201", overall.StatusCodes)
	}

	// Deleting an endpoint takes its rows out of the summed ones.
	if err := f.s.DeleteEndpoint(f.ctx, b.ID); err != nil {
		t.Fatalf("DeleteEndpoint: %v", err)
	}
	got := f.readAll()
	sameSums(t, "after deleting an endpoint", got, f.endpointSums())
	if _, ok := got[0].StatusCodes[503]; ok {
		t.Errorf("the deleted endpoint's 503 is still counted: %v", got[0].StatusCodes)
	}

	// Retention purges the summed rows with the endpoint hour rows.
	for {
		n, err := f.s.PurgeStats(f.ctx, h0.Add(-3*time.Hour), h0.Add(-3*time.Hour), 2)
		if err != nil {
			t.Fatalf("PurgeStats: %v", err)
		}
		if n == 0 {
			break
		}
	}
	sameSums(t, "after retention", f.readAll(), f.endpointSums())

	for _, bad := range []struct {
		upTo time.Time
		span time.Duration
	}{{h0.Add(time.Minute), time.Hour}, {time.Time{}, time.Hour}, {h0, time.Minute}} {
		_, err := f.s.RollupHours(f.ctx, bad.upTo, time.Hour, bad.span)
		wantCode(t, err, hookd.EINVALID)
	}
}

package storetest

import (
	"reflect"
	"testing"
	"time"

	"github.com/hookd/hookd"
)

// h0 is an hour boundary of the suite's clock: the stats cases place
// attempts on both sides of minute and hour boundaries.
var h0 = t0.UTC().Truncate(time.Hour).Add(24 * time.Hour)

// shot is one attempt a stats case records: when it started, its status
// code, latency and outcome.
type shot struct {
	at      time.Time
	code    int
	latency time.Duration
	outcome hookd.Outcome
	err     string
}

// record ingests one event per shot for endpoint ep (of tenant), claims
// them and completes each with its shot through CompleteAttempts, or
// CompleteAndClaim when viaClaim. It returns the completions.
func (f *fixture) record(tenant string, ep *hookd.Endpoint, viaClaim bool, shots ...shot) []hookd.Completion {
	f.t.Helper()
	for i := range shots {
		ev := event(tenant, "stats.x", t0.Add(time.Duration(i)*time.Microsecond))
		ev.OnlyEndpointID = ep.ID
		f.ingest(ev)
	}
	cl := f.claim(hookd.ClaimRequest{Owner: "n", Now: h0.Add(48 * time.Hour), Limit: len(shots),
		ExcludeEndpoints: f.others(ep.ID)})
	if len(cl) != len(shots) {
		f.t.Fatalf("claim: got %d, want %d", len(cl), len(shots))
	}
	var comps []hookd.Completion
	for i, s := range shots {
		a := hookd.Attempt{DeliveryID: cl[i].Delivery.ID, Number: 1, StartedAt: s.at, StatusCode: s.code,
			Latency: s.latency, Error: s.err}
		c := hookd.Completion{Owner: "n", Attempt: a, Outcome: s.outcome}
		if s.outcome == hookd.OutcomeRetry {
			c.NextAttemptAt = h0.Add(1000 * time.Hour)
		}
		comps = append(comps, c)
	}
	if viaClaim {
		if _, err := f.s.CompleteAndClaim(f.ctx, comps, hookd.CircuitPolicy{},
			hookd.ClaimRequest{Owner: "n", Now: h0.Add(48 * time.Hour), Limit: 1, ExcludeEndpoints: []string{ep.ID}}); err != nil {
			f.t.Fatalf("CompleteAndClaim: %v", err)
		}
	} else {
		f.complete(hookd.CircuitPolicy{}, comps...)
	}
	return comps
}

// others lists every endpoint id but keep (so that a claim takes only
// keep's deliveries).
func (f *fixture) others(keep string) []string {
	f.t.Helper()
	eps, _, err := f.s.ListEndpoints(f.ctx, nil, hookd.Page{Limit: hookd.MaxPageLimit})
	if err != nil {
		f.t.Fatalf("ListEndpoints: %v", err)
	}
	var out []string
	for _, e := range eps {
		if e.ID != keep {
			out = append(out, e.ID)
		}
	}
	return out
}

func (f *fixture) stats(q hookd.StatsQuery) *hookd.Stats {
	f.t.Helper()
	st, err := f.s.ReadStats(f.ctx, q)
	if err != nil {
		f.t.Fatalf("ReadStats(%+v): %v", q, err)
	}
	return st
}

func ok(at time.Time, latency time.Duration) shot {
	return shot{at: at, code: 200, latency: latency, outcome: hookd.OutcomeSucceeded}
}

func fail(at time.Time, code int, err string) shot {
	return shot{at: at, code: code, latency: 2 * time.Second, outcome: hookd.OutcomeRetry, err: err}
}

// wantCounts compares attempt counts.
func wantCounts(t *testing.T, what string, got hookd.StatsCounts, attempts, succeeded, failed int64) {
	t.Helper()
	if got.Attempts != attempts || got.Succeeded != succeeded || got.Failed != failed {
		t.Errorf("%s: got attempts/succeeded/failed %d/%d/%d, want %d/%d/%d", what,
			got.Attempts, got.Succeeded, got.Failed, attempts, succeeded, failed)
	}
	if n := got.Latency.Count(); n != attempts {
		t.Errorf("%s: latency histogram counts %d, want %d", what, n, attempts)
	}
}

// testStatsRollups: attempts recorded by CompleteAttempts and
// CompleteAndClaim are summed per endpoint, tenant and overall, by status
// code and latency, into series buckets that add up to the totals; the
// window is minute-exact across the hour/minute split; the same attempt
// recorded twice counts once; pending, dead, circuits and the last error
// are read with them.
func testStatsRollups(t *testing.T, open Opener) {
	f := setup(t, open)
	a := f.endpoint("t1")
	b := f.endpoint("t2")
	f.record("t1", a, false,
		ok(h0.Add(-61*time.Minute), 10*time.Millisecond), // before the window
		ok(h0.Add(-59*time.Minute+time.Second), 40*time.Millisecond),
		ok(h0.Add(-30*time.Minute), 40*time.Millisecond),
		fail(h0.Add(-1*time.Second), 500, ""),
		ok(h0, 40*time.Millisecond),
		ok(h0.Add(59*time.Minute), 40*time.Millisecond),
		fail(h0.Add(60*time.Minute), 0, "dial tcp: connection refused"),
		ok(h0.Add(2*time.Hour+5*time.Minute), 400*time.Millisecond),
		ok(h0.Add(2*time.Hour+20*time.Minute), 400*time.Millisecond), // after the window
	)
	comps := f.record("t1", a, true,
		shot{at: h0.Add(90 * time.Minute), code: 410, latency: 3 * time.Millisecond, outcome: hookd.OutcomeGone},
		shot{at: h0.Add(91 * time.Minute), code: 503, latency: 3 * time.Millisecond, outcome: hookd.OutcomeDead, err: "boom"},
	)
	f.record("t2", b, false, ok(h0, time.Millisecond), fail(h0.Add(time.Minute), 404, ""))

	// Recording the same attempt again (an ambiguous commit retried)
	// changes nothing.
	f.complete(hookd.CircuitPolicy{}, comps...)

	since, until := h0.Add(-59*time.Minute), h0.Add(2*time.Hour+10*time.Minute)
	for _, bucket := range []time.Duration{0, time.Minute, 5 * time.Minute, time.Hour, 2 * time.Hour} {
		st := f.stats(hookd.StatsQuery{EndpointID: a.ID, Since: since, Until: until, Bucket: bucket})
		wantTime(t, "Since", st.Since, since)
		wantTime(t, "Until", st.Until, until)
		wantCounts(t, "endpoint a totals", st.StatsCounts, 9, 5, 4)
		wantCodes := map[int]int64{200: 5, 500: 1, 0: 1, 410: 1, 503: 1}
		if !reflect.DeepEqual(st.StatusCodes, wantCodes) {
			t.Errorf("bucket %s: status codes: got %v, want %v", bucket, st.StatusCodes, wantCodes)
		}
		if st.Pending != 2 || st.Dead != 2 {
			t.Errorf("pending/dead: got %d/%d, want 2/2", st.Pending, st.Dead)
		}
		if st.Endpoints != 1 || st.LastError != "boom" {
			t.Errorf("endpoints %d, last error %q; want 1, boom", st.Endpoints, st.LastError)
		}
		wantTime(t, "LastErrorAt", st.LastErrorAt, h0.Add(91*time.Minute+3*time.Millisecond))
		if bucket == 0 {
			if st.Series != nil {
				t.Errorf("bucket 0: got a series of %d", len(st.Series))
			}
			continue
		}
		starts := hookd.SeriesStarts(st.Since, st.Until, bucket)
		if len(st.Series) != len(starts) {
			t.Fatalf("bucket %s: got %d buckets, want %d", bucket, len(st.Series), len(starts))
		}
		var sum hookd.StatsCounts
		for i, sb := range st.Series {
			wantTime(t, "bucket start", sb.Start, starts[i])
			sum.Add(&sb.StatsCounts)
		}
		if sum != st.StatsCounts {
			t.Errorf("bucket %s: series adds up to %+v, totals are %+v", bucket, sum, st.StatsCounts)
		}
		if bucket == time.Hour {
			// [h0-1h, h0): 2 ok + 1 failure; [h0, h0+1h): 2 ok; [h0+1h, h0+2h): 1 failure + 410 + 503; then 1 ok.
			want := []int64{3, 2, 3, 1}
			for i, w := range want {
				if st.Series[i].Attempts != w {
					t.Errorf("hour bucket %d: got %d attempts, want %d", i, st.Series[i].Attempts, w)
				}
			}
		}
	}
	st := f.stats(hookd.StatsQuery{EndpointID: a.ID, Since: since, Until: until})
	if p50, ok := st.Latency.Quantile(0.5); !ok || p50 <= 30*time.Millisecond || p50 > 50*time.Millisecond {
		t.Errorf("p50: got %s, %v; want in (30ms, 50ms]", p50, ok)
	}
	if p99, _ := st.Latency.Quantile(0.99); p99 <= time.Second || p99 > 2*time.Second {
		t.Errorf("p99: got %s; want in (1s, 2s]", p99)
	}
	if rate, ok := st.SuccessRate(); !ok || rate != 5.0/9 {
		t.Errorf("success rate: got %v %v, want 5/9", rate, ok)
	}

	// Tenant and overall.
	all := f.stats(hookd.StatsQuery{Since: since, Until: until})
	wantCounts(t, "overall", all.StatsCounts, 11, 6, 5)
	if all.Endpoints != 2 || all.Pending != 3 || all.Dead != 2 {
		t.Errorf("overall endpoints/pending/dead: got %d/%d/%d, want 2/3/2", all.Endpoints, all.Pending, all.Dead)
	}
	t2 := f.stats(hookd.StatsQuery{TenantID: ptr("t2"), Since: since, Until: until, Bucket: time.Hour})
	wantCounts(t, "tenant t2", t2.StatsCounts, 2, 1, 1)
	if t2.Endpoints != 1 || t2.Pending != 1 || t2.Dead != 0 || t2.LastError != "HTTP 404" {
		t.Errorf("tenant t2: endpoints %d pending %d dead %d last error %q; want 1, 1, 0, HTTP 404",
			t2.Endpoints, t2.Pending, t2.Dead, t2.LastError)
	}
	none := f.stats(hookd.StatsQuery{TenantID: ptr("nobody"), Since: since, Until: until, Bucket: time.Hour})
	wantCounts(t, "tenant nobody", none.StatsCounts, 0, 0, 0)
	if _, ok := none.SuccessRate(); ok || none.Endpoints != 0 || len(none.Series) != 4 {
		t.Errorf("tenant nobody: success rate ok %v, endpoints %d, %d buckets; want false, 0, 4", ok, none.Endpoints, len(none.Series))
	}

	// Per endpoint, for alerting: a 5-minute window.
	tot, err := f.s.StatsByEndpoint(f.ctx, h0.Add(-2*time.Minute), h0.Add(3*time.Minute))
	if err != nil {
		t.Fatalf("StatsByEndpoint: %v", err)
	}
	want := []hookd.EndpointTotals{
		{EndpointID: a.ID, TenantID: "t1", Attempts: 2, Succeeded: 1, Failed: 1},
		{EndpointID: b.ID, TenantID: "t2", Attempts: 2, Succeeded: 1, Failed: 1},
	}
	if a.ID > b.ID {
		want[0], want[1] = want[1], want[0]
	}
	for i := range tot {
		tot[i].Latency = hookd.LatencyHistogram{}
	}
	if !reflect.DeepEqual(tot, want) {
		t.Errorf("StatsByEndpoint:\n got %+v\nwant %+v", tot, want)
	}
	tot, err = f.s.StatsByEndpoint(f.ctx, since, until)
	if err != nil || len(tot) != 2 || tot[0].Attempts+tot[1].Attempts != 11 {
		t.Errorf("StatsByEndpoint over the window: got %+v, %v; want 11 attempts in 2 endpoints", tot, err)
	}

	_, err = f.s.ReadStats(f.ctx, hookd.StatsQuery{EndpointID: "ep_missing", Since: since, Until: until})
	wantCode(t, err, hookd.ENOTFOUND)
	_, err = f.s.ReadStats(f.ctx, hookd.StatsQuery{Since: since, Until: until, Bucket: 90 * time.Second})
	wantCode(t, err, hookd.EINVALID)
	_, err = f.s.ReadStats(f.ctx, hookd.StatsQuery{Since: until, Until: since})
	wantCode(t, err, hookd.EINVALID)

	// Deleting an endpoint deletes its rollups.
	if err := f.s.DeleteEndpoint(f.ctx, b.ID); err != nil {
		t.Fatalf("DeleteEndpoint: %v", err)
	}
	all = f.stats(hookd.StatsQuery{Since: since, Until: until})
	wantCounts(t, "overall after delete", all.StatsCounts, 9, 5, 4)
}

// testStatsCircuit: the stats read the endpoint's circuit (open, then
// half_open once its cool-down passed), and the store reports each circuit
// transition once to its watcher.
func testStatsCircuit(t *testing.T, open Opener) {
	f := setup(t, open)
	w, ok := f.s.(hookd.CircuitWatcher)
	if !ok {
		t.Fatalf("%T does not implement hookd.CircuitWatcher", f.s)
	}
	var changes []hookd.CircuitChange
	w.WatchCircuits(func(c hookd.CircuitChange) { changes = append(changes, c) })
	ep := f.endpoint("t")
	policy := hookd.CircuitPolicy{Threshold: 2, Cooldown: time.Minute, MaxCooldown: time.Hour}
	for i := range 4 {
		f.ingest(event("t", "x", t0.Add(time.Duration(i)*time.Second)))
	}
	cl := f.claim(hookd.ClaimRequest{Owner: "n", Now: h0, Limit: 4})
	complete := func(i int, at time.Time, code int, outcome hookd.Outcome) {
		t.Helper()
		c := hookd.Completion{Owner: "n", Outcome: outcome, NextAttemptAt: at.Add(time.Hour),
			Attempt: hookd.Attempt{DeliveryID: cl[i].Delivery.ID, Number: 1, StartedAt: at, StatusCode: code, Latency: time.Millisecond}}
		if err := f.s.CompleteAttempts(f.ctx, []hookd.Completion{c}, policy); err != nil {
			t.Fatalf("CompleteAttempts: %v", err)
		}
	}
	complete(0, h0, 500, hookd.OutcomeRetry)
	complete(1, h0.Add(time.Second), 502, hookd.OutcomeRetry) // opens
	if len(changes) != 1 || !changes[0].Opened() || changes[0].EndpointID != ep.ID || changes[0].LastError != "HTTP 502" ||
		changes[0].From.State != hookd.CircuitClosed {
		t.Fatalf("after the threshold: got changes %+v, want one opening with HTTP 502", changes)
	}
	st := f.stats(hookd.StatsQuery{EndpointID: ep.ID, Since: h0.Add(-time.Hour), Until: h0.Add(30 * time.Second)})
	if st.Circuit.State != hookd.CircuitOpen || st.Circuit.ConsecutiveFailures != 2 || st.Circuits.Open != 1 {
		t.Errorf("stats circuit: got %+v (counts %+v), want open with 2 failures", st.Circuit, st.Circuits)
	}
	st = f.stats(hookd.StatsQuery{EndpointID: ep.ID, Since: h0.Add(-time.Hour), Until: h0.Add(2 * time.Minute)})
	if got := st.Circuit.DisplayState(st.Until); got != hookd.CircuitHalfOpen || st.Circuits.HalfOpen != 1 {
		t.Errorf("after the cool-down: got %s (counts %+v), want half_open", got, st.Circuits)
	}
	complete(2, h0.Add(2*time.Minute), 500, hookd.OutcomeRetry) // the probe fails: re-opens
	complete(3, h0.Add(5*time.Minute), 200, hookd.OutcomeSucceeded)
	if len(changes) != 3 || !changes[1].Opened() || changes[1].From.State != hookd.CircuitOpen ||
		changes[2].Opened() || changes[2].To.State != hookd.CircuitClosed || changes[2].LastError != "HTTP 500" {
		t.Fatalf("got changes %+v, want opened, re-opened, closed", changes)
	}
	wantTime(t, "closed at", changes[2].At, h0.Add(5*time.Minute+time.Millisecond))
	st = f.stats(hookd.StatsQuery{EndpointID: ep.ID, Since: h0, Until: h0.Add(10 * time.Minute)})
	if st.Circuit.State != hookd.CircuitClosed || st.LastError != "HTTP 500" {
		t.Errorf("after the success: circuit %+v, last error %q; want closed, HTTP 500", st.Circuit, st.LastError)
	}
}

// testPurgeStats: minute and hour rows go by their own cutoffs, in
// batches of limit rows per table (after RollupHours: see
// testPurgeStatsKeepsUnrolled for before).
func testPurgeStats(t *testing.T, open Opener) {
	f := setup(t, open)
	ep := f.endpoint("t")
	f.record("t", ep, false,
		ok(h0.Add(-50*time.Hour), time.Millisecond),
		ok(h0.Add(-49*time.Hour), time.Millisecond),
		ok(h0.Add(-2*time.Hour), time.Millisecond),
		ok(h0, time.Millisecond))
	read := func() (minuteRead, hourRead int64) {
		// A window of one partial hour reads minute rows; whole hours read hour rows.
		for _, at := range []time.Time{h0.Add(-50 * time.Hour), h0.Add(-49 * time.Hour), h0.Add(-2 * time.Hour), h0} {
			m := f.stats(hookd.StatsQuery{EndpointID: ep.ID, Since: at, Until: at.Add(time.Minute)})
			h := f.stats(hookd.StatsQuery{EndpointID: ep.ID, Since: at, Until: at.Add(time.Hour)})
			minuteRead += m.Attempts
			hourRead += h.Attempts
		}
		return
	}
	// The hour rows are RollupHours' (and retention keeps the minute rows
	// it has not summed yet): roll up past every attempt first.
	f.rollUp(h0.Add(time.Hour), 2*time.Hour, 7*24*time.Hour)
	if m, h := read(); m != 4 || h != 4 {
		t.Fatalf("before purge: %d attempts in minute rows, %d in hour rows; want 4, 4", m, h)
	}
	// Minutes older than 24 h, hours older than 48 h; one row per table per
	// call: the four endpoint tables and the four summed ones — seven on a
	// store that keeps a minute's only status code in the minute row
	// itself (SQLite), with no minute code row to purge.
	n, err := f.s.PurgeStats(f.ctx, h0.Add(-24*time.Hour), h0.Add(-48*time.Hour), 1)
	if err != nil || n < 7 || n > 8 {
		t.Fatalf("PurgeStats(limit 1): got %d, %v; want 8 (one row of each table) or 7 (no minute code row)", n, err)
	}
	for {
		n, err := f.s.PurgeStats(f.ctx, h0.Add(-24*time.Hour), h0.Add(-48*time.Hour), 100)
		if err != nil {
			t.Fatalf("PurgeStats: %v", err)
		}
		if n == 0 {
			break
		}
	}
	if m, h := read(); m != 2 || h != 2 {
		t.Errorf("after purge: %d attempts in minute rows, %d in hour rows; want 2, 2", m, h)
	}
}

// testStatsOverallWithoutSystem: overall stats (no endpoint, no tenant)
// leave out the system tenant's deliveries (hookd's operational events):
// attempts, status codes, pending, dead, endpoints, circuits and the last
// error; the ops endpoint's own stats and the system tenant's still read
// them.
func testStatsOverallWithoutSystem(t *testing.T, open Opener) {
	f := setup(t, open)
	ops := f.opsEndpoint()
	ep := f.endpoint("t1")
	f.record("t1", ep, false, ok(h0, 10*time.Millisecond), fail(h0.Add(time.Minute), 500, ""))
	f.record(hookd.SystemTenant, ops, false,
		fail(h0.Add(2*time.Minute), 0, "ops receiver down"),
		shot{at: h0.Add(3 * time.Minute), code: 502, latency: time.Millisecond, outcome: hookd.OutcomeDead, err: "ops dead"})
	since, until := h0.Add(-time.Hour), h0.Add(time.Hour)

	all := f.stats(hookd.StatsQuery{Since: since, Until: until, Bucket: time.Hour})
	wantCounts(t, "overall", all.StatsCounts, 2, 1, 1)
	if want := map[int]int64{200: 1, 500: 1}; !reflect.DeepEqual(all.StatusCodes, want) {
		t.Errorf("overall status codes: got %v, want %v", all.StatusCodes, want)
	}
	if all.Endpoints != 1 || all.Pending != 1 || all.Dead != 0 || all.LastError != "HTTP 500" || all.Circuits.Closed != 1 {
		t.Errorf("overall: endpoints %d pending %d dead %d last error %q circuits %+v; want 1, 1, 0, HTTP 500, 1 closed",
			all.Endpoints, all.Pending, all.Dead, all.LastError, all.Circuits)
	}
	var series int64
	for _, b := range all.Series {
		series += b.Attempts
	}
	if series != 2 {
		t.Errorf("overall series: %d attempts, want 2", series)
	}
	own := f.stats(hookd.StatsQuery{EndpointID: hookd.OpsEndpointID, Since: since, Until: until})
	wantCounts(t, "ops endpoint", own.StatsCounts, 2, 0, 2)
	if own.Pending != 1 || own.Dead != 1 || own.LastError != "ops dead" {
		t.Errorf("ops endpoint: pending %d dead %d last error %q; want 1, 1, ops dead", own.Pending, own.Dead, own.LastError)
	}
	sys := f.stats(hookd.StatsQuery{TenantID: ptr(hookd.SystemTenant), Since: since, Until: until})
	wantCounts(t, "system tenant", sys.StatsCounts, 2, 0, 2)
	if sys.Endpoints != 1 || sys.Dead != 1 {
		t.Errorf("system tenant: endpoints %d dead %d; want 1, 1", sys.Endpoints, sys.Dead)
	}
}

// testStatsRollupUpserts: the same rollup rows are added to by batches of
// one attempt (one row per rollup table) and of several (several rows per
// table, codes new and known), in either order: every attempt counts once
// in its minute, its hour and its status code.
func testStatsRollupUpserts(t *testing.T, open Opener) {
	f := setup(t, open)
	a := f.endpoint("t1")
	f.record("t1", a, false, ok(h0.Add(time.Minute), 5*time.Millisecond))
	f.record("t1", a, false,
		ok(h0.Add(time.Minute+time.Second), 5*time.Millisecond),
		fail(h0.Add(2*time.Minute), 502, ""),
		ok(h0.Add(61*time.Minute), 5*time.Millisecond))
	f.record("t1", a, true, fail(h0.Add(time.Minute+2*time.Second), 502, ""))
	f.record("t1", a, false, ok(h0.Add(61*time.Minute+time.Second), 5*time.Millisecond))
	// A minute whose first code is a failure's, then batches of another
	// code (one latency class, then two) and of both: no response (0) is
	// a code of its own.
	f.record("t1", a, false, fail(h0.Add(3*time.Minute), 503, ""))
	f.record("t1", a, false, ok(h0.Add(3*time.Minute+time.Second), 5*time.Millisecond), ok(h0.Add(3*time.Minute+2*time.Second), 5*time.Millisecond))
	f.record("t1", a, false, ok(h0.Add(3*time.Minute+3*time.Second), 900*time.Millisecond), fail(h0.Add(3*time.Minute+4*time.Second), 503, ""))
	f.record("t1", a, false, fail(h0.Add(4*time.Minute), 0, "connection refused"), fail(h0.Add(4*time.Minute+time.Second), 0, "connection refused"))
	f.record("t1", a, true, fail(h0.Add(4*time.Minute+2*time.Second), 0, "connection refused"), fail(h0.Add(4*time.Minute+3*time.Second), 503, ""))

	st := f.stats(hookd.StatsQuery{EndpointID: a.ID, Since: h0, Until: h0.Add(2 * time.Hour), Bucket: time.Minute})
	wantCounts(t, "totals", st.StatsCounts, 15, 7, 8)
	if want := map[int]int64{0: 3, 200: 7, 502: 2, 503: 3}; !reflect.DeepEqual(st.StatusCodes, want) {
		t.Errorf("status codes: got %v, want %v", st.StatusCodes, want)
	}
	minute3 := f.stats(hookd.StatsQuery{EndpointID: a.ID, Since: h0.Add(3 * time.Minute), Until: h0.Add(4 * time.Minute)})
	if want := map[int]int64{200: 3, 503: 2}; !reflect.DeepEqual(minute3.StatusCodes, want) {
		t.Errorf("minute 3 status codes: got %v, want %v", minute3.StatusCodes, want)
	}
	perMinute := map[time.Duration][3]int64{time.Minute: {3, 2, 1}, 2 * time.Minute: {1, 0, 1}, 3 * time.Minute: {5, 3, 2},
		4 * time.Minute: {4, 0, 4}, 61 * time.Minute: {2, 2, 0}}
	for _, b := range st.Series {
		want := perMinute[b.Start.Sub(h0)]
		if got := [3]int64{b.Attempts, b.Succeeded, b.Failed}; got != want {
			t.Errorf("minute %s: attempts/succeeded/failed %v, want %v", b.Start.Sub(h0), got, want)
		}
	}
	// The whole hours come from the hour rows.
	hours := f.stats(hookd.StatsQuery{EndpointID: a.ID, Since: h0, Until: h0.Add(2 * time.Hour), Bucket: time.Hour})
	if len(hours.Series) != 2 || hours.Series[0].Attempts != 13 || hours.Series[1].Attempts != 2 {
		t.Errorf("hours: got %+v, want 13 then 2 attempts", hours.Series)
	}
	wantCounts(t, "hour totals", hours.StatsCounts, 15, 7, 8)
	if !reflect.DeepEqual(hours.StatusCodes, st.StatusCodes) {
		t.Errorf("hour status codes %v, minute ones %v", hours.StatusCodes, st.StatusCodes)
	}
}

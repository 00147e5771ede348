package storetest

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd"
)

// testStatsByEndpointSeries: one read returns every endpoint's buckets,
// equal bucket for bucket to what ReadStats reads for that endpoint
// (empty buckets left out), for minute and hour buckets and a window cut
// across minute and hour boundaries, by endpoint id, with each
// endpoint's tenant; a tenant narrows it; they add up to StatsByEndpoint's
// totals.
func testStatsByEndpointSeries(t *testing.T, open Opener) {
	f := setup(t, open)
	a := f.endpoint("t1")
	b := f.endpoint("t2")
	quiet := f.endpoint("t1") // no attempts in the window: not listed
	f.record("t1", a, false,
		ok(h0.Add(-61*time.Minute), 10*time.Millisecond), // before the window
		ok(h0.Add(-59*time.Minute+time.Second), 40*time.Millisecond),
		fail(h0.Add(-1*time.Second), 500, ""),
		ok(h0, 40*time.Millisecond),
		ok(h0.Add(59*time.Minute), 300*time.Millisecond),
		fail(h0.Add(60*time.Minute), 0, "refused"),
		ok(h0.Add(2*time.Hour+5*time.Minute), 400*time.Millisecond),
		ok(h0.Add(2*time.Hour+20*time.Minute), 400*time.Millisecond), // after the window
	)
	f.record("t2", b, true, ok(h0.Add(time.Minute), time.Millisecond), fail(h0.Add(70*time.Minute), 404, ""))
	f.record("t1", quiet, false, ok(h0.Add(-3*time.Hour), time.Millisecond))
	since, until := h0.Add(-59*time.Minute), h0.Add(2*time.Hour+10*time.Minute)

	for _, bucket := range []time.Duration{time.Minute, 5 * time.Minute, time.Hour, 2 * time.Hour} {
		got, err := f.s.StatsByEndpointSeries(f.ctx, nil, since, until, bucket)
		if err != nil {
			t.Fatalf("StatsByEndpointSeries(%s): %v", bucket, err)
		}
		var want []hookd.EndpointSeries
		for _, ep := range []*hookd.Endpoint{a, b, quiet} {
			st := f.stats(hookd.StatsQuery{EndpointID: ep.ID, Since: since, Until: until, Bucket: bucket})
			es := hookd.EndpointSeries{EndpointID: ep.ID, TenantID: ep.TenantID}
			for _, sb := range st.Series {
				if sb.Attempts > 0 {
					sb.Start = ut(sb.Start)
					es.Buckets = append(es.Buckets, sb)
				}
			}
			if len(es.Buckets) > 0 {
				want = append(want, es)
			}
		}
		slices.SortFunc(want, func(x, y hookd.EndpointSeries) int { return strings.Compare(x.EndpointID, y.EndpointID) })
		for i := range got {
			for j := range got[i].Buckets {
				if loc := got[i].Buckets[j].Start.Location(); loc != time.UTC {
					t.Errorf("bucket start %s in %s, want UTC", got[i].Buckets[j].Start, loc)
				}
				got[i].Buckets[j].Start = ut(got[i].Buckets[j].Start)
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("bucket %s:\n got %+v\nwant %+v (ReadStats per endpoint)", bucket, got, want)
		}
		if bucket == time.Hour && len(got) == 2 {
			// a: [h0-1h, h0) 2, [h0, h0+1h) 2, [h0+1h, h0+2h) 1, [h0+2h, …) 1; b: [h0, …) 1, [h0+1h, …) 1.
			for _, es := range got {
				var n []int64
				for _, sb := range es.Buckets {
					n = append(n, sb.Attempts)
				}
				first, wantN := h0.Add(-time.Hour), []int64{2, 2, 1, 1}
				if es.EndpointID == b.ID {
					first, wantN = h0, []int64{1, 1}
				}
				if !reflect.DeepEqual(n, wantN) {
					t.Errorf("hour buckets of %s: got attempts %v, want %v", es.EndpointID, n, wantN)
				}
				wantTime(t, "first hour bucket", es.Buckets[0].Start, first)
			}
		}
		// The buckets add up to the window's totals per endpoint.
		tot, err := f.s.StatsByEndpoint(f.ctx, since, until)
		if err != nil {
			t.Fatalf("StatsByEndpoint: %v", err)
		}
		sums := map[string]*hookd.StatsCounts{}
		for _, es := range got {
			sums[es.EndpointID] = &hookd.StatsCounts{}
			for _, sb := range es.Buckets {
				sums[es.EndpointID].Add(&sb.StatsCounts)
			}
		}
		for _, e := range tot {
			s := sums[e.EndpointID]
			if s == nil || s.Attempts != e.Attempts || s.Succeeded != e.Succeeded || s.Failed != e.Failed || s.Latency != e.Latency {
				t.Errorf("bucket %s: endpoint %s buckets add up to %+v, totals %+v", bucket, e.EndpointID, s, e)
			}
		}
		if len(tot) != len(sums) {
			t.Errorf("bucket %s: %d endpoints in the series, %d in the totals", bucket, len(sums), len(tot))
		}
	}

	t2, err := f.s.StatsByEndpointSeries(f.ctx, ptr("t2"), since, until, time.Hour)
	if err != nil || len(t2) != 1 || t2[0].EndpointID != b.ID || t2[0].TenantID != "t2" || len(t2[0].Buckets) != 2 {
		t.Errorf("tenant t2: got %+v, %v; want b's 2 hour buckets", t2, err)
	}
	none, err := f.s.StatsByEndpointSeries(f.ctx, ptr("nobody"), since, until, time.Hour)
	if err != nil || len(none) != 0 {
		t.Errorf("tenant nobody: got %+v, %v; want nothing", none, err)
	}
	for _, bad := range []time.Duration{0, -time.Hour, 90 * time.Second} {
		_, err := f.s.StatsByEndpointSeries(f.ctx, nil, since, until, bad)
		wantCode(t, err, hookd.EINVALID)
	}
	_, err = f.s.StatsByEndpointSeries(f.ctx, nil, until, since, time.Hour)
	wantCode(t, err, hookd.EINVALID)
}

package storetest

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd"
)

func testDeliveryCounts(t *testing.T, open Opener) {
	f := setup(t, open)
	a1 := f.endpoint("a")
	a2 := f.endpoint("a")
	b1 := f.endpoint("b")
	f.endpoint("a") // no deliveries: not listed
	for i := range 3 {
		e := event("a", "x", t0.Add(time.Duration(i)*time.Second))
		e.OnlyEndpointID = a1.ID
		f.ingest(e)
	}
	e := event("a", "x", t0)
	e.OnlyEndpointID = a2.ID
	f.ingest(e)
	f.kill(a2.ID, t0.Add(time.Minute))
	e = event("b", "x", t0)
	e.OnlyEndpointID = b1.ID
	f.ingest(e)
	f.succeed(b1.ID, t0.Add(time.Minute)) // succeeded: not counted
	e = event("b", "x", t0.Add(time.Second))
	e.OnlyEndpointID = b1.ID
	f.ingest(e)

	got := func(tenant *string) []hookd.EndpointDeliveryCounts {
		t.Helper()
		cs, err := f.s.DeliveryCounts(f.ctx, tenant)
		if err != nil {
			t.Fatalf("DeliveryCounts: %v", err)
		}
		slices.SortFunc(cs, func(x, y hookd.EndpointDeliveryCounts) int { return strings.Compare(x.EndpointID, y.EndpointID) })
		return cs
	}
	// kill fails a2's attempt with "boom" at t0+1m: its latest error.
	want := []hookd.EndpointDeliveryCounts{{EndpointID: a1.ID, Pending: 3}, {EndpointID: a2.ID, Dead: 1, LastError: "boom",
		LastErrorAt: t0.Add(time.Minute).UTC().Truncate(time.Microsecond)}, {EndpointID: b1.ID, Pending: 1}}
	slices.SortFunc(want, func(x, y hookd.EndpointDeliveryCounts) int { return strings.Compare(x.EndpointID, y.EndpointID) })
	for i := range want {
		if cs := got(nil); i < len(cs) && !cs[i].LastErrorAt.Equal(want[i].LastErrorAt) {
			t.Errorf("LastErrorAt of %s = %v, want %v", cs[i].EndpointID, cs[i].LastErrorAt, want[i].LastErrorAt)
		}
	}
	normalize := func(cs []hookd.EndpointDeliveryCounts) []hookd.EndpointDeliveryCounts {
		for i := range cs {
			cs[i].LastErrorAt = cs[i].LastErrorAt.UTC()
		}
		return cs
	}
	want = normalize(want)
	if cs := normalize(got(nil)); !slices.Equal(cs, want) {
		t.Errorf("DeliveryCounts(all) = %v, want %v", cs, want)
	}
	a := "a"
	wantA := slices.DeleteFunc(slices.Clone(want), func(c hookd.EndpointDeliveryCounts) bool { return c.EndpointID == b1.ID })
	if cs := normalize(got(&a)); !slices.Equal(cs, wantA) {
		t.Errorf("DeliveryCounts(a) = %v, want %v", cs, wantA)
	}
	none := "none"
	if cs := got(&none); len(cs) != 0 {
		t.Errorf("DeliveryCounts(none) = %v, want nothing", cs)
	}
}

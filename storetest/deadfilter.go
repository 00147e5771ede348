package storetest

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/hookd/hookd"
)

// testListDeadFilters: ListDeliveries narrows dead letters by event type
// and by when they died (UpdatedSince inclusive, UpdatedBefore exclusive)
// exactly as ReplayDead's filter does, with tenant and endpoint, by id
// newest first, one page at a time.
func testListDeadFilters(t *testing.T, open Opener) {
	f := setup(t, open)
	ep1 := f.endpoint("t")
	ep2 := f.endpoint("t")
	other := f.endpoint("u")
	f.ingest(event("t", "a.x", t0))
	f.ingest(event("t", "b.y", t0.Add(time.Second)))
	// dead: [ep1 a.x, ep1 b.y, ep2 a.x, ep2 b.y], dying in that order.
	var dead []*hookd.Delivery
	var u []time.Time
	for i, ep := range []string{ep1.ID, ep1.ID, ep2.ID, ep2.ID} {
		d := f.kill(ep, t0.Add(time.Duration(i+1)*time.Minute))
		dead = append(dead, d)
		u = append(u, d.UpdatedAt)
	}
	f.ingest(event("u", "a.x", t0.Add(2*time.Second)))
	f.kill(other.ID, t0.Add(10*time.Minute))
	f.ingest(event("t", "a.x", t0.Add(time.Hour))) // pending: never listed
	cases := []struct {
		name string
		df   hookd.DeliveryFilter
		want []int // indexes into dead
	}{
		{"tenant", hookd.DeliveryFilter{TenantID: ptr("t")}, []int{3, 2, 1, 0}},
		{"event type", hookd.DeliveryFilter{TenantID: ptr("t"), EventType: "a.x"}, []int{2, 0}},
		{"endpoint and type", hookd.DeliveryFilter{EndpointID: ep2.ID, EventType: "b.y"}, []int{3}},
		{"since inclusive", hookd.DeliveryFilter{TenantID: ptr("t"), UpdatedSince: u[1]}, []int{3, 2, 1}},
		{"until exclusive", hookd.DeliveryFilter{TenantID: ptr("t"), UpdatedBefore: u[1]}, []int{0}},
		{"since and until", hookd.DeliveryFilter{TenantID: ptr("t"), UpdatedSince: u[1], UpdatedBefore: u[3]}, []int{2, 1}},
		{"type and time", hookd.DeliveryFilter{TenantID: ptr("t"), EventType: "b.y", UpdatedSince: u[2]}, []int{3}},
		{"no such type", hookd.DeliveryFilter{EventType: "c.z"}, nil},
	}
	for _, c := range cases {
		c.df.Status = hookd.StatusDead
		var want []string
		for _, i := range c.want {
			want = append(want, dead[i].ID)
		}
		slices.Sort(want) // listed newest (greatest id) first
		slices.Reverse(want)
		// One page at a time: the filter holds across cursors.
		var got []string
		c.df.Page = hookd.Page{Limit: 1}
		for range 10 {
			ds, next, err := f.s.ListDeliveries(f.ctx, c.df)
			if err != nil {
				t.Fatalf("%s: ListDeliveries: %v", c.name, err)
			}
			for _, d := range ds {
				got = append(got, d.ID)
			}
			if next == "" {
				break
			}
			c.df.Cursor = next
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %v, want %v", c.name, got, want)
		}
	}
	_, _, err := f.s.ListDeliveries(f.ctx, hookd.DeliveryFilter{EventType: "a\x00"})
	wantCode(t, err, hookd.EINVALID)
}

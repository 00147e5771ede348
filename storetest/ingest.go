package storetest

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd"
)

func testIngestFanOut(t *testing.T, open Opener) {
	f := setup(t, open)
	all := f.endpoint("t1")
	exact := f.endpoint("t1", types("order.created"))
	prefix := f.endpoint("t1", types("order.*"))
	f.endpoint("t1", types("invoice.*", "user.deleted"))
	f.endpoint("t1", func(e *hookd.Endpoint) { e.Disabled = true; e.DisabledReason = "off" })
	other := f.endpoint("t2")
	none := f.endpoint("")

	cases := []struct {
		tenant, typ string
		want        []string
	}{
		{"t1", "order.created", []string{all.ID, exact.ID, prefix.ID}},
		{"t1", "order.updated.v2", []string{all.ID, prefix.ID}},
		{"t1", "order", []string{all.ID}},
		{"t1", "refund.created", []string{all.ID}},
		{"t2", "order.created", []string{other.ID}},
		{"", "order.created", []string{none.ID}},
		{"t3", "order.created", nil},
	}
	for i, c := range cases {
		at := t0.Add(time.Duration(i) * time.Second)
		ne := event(c.tenant, c.typ, at)
		res := f.ingest(ne)[0]
		if res.Duplicate || res.Deliveries != len(c.want) {
			t.Errorf("%s/%s: got duplicate %v, %d deliveries; want false, %d", c.tenant, c.typ, res.Duplicate, res.Deliveries, len(c.want))
		}
		wantEvent(t, &res.Event, &ne.Event)
		stored, err := f.s.GetEvent(f.ctx, ne.ID)
		if err != nil {
			t.Fatalf("GetEvent: %v", err)
		}
		wantEvent(t, stored, &ne.Event)

		ds := f.deliveries(hookd.DeliveryFilter{EventID: ne.ID})
		var got []string
		for _, d := range ds {
			got = append(got, d.EndpointID)
			if d.EventID != ne.ID || d.Status != hookd.StatusPending || d.Attempts != 0 || d.AttemptBase != 0 ||
				d.LeaseOwner != "" || !d.LeaseExpiresAt.IsZero() || d.LastStatusCode != 0 || d.LastError != "" ||
				!hookd.HasPrefix(d.ID, hookd.PrefixDelivery) {
				t.Errorf("%s/%s: got new delivery %+v", c.tenant, c.typ, d)
			}
			wantTime(t, "NextAttemptAt", d.NextAttemptAt, at)
			got2, err := f.s.GetDelivery(f.ctx, d.ID)
			if err != nil || got2.ID != d.ID {
				t.Errorf("GetDelivery(%s): got %v, %v", d.ID, got2, err)
			}
		}
		sort.Strings(got)
		want := append([]string(nil), c.want...)
		sort.Strings(want)
		if !equalStrings(got, want) {
			t.Errorf("%s/%s: got deliveries to %v, want %v", c.tenant, c.typ, got, want)
		}
	}
	_, err := f.s.GetEvent(f.ctx, hookd.NewID(hookd.PrefixEvent, t0))
	wantCode(t, err, hookd.ENOTFOUND)
	_, err = f.s.GetDelivery(f.ctx, hookd.NewID(hookd.PrefixDelivery, t0))
	wantCode(t, err, hookd.ENOTFOUND)
}

func testIngestOnlyEndpoint(t *testing.T, open Opener) {
	f := setup(t, open)
	target := f.endpoint("t1", types("invoice.*"))
	f.endpoint("t1")
	f.endpoint("other")

	ne := event("other", "hookd.test", t0)
	ne.OnlyEndpointID = target.ID
	if res := f.ingest(ne)[0]; res.Deliveries != 1 {
		t.Errorf("got %d deliveries, want 1", res.Deliveries)
	}
	ds := f.deliveries(hookd.DeliveryFilter{EventID: ne.ID})
	if len(ds) != 1 || ds[0].EndpointID != target.ID {
		t.Errorf("got deliveries %v, want one to %s", ds, target.ID)
	}

	// A gone endpoint fails the whole call.
	ok := event("t1", "order.created", t0)
	gone := event("t1", "hookd.test", t0)
	gone.OnlyEndpointID = hookd.NewID(hookd.PrefixEndpoint, t0)
	_, err := f.s.IngestEvents(f.ctx, []hookd.NewEvent{ok, gone})
	wantCode(t, err, hookd.ENOTFOUND)
	for _, id := range []string{ok.ID, gone.ID} {
		_, err := f.s.GetEvent(f.ctx, id)
		wantCode(t, err, hookd.ENOTFOUND)
	}
	if n := len(f.deliveries(hookd.DeliveryFilter{})); n != 1 {
		t.Errorf("got %d deliveries after the failed call, want 1", n)
	}
}

func testIngestIdempotency(t *testing.T, open Opener) {
	f := setup(t, open)
	f.endpoint("t1")
	f.endpoint("t2")

	keyed := func(tenant, key string) hookd.NewEvent {
		ne := event(tenant, "order.created", t0)
		ne.IdempotencyKey = key
		return ne
	}
	first := keyed("t1", "k1")
	if res := f.ingest(first)[0]; res.Duplicate || res.Deliveries != 1 {
		t.Fatalf("first: got duplicate %v, %d deliveries; want false, 1", res.Duplicate, res.Deliveries)
	}

	// The same key and event again in a later call (the payload may differ
	// in whitespace and key order): the original event, no deliveries.
	again := keyed("t1", "k1")
	again.Payload = reformat(t, first.Payload)
	again.CreatedAt = t0.Add(time.Minute)
	res := f.ingest(again)[0]
	if !res.Duplicate || res.Deliveries != 0 {
		t.Errorf("again: got duplicate %v, %d deliveries; want true, 0", res.Duplicate, res.Deliveries)
	}
	wantEvent(t, &res.Event, &first.Event)
	_, err := f.s.GetEvent(f.ctx, again.ID)
	wantCode(t, err, hookd.ENOTFOUND)

	// The same key with another payload or type: ECONFLICT, nothing stored,
	// and the whole call fails (the committer retries the others alone).
	for name, edit := range map[string]func(*hookd.NewEvent){
		"payload": func(ne *hookd.NewEvent) { ne.Payload = []byte(`{"other":true}`) },
		"type":    func(ne *hookd.NewEvent) { ne.Type = "order.updated" },
	} {
		other := keyed("t1", "k1")
		edit(&other)
		fresh := event("t1", "order.created", t0)
		_, err := f.s.IngestEvents(f.ctx, []hookd.NewEvent{fresh, other})
		wantCode(t, err, hookd.ECONFLICT)
		if err != nil && !strings.Contains(hookd.ErrorMessage(err), `"k1"`) {
			t.Errorf("different %s: message %q does not name the key", name, hookd.ErrorMessage(err))
		}
		for _, id := range []string{other.ID, fresh.ID} {
			_, err := f.s.GetEvent(f.ctx, id)
			wantCode(t, err, hookd.ENOTFOUND)
		}
	}
	clash1, clash2 := keyed("t1", "k9"), keyed("t1", "k9")
	clash2.Payload = []byte(`{"n":2}`)
	_, err = f.s.IngestEvents(f.ctx, []hookd.NewEvent{clash1, clash2})
	wantCode(t, err, hookd.ECONFLICT)

	// Keys are per tenant.
	if res := f.ingest(keyed("t2", "k1"))[0]; res.Duplicate || res.Deliveries != 1 {
		t.Errorf("other tenant: got duplicate %v, %d deliveries; want false, 1", res.Duplicate, res.Deliveries)
	}

	// Twice in one call; empty keys never clash.
	a, b, c, d := keyed("t1", "k2"), keyed("t1", "k2"), keyed("t1", ""), keyed("t1", "")
	rs := f.ingest(a, b, c, d)
	wantDup := []bool{false, true, false, false}
	wantN := []int{1, 0, 1, 1}
	for i, r := range rs {
		if r.Duplicate != wantDup[i] || r.Deliveries != wantN[i] {
			t.Errorf("same call #%d: got duplicate %v, %d deliveries; want %v, %d", i, r.Duplicate, r.Deliveries, wantDup[i], wantN[i])
		}
	}
	wantEvent(t, &rs[1].Event, &a.Event)
	_, err = f.s.GetEvent(f.ctx, b.ID)
	wantCode(t, err, hookd.ENOTFOUND)
	if n := len(f.deliveries(hookd.DeliveryFilter{})); n != 5 {
		t.Errorf("got %d deliveries in all, want 5", n)
	}
}

func testIngestAtomicity(t *testing.T, open Opener) {
	f := setup(t, open)
	f.endpoint("t1")
	stored := event("t1", "order.created", t0)
	f.ingest(stored)

	fresh := event("t1", "order.created", t0)
	clash := event("t1", "order.created", t0)
	clash.ID = stored.ID // unique-constraint clash on the event id
	_, err := f.s.IngestEvents(f.ctx, []hookd.NewEvent{fresh, clash})
	wantCode(t, err, hookd.ECONFLICT)
	_, err = f.s.GetEvent(f.ctx, fresh.ID)
	wantCode(t, err, hookd.ENOTFOUND)
	if n := len(f.deliveries(hookd.DeliveryFilter{})); n != 1 {
		t.Errorf("got %d deliveries after the failed call, want 1", n)
	}
}

func testListEvents(t *testing.T, open Opener) {
	f := setup(t, open)
	var evs []hookd.NewEvent
	for i, spec := range [][2]string{{"a", "x"}, {"b", "x"}, {"", "y"}, {"a", "y"}, {"a", "x"}, {"", "x"}, {"b", "y"}} {
		evs = append(evs, event(spec[0], spec[1], t0.Add(time.Duration(i)*time.Second)))
	}
	f.ingest(evs...)
	want := func(keep func(hookd.NewEvent) bool) []string {
		var ids []string
		for _, e := range evs {
			if keep(e) {
				ids = append(ids, e.ID)
			}
		}
		sortDesc(ids)
		return ids
	}
	cases := []struct {
		name string
		f    hookd.EventFilter
		want []string
	}{
		{"all", hookd.EventFilter{}, want(func(hookd.NewEvent) bool { return true })},
		{"type", hookd.EventFilter{Type: "x"}, want(func(e hookd.NewEvent) bool { return e.Type == "x" })},
		{"tenant a", hookd.EventFilter{TenantID: ptr("a")}, want(func(e hookd.NewEvent) bool { return e.TenantID == "a" })},
		{"empty tenant", hookd.EventFilter{TenantID: ptr("")}, want(func(e hookd.NewEvent) bool { return e.TenantID == "" })},
		{"tenant and type", hookd.EventFilter{TenantID: ptr("a"), Type: "x"}, want(func(e hookd.NewEvent) bool { return e.TenantID == "a" && e.Type == "x" })},
		{"no match", hookd.EventFilter{Type: "zzz"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			filter := c.f
			filter.Limit = 2
			for range 10 {
				es, next, err := f.s.ListEvents(f.ctx, filter)
				if err != nil {
					t.Fatalf("ListEvents: %v", err)
				}
				for _, e := range es {
					got = append(got, e.ID)
				}
				if next == "" {
					break
				}
				filter.Cursor = next
			}
			if !equalStrings(got, c.want) {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}

func testListDeliveries(t *testing.T, open Opener) {
	f := setup(t, open)
	e1 := f.endpoint("t")
	e2 := f.endpoint("t")
	var evs []hookd.NewEvent
	for i := range 3 {
		evs = append(evs, event("t", "x", t0.Add(time.Duration(i)*time.Second)))
	}
	f.ingest(evs...)
	// e1's deliveries: succeeded, dead, pending; e2's stay pending.
	cs := f.claim(hookd.ClaimRequest{Owner: "n1", Now: t0.Add(time.Minute), Limit: 10, ExcludeEndpoints: []string{e2.ID}})
	if len(cs) != 3 {
		t.Fatalf("claimed %d, want 3", len(cs))
	}
	outcomes := []hookd.Outcome{hookd.OutcomeSucceeded, hookd.OutcomeDead}
	for i, o := range outcomes {
		f.complete(hookd.CircuitPolicy{}, hookd.Completion{Owner: "n1", Outcome: o,
			Attempt: attempt(cs[i].Delivery.ID, 1, t0.Add(time.Minute), 500)})
	}
	all := f.deliveries(hookd.DeliveryFilter{})
	if len(all) != 6 {
		t.Fatalf("got %d deliveries, want 6", len(all))
	}
	keep := func(fn func(*hookd.Delivery) bool) []string {
		var ids []string
		for _, d := range all {
			if fn(d) {
				ids = append(ids, d.ID)
			}
		}
		sortDesc(ids)
		return ids
	}
	// all must come newest (highest id) first
	if got, want := deliveryIDs(all, false), keep(func(*hookd.Delivery) bool { return true }); !equalStrings(got, want) {
		t.Errorf("order: got %v, want %v", got, want)
	}
	cases := []struct {
		name string
		f    hookd.DeliveryFilter
		want []string
	}{
		{"succeeded", hookd.DeliveryFilter{Status: hookd.StatusSucceeded}, []string{cs[0].Delivery.ID}},
		{"dead", hookd.DeliveryFilter{Status: hookd.StatusDead}, []string{cs[1].Delivery.ID}},
		{"pending", hookd.DeliveryFilter{Status: hookd.StatusPending}, keep(func(d *hookd.Delivery) bool { return d.Status == hookd.StatusPending })},
		{"endpoint", hookd.DeliveryFilter{EndpointID: e2.ID}, keep(func(d *hookd.Delivery) bool { return d.EndpointID == e2.ID })},
		{"event", hookd.DeliveryFilter{EventID: evs[1].ID}, keep(func(d *hookd.Delivery) bool { return d.EventID == evs[1].ID })},
		{"endpoint and status", hookd.DeliveryFilter{EndpointID: e1.ID, Status: hookd.StatusPending}, []string{cs[2].Delivery.ID}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			filter := c.f
			filter.Limit = 1
			for range 10 {
				ds, next, err := f.s.ListDeliveries(f.ctx, filter)
				if err != nil {
					t.Fatalf("ListDeliveries: %v", err)
				}
				got = append(got, deliveryIDs(ds, false)...)
				if next == "" {
					break
				}
				filter.Cursor = next
			}
			if !equalStrings(got, c.want) {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}

// reformat returns the JSON p with its keys in another order and spaces.
func reformat(t *testing.T, p []byte) []byte {
	var m map[string]any
	if err := json.Unmarshal(p, &m); err != nil {
		t.Fatalf("payload %s: %v", p, err)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Sort(sort.Reverse(sort.StringSlice(keys)))
	var b strings.Builder
	b.WriteString("{ ")
	for i, k := range keys {
		if i > 0 {
			b.WriteString(" , ")
		}
		kj, _ := json.Marshal(k)
		vj, _ := json.Marshal(m[k])
		fmt.Fprintf(&b, "%s : %s", kj, vj)
	}
	b.WriteString(" }")
	return []byte(b.String())
}

package postgres

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/hookd/hookd"
)

func TestIngestFanOut(t *testing.T) {
	t.Parallel()
	s, _ := open(t, Options{PollOnly: true})
	ctx := context.Background()
	all := newEndpoint(t, s, nil)
	orders := newEndpoint(t, s, func(e *hookd.Endpoint) { e.EventTypes = []string{"order.*"} })
	newEndpoint(t, s, func(e *hookd.Endpoint) { e.Disabled = true })
	other := newEndpoint(t, s, func(e *hookd.Endpoint) { e.TenantID = "acme" })

	tests := []struct {
		name   string
		ev     hookd.NewEvent
		want   int
		wantEp []string
	}{
		{"all and pattern", newEvent("order.created", "", "", t0), 2, []string{all.ID, orders.ID}},
		{"all only", newEvent("user.created", "", "", t0), 1, []string{all.ID}},
		{"other tenant", newEvent("order.created", "acme", "", t0), 1, []string{other.ID}},
		{"no endpoint", newEvent("x", "nobody", "", t0), 0, nil},
		{"only endpoint", func() hookd.NewEvent {
			ev := newEvent("hookd.test", "", "", t0)
			ev.OnlyEndpointID = other.ID
			return ev
		}(), 1, []string{other.ID}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := ingest(t, s, tt.ev)
			if res[0].Deliveries != tt.want || res[0].Duplicate {
				t.Fatalf("got %d deliveries (duplicate %v), want %d", res[0].Deliveries, res[0].Duplicate, tt.want)
			}
			ds, _, err := s.ListDeliveries(ctx, hookd.DeliveryFilter{EventID: tt.ev.ID})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]bool{}
			for _, d := range ds {
				got[d.EndpointID] = true
				if d.Status != hookd.StatusPending || !d.NextAttemptAt.Equal(t0.Truncate(time.Microsecond)) {
					t.Errorf("got delivery %+v, want pending due at the event's creation", d)
				}
			}
			for _, id := range tt.wantEp {
				if !got[id] {
					t.Errorf("no delivery to %s", id)
				}
			}
		})
	}
}

func TestIngestPayloadAndTimes(t *testing.T) {
	t.Parallel()
	s, _ := open(t, Options{PollOnly: true})
	ev := newEvent("a", "", "", t0.In(time.FixedZone("x", 3600)))
	ev.Payload = json.RawMessage("{\"b\": 1,\n \"a\" : \"\\u00e9\", \"b\": 2}")
	ingest(t, s, ev)
	got, err := s.GetEvent(context.Background(), ev.ID)
	if err != nil {
		t.Fatal(err)
	}
	if string(got.Payload) != string(ev.Payload) {
		t.Errorf("got payload %q, want %q byte for byte", got.Payload, ev.Payload)
	}
	want := t0.Truncate(time.Microsecond)
	if got.CreatedAt != want {
		t.Errorf("got created_at %v, want %v (UTC, microseconds)", got.CreatedAt, want)
	}
}

func TestIngestIdempotency(t *testing.T) {
	t.Parallel()
	s, _ := open(t, Options{PollOnly: true})
	newEndpoint(t, s, nil)
	first := newEvent("a", "", "k1", t0)
	res := ingest(t, s, first)
	if res[0].Duplicate || res[0].Deliveries != 1 {
		t.Fatalf("got %+v, want a new event with 1 delivery", res[0])
	}
	again := newEvent("a", "", "k1", t0.Add(time.Second))
	otherTenant := newEvent("a", "t2", "k1", t0)
	fresh := newEvent("a", "", "k2", t0)
	freshDup := newEvent("a", "", "k2", t0)
	res = ingest(t, s, again, otherTenant, fresh, freshDup)
	tests := []struct {
		name   string
		got    hookd.IngestResult
		wantID string
		dup    bool
		n      int
	}{
		{"stored before", res[0], first.ID, true, 0},
		{"other tenant", res[1], otherTenant.ID, false, 0},
		{"new", res[2], fresh.ID, false, 1},
		{"earlier in batch", res[3], fresh.ID, true, 0},
	}
	for _, tt := range tests {
		if tt.got.Event.ID != tt.wantID || tt.got.Duplicate != tt.dup || tt.got.Deliveries != tt.n {
			t.Errorf("%s: got id %s dup %v deliveries %d, want %s %v %d",
				tt.name, tt.got.Event.ID, tt.got.Duplicate, tt.got.Deliveries, tt.wantID, tt.dup, tt.n)
		}
	}
	if _, err := s.GetEvent(context.Background(), again.ID); hookd.ErrorCode(err) != hookd.ENOTFOUND {
		t.Errorf("duplicate was stored: got %v, want ENOTFOUND", err)
	}
}

// A missing OnlyEndpointID fails the whole call and stores nothing.
func TestIngestOnlyEndpointMissing(t *testing.T) {
	t.Parallel()
	s, _ := open(t, Options{PollOnly: true})
	ok := newEvent("a", "", "", t0)
	bad := newEvent("a", "", "", t0)
	bad.OnlyEndpointID = "ep_missing"
	_, err := s.IngestEvents(context.Background(), []hookd.NewEvent{ok, bad})
	wantCode(t, err, hookd.ENOTFOUND)
	_, err = s.GetEvent(context.Background(), ok.ID)
	wantCode(t, err, hookd.ENOTFOUND)
}

func TestListEventsPages(t *testing.T) {
	t.Parallel()
	s, _ := open(t, Options{PollOnly: true})
	var evs []hookd.NewEvent
	for i := range 7 {
		evs = append(evs, newEvent("a", "", "", t0.Add(time.Duration(i)*time.Millisecond)))
	}
	ingest(t, s, evs...)
	var ids []string
	cursor := ""
	for {
		page, next, err := s.ListEvents(context.Background(), hookd.EventFilter{Page: hookd.Page{Limit: 3, Cursor: cursor}})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page {
			ids = append(ids, e.ID)
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if len(ids) != 7 {
		t.Fatalf("got %d events, want 7", len(ids))
	}
	for i := range ids {
		if want := evs[6-i].ID; ids[i] != want {
			t.Fatalf("got ids[%d] = %s, want %s (newest first)", i, ids[i], want)
		}
	}
}

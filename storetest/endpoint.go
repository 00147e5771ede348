package storetest

import (
	"sort"
	"testing"
	"time"

	"github.com/hookd/hookd"
)

func testEndpointCRUD(t *testing.T, open Opener) {
	f := setup(t, open)
	e := f.endpoint("acme", func(e *hookd.Endpoint) {
		e.Description = "orders"
		e.EventTypes = []string{"order.*", "invoice.paid"}
		e.PreviousSecrets = []hookd.PreviousSecret{{Secret: hookd.NewSecret(), ExpiresAt: t0.Add(24 * time.Hour)}}
		e.Headers = map[string]string{"X-Team": "billing"}
		e.MaxAttempts = 5
		e.RateLimitPerSecond = 2.5
		e.MaxInFlight = 3
	})
	got := f.getEndpoint(e.ID)
	wantEndpoint(t, got, e)
	wantTime(t, "CreatedAt", got.CreatedAt, t0)

	dup := *e
	wantCode(t, f.s.CreateEndpoint(f.ctx, &dup), hookd.ECONFLICT)

	// An update naming every field changes each of them.
	up := &hookd.Endpoint{
		ID:                 e.ID,
		TenantID:           "acme2",
		URL:                "https://example.org/other",
		Description:        "changed",
		EventTypes:         []string{"user.created"},
		Secret:             hookd.NewSecret(),
		PreviousSecrets:    []hookd.PreviousSecret{{Secret: hookd.NewSecret(), ExpiresAt: t0.Add(2 * time.Hour)}},
		Headers:            map[string]string{"X-New": "1", "X-Two": "2"},
		MaxAttempts:        7,
		RateLimitPerSecond: 0.5,
		MaxInFlight:        1,
		Disabled:           true,
		DisabledReason:     "by hand",
		Circuit:            hookd.Circuit{State: hookd.CircuitOpen, ConsecutiveFailures: 9, OpenUntil: t0.Add(time.Hour), Opens: 2},
		CreatedAt:          e.CreatedAt,
		UpdatedAt:          t0.Add(2 * time.Minute),
	}
	got, err := f.s.UpdateEndpointFields(f.ctx, e.ID, hookd.EndpointUpdate{
		URL: &up.URL, TenantID: &up.TenantID, Description: &up.Description, EventTypes: &up.EventTypes,
		Secret: &up.Secret, PreviousSecrets: &up.PreviousSecrets, Headers: &up.Headers,
		MaxAttempts: &up.MaxAttempts, RateLimitPerSecond: &up.RateLimitPerSecond, MaxInFlight: &up.MaxInFlight,
		Disabled: hookd.Ptr(true), DisabledReason: "by hand", Circuit: &up.Circuit, UpdatedAt: up.UpdatedAt,
	})
	if err != nil {
		t.Fatalf("UpdateEndpointFields: %v", err)
	}
	wantEndpoint(t, got, up)
	wantEndpoint(t, f.getEndpoint(e.ID), up)

	_, err = f.s.UpdateEndpointFields(f.ctx, hookd.NewID(hookd.PrefixEndpoint, t0), hookd.EndpointUpdate{Description: hookd.Ptr("x")})
	wantCode(t, err, hookd.ENOTFOUND)
	_, err = f.s.GetEndpoint(f.ctx, hookd.NewID(hookd.PrefixEndpoint, t0))
	wantCode(t, err, hookd.ENOTFOUND)

	if err := f.s.DeleteEndpoint(f.ctx, e.ID); err != nil {
		t.Fatalf("DeleteEndpoint: %v", err)
	}
	_, err = f.s.GetEndpoint(f.ctx, e.ID)
	wantCode(t, err, hookd.ENOTFOUND)
	wantCode(t, f.s.DeleteEndpoint(f.ctx, e.ID), hookd.ENOTFOUND)
}

func testListEndpoints(t *testing.T, open Opener) {
	f := setup(t, open)
	tenants := []string{"a", "b", "a", "", "a", "b", "a", "", "a"}
	byTenant := map[string][]string{}
	var all []string
	for _, tn := range tenants {
		e := f.endpoint(tn)
		byTenant[tn] = append(byTenant[tn], e.ID)
		all = append(all, e.ID)
	}
	// Lists are ordered by id descending. (Creation order is not id order
	// when other goroutines make ids for other times.)
	for _, ids := range byTenant {
		sortDesc(ids)
	}
	sortDesc(all)
	cases := []struct {
		name   string
		tenant *string
		limit  int
		want   []string
		pages  int
	}{
		{"all by 3", nil, 3, all, 3},
		{"all by 4", nil, 4, all, 3},
		{"tenant a by 2", ptr("a"), 2, byTenant["a"], 3},
		{"tenant b exact page", ptr("b"), 2, byTenant["b"], 1},
		{"empty tenant", ptr(""), 10, byTenant[""], 1},
		{"unknown tenant", ptr("zzz"), 10, nil, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			page := hookd.Page{Limit: c.limit}
			pages := 0
			for {
				es, next, err := f.s.ListEndpoints(f.ctx, c.tenant, page)
				if err != nil {
					t.Fatalf("ListEndpoints: %v", err)
				}
				pages++
				if len(es) > c.limit {
					t.Fatalf("page %d: got %d endpoints, want at most %d", pages, len(es), c.limit)
				}
				for _, e := range es {
					got = append(got, e.ID)
				}
				if next == "" {
					break
				}
				if len(es) == 0 || next != es[len(es)-1].ID {
					t.Fatalf("page %d: got cursor %q, want the last id returned", pages, next)
				}
				if pages > 20 {
					t.Fatal("pagination does not end")
				}
				page.Cursor = next
			}
			if !equalStrings(got, c.want) {
				t.Errorf("got ids %v, want %v", got, c.want)
			}
			if pages != c.pages {
				t.Errorf("got %d pages, want %d", pages, c.pages)
			}
		})
	}
	for tn, want := range map[string]int{"a": 5, "b": 2, "": 2, "zzz": 0} {
		n, err := f.s.CountEndpoints(f.ctx, tn)
		if err != nil {
			t.Fatalf("CountEndpoints: %v", err)
		}
		if n != want {
			t.Errorf("CountEndpoints(%q): got %d, want %d", tn, n, want)
		}
	}
}

// testPageLimits checks the default and maximum page sizes on events (one
// batch makes the 501 rows cheaply).
func testPageLimits(t *testing.T, open Opener) {
	f := setup(t, open)
	evs := make([]hookd.NewEvent, hookd.MaxPageLimit+1)
	for i := range evs {
		evs[i] = event("pages", "page.test", t0)
	}
	f.ingest(evs...)
	for _, c := range []struct {
		limit, want int
	}{{0, hookd.DefaultPageLimit}, {-1, hookd.DefaultPageLimit}, {10_000, hookd.MaxPageLimit}, {7, 7}} {
		got, next, err := f.s.ListEvents(f.ctx, hookd.EventFilter{TenantID: ptr("pages"), Page: hookd.Page{Limit: c.limit}})
		if err != nil {
			t.Fatalf("ListEvents: %v", err)
		}
		if len(got) != c.want || next == "" {
			t.Errorf("limit %d: got %d events and cursor %q, want %d and a cursor", c.limit, len(got), next, c.want)
		}
	}
}

func sortDesc(ids []string) { sort.Sort(sort.Reverse(sort.StringSlice(ids))) }

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd"
)

// newEndpoint returns an endpoint of tenant, not stored.
func newEndpoint(tenant string) *hookd.Endpoint {
	return &hookd.Endpoint{
		ID: hookd.NewID(hookd.PrefixEndpoint, t0), TenantID: tenant, URL: "https://example.com/hook",
		Secret: hookd.NewSecret(), Circuit: hookd.Circuit{State: hookd.CircuitClosed}, CreatedAt: t0, UpdatedAt: t0,
	}
}

// count returns the endpoints of tenant.
func (f *fixture) count(tenant string) int {
	f.t.Helper()
	n, err := f.s.CountEndpoints(f.ctx, tenant)
	if err != nil {
		f.t.Fatalf("CountEndpoints(%q): %v", tenant, err)
	}
	return n
}

// testEndpointQuota: CreateEndpointWithin and a move to another tenant
// (UpdateEndpointFields with Quota) keep the bounds and, over one, answer
// ECONFLICT and change nothing.
func testEndpointQuota(t *testing.T, open Opener) {
	f := setup(t, open)
	q := hookd.EndpointQuota{PerTenant: 2}
	for range 2 {
		if err := f.s.CreateEndpointWithin(f.ctx, newEndpoint("a"), q); err != nil {
			t.Fatalf("CreateEndpointWithin under the bound: %v", err)
		}
	}
	over := newEndpoint("a")
	wantCode(t, f.s.CreateEndpointWithin(f.ctx, over, q), hookd.ECONFLICT)
	if _, err := f.s.GetEndpoint(f.ctx, over.ID); hookd.ErrorCode(err) != hookd.ENOTFOUND {
		t.Errorf("the endpoint over the bound was stored: GetEndpoint answered %v", err)
	}
	if n := f.count("a"); n != 2 {
		t.Errorf("tenant a: %d endpoints, want 2", n)
	}

	// Moving into the full tenant is refused and changes no field; an
	// update that keeps the tenant checks nothing.
	b := f.endpoint("b")
	_, err := f.s.UpdateEndpointFields(f.ctx, b.ID, hookd.EndpointUpdate{TenantID: hookd.Ptr("a"), Description: hookd.Ptr("moved"), Quota: q})
	wantCode(t, err, hookd.ECONFLICT)
	if got := f.getEndpoint(b.ID); got.TenantID != "b" || got.Description != "" {
		t.Errorf("a refused move changed the endpoint: tenant %q description %q", got.TenantID, got.Description)
	}
	if _, err := f.s.UpdateEndpointFields(f.ctx, b.ID, hookd.EndpointUpdate{TenantID: hookd.Ptr("b"), Description: hookd.Ptr("same tenant"), Quota: hookd.EndpointQuota{PerTenant: 1}}); err != nil {
		t.Errorf("update keeping a full tenant: %v", err)
	}
	if _, err := f.s.UpdateEndpointFields(f.ctx, b.ID, hookd.EndpointUpdate{TenantID: hookd.Ptr("c"), Quota: q}); err != nil {
		t.Errorf("move into a tenant with room: %v", err)
	}

	// The server-wide bound counts every endpoint (3 now: two of a, one of c).
	wantCode(t, f.s.CreateEndpointWithin(f.ctx, newEndpoint("d"), hookd.EndpointQuota{Total: 3}), hookd.ECONFLICT)
	if err := f.s.CreateEndpointWithin(f.ctx, newEndpoint("d"), hookd.EndpointQuota{Total: 4}); err != nil {
		t.Errorf("CreateEndpointWithin under the total: %v", err)
	}
	// No bound: CreateEndpoint as always.
	if err := f.s.CreateEndpointWithin(f.ctx, newEndpoint("a"), hookd.EndpointQuota{}); err != nil {
		t.Errorf("CreateEndpointWithin without a bound: %v", err)
	}
}

// testEndpointQuotaRace races creations and moves into one tenant, and
// creations against the server-wide bound: exactly the room there was is
// taken, every other call is ECONFLICT, and no bound is overshot.
func testEndpointQuotaRace(t *testing.T, open Opener) {
	f := setup(t, open)
	const perTenant, racers = 3, 12
	f.endpoint("full") // one already there: room for two
	movers := make([]*hookd.Endpoint, racers)
	for i := range movers {
		movers[i] = f.endpoint(fmt.Sprintf("from-%d", i))
	}
	q := hookd.EndpointQuota{PerTenant: perTenant}
	var wg sync.WaitGroup
	errs := make(chan error, 2*racers)
	for i := range racers {
		wg.Add(2)
		go func() {
			defer wg.Done()
			errs <- f.s.CreateEndpointWithin(f.ctx, newEndpoint("full"), q)
		}()
		go func() {
			defer wg.Done()
			_, err := f.s.UpdateEndpointFields(f.ctx, movers[i].ID, hookd.EndpointUpdate{
				TenantID: hookd.Ptr("full"), UpdatedAt: t0.Add(time.Second), Quota: q})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	ok := 0
	for err := range errs {
		switch hookd.ErrorCode(err) {
		case "":
			ok++
		case hookd.ECONFLICT:
		default:
			t.Fatalf("racing creation or move: %v", err)
		}
	}
	if n := f.count("full"); n != perTenant || ok != perTenant-1 {
		t.Errorf("tenant bound %d: %d calls succeeded and the tenant has %d endpoints, want %d and %d",
			perTenant, ok, n, perTenant-1, perTenant)
	}

	// The server-wide bound: 1 + 12 endpoints (+2 moved or created) exist;
	// racing creations in distinct tenants fill it exactly.
	total, err := f.s.CountAllEndpoints(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	bound := hookd.EndpointQuota{Total: total + 3, PerTenant: perTenant}
	errs = make(chan error, racers)
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- f.s.CreateEndpointWithin(f.ctx, newEndpoint(fmt.Sprintf("new-%d", i)), bound)
		}()
	}
	wg.Wait()
	close(errs)
	ok = 0
	for err := range errs {
		switch hookd.ErrorCode(err) {
		case "":
			ok++
		case hookd.ECONFLICT:
		default:
			t.Fatalf("racing creation: %v", err)
		}
	}
	after, err := f.s.CountAllEndpoints(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ok != 3 || after != bound.Total {
		t.Errorf("total bound %d: %d creations succeeded and %d endpoints exist, want 3 and %d", bound.Total, ok, after, bound.Total)
	}
}

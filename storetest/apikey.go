package storetest

import (
	"crypto/sha256"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd"
)

// apiKey returns a key (not stored) of tenant ("" with admin) with secret.
func apiKey(secret, tenant string, admin bool) *hookd.APIKey {
	return &hookd.APIKey{
		ID:        hookd.NewID(hookd.PrefixAPIKey, t0),
		Kind:      hookd.KindKey,
		Name:      "key " + secret,
		Admin:     admin,
		TenantID:  tenant,
		Hash:      sha256.Sum256([]byte(secret)),
		Hint:      secret[:4],
		CreatedAt: ut(t0),
	}
}

func testAPIKeys(t *testing.T, open Opener) {
	f := setup(t, open)
	rate := 2.5
	admin := apiKey("admin-secret", "", true)
	tenant := apiKey("tenant-secret", "acme", false)
	tenant.RateLimitPerSecond = &rate
	session := apiKey("session-secret", "acme", false)
	session.Kind, session.ParentID, session.Nonce = hookd.KindSession, tenant.ID, "nonce-1"
	session.ExpiresAt = ut(t0.Add(time.Hour))
	for _, k := range []*hookd.APIKey{admin, tenant, session} {
		if err := f.s.CreateAPIKey(f.ctx, k); err != nil {
			t.Fatalf("CreateAPIKey %s: %v", k.Name, err)
		}
	}
	for _, k := range []*hookd.APIKey{admin, tenant, session} {
		got, err := f.s.APIKeyByHash(f.ctx, k.Hash)
		if err != nil {
			t.Fatalf("APIKeyByHash %s: %v", k.Name, err)
		}
		if !reflect.DeepEqual(got, k) {
			t.Errorf("APIKeyByHash %s:\n got %+v\nwant %+v", k.Name, got, k)
		}
		if got, err = f.s.GetAPIKey(f.ctx, k.ID); err != nil || !reflect.DeepEqual(got, k) {
			t.Errorf("GetAPIKey %s: got %+v, %v; want %+v", k.Name, got, err, k)
		}
	}
	_, err := f.s.APIKeyByHash(f.ctx, sha256.Sum256([]byte("nope")))
	wantCode(t, err, hookd.ENOTFOUND)
	_, err = f.s.GetAPIKey(f.ctx, "key_missing")
	wantCode(t, err, hookd.ENOTFOUND)

	// A second session from the same portal link (nonce) is refused, as is
	// a reused hash.
	again := apiKey("session-secret-2", "acme", false)
	again.Kind, again.Nonce = hookd.KindSession, "nonce-1"
	wantCode(t, f.s.CreateAPIKey(f.ctx, again), hookd.ECONFLICT)
	dup := apiKey("admin-secret", "", true)
	wantCode(t, f.s.CreateAPIKey(f.ctx, dup), hookd.ECONFLICT)

	acme := "acme"
	ids := func(fl hookd.APIKeyFilter) []string {
		t.Helper()
		ks, _, err := f.s.ListAPIKeys(f.ctx, fl)
		if err != nil {
			t.Fatalf("ListAPIKeys: %v", err)
		}
		var out []string
		for _, k := range ks {
			out = append(out, k.ID)
		}
		return out
	}
	now := ut(t0)
	if got, want := ids(hookd.APIKeyFilter{Now: now}), []string{session.ID, tenant.ID, admin.ID}; !reflect.DeepEqual(got, want) {
		t.Errorf("list all: got %v, want %v", got, want)
	}
	if got, want := ids(hookd.APIKeyFilter{Now: now, TenantID: &acme, Kind: hookd.KindKey}), []string{tenant.ID}; !reflect.DeepEqual(got, want) {
		t.Errorf("list acme keys: got %v, want %v", got, want)
	}
	if got, want := ids(hookd.APIKeyFilter{Now: now, Page: hookd.Page{Limit: 2}}), []string{session.ID, tenant.ID}; !reflect.DeepEqual(got, want) {
		t.Errorf("list page: got %v, want %v", got, want)
	}
	if got, want := ids(hookd.APIKeyFilter{Now: now.Add(2 * time.Hour)}), []string{tenant.ID, admin.ID}; !reflect.DeepEqual(got, want) {
		t.Errorf("list after the session expired: got %v, want %v", got, want)
	}

	// Touch: at most once a minute, never backwards.
	touch := func(at time.Time, want time.Time) {
		t.Helper()
		if err := f.s.TouchAPIKey(f.ctx, tenant.ID, at); err != nil {
			t.Fatalf("TouchAPIKey: %v", err)
		}
		k, err := f.s.GetAPIKey(f.ctx, tenant.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !k.LastUsedAt.Equal(ut(want)) {
			t.Errorf("after touch at %v: got last used %v, want %v", at, k.LastUsedAt, ut(want))
		}
	}
	touch(t0, t0)
	touch(t0.Add(30*time.Second), t0)
	touch(t0.Add(61*time.Second), t0.Add(61*time.Second))
	touch(t0, t0.Add(61*time.Second))

	// Revoking the key revokes its session too; a second revoke is ENOTFOUND.
	if err := f.s.RevokeAPIKey(f.ctx, tenant.ID, t0.Add(time.Minute)); err != nil {
		t.Fatalf("RevokeAPIKey: %v", err)
	}
	wantCode(t, f.s.RevokeAPIKey(f.ctx, tenant.ID, t0.Add(time.Minute)), hookd.ENOTFOUND)
	wantCode(t, f.s.RevokeAPIKey(f.ctx, "key_missing", t0), hookd.ENOTFOUND)
	for _, k := range []*hookd.APIKey{tenant, session} {
		got, err := f.s.APIKeyByHash(f.ctx, k.Hash)
		if err != nil {
			t.Fatal(err)
		}
		if !got.RevokedAt.Equal(ut(t0.Add(time.Minute))) || got.Live(t0.Add(time.Minute)) {
			t.Errorf("%s: got revoked at %v, want %v", k.Name, got.RevokedAt, ut(t0.Add(time.Minute)))
		}
	}
	if got, want := ids(hookd.APIKeyFilter{Now: now}), []string{admin.ID}; !reflect.DeepEqual(got, want) {
		t.Errorf("list after revoke: got %v, want %v", got, want)
	}
}

func testTakeTokens(t *testing.T, open Opener) {
	f := setup(t, open)
	take := func(at time.Duration, need, want float64) hookd.TokenGrant {
		t.Helper()
		g, err := f.s.TakeTokens(f.ctx, hookd.TokenRequest{Bucket: "key_a", Rate: 10, Burst: 10,
			Need: need, Want: want, Now: ut(t0).Add(at)})
		if err != nil {
			t.Fatalf("TakeTokens: %v", err)
		}
		return g
	}
	steps := []struct {
		at              time.Duration
		need, want      float64
		granted, remain float64
	}{
		{0, 1, 4, 4, 6},                       // a new bucket is full
		{0, 1, 4, 4, 2},                       // no refill at the same time
		{0, 1, 4, 2, 0},                       // wants more than it holds: what is left
		{0, 1, 4, 0, 0},                       // empty
		{50 * time.Millisecond, 1, 1, 0, 0.5}, // half a token is not one
		{100 * time.Millisecond, 5, 5, 5, -4}, // need is granted into debt
		{200 * time.Millisecond, 1, 1, 0, -3}, // the debt is repaid first
		{time.Hour, 1, 1, 1, 9},               // refill stops at the burst
	}
	for i, s := range steps {
		g := take(s.at, s.need, s.want)
		if !near(g.Granted, s.granted) || !near(g.Remaining, s.remain) {
			t.Errorf("step %d: got %+v, want granted %v remaining %v", i, g, s.granted, s.remain)
		}
	}

	// Concurrent takers never get more than the bucket holds.
	var mu sync.Mutex
	var total float64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 5 {
				g, err := f.s.TakeTokens(f.ctx, hookd.TokenRequest{Bucket: "key_b", Rate: 0.001, Burst: 20,
					Need: 1, Want: 1, Now: t0})
				if err != nil {
					t.Errorf("TakeTokens: %v", err)
					return
				}
				mu.Lock()
				total += g.Granted
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if !near(total, 20) {
		t.Errorf("8 concurrent takers of a 20-token bucket got %v tokens, want 20", total)
	}
}

func near(a, b float64) bool { return a-b < 1e-6 && b-a < 1e-6 }

func testCountAllEndpoints(t *testing.T, open Opener) {
	f := setup(t, open)
	f.endpoint("a")
	f.endpoint("b")
	f.endpoint("")
	n, err := f.s.CountAllEndpoints(f.ctx)
	if err != nil || n != 3 {
		t.Errorf("CountAllEndpoints: got %d, %v; want 3", n, err)
	}
}

// testTenantFilters checks DeliveryFilter.TenantID and ReplayFilter.TenantID:
// the deliveries of one tenant's endpoints only.
func testTenantFilters(t *testing.T, open Opener) {
	f := setup(t, open)
	epA := f.endpoint("a")
	epB := f.endpoint("b")
	f.ingest(event("a", "x", t0), event("b", "x", t0))
	a, b, none := "a", "b", "c"
	for _, c := range []struct {
		tenant *string
		want   []string
	}{{&a, []string{epA.ID}}, {&b, []string{epB.ID}}, {&none, nil}} {
		var got []string
		for _, d := range f.deliveries(hookd.DeliveryFilter{TenantID: c.tenant}) {
			got = append(got, d.EndpointID)
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("deliveries of tenant %s: got endpoints %v, want %v", *c.tenant, got, c.want)
		}
	}
	f.kill(epA.ID, t0)
	f.kill(epB.ID, t0)
	n, err := f.s.ReplayDead(f.ctx, hookd.ReplayFilter{TenantID: &b}, t0.Add(time.Minute))
	if err != nil || n != 1 {
		t.Fatalf("ReplayDead of tenant b: got %d, %v; want 1", n, err)
	}
	if ds := f.deliveries(hookd.DeliveryFilter{Status: hookd.StatusDead}); len(ds) != 1 || ds[0].EndpointID != epA.ID {
		t.Errorf("after replaying tenant b: got dead %v, want only tenant a's", ds)
	}
}

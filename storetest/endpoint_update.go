package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd"
)

// testEndpointUpdateFields: an update writes only the fields it names and
// the store resolves rotations against what it holds.
func testEndpointUpdateFields(t *testing.T, open Opener) {
	f := setup(t, open)
	e := f.endpoint("acme", func(e *hookd.Endpoint) {
		e.Description = "orders"
		e.EventTypes = []string{"order.*"}
		e.Headers = map[string]string{"X-Team": "billing"}
		e.MaxAttempts = 5
	})
	want := *e

	// One field: the others stay.
	got, err := f.s.UpdateEndpointFields(f.ctx, e.ID, hookd.EndpointUpdate{Description: hookd.Ptr("invoices"), UpdatedAt: t0.Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	want.Description, want.UpdatedAt = "invoices", t0.Add(time.Minute)
	wantEndpoint(t, got, &want)

	// Empty lists and maps clear the field.
	got, err = f.s.UpdateEndpointFields(f.ctx, e.ID, hookd.EndpointUpdate{EventTypes: &[]string{}, Headers: &map[string]string{}})
	if err != nil {
		t.Fatal(err)
	}
	want.EventTypes, want.Headers = nil, nil
	wantEndpoint(t, got, &want)

	// Disabling keeps the first reason; enabling clears it.
	for _, reason := range []string{"first", "second"} {
		if got, err = f.s.UpdateEndpointFields(f.ctx, e.ID, hookd.EndpointUpdate{Disabled: hookd.Ptr(true), DisabledReason: reason}); err != nil {
			t.Fatal(err)
		}
	}
	if !got.Disabled || got.DisabledReason != "first" {
		t.Errorf("disabled twice: got %v %q, want true %q", got.Disabled, got.DisabledReason, "first")
	}
	if got, err = f.s.UpdateEndpointFields(f.ctx, e.ID, hookd.EndpointUpdate{Disabled: hookd.Ptr(false)}); err != nil {
		t.Fatal(err)
	}
	if got.Disabled || got.DisabledReason != "" {
		t.Errorf("enabled: got %v %q, want false \"\"", got.Disabled, got.DisabledReason)
	}

	// An empty update changes nothing and answers the endpoint.
	if got, err = f.s.UpdateEndpointFields(f.ctx, e.ID, hookd.EndpointUpdate{}); err != nil {
		t.Fatal(err)
	}
	wantEndpoint(t, got, &want)

	// Rotation: the replaced secret keeps signing until At+Grace, expired
	// ones go, at most Keep stay.
	old := e.Secret
	s1, s2, s3 := hookd.NewSecret(), hookd.NewSecret(), hookd.NewSecret()
	rotate := func(secret string, at time.Time, keep int) (*hookd.Endpoint, error) {
		return f.s.UpdateEndpointFields(f.ctx, e.ID, hookd.EndpointUpdate{
			Rotate: &hookd.SecretRotation{Secret: secret, At: at, Grace: time.Hour, Keep: keep}, UpdatedAt: at})
	}
	if got, err = rotate(s1, t0, 10); err != nil {
		t.Fatal(err)
	}
	if got.Secret != s1 || len(got.PreviousSecrets) != 1 || got.PreviousSecrets[0].Secret != old {
		t.Fatalf("after a rotation: got secret %q previous %v", got.Secret, got.PreviousSecrets)
	}
	wantTime(t, "previous ExpiresAt", got.PreviousSecrets[0].ExpiresAt, t0.Add(time.Hour))
	_, err = rotate(s1, t0, 10)
	wantCode(t, err, hookd.EINVALID)
	if got = f.getEndpoint(e.ID); got.Secret != s1 || len(got.PreviousSecrets) != 1 {
		t.Errorf("a refused rotation changed the endpoint: %q %v", got.Secret, got.PreviousSecrets)
	}
	if got, err = rotate(s2, t0.Add(30*time.Minute), 10); err != nil {
		t.Fatal(err)
	}
	if got.Secret != s2 || len(got.PreviousSecrets) != 2 {
		t.Fatalf("second rotation: got %q %v", got.Secret, got.PreviousSecrets)
	}
	// At t0+2h old (expired at t0+1h) is dropped; Keep 1 leaves only s2.
	if got, err = rotate(s3, t0.Add(2*time.Hour), 1); err != nil {
		t.Fatal(err)
	}
	if got.Secret != s3 || len(got.PreviousSecrets) != 1 || got.PreviousSecrets[0].Secret != s2 {
		t.Fatalf("third rotation: got %q %v, want previous [%s]", got.Secret, got.PreviousSecrets, s2)
	}
}

// testEndpointUpdateRace races field updates (as PATCH makes them),
// rotations and the dispatcher's completions (410-disable, circuit) on one
// endpoint: no writer may undo another's change.
func testEndpointUpdateRace(t *testing.T, open Opener) {
	f := setup(t, open)
	e := f.endpoint("race")
	const n = 8
	evs := make([]hookd.NewEvent, n)
	for i := range evs {
		evs[i] = event("race", "order.created", t0)
	}
	f.ingest(evs...)
	cs := f.claim(hookd.ClaimRequest{Owner: "w", Now: t0, Lease: time.Hour, Limit: n})
	if len(cs) != n {
		t.Fatalf("got %d claims, want %d", len(cs), n)
	}
	policy := hookd.CircuitPolicy{} // threshold 0: every failure counts, the circuit stays closed

	secrets := make([]string, n)
	var wg sync.WaitGroup
	errs := make(chan error, 3*n)
	for i := range n {
		secrets[i] = hookd.NewSecret()
		wg.Add(3)
		go func() { // a PATCH of description and url
			defer wg.Done()
			_, err := f.s.UpdateEndpointFields(f.ctx, e.ID, hookd.EndpointUpdate{
				Description: hookd.Ptr(fmt.Sprintf("patch %d", i)),
				URL:         hookd.Ptr(fmt.Sprintf("https://example.com/hook/%d", i)),
				UpdatedAt:   t0.Add(time.Second),
			})
			errs <- err
		}()
		go func() { // a rotation
			defer wg.Done()
			_, err := f.s.UpdateEndpointFields(f.ctx, e.ID, hookd.EndpointUpdate{
				Rotate:    &hookd.SecretRotation{Secret: secrets[i], At: t0, Grace: 24 * time.Hour},
				UpdatedAt: t0.Add(time.Second),
			})
			errs <- err
		}()
		go func() { // a completion: the first delivery answered 410, the others 500
			defer wg.Done()
			c := hookd.Completion{Owner: "w", Outcome: hookd.OutcomeRetry, NextAttemptAt: t0.Add(time.Hour),
				Attempt: attempt(cs[i].Delivery.ID, 1, t0, 500)}
			if i == 0 {
				c.Outcome, c.Attempt.StatusCode, c.DisableReason = hookd.OutcomeGone, 410, "endpoint answered 410 Gone"
			}
			errs <- f.s.CompleteAttempts(f.ctx, []hookd.Completion{c}, policy)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got := f.getEndpoint(e.ID)
	if !got.Disabled || got.DisabledReason != "endpoint answered 410 Gone" {
		t.Errorf("the 410-disable was undone: got disabled=%v reason=%q", got.Disabled, got.DisabledReason)
	}
	if got.Circuit.ConsecutiveFailures != n {
		t.Errorf("circuit: got %d consecutive failures, want %d (a write undid a completion's)", got.Circuit.ConsecutiveFailures, n)
	}
	all := []string{got.Secret}
	for _, p := range got.PreviousSecrets {
		all = append(all, p.Secret)
	}
	for _, s := range append([]string{e.Secret}, secrets...) {
		if !slices.Contains(all, s) {
			t.Errorf("a secret was lost: %s not among current and previous (%d of %d kept)", s, len(all), n+1)
		}
	}
	if len(all) != n+1 {
		t.Errorf("got %d secrets, want %d", len(all), n+1)
	}
	var i int
	if _, err := fmt.Sscanf(got.Description, "patch %d", &i); err != nil || got.URL != fmt.Sprintf("https://example.com/hook/%d", i) {
		t.Errorf("description %q and url %q are not from the same update", got.Description, got.URL)
	}
}

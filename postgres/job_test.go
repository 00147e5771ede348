package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/hookd/hookd"
)

func TestAcquireJobLease(t *testing.T) {
	t.Parallel()
	s, _ := open(t, Options{PollOnly: true})
	ctx := context.Background()
	steps := []struct {
		owner string
		at    time.Duration
		want  bool
	}{
		{"a", 0, true},
		{"b", time.Second, false},
		{"a", 20 * time.Second, true},  // renews until 50 s
		{"b", 40 * time.Second, false}, // still a's
		{"b", 50 * time.Second, true},  // a died: taken over at expiry
		{"a", 60 * time.Second, false},
	}
	for i, st := range steps {
		got, err := s.AcquireJobLease(ctx, "retention", st.owner, t0.Add(st.at), 30*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if got != st.want {
			t.Fatalf("step %d: %s at %v got %v, want %v", i, st.owner, st.at, got, st.want)
		}
	}
	if ok, err := s.AcquireJobLease(ctx, "alerts", "a", t0, time.Second); !ok || err != nil {
		t.Fatalf("other job: got %v %v, want true", ok, err)
	}
}

func TestSettings(t *testing.T) {
	t.Parallel()
	s, _ := open(t, Options{PollOnly: true})
	ctx := context.Background()
	_, err := s.Setting(ctx, "k")
	wantCode(t, err, hookd.ENOTFOUND)
	for i, want := range []bool{true, false} {
		got, err := s.PutSettingIfAbsent(ctx, "k", "v"+string(rune('1'+i)))
		if err != nil || got != want {
			t.Fatalf("put #%d: got %v %v, want %v", i, got, err, want)
		}
	}
	if v, err := s.Setting(ctx, "k"); v != "v1" || err != nil {
		t.Fatalf("got %q %v, want v1", v, err)
	}
}

func TestEndpointCRUD(t *testing.T) {
	t.Parallel()
	s, _ := open(t, Options{PollOnly: true})
	ctx := context.Background()
	e := newEndpoint(t, s, func(e *hookd.Endpoint) {
		e.TenantID = "t1"
		e.EventTypes = []string{"a.*"}
		e.Headers = map[string]string{"X-A": "1"}
		e.PreviousSecrets = []hookd.PreviousSecret{{Secret: hookd.NewSecret(), ExpiresAt: t0}}
		e.RateLimitPerSecond = 2.5
	})
	got, err := s.GetEndpoint(ctx, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := *e
	want.CreatedAt, want.UpdatedAt = t0.Truncate(time.Microsecond), t0.Truncate(time.Microsecond)
	want.PreviousSecrets = []hookd.PreviousSecret{{Secret: e.PreviousSecrets[0].Secret, ExpiresAt: want.CreatedAt}}
	want.Circuit.State = hookd.CircuitClosed
	if got.URL != want.URL || got.Headers["X-A"] != "1" || got.EventTypes[0] != "a.*" ||
		got.PreviousSecrets[0] != want.PreviousSecrets[0] || got.CreatedAt != want.CreatedAt ||
		got.RateLimitPerSecond != 2.5 || got.Circuit != want.Circuit {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	if err := s.CreateEndpoint(ctx, e); hookd.ErrorCode(err) != hookd.ECONFLICT {
		t.Fatalf("create twice: got %v, want ECONFLICT", err)
	}
	if _, err := s.UpdateEndpointFields(ctx, e.ID, hookd.EndpointUpdate{URL: hookd.Ptr("https://example.org/"), Disabled: hookd.Ptr(true)}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.CountEndpoints(ctx, "t1"); n != 1 || err != nil {
		t.Fatalf("count: got %d %v, want 1", n, err)
	}
	if err := s.DeleteEndpoint(ctx, e.ID); err != nil {
		t.Fatal(err)
	}
	wantCode(t, s.DeleteEndpoint(ctx, e.ID), hookd.ENOTFOUND)
	_, err = s.UpdateEndpointFields(ctx, e.ID, hookd.EndpointUpdate{Disabled: hookd.Ptr(true)})
	wantCode(t, err, hookd.ENOTFOUND)
	_, err = s.GetEndpoint(ctx, e.ID)
	wantCode(t, err, hookd.ENOTFOUND)
}

package webhook_test

import (
	"context"
	"testing"
	"time"

	"github.com/hookd/hookd/webhook"
	"github.com/hookd/hookd/webhook/storetest"
)

func TestMemoryStoreConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) webhook.Store {
		return webhook.NewMemoryStore(webhook.MemoryOptions{})
	})
}

// fakeClock is a settable clock for the MemoryStore.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func TestMemoryStoreEvictsOldestDone(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := &fakeClock{t: time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)}
	s := webhook.NewMemoryStore(webhook.MemoryOptions{MaxEntries: 3, Now: clock.now})
	for _, k := range []string{"a", "b", "c"} {
		if err := s.Complete(ctx, k, time.Hour); err != nil {
			t.Fatal(err)
		}
		clock.t = clock.t.Add(time.Second)
	}
	// A fourth key evicts the oldest done entry, "a".
	if c, _ := s.Claim(ctx, "d", time.Minute); c.State != webhook.Claimed {
		t.Fatalf("claim d: got %v, want claimed", c.State)
	}
	if got := s.Len(); got != 3 {
		t.Errorf("got %d entries, want 3", got)
	}
	tests := []struct {
		key  string
		want webhook.ClaimState
	}{
		{"b", webhook.Done},
		{"c", webhook.Done},
		{"d", webhook.Processing},
	}
	for _, tt := range tests {
		if c, _ := s.Claim(ctx, tt.key, time.Minute); c.State != tt.want {
			t.Errorf("claim %s: got %v, want %v", tt.key, c.State, tt.want)
		}
	}
	// "a" was forgotten: claiming it evicts "b" (the oldest done entry).
	if c, _ := s.Claim(ctx, "a", time.Minute); c.State != webhook.Claimed {
		t.Errorf("claim a: got %v, want claimed (evicted)", c.State)
	}
}

func TestMemoryStoreNeverEvictsProcessing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := webhook.NewMemoryStore(webhook.MemoryOptions{MaxEntries: 2})
	for _, k := range []string{"a", "b", "c"} {
		if c, _ := s.Claim(ctx, k, time.Minute); c.State != webhook.Claimed {
			t.Fatalf("claim %s: got %v, want claimed", k, c.State)
		}
	}
	for _, k := range []string{"a", "b", "c"} {
		if c, _ := s.Claim(ctx, k, time.Minute); c.State != webhook.Processing {
			t.Errorf("claim %s again: got %v, want processing", k, c.State)
		}
	}
}

func TestMemoryStoreExpiryWithClock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := &fakeClock{t: time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)}
	s := webhook.NewMemoryStore(webhook.MemoryOptions{Now: clock.now})
	if err := s.Complete(ctx, "k", webhook.DefaultDoneTTL); err != nil {
		t.Fatal(err)
	}
	clock.t = clock.t.Add(webhook.DefaultDoneTTL - time.Second)
	if c, _ := s.Claim(ctx, "k", time.Minute); c.State != webhook.Done {
		t.Errorf("before the TTL: got %v, want done", c.State)
	}
	clock.t = clock.t.Add(time.Second)
	if c, _ := s.Claim(ctx, "k", time.Minute); c.State != webhook.Claimed {
		t.Errorf("at the TTL: got %v, want claimed", c.State)
	}
}

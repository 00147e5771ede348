package testenv

import (
	"context"
	"testing"
	"time"

	"github.com/hookd/hookd"
)

// CheckLifecycle checks the hookd.Service contract on parts made by newPart:
// Stop before Start returns nil and the part then refuses to start; Start
// works once; a second Start fails; Stop returns nil, and again nil when
// called twice; Start after Stop fails.
func CheckLifecycle(t *testing.T, newPart func(t *testing.T) hookd.Service) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	never := newPart(t)
	if err := never.Stop(ctx); err != nil {
		t.Errorf("stop before start: got %v, want nil", err)
	}
	if err := never.Stop(ctx); err != nil {
		t.Errorf("second stop before start: got %v, want nil", err)
	}
	if err := never.Start(ctx); err == nil {
		t.Error("start after stop: got nil, want an error")
		never.Stop(ctx)
	}

	p := newPart(t)
	if err := p.Start(ctx); err != nil {
		t.Fatalf("start: %v", err)
	}
	if err := p.Start(ctx); err == nil {
		t.Error("second start: got nil, want an error")
	}
	if err := p.Stop(ctx); err != nil {
		t.Errorf("stop: got %v, want nil", err)
	}
	if err := p.Stop(ctx); err != nil {
		t.Errorf("second stop: got %v, want nil", err)
	}
	if err := p.Start(ctx); err == nil {
		t.Error("start after stop: got nil, want an error")
	}
}

package ops

import (
	"context"
	"fmt"
	"time"

	"github.com/hookd/hookd"
)

// EndpointStore is what SyncEndpoint needs of the store.
type EndpointStore interface {
	GetEndpoint(ctx context.Context, id string) (*hookd.Endpoint, error)
	CreateEndpoint(ctx context.Context, e *hookd.Endpoint) error
	UpdateEndpointFields(ctx context.Context, id string, u hookd.EndpointUpdate) (*hookd.Endpoint, error)
}

// MaxAttempts is the max attempts of the ops endpoint: with the default
// backoff (capped at 1 h) an operational event is retried for about four
// days. Past that it is a dead letter of the system tenant, replayed
// automatically at the ops receiver's next success (auto-replay).
const MaxAttempts = 100

// disabledReason is set on the ops endpoint while --ops-url is unset.
const disabledReason = "--ops-url is not set"

// SyncEndpoint makes the system tenant's endpoint match the flags at start:
// created with url and secret when missing, updated when they changed,
// enabled again (its pending deliveries resume) when url is set, disabled
// (its pending deliveries wait) when url is "". Nodes sharing a database
// must run with the same --ops-url and --ops-secret; the last to start wins.
func SyncEndpoint(ctx context.Context, store EndpointStore, url, secret string, now time.Time) error {
	e, err := store.GetEndpoint(ctx, hookd.OpsEndpointID)
	switch {
	case hookd.ErrorCode(err) == hookd.ENOTFOUND:
		if url == "" {
			return nil
		}
		e = &hookd.Endpoint{
			ID: hookd.OpsEndpointID, TenantID: hookd.SystemTenant, URL: url, Secret: secret,
			Description: "hookd operational events (--ops-url)", MaxAttempts: MaxAttempts,
			Circuit: hookd.Circuit{State: hookd.CircuitClosed}, CreatedAt: now, UpdatedAt: now,
		}
		err := store.CreateEndpoint(ctx, e)
		if hookd.ErrorCode(err) == hookd.ECONFLICT { // another node created it meanwhile
			return SyncEndpoint(ctx, store, url, secret, now)
		}
		if err != nil {
			return fmt.Errorf("create ops endpoint: %w", err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("load ops endpoint: %w", err)
	}
	var u hookd.EndpointUpdate
	changed := false
	if url == "" {
		if !e.Disabled {
			disabled := true
			u.Disabled, u.DisabledReason, changed = &disabled, disabledReason, true
		}
	} else {
		if e.URL != url {
			u.URL, changed = &url, true
		}
		if e.Secret != secret {
			u.Secret, changed = &secret, true
		}
		if e.Disabled {
			enabled := false
			u.Disabled, changed = &enabled, true
		}
		if e.MaxAttempts != MaxAttempts {
			n := MaxAttempts
			u.MaxAttempts, changed = &n, true
		}
		if len(e.EventTypes) > 0 {
			var all []string
			u.EventTypes, changed = &all, true
		}
	}
	if !changed {
		return nil
	}
	u.UpdatedAt = now
	if _, err := store.UpdateEndpointFields(ctx, hookd.OpsEndpointID, u); err != nil {
		return fmt.Errorf("update ops endpoint: %w", err)
	}
	return nil
}

package ui

import (
	"context"
	"time"

	"github.com/hookd/hookd"
)

// Store is what the dashboard reads from the store (hookd.Store holds the
// full contract); every change goes through the API (Config.API).
type Store interface {
	GetEndpoint(ctx context.Context, id string) (*hookd.Endpoint, error)
	ListEndpoints(ctx context.Context, tenantID *string, page hookd.Page) ([]*hookd.Endpoint, string, error)
	GetEvent(ctx context.Context, id string) (*hookd.Event, error)
	GetDelivery(ctx context.Context, id string) (*hookd.Delivery, error)
	ListDeliveries(ctx context.Context, f hookd.DeliveryFilter) ([]*hookd.Delivery, string, error)
	ListAttempts(ctx context.Context, deliveryID string, page hookd.Page) ([]*hookd.Attempt, string, error)
	// RevokeAPIKey ends a session at sign-out.
	RevokeAPIKey(ctx context.Context, id string, now time.Time) error
	// Setting and PutSettingIfAbsent keep the key of CSRF tokens.
	Setting(ctx context.Context, key string) (string, error)
	PutSettingIfAbsent(ctx context.Context, key, value string) (bool, error)
}

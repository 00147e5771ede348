package api

import (
	"context"
	"time"

	"github.com/hookd/hookd"
)

// Store is the part of hookd.Store the API calls: the resources it serves
// and the requeues it starts. Both backends implement it; its behaviour is
// the hookd.Store contract.
type Store interface {
	CreateEndpointWithin(ctx context.Context, e *hookd.Endpoint, q hookd.EndpointQuota) error
	GetEndpoint(ctx context.Context, id string) (*hookd.Endpoint, error)
	ListEndpoints(ctx context.Context, tenantID *string, page hookd.Page) ([]*hookd.Endpoint, string, error)
	CountEndpoints(ctx context.Context, tenantID string) (int, error)
	UpdateEndpointFields(ctx context.Context, id string, u hookd.EndpointUpdate) (*hookd.Endpoint, error)
	DeleteEndpoint(ctx context.Context, id string) error

	IngestEvents(ctx context.Context, events []hookd.NewEvent) ([]hookd.IngestResult, error)
	GetEvent(ctx context.Context, id string) (*hookd.Event, error)
	ListEvents(ctx context.Context, f hookd.EventFilter) ([]*hookd.Event, string, error)

	GetDelivery(ctx context.Context, id string) (*hookd.Delivery, error)
	ListDeliveries(ctx context.Context, f hookd.DeliveryFilter) ([]*hookd.Delivery, string, error)
	ListAttempts(ctx context.Context, deliveryID string, page hookd.Page) ([]*hookd.Attempt, string, error)
	RetryDelivery(ctx context.Context, id string, now time.Time) (*hookd.Delivery, error)
	ReplayDead(ctx context.Context, f hookd.ReplayFilter, now time.Time) (int, error)

	// API keys and sessions (auth.Keys and auth.Portal use these too).
	CreateAPIKey(ctx context.Context, k *hookd.APIKey) error
	APIKeyByHash(ctx context.Context, hash [32]byte) (*hookd.APIKey, error)
	ListAPIKeys(ctx context.Context, f hookd.APIKeyFilter) ([]*hookd.APIKey, string, error)
	RevokeAPIKey(ctx context.Context, id string, now time.Time) error
	TouchAPIKey(ctx context.Context, id string, at time.Time) error

	ReadStats(ctx context.Context, q hookd.StatsQuery) (*hookd.Stats, error)

	Ping(ctx context.Context) error
}

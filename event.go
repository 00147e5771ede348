package hookd

import (
	"encoding/json"
	"time"
)

// Event is what a producer sent: stored once, delivered to every subscribed endpoint.
type Event struct {
	ID       string // "evt_…", time-sortable
	TenantID string
	Type     string
	// Payload is the producer's JSON exactly as received, byte for byte.
	Payload        json.RawMessage
	IdempotencyKey string // unique per tenant while the event is retained; may be empty
	CreatedAt      time.Time
}

// NewEvent is one event to ingest. The caller (package api) validates it and
// fills ID and CreatedAt before it reaches the store.
type NewEvent struct {
	Event
	// OnlyEndpointID, when set, fans the event out to that endpoint alone,
	// whatever its filter or tenant says (used by POST /v1/endpoints/{id}/test).
	OnlyEndpointID string
}

// IngestResult is the outcome of ingesting one NewEvent.
type IngestResult struct {
	// Event is the stored event: the new one, or the original one when the
	// idempotency key was already used (Duplicate is then true).
	Event      Event
	Duplicate  bool
	Deliveries int // deliveries created by this ingest (0 for a duplicate)
}

// EventFilter selects events in ListEvents. Empty fields do not filter.
type EventFilter struct {
	Type     string
	TenantID *string // nil: any tenant; non-nil: exactly this tenant ("" included)
	Page
}

package hookd

import (
	"bytes"
	"encoding/json"
	"reflect"
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

// CheckDuplicate reports whether ne, whose idempotency key is already held
// by orig, repeats orig: the same type and the same JSON payload (compared
// as JSON values, so whitespace and key order do not matter). Otherwise it
// returns ECONFLICT naming the key: a key identifies one event, and reusing
// it for another is a mistake of the producer (Stripe answers the same).
func CheckDuplicate(orig *Event, ne *NewEvent) error {
	if orig.Type == ne.Type && samePayload(orig.Payload, ne.Payload) {
		return nil
	}
	return Errorf(ECONFLICT, "idempotency key %q was already used by event %s with a different type or payload; send the same event again, or use a new key for a new event", ne.IdempotencyKey, orig.ID)
}

func samePayload(a, b []byte) bool {
	if string(a) == string(b) {
		return true
	}
	var x, y any
	if decodeJSON(a, &x) != nil || decodeJSON(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

func decodeJSON(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	return d.Decode(v)
}

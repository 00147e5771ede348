package webhook

import (
	"context"
	"encoding/json"
	"time"
)

// Event is a verified webhook as the Middleware hands it to the handler.
// hookd's body is the Standard Webhooks envelope
// {"id","type","timestamp","data"}; Type, Timestamp and Data come from it and
// stay empty when the body is not such an envelope.
type Event struct {
	// ID is the webhook-id header: the idempotency key, the same on every
	// retry (for hookd, the event id "evt_…").
	ID string
	// Type is the envelope's "type", e.g. "order.created".
	Type string
	// Timestamp is the envelope's "timestamp": when the event happened.
	Timestamp time.Time
	// SentAt is the webhook-timestamp header: when this attempt was sent.
	SentAt time.Time
	// Data is the envelope's "data", the producer's payload byte for byte.
	Data json.RawMessage
}

// envelope is the body of a hookd webhook.
type envelope struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	Timestamp string          `json:"timestamp"`
	Data      json.RawMessage `json:"data"`
}

// ParseEvent returns the Event of a verified message: id and sentAt from its
// headers, the rest from body when it is a JSON envelope. It never fails; a
// body that is not an envelope leaves Type, Timestamp and Data empty.
func ParseEvent(id string, sentAt time.Time, body []byte) Event {
	ev := Event{ID: id, SentAt: sentAt}
	var env envelope
	if json.Unmarshal(body, &env) == nil {
		ev.Type, ev.Data = env.Type, env.Data
		if t, err := time.Parse(time.RFC3339Nano, env.Timestamp); err == nil {
			ev.Timestamp = t
		}
	}
	return ev
}

type eventKey struct{}

// NewContext returns a copy of ctx carrying ev.
func NewContext(ctx context.Context, ev Event) context.Context {
	return context.WithValue(ctx, eventKey{}, ev)
}

// FromContext returns the Event that the Middleware verified for this
// request, and false when ctx carries none.
func FromContext(ctx context.Context) (Event, bool) {
	ev, ok := ctx.Value(eventKey{}).(Event)
	return ev, ok
}

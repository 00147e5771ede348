package api

import (
	"encoding/json"
	"math"
	"time"

	"github.com/hookd/hookd"
)

// formatTime renders t as RFC 3339 in UTC.
func formatTime(t time.Time) string {
	return t.UTC().Format(time.RFC3339Nano)
}

// optionalTime renders t, or null when it is zero.
func optionalTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := formatTime(t)
	return &s
}

// endpointJSON is the API form of an endpoint (DESIGN §6).
type endpointJSON struct {
	ID                 string            `json:"id"`
	TenantID           string            `json:"tenant_id"`
	URL                string            `json:"url"`
	Description        string            `json:"description"`
	EventTypes         []string          `json:"event_types"`
	Secret             string            `json:"secret"`
	Headers            map[string]string `json:"headers"`
	MaxAttempts        int               `json:"max_attempts"`
	RateLimitPerSecond float64           `json:"rate_limit_per_second"`
	MaxInFlight        int               `json:"max_in_flight"`
	Disabled           bool              `json:"disabled"`
	DisabledReason     string            `json:"disabled_reason"`
	Circuit            circuitJSON       `json:"circuit"`
	CreatedAt          string            `json:"created_at"`
	UpdatedAt          string            `json:"updated_at"`
}

// circuitJSON is the read-only circuit of an endpoint: state closed, open
// or half_open (open, and its cool-down is over: the next attempt is a
// probe), with open_until while it is open.
type circuitJSON struct {
	State               string  `json:"state"`
	ConsecutiveFailures int     `json:"consecutive_failures"`
	OpenUntil           *string `json:"open_until"`
}

func circuitOut(c hookd.Circuit, now time.Time) circuitJSON {
	out := circuitJSON{State: string(c.DisplayState(now)), ConsecutiveFailures: c.ConsecutiveFailures}
	if c.State == hookd.CircuitOpen {
		out.OpenUntil = optionalTime(c.OpenUntil)
	}
	return out
}

// endpointOut is the API form of e, its circuit as of now.
func endpointOut(e *hookd.Endpoint, now time.Time) endpointJSON {
	out := endpointJSON{
		Circuit: circuitOut(e.Circuit, now),
		ID:      e.ID, TenantID: e.TenantID, URL: e.URL, Description: e.Description,
		EventTypes: e.EventTypes, Secret: e.Secret, Headers: e.Headers,
		MaxAttempts: e.MaxAttempts, RateLimitPerSecond: e.RateLimitPerSecond, MaxInFlight: e.MaxInFlight,
		Disabled: e.Disabled, DisabledReason: e.DisabledReason,
		CreatedAt: formatTime(e.CreatedAt), UpdatedAt: formatTime(e.UpdatedAt),
	}
	if out.EventTypes == nil {
		out.EventTypes = []string{}
	}
	if out.Headers == nil {
		out.Headers = map[string]string{}
	}
	return out
}

// deliveryJSON is the API form of a delivery.
type deliveryJSON struct {
	ID             string  `json:"id"`
	EventID        string  `json:"event_id"`
	EndpointID     string  `json:"endpoint_id"`
	Status         string  `json:"status"`
	Attempts       int     `json:"attempts"`
	NextAttemptAt  *string `json:"next_attempt_at"`
	LastStatusCode int     `json:"last_status_code"`
	LastError      string  `json:"last_error"`
	CreatedAt      string  `json:"created_at"`
	UpdatedAt      string  `json:"updated_at"`
}

func deliveryOut(d *hookd.Delivery) deliveryJSON {
	out := deliveryJSON{
		ID: d.ID, EventID: d.EventID, EndpointID: d.EndpointID, Status: string(d.Status),
		Attempts: d.Attempts, LastStatusCode: d.LastStatusCode, LastError: d.LastError,
		CreatedAt: formatTime(d.CreatedAt), UpdatedAt: formatTime(d.UpdatedAt),
	}
	if d.Status == hookd.StatusPending {
		out.NextAttemptAt = optionalTime(d.NextAttemptAt)
	}
	return out
}

func deliveriesOut(ds []*hookd.Delivery) []deliveryJSON {
	out := make([]deliveryJSON, len(ds))
	for i, d := range ds {
		out[i] = deliveryOut(d)
	}
	return out
}

// attemptJSON is the API form of an attempt.
type attemptJSON struct {
	Number       int     `json:"number"`
	StartedAt    string  `json:"started_at"`
	StatusCode   int     `json:"status_code"`
	LatencyMS    float64 `json:"latency_ms"`
	ResponseBody string  `json:"response_body"`
	Error        string  `json:"error"`
}

func attemptOut(a *hookd.Attempt) attemptJSON {
	return attemptJSON{
		Number: a.Number, StartedAt: formatTime(a.StartedAt), StatusCode: a.StatusCode,
		LatencyMS:    math.Round(float64(a.Latency)/float64(time.Microsecond)) / 1000,
		ResponseBody: a.ResponseBody, Error: a.Error,
	}
}

// Events are encoded by hand so that payload is emitted byte for byte as
// received: encoding/json would compact it and escape HTML in it.
type eventHead struct {
	ID       string `json:"id"`
	TenantID string `json:"tenant_id"`
	Type     string `json:"type"`
}

type eventTail struct {
	IdempotencyKey string `json:"idempotency_key"`
	CreatedAt      string `json:"created_at"`
}

// appendEvent appends the JSON of e to b; when extra is non-nil its
// encoding is added as "deliveries" (a count on ingest, a list on GET).
func appendEvent(b []byte, e *hookd.Event, extra any) []byte {
	head, _ := json.Marshal(eventHead{ID: e.ID, TenantID: e.TenantID, Type: e.Type})
	tail, _ := json.Marshal(eventTail{IdempotencyKey: e.IdempotencyKey, CreatedAt: formatTime(e.CreatedAt)})
	b = append(b, head[:len(head)-1]...)
	b = append(b, `,"payload":`...)
	if len(e.Payload) == 0 {
		b = append(b, "null"...)
	} else {
		b = append(b, e.Payload...)
	}
	b = append(b, ',')
	b = append(b, tail[1:len(tail)-1]...)
	if extra != nil {
		x, _ := json.Marshal(extra)
		b = append(b, `,"deliveries":`...)
		b = append(b, x...)
	}
	return append(b, '}')
}

// appendList appends {"data":[items…],"next_cursor":cursor}, each item
// written by item(b, i).
func appendList(b []byte, n int, cursor string, item func(b []byte, i int) []byte) []byte {
	b = append(b, `{"data":[`...)
	for i := range n {
		if i > 0 {
			b = append(b, ',')
		}
		b = item(b, i)
	}
	c, _ := json.Marshal(cursor)
	b = append(b, `],"next_cursor":`...)
	b = append(b, c...)
	return append(b, '}')
}

// list is the JSON shape of a page of resources that need no hand encoding.
type list[T any] struct {
	Data       []T    `json:"data"`
	NextCursor string `json:"next_cursor"`
}

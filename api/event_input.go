package api

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode"
	"unicode/utf8"

	"github.com/hookd/hookd"
)

// Bounds of event fields.
const (
	maxEventTypeLen      = 256
	maxIdempotencyKeyLen = 256
)

// eventInput is one event in POST /v1/events and /v1/events/batch.
type eventInput struct {
	Type           string          `json:"type"`
	Payload        json.RawMessage `json:"payload"`
	TenantID       string          `json:"tenant_id"`
	IdempotencyKey string          `json:"idempotency_key"`
}

// newEvent validates in and returns the event to ingest, with its id and
// creation time. Field names in errors are prefixed with prefix.
func (s *Server) newEvent(in *eventInput, prefix string) (hookd.NewEvent, error) {
	switch {
	case in.Type == "":
		return hookd.NewEvent{}, hookd.FieldErrorf(prefix+"type", "is required")
	case len(in.Type) > maxEventTypeLen:
		return hookd.NewEvent{}, hookd.FieldErrorf(prefix+"type", "must be at most %d characters", maxEventTypeLen)
	case !printable(in.Type):
		return hookd.NewEvent{}, hookd.FieldErrorf(prefix+"type", "must be printable characters without spaces")
	}
	payload := bytes.TrimSpace(in.Payload)
	switch {
	case len(payload) == 0:
		return hookd.NewEvent{}, hookd.FieldErrorf(prefix+"payload", "is required")
	case string(payload) == "null":
		return hookd.NewEvent{}, hookd.FieldErrorf(prefix+"payload", "must not be null")
	case int64(len(payload)) > s.cfg.MaxPayloadBytes:
		return hookd.NewEvent{}, &hookd.Error{Code: hookd.ETOOLARGE, Field: prefix + "payload",
			Message: prefix + "payload: exceeds " + strconv.FormatInt(s.cfg.MaxPayloadBytes, 10) + " bytes"}
	}
	if err := checkTenantID(prefix+"tenant_id", in.TenantID); err != nil {
		return hookd.NewEvent{}, err
	}
	if len(in.IdempotencyKey) > maxIdempotencyKeyLen {
		return hookd.NewEvent{}, hookd.FieldErrorf(prefix+"idempotency_key", "must be at most %d characters", maxIdempotencyKeyLen)
	}
	now := s.now()
	return hookd.NewEvent{Event: hookd.Event{
		ID:             hookd.NewID(hookd.PrefixEvent, now),
		TenantID:       in.TenantID,
		Type:           in.Type,
		Payload:        bytes.Clone(payload),
		IdempotencyKey: in.IdempotencyKey,
		CreatedAt:      now,
	}}, nil
}

// printable reports whether s is valid UTF-8 of printable characters
// without spaces.
func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) || unicode.IsSpace(r) {
			return false
		}
	}
	return true
}

func itoa(i int) string { return strconv.Itoa(i) }

package hookd

import (
	"strings"
	"unicode/utf8"
)

// CheckText is the one validation of text that reaches the store: ids,
// filters, cursors and the string fields of requests. It returns an
// EMALFORMED *Error naming field when s is not valid UTF-8, an EINVALID one
// when s holds a NUL character (Postgres text cannot store it, and no
// identifier or name of hookd needs it), and nil otherwise.
func CheckText(field, s string) error {
	if !utf8.ValidString(s) {
		return &Error{Code: EMALFORMED, Field: field, Message: field + ": must be valid UTF-8"}
	}
	if strings.IndexByte(s, 0) >= 0 {
		return FieldErrorf(field, "must not contain NUL characters")
	}
	return nil
}

// CheckTexts is CheckText over name/value pairs: it returns the first
// error. Empty values pass.
func CheckTexts(pairs ...string) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		if err := CheckText(pairs[i], pairs[i+1]); err != nil {
			return err
		}
	}
	return nil
}

// CheckText runs CheckText on every string field of e (field names as the
// API shows them).
func (e *Endpoint) CheckText() error {
	if err := CheckTexts("id", e.ID, "tenant_id", e.TenantID, "url", e.URL, "description", e.Description,
		"secret", e.Secret, "disabled_reason", e.DisabledReason); err != nil {
		return err
	}
	for _, t := range e.EventTypes {
		if err := CheckText("event_types", t); err != nil {
			return err
		}
	}
	for _, p := range e.PreviousSecrets {
		if err := CheckText("previous_secrets", p.Secret); err != nil {
			return err
		}
	}
	for k, v := range e.Headers {
		if err := CheckTexts("headers", k, "headers", v); err != nil {
			return err
		}
	}
	return nil
}

// CheckText runs CheckText on every string u sets.
func (u EndpointUpdate) CheckText() error {
	var e Endpoint
	set(&e.URL, u.URL)
	set(&e.TenantID, u.TenantID)
	set(&e.Description, u.Description)
	set(&e.Secret, u.Secret)
	set(&e.EventTypes, u.EventTypes)
	set(&e.PreviousSecrets, u.PreviousSecrets)
	set(&e.Headers, u.Headers)
	e.DisabledReason = u.DisabledReason
	if err := e.CheckText(); err != nil {
		return err
	}
	if u.Rotate != nil {
		return CheckText("secret", u.Rotate.Secret)
	}
	return nil
}

// CheckText runs CheckText on the text fields of ev (not its payload,
// which is bytes kept as received).
func (ev *NewEvent) CheckText() error {
	return CheckTexts("id", ev.ID, "tenant_id", ev.TenantID, "type", ev.Type,
		"idempotency_key", ev.IdempotencyKey, "endpoint_id", ev.OnlyEndpointID)
}

// CheckText runs CheckText on the filter and its cursor.
func (f *EventFilter) CheckText() error {
	tenant := ""
	if f.TenantID != nil {
		tenant = *f.TenantID
	}
	return CheckTexts("type", f.Type, "tenant_id", tenant, "cursor", f.Cursor)
}

// CheckText runs CheckText on the filter and its cursor.
func (f *DeliveryFilter) CheckText() error {
	return CheckTexts("status", string(f.Status), "endpoint_id", f.EndpointID, "event_id", f.EventID, "event_type", f.EventType, "cursor", f.Cursor)
}

// CheckText runs CheckText on the filter.
func (f *ReplayFilter) CheckText() error {
	return CheckTexts("endpoint_id", f.EndpointID, "event_type", f.EventType)
}

package hookd

import (
	"maps"
	"slices"
	"time"
)

// EndpointUpdate is a change to some fields of one endpoint: a nil field is
// left as stored. Store.UpdateEndpointFields applies it in one transaction
// that writes only the columns of the fields it names (under a row lock on
// Postgres), so concurrent writers of other fields — a PATCH, the
// dispatcher's 410-disable, the circuit breaker, a rotation on another node —
// never undo each other. Its values are validated once, by whoever builds it
// (package api for callers' input); the store applies them as given.
type EndpointUpdate struct {
	URL                *string
	TenantID           *string
	Description        *string
	EventTypes         *[]string
	Secret             *string
	PreviousSecrets    *[]PreviousSecret
	Headers            *map[string]string
	MaxAttempts        *int
	RateLimitPerSecond *float64
	MaxInFlight        *int
	// Disabled false enables the endpoint and clears its reason; true
	// disables it with DisabledReason, except that an endpoint that is
	// already disabled keeps the reason it was disabled for.
	Disabled       *bool
	DisabledReason string
	// Rotate replaces the secret with Rotate.Secret while the current one
	// keeps signing; the store resolves it against the stored secrets inside
	// the transaction (see Resolve), so two rotations never lose a secret.
	Rotate *SecretRotation
	// Circuit replaces the circuit-breaker state.
	Circuit *Circuit
	// UpdatedAt, when not zero, becomes the endpoint's UpdatedAt.
	UpdatedAt time.Time
	// Quota.PerTenant, when set, bounds the endpoints of the tenant that
	// TenantID moves the endpoint to: the store counts them in the same
	// transaction (see EndpointQuota) and a move over the bound is
	// ECONFLICT, changing nothing. A move does not change the total, so
	// Quota.Total is not checked; an update that keeps the tenant checks
	// nothing.
	Quota EndpointQuota
}

// SecretRotation is a secret rotation: Secret becomes current, the current
// secret keeps signing until At+Grace, expired previous secrets are dropped
// and at most Keep previous secrets stay (the newest; Keep <= 0 keeps all).
type SecretRotation struct {
	Secret string
	At     time.Time
	Grace  time.Duration
	Keep   int
}

// Resolve returns u with Rotate turned into Secret and PreviousSecrets as
// of cur, the endpoint as stored (read inside the update's transaction).
// Its error is EINVALID (field "secret") when the new secret is the current
// one. An update without Rotate is returned as is.
func (u EndpointUpdate) Resolve(cur *Endpoint) (EndpointUpdate, error) {
	if u.Rotate == nil {
		return u, nil
	}
	r := *u.Rotate
	if r.Secret == cur.Secret {
		return u, FieldErrorf("secret", "must differ from the current secret")
	}
	var prev []PreviousSecret
	for _, p := range cur.PreviousSecrets {
		if r.At.Before(p.ExpiresAt) && p.Secret != r.Secret {
			prev = append(prev, p)
		}
	}
	prev = append(prev, PreviousSecret{Secret: cur.Secret, ExpiresAt: r.At.Add(r.Grace)})
	if r.Keep > 0 && len(prev) > r.Keep {
		prev = prev[len(prev)-r.Keep:]
	}
	u.Rotate, u.Secret, u.PreviousSecrets = nil, &r.Secret, &prev
	return u, nil
}

// Apply sets the fields u names on e, as the store would (Rotate is
// resolved against e first). It is how a new endpoint is built from an
// update and how a store-less fake applies one.
func (u EndpointUpdate) Apply(e *Endpoint) error {
	u, err := u.Resolve(e)
	if err != nil {
		return err
	}
	set(&e.URL, u.URL)
	set(&e.TenantID, u.TenantID)
	set(&e.Description, u.Description)
	if u.EventTypes != nil {
		e.EventTypes = nilIfEmpty(slices.Clone(*u.EventTypes))
	}
	set(&e.Secret, u.Secret)
	if u.PreviousSecrets != nil {
		e.PreviousSecrets = nilIfEmpty(slices.Clone(*u.PreviousSecrets))
	}
	if u.Headers != nil {
		e.Headers = maps.Clone(*u.Headers)
		if len(e.Headers) == 0 {
			e.Headers = nil
		}
	}
	set(&e.MaxAttempts, u.MaxAttempts)
	set(&e.RateLimitPerSecond, u.RateLimitPerSecond)
	set(&e.MaxInFlight, u.MaxInFlight)
	if u.Disabled != nil {
		switch {
		case !*u.Disabled:
			e.Disabled, e.DisabledReason = false, ""
		case !e.Disabled:
			e.Disabled, e.DisabledReason = true, u.DisabledReason
		}
	}
	set(&e.Circuit, u.Circuit)
	if !u.UpdatedAt.IsZero() {
		e.UpdatedAt = u.UpdatedAt
	}
	return nil
}

// Empty reports whether u changes nothing.
func (u EndpointUpdate) Empty() bool {
	return u.URL == nil && u.TenantID == nil && u.Description == nil && u.EventTypes == nil &&
		u.Secret == nil && u.PreviousSecrets == nil && u.Headers == nil && u.MaxAttempts == nil &&
		u.RateLimitPerSecond == nil && u.MaxInFlight == nil && u.Disabled == nil && u.Rotate == nil &&
		u.Circuit == nil && u.UpdatedAt.IsZero()
}

// Ptr returns a pointer to v, for building an EndpointUpdate.
func Ptr[T any](v T) *T { return &v }

func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

func nilIfEmpty[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}

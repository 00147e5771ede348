package auth

import (
	"context"

	"github.com/hookd/hookd"
)

// Principal is who a request acts as: an admin (every tenant) or one
// tenant. It comes from an API key or a dashboard session.
type Principal struct {
	// KeyID is the id of the stored key or session; AdminKeyID for the key
	// of --api-key (or the generated one), which is not stored as a row.
	KeyID string
	Kind  hookd.KeyKind
	// Admin principals see every tenant; others only TenantID.
	Admin    bool
	TenantID string
	// RateLimit is the key's own API rate limit (requests per second, 0:
	// unlimited); nil means the server default.
	RateLimit *float64
}

// AdminKeyID names the principal of the server's own admin key (--api-key
// or the generated one) in logs and rate-limit buckets.
const AdminKeyID = "admin"

// Sees reports whether p may see resources of tenant.
func (p Principal) Sees(tenant string) bool { return p.Admin || p.TenantID == tenant }

// Scope is the tenant filter p imposes: nil for an admin (no filter), the
// tenant otherwise. It fits hookd's *string tenant filters.
func (p Principal) Scope() *string {
	if p.Admin {
		return nil
	}
	t := p.TenantID
	return &t
}

type principalKey struct{}

// NewContext returns ctx carrying p.
func NewContext(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the principal of ctx. A context without one yields a
// confined principal of no tenant with ok false, which sees nothing: code
// that forgets to authenticate fails closed.
func FromContext(ctx context.Context) (p Principal, ok bool) {
	p, ok = ctx.Value(principalKey{}).(Principal)
	if !ok {
		return Principal{TenantID: "\x00unauthenticated"}, false
	}
	return p, true
}

package api

import (
	"context"
	"fmt"
	"net/http"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/auth"
)

// access is a route's confinement rule (DESIGN §9): who may call it and
// how a tenant key is kept inside its tenant. guard enforces it for every
// route of the table, before the handler runs; the zero value is no rule
// and makes Handler panic, so a route cannot be added without one.
type access struct {
	// public routes need no key (health, OpenAPI, metrics).
	public bool
	// admin routes answer 403 to tenant keys (keys, portal links).
	admin bool
	// owner loads the resource named by the path's {id} and returns its
	// tenant: a tenant key asking for another tenant's resource gets the
	// same 404 as for a missing one (ids are not confirmed to exist).
	owner *owner
	// query lists (and stats) are narrowed to the key's tenant: guard sets
	// ?tenant_id to it, and a tenant key naming another tenant gets 403.
	query bool
	// body creates and ingest act in the key's tenant: the handler takes
	// the tenant from bodyTenant, which answers 403 for another tenant.
	body bool
}

// owner resolves the tenant of a path's {id}.
type owner struct {
	what   string // "endpoint", for the 404 message
	tenant func(s *Server, ctx context.Context, id string) (string, error)
}

// The access rules of the route table.
var (
	public      = access{public: true}
	adminOnly   = access{admin: true}
	tenantQuery = access{query: true}
	tenantBody  = access{body: true}
	ownEndpoint = access{owner: &owner{"endpoint", endpointTenant}}
	ownEvent    = access{owner: &owner{"event", eventTenant}}
	ownDelivery = access{owner: &owner{"delivery", deliveryTenant}}
)

// withBody returns a also confining the tenant named in the body (PATCH).
func (a access) withBody() access {
	a.body = true
	return a
}

// valid reports whether a is a rule at all.
func (a access) valid() bool {
	return a.public || a.admin || a.owner != nil || a.query || a.body
}

func endpointTenant(s *Server, ctx context.Context, id string) (string, error) {
	e, err := s.cfg.Store.GetEndpoint(ctx, id)
	if err != nil {
		return "", err
	}
	return e.TenantID, nil
}

func eventTenant(s *Server, ctx context.Context, id string) (string, error) {
	ev, err := s.cfg.Store.GetEvent(ctx, id)
	if err != nil {
		return "", err
	}
	return ev.TenantID, nil
}

// deliveryTenant is the tenant of the delivery's endpoint.
func deliveryTenant(s *Server, ctx context.Context, id string) (string, error) {
	d, err := s.cfg.Store.GetDelivery(ctx, id)
	if err != nil {
		return "", err
	}
	return endpointTenant(s, ctx, d.EndpointID)
}

// guard wraps rt's handler with authentication, the API rate limit and
// rt's confinement rule: the one place where they are enforced. With
// fromHeader false (InProcess) the principal is the one already on the
// request context instead of the Authorization header's.
func (s *Server) guard(rt route, fromHeader bool) http.Handler {
	if !rt.access.valid() {
		panic(fmt.Sprintf("api: route %s %s has no access rule", rt.method, rt.path))
	}
	if rt.access.public {
		return rt.handler
	}
	a := rt.access
	authn := s.authenticate
	if !fromHeader {
		authn = func(h http.Handler) http.Handler { return h }
	}
	return authn(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := auth.FromContext(r.Context())
		if !s.allow(w, r, p, 1) {
			return
		}
		if !p.Admin {
			if err := s.confine(r, p, a); err != nil {
				s.writeError(w, r, err)
				return
			}
		}
		rt.handler(w, r)
	}))
}

// confine applies rule a to a tenant principal p.
func (s *Server) confine(r *http.Request, p auth.Principal, a access) error {
	if a.admin {
		return hookd.Errorf(hookd.EFORBIDDEN, "this key is confined to tenant %q: only admin keys may do this", p.TenantID)
	}
	if a.owner != nil {
		id := r.PathValue("id")
		tenant, err := a.owner.tenant(s, r.Context(), id)
		if err != nil && hookd.ErrorCode(err) != hookd.ENOTFOUND {
			return err
		}
		if err != nil || tenant != p.TenantID {
			return hookd.Errorf(hookd.ENOTFOUND, "%s %s not found", a.owner.what, id)
		}
	}
	if a.query {
		q := r.URL.Query()
		if q.Has("tenant_id") && q.Get("tenant_id") != p.TenantID {
			return hookd.Errorf(hookd.EFORBIDDEN, "tenant_id: this key is confined to tenant %q", p.TenantID)
		}
		q.Set("tenant_id", p.TenantID)
		r.URL.RawQuery = q.Encode()
	}
	return nil
}

// bodyTenant returns the tenant a create, ingest or replay acts in, given
// the tenant_id of its body (nil when absent): for an admin key the body's
// (absent: def), for a tenant key its own tenant, and 403 when the body
// names another. field names the body field in the error.
func bodyTenant(r *http.Request, field string, given *string, def string) (string, error) {
	p, _ := auth.FromContext(r.Context())
	if p.Admin {
		if given == nil {
			return def, nil
		}
		return *given, nil
	}
	if given != nil && *given != p.TenantID {
		return "", hookd.Errorf(hookd.EFORBIDDEN, "%s: this key is confined to tenant %q", field, p.TenantID)
	}
	return p.TenantID, nil
}

// scope is the tenant filter of the request's principal (nil: admin).
func scope(r *http.Request) *string {
	p, _ := auth.FromContext(r.Context())
	return p.Scope()
}

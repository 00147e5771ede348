package api

import (
	"math"
	"net/http"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/auth"
)

// maxKeyNameLen bounds an API key's name.
const maxKeyNameLen = 200

// apiKeyInput is the body of POST /v1/api-keys.
type apiKeyInput struct {
	Name               string   `json:"name"`
	TenantID           *string  `json:"tenant_id"`
	RateLimitPerSecond *float64 `json:"rate_limit_per_second"`
}

// apiKeyJSON is the API form of a key; Key is only set in the answer of
// its creation.
type apiKeyJSON struct {
	ID                 string   `json:"id"`
	Kind               string   `json:"kind"`
	Name               string   `json:"name"`
	TenantID           *string  `json:"tenant_id"` // null: admin key
	Key                string   `json:"key,omitempty"`
	Hint               string   `json:"hint"`
	RateLimitPerSecond *float64 `json:"rate_limit_per_second"` // null: server default
	CreatedAt          string   `json:"created_at"`
	LastUsedAt         *string  `json:"last_used_at"`
	ExpiresAt          *string  `json:"expires_at"`
}

func apiKeyOut(k *hookd.APIKey) apiKeyJSON {
	out := apiKeyJSON{ID: k.ID, Kind: string(k.Kind), Name: k.Name, Hint: k.Hint,
		RateLimitPerSecond: k.RateLimitPerSecond, CreatedAt: formatTime(k.CreatedAt),
		LastUsedAt: optionalTime(k.LastUsedAt), ExpiresAt: optionalTime(k.ExpiresAt)}
	if !k.Admin {
		t := k.TenantID
		out.TenantID = &t
	}
	return out
}

// createAPIKey makes a key: admin without tenant_id (or with null), else
// confined to that tenant. 201 with the key itself, shown only here.
func (s *Server) createAPIKey(w http.ResponseWriter, r *http.Request) {
	var in apiKeyInput
	if err := decodeBody(w, r, s.bodyLimit(), &in, false); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := checkKeyName(in.Name); err != nil {
		s.writeError(w, r, err)
		return
	}
	if in.TenantID != nil {
		if *in.TenantID == "" {
			s.writeError(w, r, hookd.FieldErrorf("tenant_id", "must not be empty; leave it out for an admin key"))
			return
		}
		if err := checkTenantID("tenant_id", *in.TenantID); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	if v := in.RateLimitPerSecond; v != nil && (*v < 0 || math.IsNaN(*v) || *v > 1e6) {
		s.writeError(w, r, hookd.FieldErrorf("rate_limit_per_second", "must be from 0 (unlimited) to 1000000"))
		return
	}
	k, secret := auth.NewKey(in.Name, in.TenantID == nil, deref(in.TenantID), in.RateLimitPerSecond, s.now())
	if err := s.cfg.Store.CreateAPIKey(r.Context(), k); err != nil {
		s.writeError(w, r, err)
		return
	}
	out := apiKeyOut(k)
	out.Key = secret
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, out)
}

// listAPIKeys lists the live keys and dashboard sessions (never the
// secrets); ?tenant_id= and ?kind=key|session narrow it.
func (s *Server) listAPIKeys(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	page, err := parsePage(q)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	f := hookd.APIKeyFilter{Kind: hookd.KeyKind(q.Get("kind")), Now: s.now(), Page: page}
	if f.Kind != "" && f.Kind != hookd.KindKey && f.Kind != hookd.KindSession {
		s.writeError(w, r, hookd.FieldErrorf("kind", "must be key or session"))
		return
	}
	if q.Has("tenant_id") {
		t := q.Get("tenant_id")
		f.TenantID = &t
	}
	ks, next, err := s.cfg.Store.ListAPIKeys(r.Context(), f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := list[apiKeyJSON]{Data: make([]apiKeyJSON, len(ks)), NextCursor: next}
	for i, k := range ks {
		out.Data[i] = apiKeyOut(k)
	}
	writeJSON(w, http.StatusOK, out)
}

// revokeAPIKey revokes a key or session (and the sessions made from it):
// 204. It is refused on this node at once and on the others within the key
// cache TTL (auth.DefaultKeyCacheTTL).
func (s *Server) revokeAPIKey(w http.ResponseWriter, r *http.Request) {
	if err := s.cfg.Store.RevokeAPIKey(r.Context(), r.PathValue("id"), s.now()); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.keys.Forget()
	w.WriteHeader(http.StatusNoContent)
}

// portalLinkInput is the body of POST /v1/portal-links.
type portalLinkInput struct {
	TenantID  *string `json:"tenant_id"`
	ExpiresIn string  `json:"expires_in"`
}

// createPortalLink answers 201 {url, expires_at}: a one-time sign-in link
// to the dashboard confined to the tenant.
func (s *Server) createPortalLink(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Portal == nil {
		s.writeError(w, r, hookd.Errorf(hookd.EUNAVAILABLE, "portal links are not configured on this server"))
		return
	}
	var in portalLinkInput
	if err := decodeBody(w, r, s.bodyLimit(), &in, false); err != nil {
		s.writeError(w, r, err)
		return
	}
	if in.TenantID == nil {
		s.writeError(w, r, hookd.FieldErrorf("tenant_id", "is required"))
		return
	}
	if err := checkTenantID("tenant_id", *in.TenantID); err != nil {
		s.writeError(w, r, err)
		return
	}
	var ttl time.Duration
	if in.ExpiresIn != "" {
		d, err := time.ParseDuration(in.ExpiresIn)
		if err != nil {
			s.writeError(w, r, hookd.FieldErrorf("expires_in", "must be a duration such as 30m or 1h"))
			return
		}
		ttl = d
	}
	token, exp, err := s.cfg.Portal.Link(r.Context(), *in.TenantID, ttl)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, struct {
		URL       string `json:"url"`
		ExpiresAt string `json:"expires_at"`
	}{s.baseURL(r) + auth.PortalPath + "?token=" + token, formatTime(exp)})
}

// baseURL is Config.PublicURL, else the scheme and host the request came to.
func (s *Server) baseURL(r *http.Request) string {
	if s.cfg.PublicURL != "" {
		return s.cfg.PublicURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// checkKeyName allows a name of at most maxKeyNameLen bytes of valid UTF-8
// without control characters (it is shown in lists and the CLI).
func checkKeyName(name string) error {
	if len(name) > maxKeyNameLen {
		return hookd.FieldErrorf("name", "must be at most %d bytes", maxKeyNameLen)
	}
	if !utf8.ValidString(name) {
		return hookd.FieldErrorf("name", "must be valid UTF-8")
	}
	for _, c := range name {
		if unicode.IsControl(c) {
			return hookd.FieldErrorf("name", "must not hold control characters")
		}
	}
	return nil
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

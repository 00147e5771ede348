package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/hookd/hookd"
)

// Portal link and session lifetimes.
const (
	DefaultPortalLinkTTL = time.Hour
	MaxPortalLinkTTL     = 24 * time.Hour
	// DefaultSessionTTL is how long a dashboard session lasts.
	DefaultSessionTTL = 8 * time.Hour
	// PortalSecretSetting is the store setting of the key that signs portal
	// links: made by the first node, read by every node, so a link made on
	// one node is redeemed on any.
	PortalSecretSetting = "portal_link_secret"
	// portalTokenPrefix starts every portal link token.
	portalTokenPrefix = "hkp_"
)

// PortalStore is what Portal needs of the store.
type PortalStore interface {
	Setting(ctx context.Context, key string) (string, error)
	PutSettingIfAbsent(ctx context.Context, key, value string) (bool, error)
	CreateAPIKey(ctx context.Context, k *hookd.APIKey) error
	CountEndpoints(ctx context.Context, tenantID string) (int, error)
	ListAPIKeys(ctx context.Context, f hookd.APIKeyFilter) ([]*hookd.APIKey, string, error)
}

// PortalOptions configures a Portal; every field has a default.
type PortalOptions struct {
	SessionTTL time.Duration // default DefaultSessionTTL
	Now        func() time.Time
}

// Portal makes and redeems portal links: short-lived, single-use tokens
// signed (HMAC-SHA256) with a secret kept in the store, exchanged for a
// dashboard session confined to one tenant.
type Portal struct {
	store  PortalStore
	secret []byte
	opts   PortalOptions
}

// NewPortal loads the signing secret from the store, creating it on first
// use.
func NewPortal(ctx context.Context, store PortalStore, opts PortalOptions) (*Portal, error) {
	if opts.SessionTTL <= 0 {
		opts.SessionTTL = DefaultSessionTTL
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	if _, err := store.PutSettingIfAbsent(ctx, PortalSecretSetting, hex.EncodeToString(b)); err != nil {
		return nil, fmt.Errorf("store portal secret: %w", err)
	}
	v, err := store.Setting(ctx, PortalSecretSetting)
	if err != nil {
		return nil, fmt.Errorf("read portal secret: %w", err)
	}
	secret, err := hex.DecodeString(v)
	if err != nil || len(secret) < 32 {
		return nil, fmt.Errorf("stored portal secret is corrupt")
	}
	return &Portal{store: store, secret: secret, opts: opts}, nil
}

// linkClaims is the signed content of a portal link token.
type linkClaims struct {
	Tenant  string `json:"t"`
	Expires int64  `json:"e"` // unix seconds
	Nonce   string `json:"n"`
}

// TenantExists reports whether tenant has an endpoint or a live tenant
// key: a tenant whose endpoints and keys are all gone is deleted.
func TenantExists(ctx context.Context, store PortalStore, tenant string, now time.Time) (bool, error) {
	n, err := store.CountEndpoints(ctx, tenant)
	if err != nil || n > 0 {
		return n > 0, err
	}
	ks, _, err := store.ListAPIKeys(ctx, hookd.APIKeyFilter{TenantID: &tenant, Kind: hookd.KindKey, Now: now, Page: hookd.Page{Limit: 1}})
	return len(ks) > 0, err
}

// Link returns a portal link token for tenant valid for ttl (0: the
// default; more than MaxPortalLinkTTL is EINVALID) and when it expires.
// ENOTFOUND when the tenant has no endpoint and no key.
func (p *Portal) Link(ctx context.Context, tenant string, ttl time.Duration) (string, time.Time, error) {
	if ttl == 0 {
		ttl = DefaultPortalLinkTTL
	}
	if ttl < time.Second || ttl > MaxPortalLinkTTL {
		return "", time.Time{}, hookd.FieldErrorf("expires_in", "must be from 1s to %v", MaxPortalLinkTTL)
	}
	now := p.opts.Now()
	ok, err := TenantExists(ctx, p.store, tenant, now)
	if err != nil {
		return "", time.Time{}, err
	}
	if !ok {
		return "", time.Time{}, hookd.Errorf(hookd.ENOTFOUND, "tenant %q has no endpoints or keys", tenant)
	}
	exp := now.Add(ttl).Truncate(time.Second)
	nonce := make([]byte, 16)
	if _, err := rand.Read(nonce); err != nil {
		return "", time.Time{}, err
	}
	payload, _ := json.Marshal(linkClaims{Tenant: tenant, Expires: exp.Unix(), Nonce: base64.RawURLEncoding.EncodeToString(nonce)})
	enc := base64.RawURLEncoding.EncodeToString(payload)
	return portalTokenPrefix + enc + "." + p.sign(enc), exp.UTC(), nil
}

func (p *Portal) sign(payload string) string {
	m := hmac.New(sha256.New, p.secret)
	m.Write([]byte("hookd portal link\x00" + payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// Session is a dashboard session just created: Secret goes in the cookie
// (shown once, stored hashed).
type Session struct {
	Secret    string
	Principal Principal
	ExpiresAt time.Time
}

// Redeem exchanges a portal link token for a session confined to its
// tenant. The token is refused (EUNAUTHORIZED, saying why) when it is not
// one this server signed, has expired, was redeemed before (on any node),
// or its tenant no longer exists.
func (p *Portal) Redeem(ctx context.Context, token string) (Session, error) {
	invalid := hookd.Errorf(hookd.EUNAUTHORIZED, "invalid portal link")
	body, ok := strings.CutPrefix(token, portalTokenPrefix)
	enc, sig, ok2 := strings.Cut(body, ".")
	if !ok || !ok2 || !hmac.Equal([]byte(sig), []byte(p.sign(enc))) {
		return Session{}, invalid
	}
	raw, err := base64.RawURLEncoding.DecodeString(enc)
	var c linkClaims
	if err != nil || json.Unmarshal(raw, &c) != nil || c.Nonce == "" {
		return Session{}, invalid
	}
	now := p.opts.Now()
	if !now.Before(time.Unix(c.Expires, 0)) {
		return Session{}, hookd.Errorf(hookd.EUNAUTHORIZED, "portal link expired; ask for a new one")
	}
	exists, err := TenantExists(ctx, p.store, c.Tenant, now)
	if err != nil {
		return Session{}, err
	}
	if !exists {
		return Session{}, hookd.Errorf(hookd.EUNAUTHORIZED, "portal link refused: its tenant no longer exists")
	}
	s, err := p.NewSession(ctx, Principal{Kind: hookd.KindSession, TenantID: c.Tenant}, "", c.Nonce)
	if hookd.ErrorCode(err) == hookd.ECONFLICT {
		return Session{}, hookd.Errorf(hookd.EUNAUTHORIZED, "portal link already used; ask for a new one")
	}
	return s, err
}

// NewSession stores a dashboard session for principal (its Admin and
// TenantID; RateLimit carries over) lasting the session TTL. parentID, when
// set, is the API key it was made from (revoking that key ends it); nonce,
// when set, makes it the one session of a portal link (ECONFLICT if that
// link made one before).
func (p *Portal) NewSession(ctx context.Context, principal Principal, parentID, nonce string) (Session, error) {
	now := p.opts.Now().UTC().Truncate(time.Microsecond)
	secret := NewSecret(SessionPrefix)
	k := &hookd.APIKey{
		ID:                 hookd.NewID(hookd.PrefixAPIKey, now),
		Kind:               hookd.KindSession,
		Name:               "dashboard session",
		Admin:              principal.Admin,
		TenantID:           principal.TenantID,
		Hash:               sha256.Sum256([]byte(secret)),
		Hint:               Hint(secret),
		RateLimitPerSecond: principal.RateLimit,
		ParentID:           parentID,
		Nonce:              nonce,
		CreatedAt:          now,
		ExpiresAt:          now.Add(p.opts.SessionTTL),
	}
	if nonce != "" {
		k.Name = "portal session"
	}
	if err := p.store.CreateAPIKey(ctx, k); err != nil {
		return Session{}, err
	}
	return Session{
		Secret:    secret,
		Principal: Principal{KeyID: k.ID, Kind: hookd.KindSession, Admin: k.Admin, TenantID: k.TenantID, RateLimit: k.RateLimitPerSecond},
		ExpiresAt: k.ExpiresAt,
	}, nil
}

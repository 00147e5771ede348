package auth_test

import (
	"context"
	"crypto/sha256"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/auth"
	"github.com/hookd/hookd/internal/testenv"
	"github.com/hookd/hookd/sqlite"
)

// dbFiles copies a SQLite file migrated once per process for each test
// (see testenv.FileTemplate).
var dbFiles = testenv.NewFileTemplate(func(ctx context.Context, path string) error { return sqlite.Migrate(ctx, path) })

// clock is a settable test clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func newClock() *clock { return &clock{now: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)} }

func openStore(t *testing.T) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), dbFiles.Path(t), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// countingStore counts the key lookups and touches that reach the store.
type countingStore struct {
	*sqlite.Store
	lookups, touches, takes atomic.Int64
}

func (c *countingStore) APIKeyByHash(ctx context.Context, h [32]byte) (*hookd.APIKey, error) {
	c.lookups.Add(1)
	return c.Store.APIKeyByHash(ctx, h)
}

func (c *countingStore) TouchAPIKey(ctx context.Context, id string, at time.Time) error {
	c.touches.Add(1)
	return c.Store.TouchAPIKey(ctx, id, at)
}

func (c *countingStore) TakeTokens(ctx context.Context, r hookd.TokenRequest) (hookd.TokenGrant, error) {
	c.takes.Add(1)
	return c.Store.TakeTokens(ctx, r)
}

func TestKeysAuthenticate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := &countingStore{Store: openStore(t)}
	clk := newClock()
	admin := "the-admin-key-0123456789"
	keys := auth.NewKeys(st, auth.KeysOptions{AdminHash: sha256.Sum256([]byte(admin)), Now: clk.Now})
	k, secret := auth.NewKey("ci", false, "acme", nil, clk.Now())
	if !strings.HasPrefix(secret, "hk_") || len(secret) < 40 {
		t.Fatalf("got key %q, want hk_ and at least 40 characters", secret)
	}
	if err := st.CreateAPIKey(ctx, k); err != nil {
		t.Fatal(err)
	}

	p, err := keys.Authenticate(ctx, admin, hookd.KindKey)
	if err != nil || !p.Admin || p.KeyID != auth.AdminKeyID {
		t.Errorf("admin key: got %+v, %v; want the admin principal", p, err)
	}
	for range 5 {
		p, err = keys.Authenticate(ctx, secret, hookd.KindKey)
		if err != nil || p.Admin || p.TenantID != "acme" || p.KeyID != k.ID {
			t.Fatalf("tenant key: got %+v, %v; want tenant acme", p, err)
		}
	}
	if n := st.lookups.Load(); n != 1 {
		t.Errorf("5 uses within the TTL: got %d store lookups, want 1 (cached)", n)
	}
	if n := st.touches.Load(); n != 1 {
		t.Errorf("5 uses within a minute: got %d last_used_at writes, want 1", n)
	}
	if _, err := keys.Authenticate(ctx, secret, hookd.KindSession); hookd.ErrorCode(err) != hookd.EUNAUTHORIZED {
		t.Errorf("an API key as a session cookie: got %v, want unauthorized", err)
	}
	if _, err := keys.Authenticate(ctx, "hk_nope", hookd.KindKey); hookd.ErrorCode(err) != hookd.EUNAUTHORIZED {
		t.Errorf("unknown key: got %v, want unauthorized", err)
	}

	// Another node revokes it: this node refuses it once its cache entry is
	// older than the TTL (2 s, within the 5 s contract).
	if err := st.RevokeAPIKey(ctx, k.ID, clk.Now()); err != nil {
		t.Fatal(err)
	}
	clk.advance(auth.DefaultKeyCacheTTL)
	if _, err := keys.Authenticate(ctx, secret, hookd.KindKey); hookd.ErrorCode(err) != hookd.EUNAUTHORIZED {
		t.Errorf("revoked key after the TTL: got %v, want unauthorized", err)
	}
	got, _ := st.GetAPIKey(ctx, k.ID)
	if !got.LastUsedAt.Equal(k.CreatedAt) {
		t.Errorf("got last_used_at %v, want %v", got.LastUsedAt, k.CreatedAt)
	}
}

func TestKeysTouchOncePerMinute(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := &countingStore{Store: openStore(t)}
	clk := newClock()
	keys := auth.NewKeys(st, auth.KeysOptions{Now: clk.Now})
	k, secret := auth.NewKey("ci", true, "", nil, clk.Now())
	if err := st.CreateAPIKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	for range 30 { // 30 uses over 2.5 minutes, one every 5 s
		if _, err := keys.Authenticate(ctx, secret, hookd.KindKey); err != nil {
			t.Fatal(err)
		}
		clk.advance(5 * time.Second)
	}
	if n := st.touches.Load(); n != 3 {
		t.Errorf("got %d last_used_at writes over 2.5 min, want 3 (at 0, 60 and 120 s)", n)
	}
}

func TestPortalLinks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t)
	clk := newClock()
	portal, err := auth.NewPortal(ctx, st, auth.PortalOptions{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	ep := &hookd.Endpoint{ID: hookd.NewID(hookd.PrefixEndpoint, clk.Now()), TenantID: "acme", URL: "https://example.com/h",
		Secret: hookd.NewSecret(), CreatedAt: clk.Now(), UpdatedAt: clk.Now()}
	if err := st.CreateEndpoint(ctx, ep); err != nil {
		t.Fatal(err)
	}
	if _, _, err := portal.Link(ctx, "nobody", 0); hookd.ErrorCode(err) != hookd.ENOTFOUND {
		t.Errorf("link for a tenant without endpoints or keys: got %v, want not found", err)
	}
	if _, _, err := portal.Link(ctx, "acme", 25*time.Hour); hookd.ErrorCode(err) != hookd.EINVALID {
		t.Errorf("link for 25h: got %v, want invalid", err)
	}
	link := func(ttl time.Duration) string {
		t.Helper()
		tok, exp, err := portal.Link(ctx, "acme", ttl)
		if err != nil {
			t.Fatal(err)
		}
		want := clk.Now().Add(ttl)
		if ttl == 0 {
			want = clk.Now().Add(auth.DefaultPortalLinkTTL)
		}
		if !exp.Equal(want) {
			t.Errorf("link expires %v, want %v", exp, want)
		}
		return tok
	}
	refused := func(name, tok, why string) {
		t.Helper()
		_, err := portal.Redeem(ctx, tok)
		if hookd.ErrorCode(err) != hookd.EUNAUTHORIZED || !strings.Contains(err.Error(), why) {
			t.Errorf("%s: got %v, want unauthorized %q", name, err, why)
		}
	}

	tok := link(0)
	s, err := portal.Redeem(ctx, tok)
	if err != nil {
		t.Fatalf("valid link: %v", err)
	}
	if s.Principal.Admin || s.Principal.TenantID != "acme" || !strings.HasPrefix(s.Secret, auth.SessionPrefix) {
		t.Errorf("session: got %+v, want confined to acme", s)
	}
	keys := auth.NewKeys(st, auth.KeysOptions{Now: clk.Now})
	if p, err := keys.Authenticate(ctx, s.Secret, hookd.KindSession); err != nil || p.TenantID != "acme" || p.Admin {
		t.Errorf("session secret: got %+v, %v; want tenant acme", p, err)
	}
	if _, err := keys.Authenticate(ctx, s.Secret, hookd.KindKey); err == nil {
		t.Error("a session secret works as an API key; want refused")
	}
	refused("reused", tok, "already used")

	// Tampered: another tenant in the payload, the same signature.
	tampered := link(0)
	body, sig, _ := strings.Cut(strings.TrimPrefix(tampered, "hkp_"), ".")
	refused("tampered signature", "hkp_"+body+"."+sig[:len(sig)-2]+"AA", "invalid")
	refused("tampered payload", "hkp_"+body[:len(body)-2]+"AA."+sig, "invalid")
	refused("garbage", "hello", "invalid")
	other, err := auth.NewPortal(ctx, openStore(t), auth.PortalOptions{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Redeem(ctx, tampered); hookd.ErrorCode(err) != hookd.EUNAUTHORIZED {
		t.Errorf("link of another server (another secret): got %v, want unauthorized", err)
	}

	short := link(time.Minute)
	clk.advance(time.Minute)
	refused("expired", short, "expired")

	gone := link(0)
	if err := st.DeleteEndpoint(ctx, ep.ID); err != nil {
		t.Fatal(err)
	}
	refused("deleted tenant", gone, "no longer exists")

	// Revoking the session ends it (on other nodes within the key TTL).
	if err := st.RevokeAPIKey(ctx, s.Principal.KeyID, clk.Now()); err != nil {
		t.Fatal(err)
	}
	clk.advance(auth.DefaultKeyCacheTTL)
	if _, err := keys.Authenticate(ctx, s.Secret, hookd.KindSession); hookd.ErrorCode(err) != hookd.EUNAUTHORIZED {
		t.Errorf("revoked session: got %v, want unauthorized", err)
	}
}

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/hookd/hookd/auth"
	"github.com/hookd/hookd/postgres"
	"github.com/hookd/hookd/sqlite"
)

// apiKeyCmd is `hookd api-key …` (admin keys only).
type apiKeyCmd struct {
	Create apiKeyCreateCmd `cmd:"" help:"Create an API key; prints it (the key is shown only once)."`
	List   apiKeyListCmd   `cmd:"" help:"List live API keys and dashboard sessions (never the keys themselves)."`
	Revoke apiKeyRevokeCmd `cmd:"" help:"Revoke a key or session (refused on every node within 5 s)."`
}

type apiKeyCreateCmd struct {
	clientFlags `embed:""`
	Name        string   `required:"" help:"What the key is for."`
	Tenant      *string  `help:"Confine the key to this tenant (leave out for an admin key)."`
	RateLimit   *float64 `name:"rate-limit" help:"API requests per second of this key (0: unlimited; default: the server's --api-rate-limit)."`
}

func (c apiKeyCreateCmd) Run(ctx context.Context, out io.Writer) error {
	body := map[string]any{"name": c.Name}
	if c.Tenant != nil {
		body["tenant_id"] = *c.Tenant
	}
	if c.RateLimit != nil {
		body["rate_limit_per_second"] = *c.RateLimit
	}
	return c.show(ctx, out, apiKeyView, http.MethodPost, "/v1/api-keys", nil, body)
}

// apiKeyView shows API keys; a tenant of null is an admin key.
var apiKeyView = view{Columns: []column{{"ID", "id"}, {"KIND", "kind"}, {"NAME", "name"}, {"TENANT", "tenant_id"},
	{"HINT", "hint"}, {"RATE LIMIT", "rate_limit_per_second"}, {"LAST USED", "last_used_at"}, {"EXPIRES", "expires_at"}, {"CREATED", "created_at"}}}

type apiKeyListCmd struct {
	clientFlags `embed:""`
	Tenant      *string `help:"Only this tenant's keys."`
	Kind        string  `help:"Only keys (key) or dashboard sessions (session)."`
	pageFlags   `embed:""`
}

func (c apiKeyListCmd) Run(ctx context.Context, out io.Writer) error {
	q := c.query()
	if c.Tenant != nil {
		q.Set("tenant_id", *c.Tenant)
	}
	if c.Kind != "" {
		q.Set("kind", c.Kind)
	}
	return c.show(ctx, out, apiKeyView, http.MethodGet, "/v1/api-keys", q, nil)
}

type apiKeyRevokeCmd struct {
	clientFlags `embed:""`
	ID          string `arg:"" help:"Id of the key (key_…)."`
}

func (c apiKeyRevokeCmd) Run(ctx context.Context, out io.Writer) error {
	if _, err := c.do(ctx, http.MethodDelete, "/v1/api-keys/"+url.PathEscape(c.ID), nil, nil); err != nil {
		return err
	}
	b, _ := json.Marshal(map[string]any{"id": c.ID, "revoked": true})
	return c.render(out, b, view{})
}

// portalLinkCmd is `hookd portal-link`: a one-time dashboard sign-in link
// confined to a tenant.
type portalLinkCmd struct {
	clientFlags `embed:""`
	Tenant      string `required:"" help:"The tenant the portal shows."`
	ExpiresIn   string `name:"expires-in" help:"How long the link may be used (default 1h, at most 24h)."`
}

func (c portalLinkCmd) Run(ctx context.Context, out io.Writer) error {
	body := map[string]any{"tenant_id": c.Tenant}
	if c.ExpiresIn != "" {
		body["expires_in"] = c.ExpiresIn
	}
	return c.show(ctx, out, view{}, http.MethodPost, "/v1/portal-links", nil, body)
}

// defaultAdminKeyName names the keys `hookd admin create-key` mints.
const defaultAdminKeyName = "admin (hookd admin create-key)"

// adminCmd is `hookd admin …`: commands that work on the store directly.
type adminCmd struct {
	CreateKey adminCreateKeyCmd `cmd:"" name:"create-key" help:"Mint an admin API key in the store and print it once (the way back in after losing the generated key); works beside a running server."`
}

type adminCreateKeyCmd struct {
	DB   string `name:"db" default:"${default_db}" help:"Database: sqlite:PATH or postgres://…"`
	Name string `default:"${default_admin_key_name}" help:"Name of the key."`
}

func (c adminCreateKeyCmd) Run(ctx context.Context, out io.Writer) error {
	driver, conn, err := parseDB(c.DB)
	if err != nil {
		return &usageError{err.Error()}
	}
	k, secret := auth.NewKey(c.Name, true, "", nil, time.Now())
	if driver == "sqlite" {
		err = sqlite.AddAPIKey(ctx, conn, k)
	} else {
		var s *postgres.Store
		if s, err = postgres.Open(ctx, conn, postgres.Options{PollOnly: true}); err == nil {
			err = s.CreateAPIKey(ctx, k)
			s.Close()
		}
	}
	if err != nil {
		return fmt.Errorf("create key: %w", err)
	}
	_, err = fmt.Fprintf(out, "hookd: new admin API key %s (shown once, store it now):\n%s\n", k.ID, secret)
	return err
}

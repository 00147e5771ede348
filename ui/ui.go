// Package ui is hookd's dashboard and customer portal, served at /ui/ by
// `hookd serve`: server-rendered HTML (html/template) with its CSS and a
// small hand-written script embedded in the binary. Every page works
// without JavaScript; the script only refreshes pages in place and adds
// chart tooltips.
//
// Reads come from the store, confined to the session's tenant; every change
// (settings, rotation, test event, retry, replay) goes through the HTTP API
// in process (Config.API), so the dashboard validates and confines exactly
// as /v1 does.
//
// It must not import sqlite, postgres, dispatch or api: it reads through
// its Store interface and writes through the API's http.Handler that
// cmd/hookd gives it (Config.API).
package ui

import (
	"context"
	"embed"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/hookd/hookd/auth"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Defaults of Config.
const (
	// DefaultFrameAncestors is the CSP frame-ancestors source list: the
	// dashboard may not be framed at all.
	DefaultFrameAncestors = "'none'"
	// csrfSecretSetting names the store setting holding the key that
	// derives CSRF tokens, the same on every node.
	csrfSecretSetting = "ui_csrf_secret"
)

// Config configures the dashboard. Store, API, Keys and Portal are required.
type Config struct {
	// Store is read for every page.
	Store Store
	// API is the /v1 handler that trusts the principal in the request
	// context (api.Server.InProcess): the dashboard sends every change
	// through it.
	API http.Handler
	// Keys authenticates API keys and session cookies (shared with the
	// API, so that both see a revocation at once).
	Keys *auth.Keys
	// Portal makes the sessions of API-key sign-ins (portal links are
	// redeemed by its exchange at /ui/portal, mounted by package api).
	Portal *auth.Portal
	// Stats reads the stats rollups; nil shows pages without figures.
	Stats StatsSource
	// FrameAncestors is the CSP frame-ancestors source list (default
	// 'none'): the origins allowed to embed the portal in an iframe.
	FrameAncestors string
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger receives internal errors (default slog.Default()).
	Logger *slog.Logger
	// Version is shown in the footer.
	Version string
}

// Server is the dashboard. It holds no goroutines.
type Server struct {
	cfg   Config
	log   *slog.Logger
	pages map[string]*template.Template

	secretMu sync.Mutex
	secret   []byte
}

// New returns a dashboard for cfg, filling in defaults. It panics when the
// embedded templates do not parse (a build defect, caught by every test).
func New(cfg Config) *Server {
	if fa, err := ParseFrameAncestors(cfg.FrameAncestors); err != nil {
		cfg.FrameAncestors = DefaultFrameAncestors // refuse framing rather than send a broken policy
	} else {
		cfg.FrameAncestors = fa
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Server{cfg: cfg, log: cfg.Logger, pages: parsePages()}
}

// Handler returns the dashboard's handler, to be mounted at /ui/ (it sees
// the full path).
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	static, _ := fs.Sub(staticFS, "static")
	assets := http.StripPrefix("/ui/assets/", http.FileServerFS(static))
	mux.Handle("GET /ui/assets/", cacheAssets(assets))

	mux.HandleFunc("GET /ui/signin", s.signinPage)
	mux.HandleFunc("POST /ui/signin", s.signin)
	mux.HandleFunc("POST /ui/signout", s.signout)

	mux.Handle("GET /ui/{$}", s.page(s.overview))
	mux.Handle("GET /ui/endpoints/{id}", s.page(s.endpointPage))
	mux.Handle("POST /ui/endpoints/{id}/settings", s.form(s.saveSettings))
	mux.Handle("POST /ui/endpoints/{id}/rotate", s.form(s.rotateSecret))
	mux.Handle("POST /ui/endpoints/{id}/test", s.form(s.sendTest))
	mux.Handle("GET /ui/dead-letters", s.page(s.deadLetters))
	mux.Handle("POST /ui/dead-letters/replay", s.form(s.replay))
	mux.Handle("GET /ui/dead-letters/outcome", s.page(s.replayOutcome))
	mux.Handle("GET /ui/events/{id}", s.page(s.eventPage))
	mux.Handle("POST /ui/deliveries/{id}/retry", s.form(s.retryDelivery))
	mux.HandleFunc("/ui/", func(w http.ResponseWriter, r *http.Request) {
		s.render(w, r, http.StatusNotFound, "error", nil, errorView{Title: "Not found", Message: "There is no page at " + r.URL.Path + "."})
	})
	return s.secure(mux)
}

// secure sets the headers every dashboard answer carries: a strict content
// security policy (no inline script, nothing from elsewhere), framing only
// by the configured ancestors, no sniffing, no referrer leaks, no caching
// of pages that show secrets.
func (s *Server) secure(next http.Handler) http.Handler {
	csp := "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
		"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors " + s.cfg.FrameAncestors
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		if s.cfg.FrameAncestors == DefaultFrameAncestors {
			h.Set("X-Frame-Options", "DENY")
		}
		if !strings.HasPrefix(r.URL.Path, "/ui/assets/") {
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

func cacheAssets(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		next.ServeHTTP(w, r)
	})
}

// now returns the current time in UTC.
func (s *Server) now() time.Time { return s.cfg.Now().UTC() }

// ctxKey keys the request context values of this package.
type ctxKey int

const sessionKey ctxKey = iota

// sessionOf returns the session that page or form attached to ctx.
func sessionOf(ctx context.Context) *session {
	sess, _ := ctx.Value(sessionKey).(*session)
	return sess
}

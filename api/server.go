package api

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/auth"
	"github.com/hookd/hookd/internal/ssrf"
)

// Ingester commits events durably; *ingest.Committer satisfies it.
type Ingester interface {
	Submit(ctx context.Context, events []hookd.NewEvent) ([]hookd.IngestResult, error)
}

// Defaults of Config.
const (
	DefaultMaxPayloadBytes       = 256 << 10
	DefaultRotationGrace         = 24 * time.Hour
	DefaultMaxEndpointsPerTenant = 1000
	// DefaultMaxEndpoints is hookd serve's --max-endpoints. Config's zero
	// MaxEndpoints means no bound, as --max-endpoints 0 does.
	DefaultMaxEndpoints = 100000
	// envelopeBytes is what a request body may hold beyond its payload
	// (type, tenant id, idempotency key, JSON punctuation).
	envelopeBytes = 16 << 10
	// DefaultMaxBatchBytes bounds the body of POST /v1/events/batch.
	DefaultMaxBatchBytes = 16 << 20
	// MaxBatchEvents is the most events one batch may hold.
	MaxBatchEvents = 1000
)

// Config configures a Server. Store is required; every other field has a
// default.
type Config struct {
	// Alerts lists the firing alerts shown by GET /v1/stats (default: the
	// Store's ListAlerts when it has one; none otherwise).
	Alerts AlertLister
	Store  Store
	// Ingest commits events; default: Store.IngestEvents directly (no
	// group commit).
	Ingest Ingester
	// APIKeyHash is the SHA-256 of the server's admin API key (--api-key or
	// the generated one). With the zero value only stored keys work.
	APIKeyHash [32]byte
	// Keys authenticates API keys (default: auth.NewKeys over Store with
	// APIKeyHash). The dashboard shares it, so both see a revocation at the
	// same time.
	Keys *auth.Keys
	// Limiter enforces the per-key API rate limit; nil: no limit.
	Limiter *auth.Limiter
	// Portal signs portal links (POST /v1/portal-links); nil: that route
	// answers 503.
	Portal *auth.Portal
	// PublicURL is the scheme and host portal links point to (default: those
	// the request came to).
	PublicURL string
	// UI, when set, serves /ui/ (the dashboard); without it /ui/ is a
	// plain page listing the signed-in tenant's endpoints.
	UI http.Handler
	// MaxEndpoints bounds the endpoints of the whole server (0: no bound);
	// creating one more answers 409.
	MaxEndpoints int
	// MaxPayloadBytes bounds an event payload (default 256 KiB, 413
	// above). A request body may hold MaxPayloadBytes plus 16 KiB.
	MaxPayloadBytes int64
	// MaxBatchBytes bounds the body of POST /v1/events/batch (default
	// 16 MiB, and at least MaxPayloadBytes plus 16 KiB); each of its
	// payloads is still bounded by MaxPayloadBytes.
	MaxBatchBytes int64
	// Guard checks endpoint URLs (literal private addresses refused).
	Guard ssrf.Guard
	// RotationGrace is how long a rotated-out secret keeps signing
	// (default 24 h).
	RotationGrace time.Duration
	// MaxEndpointsPerTenant bounds the endpoints of one tenant (default
	// 1000); creating one more answers 409.
	MaxEndpointsPerTenant int
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger receives internal errors (default slog.Default()).
	Logger *slog.Logger
	// Version is the version of the running binary; the API does not show
	// it yet (reserved for the dashboard).
	Version string
	// Ready answers /readyz (default Store.Ping).
	Ready func(ctx context.Context) error
	// Metrics, when non-nil, is served at GET /metrics without auth.
	Metrics http.Handler
	// Wake tells the dispatcher that deliveries became due (after retry
	// and replay). Default: nothing.
	Wake func()
}

// Server is the HTTP API. It holds no goroutines of its own.
type Server struct {
	cfg  Config
	log  *slog.Logger
	keys *auth.Keys
}

// New returns a Server for cfg, filling in defaults.
func New(cfg Config) *Server {
	if cfg.Ingest == nil {
		cfg.Ingest = storeIngester{cfg.Store}
	}
	if cfg.MaxPayloadBytes <= 0 {
		cfg.MaxPayloadBytes = DefaultMaxPayloadBytes
	}
	if cfg.MaxBatchBytes <= 0 {
		cfg.MaxBatchBytes = DefaultMaxBatchBytes
	}
	cfg.MaxBatchBytes = max(cfg.MaxBatchBytes, cfg.MaxPayloadBytes+envelopeBytes)
	if cfg.RotationGrace <= 0 {
		cfg.RotationGrace = DefaultRotationGrace
	}
	if cfg.MaxEndpointsPerTenant <= 0 {
		cfg.MaxEndpointsPerTenant = DefaultMaxEndpointsPerTenant
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Alerts == nil {
		cfg.Alerts, _ = cfg.Store.(AlertLister)
	}
	if cfg.Ready == nil {
		cfg.Ready = cfg.Store.Ping
	}
	if cfg.Wake == nil {
		cfg.Wake = func() {}
	}
	if cfg.Keys == nil {
		cfg.Keys = auth.NewKeys(cfg.Store, auth.KeysOptions{AdminHash: cfg.APIKeyHash, Logger: cfg.Logger})
	}
	return &Server{cfg: cfg, log: cfg.Logger, keys: cfg.Keys}
}

// now returns the current time in UTC truncated to microseconds, the
// precision the store keeps.
func (s *Server) now() time.Time {
	return s.cfg.Now().UTC().Truncate(time.Microsecond)
}

// storeIngester ingests straight into the store, one transaction per call.
type storeIngester struct{ store Store }

func (i storeIngester) Submit(ctx context.Context, events []hookd.NewEvent) ([]hookd.IngestResult, error) {
	return i.store.IngestEvents(ctx, events)
}

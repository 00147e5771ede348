package main

import (
	"fmt"
	"log/slog"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/internal/ssrf"
	"github.com/hookd/hookd/ui"
)

// config is the server configuration: the flags of `hookd serve`, each with
// its HOOKD_* environment variable. Validate reports the first bad value.
type config struct {
	Addr                     string        `default:"${default_addr}" help:"Address the HTTP API listens on."`
	DB                       string        `name:"db" default:"${default_db}" help:"Database: sqlite:PATH (embedded, default) or postgres://…"`
	APIKey                   string        `name:"api-key" help:"API key for /v1 (Bearer). Unset: one is generated on first start, stored hashed and printed once."`
	AllowPrivateDestinations bool          `help:"Allow deliveries to loopback, private and link-local addresses (development)."`
	AllowCIDR                []string      `name:"allow-cidr" help:"Allow these private ranges only (comma-separated CIDRs)."`
	RetryBase                time.Duration `default:"${default_retry_base}" help:"Delay after the first failed attempt; doubles per attempt."`
	RetryMaxDelay            time.Duration `default:"${default_retry_max_delay}" help:"Longest delay between two attempts."`
	MaxAttempts              int           `default:"${default_max_attempts}" help:"Attempts before a delivery is dead (endpoints may override)."`
	AttemptTimeout           time.Duration `default:"${default_attempt_timeout}" help:"Timeout of one HTTP attempt."`
	MaxPayloadBytes          int64         `default:"${default_max_payload_bytes}" help:"Largest event payload accepted, in bytes (413 above)."`
	Lease                    time.Duration `help:"How long a claimed delivery is held before another node may take it (0: --attempt-timeout + ${default_lease_margin}). Must exceed --attempt-timeout."`
	ShutdownGrace            time.Duration `default:"${default_shutdown_grace}" help:"How long SIGTERM waits for in-flight attempts."`
	OpsURL                   string        `name:"ops-url" help:"URL that receives operational events (delivery.dead, endpoint.disabled, …)."`
	OpsSecret                string        `name:"ops-secret" help:"whsec_ secret that signs operational events."`
	AlertInterval            time.Duration `default:"${default_alert_interval}" help:"How often success rates are evaluated for alerting (one node at a time); 0 disables alerting."`
	AlertWindow              time.Duration `default:"${default_alert_window}" help:"Window over which alerting computes success rates (at least 1m)."`
	AlertThreshold           float64       `default:"${default_alert_threshold}" help:"Success rate below which an alert fires (alert.firing), 0 < t <= 1."`
	AlertMinAttempts         int64         `default:"${default_alert_min_attempts}" help:"Fewest attempts in the window for an alert to fire."`
	MetricsRefresh           time.Duration `default:"${default_metrics_refresh}" hidden:"" help:"How often the database-wide gauges of /metrics are refreshed."`
	MetricsEndpointLabels    int           `default:"${default_metrics_endpoint_labels}" help:"How many endpoints get their own endpoint label in /metrics; the rest share endpoint=\"other\"."`
	Retention                time.Duration `default:"${default_retention}" help:"Age after which succeeded deliveries and their events are deleted; 0 keeps everything."`
	StatsRetention           time.Duration `default:"${default_stats_retention}" help:"Age after which stats rollups are deleted (0 keeps them); must be longer than --retention, or 0 with --retention 0 (its default then)."`
	AutoReplayInterval       time.Duration `default:"${default_auto_replay_interval}" help:"How often dead letters of recovered endpoints (a later attempt succeeded) are replayed automatically; 0 disables."`
	Workers                  int           `default:"${default_workers}" help:"Concurrent delivery attempts in this process."`
	MaxInFlight              int           `default:"${default_max_in_flight}" help:"Default per-endpoint cap on concurrent attempts."`
	PollInterval             time.Duration `default:"${default_poll_interval}" help:"How often to look for due retries when nothing wakes the dispatcher."`
	RotationGrace            time.Duration `default:"${default_rotation_grace}" help:"How long a rotated-out secret keeps signing."`
	CircuitThreshold         int           `default:"${default_circuit_threshold}" help:"Consecutive failures that open an endpoint's circuit; 0 disables the breaker."`
	CircuitCooldown          time.Duration `default:"${default_circuit_cooldown}" help:"First cool-down of an open circuit; doubles up to ${default_circuit_max_cooldown} (or this cool-down when longer)."`
	MaxEndpointsPerTenant    int           `default:"${default_max_endpoints_per_tenant}" help:"Most endpoints one tenant may have."`
	MaxEndpoints             int           `default:"${default_max_endpoints}" help:"Most endpoints the whole server may have (0: no bound)."`
	APIRateLimit             float64       `name:"api-rate-limit" default:"${default_api_rate_limit}" help:"API requests per second (and burst) of each key without a rate_limit_per_second of its own (0: no limit)."`
	PublicURL                string        `name:"public-url" help:"Scheme and host that portal links point to, e.g. https://hooks.example.com (default: the Host the request came to)."`
	PollOnly                 bool          `help:"Postgres: do not LISTEN for wake-ups, poll only (for pgbouncer transaction pooling)."`
	MaxConnections           int           `name:"max-connections" default:"${default_max_connections}" help:"Most API connections open at once (more wait in the listen backlog); 0 sizes it from the descriptor limit."`
	IngestLease              bool          `name:"ingest-lease" default:"${default_ingest_lease}" negatable:"" help:"Lease the deliveries of an ingest commit to this node's dispatcher in the same transaction when it has room, and hand them over in memory (no claim query); --no-ingest-lease sends everything through the claim path."`
	PprofAddr                string        `name:"pprof-addr" help:"Serve Go profiles (net/http/pprof) on this address, e.g. 127.0.0.1:6060. Off by default."`
	PortalFrameAncestors     string        `name:"portal-frame-ancestors" default:"${default_portal_frame_ancestors}" help:"Origins that may embed the dashboard and customer portal in an iframe (CSP frame-ancestors sources, space-separated, e.g. 'https://app.example.com'); 'none' forbids framing."`
	LogLevel                 string        `default:"${default_log_level}" enum:"debug,info,warn,error" help:"Log level: debug, info, warn, error."`
	LogFormat                string        `default:"${default_log_format}" enum:"text,json" help:"Log format: text or json."`
}

// deriveStatsRetention applies the one default that depends on another
// flag: with --retention 0 (attempts kept forever) and --stats-retention not
// given (flag or HOOKD_STATS_RETENTION), stats are kept forever too rather
// than deleted after the default 90 days. given reports whether a flag was
// set (see flagGiven).
func (c *config) deriveStatsRetention(given func(flag string) bool) {
	if c.Retention == 0 && !given("stats-retention") {
		c.StatsRetention = 0
	}
}

// Validate checks values that the flag types alone cannot.
func (c *config) Validate() error {
	positive := []struct {
		name string
		d    time.Duration
	}{
		{"--retry-base", c.RetryBase}, {"--retry-max-delay", c.RetryMaxDelay},
		{"--attempt-timeout", c.AttemptTimeout}, {"--poll-interval", c.PollInterval},
		{"--circuit-cooldown", c.CircuitCooldown},
	}
	for _, p := range positive {
		if p.d <= 0 {
			return fmt.Errorf("%s must be positive, got %s", p.name, p.d)
		}
	}
	if _, err := ui.ParseFrameAncestors(c.PortalFrameAncestors); err != nil {
		return fmt.Errorf("--portal-frame-ancestors: %w", err)
	}
	switch {
	case c.RetryMaxDelay < c.RetryBase:
		return fmt.Errorf("--retry-max-delay (%s) must not be below --retry-base (%s)", c.RetryMaxDelay, c.RetryBase)
	case c.MaxAttempts < 1 || c.MaxAttempts > 100:
		return fmt.Errorf("--max-attempts must be 1..100, got %d", c.MaxAttempts)
	case c.MaxPayloadBytes < 1 || c.MaxPayloadBytes > 64<<20:
		return fmt.Errorf("--max-payload-bytes must be 1..67108864, got %d", c.MaxPayloadBytes)
	case c.Lease < 0:
		return fmt.Errorf("--lease must not be negative, got %s", c.Lease)
	case c.Lease > 0 && c.Lease <= c.AttemptTimeout:
		return fmt.Errorf("--lease (%s) must exceed --attempt-timeout (%s), or an attempt still running could be sent again by another node", c.Lease, c.AttemptTimeout)
	case c.MaxConnections < 0:
		return fmt.Errorf("--max-connections must not be negative, got %d", c.MaxConnections)
	case c.ShutdownGrace < 0:
		return fmt.Errorf("--shutdown-grace must not be negative, got %s", c.ShutdownGrace)
	case c.AutoReplayInterval < 0:
		return fmt.Errorf("--auto-replay-interval must not be negative, got %s", c.AutoReplayInterval)
	case c.Retention < 0:
		return fmt.Errorf("--retention must not be negative, got %s", c.Retention)
	case c.StatsRetention < 0:
		return fmt.Errorf("--stats-retention must not be negative, got %s", c.StatsRetention)
	case c.StatsRetention > 0 && c.Retention == 0:
		return fmt.Errorf("--stats-retention (%s) must be 0 with --retention 0: attempts kept forever keep their stats too (leave --stats-retention unset, or set it to 0)", c.StatsRetention)
	case c.StatsRetention > 0 && c.StatsRetention <= c.Retention:
		return fmt.Errorf("--stats-retention (%s) must be longer than --retention (%s)", c.StatsRetention, c.Retention)
	case c.Workers < 1:
		return fmt.Errorf("--workers must be at least 1, got %d", c.Workers)
	case c.MaxInFlight < 1:
		return fmt.Errorf("--max-in-flight must be at least 1, got %d", c.MaxInFlight)
	case c.MaxInFlight > c.Workers:
		return fmt.Errorf("--max-in-flight (%d) must not exceed --workers (%d): one endpoint must never hold every worker", c.MaxInFlight, c.Workers)
	case c.CircuitThreshold < 0:
		return fmt.Errorf("--circuit-threshold must not be negative, got %d", c.CircuitThreshold)
	case c.MaxEndpointsPerTenant < 1:
		return fmt.Errorf("--max-endpoints-per-tenant must be at least 1, got %d", c.MaxEndpointsPerTenant)
	case c.MaxEndpoints < 0:
		return fmt.Errorf("--max-endpoints must not be negative, got %d", c.MaxEndpoints)
	case c.APIRateLimit < 0 || c.APIRateLimit > 1e6 || c.APIRateLimit != c.APIRateLimit:
		return fmt.Errorf("--api-rate-limit must be from 0 (off) to 1000000, got %v", c.APIRateLimit)
	case c.RotationGrace < 0:
		return fmt.Errorf("--rotation-grace must not be negative, got %s", c.RotationGrace)
	}
	switch {
	case c.AlertInterval < 0:
		return fmt.Errorf("--alert-interval must not be negative, got %s", c.AlertInterval)
	case c.AlertWindow < time.Minute:
		return fmt.Errorf("--alert-window must be at least 1m (the stats are kept per minute), got %s", c.AlertWindow)
	case c.AlertWindow > 30*24*time.Hour:
		return fmt.Errorf("--alert-window must be at most 720h, got %s", c.AlertWindow)
	case !(c.AlertThreshold > 0 && c.AlertThreshold <= 1):
		return fmt.Errorf("--alert-threshold must be in (0, 1], got %g", c.AlertThreshold)
	case c.AlertMinAttempts < 1:
		return fmt.Errorf("--alert-min-attempts must be at least 1, got %d", c.AlertMinAttempts)
	case c.MetricsRefresh <= 0:
		return fmt.Errorf("--metrics-refresh must be positive, got %s", c.MetricsRefresh)
	case c.MetricsEndpointLabels < 0:
		return fmt.Errorf("--metrics-endpoint-labels must not be negative, got %d", c.MetricsEndpointLabels)
	}
	if c.APIKey != "" && len(c.APIKey) < 16 {
		return fmt.Errorf("--api-key must be at least 16 characters")
	}
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			return fmt.Errorf("--public-url must be an http or https URL without a path, got %q", c.PublicURL)
		}
	}
	if _, _, err := parseDB(c.DB); err != nil {
		return err
	}
	if _, err := c.guard(); err != nil {
		return err
	}
	if c.OpsURL != "" {
		u, err := url.Parse(c.OpsURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("--ops-url must be an http or https URL, got %q", hookd.RedactURL(c.OpsURL))
		}
		if c.OpsSecret == "" {
			return fmt.Errorf("--ops-secret is required with --ops-url")
		}
	}
	if c.OpsSecret != "" {
		if err := hookd.ValidateSecret(c.OpsSecret); err != nil {
			return fmt.Errorf("--ops-secret: %s", strings.TrimPrefix(hookd.ErrorMessage(err), "secret: "))
		}
	}
	return nil
}

// guard returns the SSRF guard the flags describe.
func (c *config) guard() (ssrf.Guard, error) {
	g := ssrf.Guard{AllowPrivate: c.AllowPrivateDestinations}
	for _, s := range c.AllowCIDR {
		p, err := netip.ParsePrefix(strings.TrimSpace(s))
		if err != nil {
			return g, fmt.Errorf("--allow-cidr: %q is not a CIDR range", s)
		}
		g.Allow = append(g.Allow, p)
	}
	return g, nil
}

func (c *config) retryPolicy() hookd.RetryPolicy {
	return hookd.RetryPolicy{Base: c.RetryBase, MaxDelay: c.RetryMaxDelay, MaxAttempts: c.MaxAttempts}
}

// circuitPolicy is the breaker the flags describe: --circuit-threshold 0
// disables it, as a zero hookd.CircuitPolicy.Threshold does everywhere; the
// cool-down grows up to the dispatcher's default maximum.
func (c *config) circuitPolicy() hookd.CircuitPolicy {
	return hookd.CircuitPolicy{Threshold: c.CircuitThreshold, Cooldown: c.CircuitCooldown}
}

// logger builds the slog logger the flags describe, writing to stderr.
func (c *config) logger() *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}

// parseDB splits --db into a driver ("sqlite" or "postgres") and its
// connection string: sqlite:PATH, or a postgres:// / postgresql:// URL.
func parseDB(dsn string) (driver, conn string, err error) {
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return "postgres", dsn, nil
	case strings.HasPrefix(dsn, "sqlite:"):
		path := strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite:"), "//")
		if path == "" {
			return "", "", fmt.Errorf("--db %q: sqlite needs a file path, e.g. sqlite:hookd.db", dsn)
		}
		return "sqlite", path, nil
	}
	return "", "", fmt.Errorf("--db %q: must start with sqlite: or postgres://", dsn)
}

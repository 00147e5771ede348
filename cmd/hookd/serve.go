package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/alecthomas/kong"
	"github.com/hookd/hookd"
	"github.com/hookd/hookd/api"
	"github.com/hookd/hookd/auth"
	"github.com/hookd/hookd/dispatch"
	"github.com/hookd/hookd/ingest"
	"github.com/hookd/hookd/metrics"
	"github.com/hookd/hookd/ops"
	"github.com/hookd/hookd/scheduler"
	"github.com/hookd/hookd/ui"
)

// serveCmd is `hookd serve`.
type serveCmd struct {
	config   `embed:""`
	devFlags `embed:""`
}

// Validate is kong's check of `hookd serve` after parsing: it derives the
// defaults that depend on other flags (deriveStatsRetention), then checks
// the configuration. It hides config.Validate, which kong calls again on
// the embedded config afterwards, on the derived values.
func (s *serveCmd) Validate(k *kong.Context) error {
	s.deriveStatsRetention(flagGiven(k))
	return s.config.Validate()
}

func (s *serveCmd) Run(ctx context.Context, stdout io.Writer, k *kong.Context) error {
	if err := applyDev(&s.config, s.devFlags, flagGiven(k), stdout); err != nil {
		return &usageError{err.Error()}
	}
	if err := s.config.Validate(); err != nil {
		return &usageError{err.Error()}
	}
	srv, err := newServer(ctx, s.config, stdout)
	if err != nil {
		return err
	}
	if s.Dev {
		srv.log.Warn("development mode: private destinations allowed, public API key, short retries; never use --dev in production",
			"retry_base", s.config.RetryBase, "max_attempts", s.config.MaxAttempts)
	}
	return srv.Run(ctx)
}

// server is one running hookd node: the store and the long-running parts
// (hookd.Service) that parts lists. newServer opens the store and the
// listeners; Run starts the parts and serves until ctx ends, then shutdown
// stops them in the reverse order and closes the store.
type server struct {
	cfg        config
	log        *slog.Logger
	store      hookd.Store
	committer  *ingest.Committer
	dispatcher *dispatch.Dispatcher
	ops        *ops.Emitter
	metrics    *metrics.Metrics
	gauges     *metrics.Refresher
	scheduler  *scheduler.Scheduler
	keys       *auth.Keys
	portal     *auth.Portal
	http       *httpPart
	pprof      *httpPart // nil without --pprof-addr
}

// part is a named long-running part of the node.
type part struct {
	name string
	svc  hookd.Service
	stop stopStep // which share of --shutdown-grace its Stop gets
}

// parts lists the long-running parts in the order Run starts them; shutdown
// stops them in the reverse order, so the node shuts down as follows:
//  1. http: stop accepting requests, finish the ones in progress (their
//     ingest commits complete, so every 202 stays true);
//  2. ingest: the group committer commits what is queued;
//  3. dispatcher: no new claims, in-flight attempts finish within
//     --shutdown-grace and are recorded, unstarted claims are released; an
//     attempt the grace cuts is released for redelivery (one warning line
//     gives the count; it is not an error);
//  4. scheduler: its periodic jobs end;
//  5. metrics: the gauge refresh ends;
//  6. pprof (with --pprof-addr), so profiles cover the whole shutdown;
//
// and then the store closes (operational events are stored deliveries, so
// none is lost). Each step has a deadline of its own inside the grace (see
// stopStep). A new long-running part is added here, at the place its
// dependencies give it.
func (s *server) parts() []part {
	var ps []part
	if s.pprof != nil {
		ps = append(ps, part{"pprof", s.pprof, stopTail})
	}
	return append(ps,
		part{"metrics", s.gauges, stopTail},
		part{"scheduler", s.scheduler, stopTail},
		part{"dispatcher", s.dispatcher, stopDrain},
		part{"ingest", s.committer, stopDrain},
		part{"http", s.http, stopRequests},
	)
}

func newServer(ctx context.Context, cfg config, stdout io.Writer) (_ *server, err error) {
	log := cfg.logger()
	s := &server{cfg: cfg, log: log}
	s.store, err = openStore(ctx, &cfg, log)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			s.store.Close()
		}
	}()
	keyHash, err := apiKeyHash(ctx, s.store, cfg.APIKey, stdout)
	if err != nil {
		return nil, err
	}
	if cfg.APIKey == "" {
		log.Info("api key: the one generated on the first start (stored hashed); --api-key or HOOKD_API_KEY sets your own")
	}
	guard, _ := cfg.guard()
	host, _ := os.Hostname()
	owner := fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hookd.NewID("", time.Now())[20:])
	watchCircuits(s.store, log)
	s.metrics = metrics.New(cfg.MetricsEndpointLabels, ops.Types...)
	s.gauges = s.metrics.NewRefresher(s.store, metrics.RefresherConfig{Interval: cfg.MetricsRefresh, Logger: log})
	// Operational events go through the pipeline: the system tenant's
	// endpoint follows --ops-url before anything can emit one.
	if err := ops.SyncEndpoint(ctx, s.store, cfg.OpsURL, cfg.OpsSecret, time.Now()); err != nil {
		return nil, err
	}
	s.ops = ops.New(cfg.OpsURL != "", log, nil)
	s.ops.OnCommitted = s.metrics.Operational

	s.dispatcher = dispatch.New(s.store, dispatch.Config{
		Owner:              owner,
		Workers:            cfg.Workers,
		DefaultMaxInFlight: cfg.MaxInFlight,
		AttemptTimeout:     cfg.AttemptTimeout,
		Lease:              cfg.Lease,
		PollInterval:       cfg.PollInterval,
		Retry:              cfg.retryPolicy(),
		Circuit:            cfg.circuitPolicy(),
		Guard:              guard,
		UserAgent:          "hookd/" + version,
		Logger:             log,
		Notice:             s.notice,
		OnEvent:            s.opEvent,
		OnAttempt:          s.metrics.Attempt,
	})
	var jobs []scheduler.Job
	if cfg.AlertInterval > 0 {
		jobs = append(jobs, scheduler.Alerts(s.store, s.alertTotals(), s.ops, scheduler.AlertConfig{
			Every: cfg.AlertInterval, Window: cfg.AlertWindow, Threshold: cfg.AlertThreshold,
			MinAttempts: cfg.AlertMinAttempts, Log: log,
		}))
	}
	if cfg.Retention > 0 {
		jobs = append(jobs, scheduler.Retention(s.store, cfg.Retention, scheduler.DefaultRetentionInterval, scheduler.DefaultRetentionBatch, nil, log))
	}
	if cfg.StatsRetention > 0 {
		jobs = append(jobs, scheduler.StatsRetention(s.store, cfg.StatsRetention, time.Minute, 5000, nil, log))
	}
	// Stats over long windows read the hour rows this job derives from the
	// minute rows (per endpoint, then per tenant and overall), off the
	// delivery path.
	jobs = append(jobs, scheduler.StatsRollup(s.store, scheduler.DefaultStatsRollupInterval, scheduler.DefaultStatsRollupRedo, nil, log))
	if cfg.AutoReplayInterval > 0 {
		jobs = append(jobs, scheduler.AutoReplay(s.store, cfg.AutoReplayInterval, nil, s.ops, s.dispatcher.Wake))
	}
	s.scheduler = scheduler.New(s.store, scheduler.Config{Owner: owner, Jobs: jobs, Logger: log})
	icfg := ingest.Config{OnCommit: s.dispatcher.Wake}
	if cfg.IngestLease {
		icfg.Dispatcher = s.dispatcher
	}
	s.committer = ingest.New(s.store, icfg)
	s.keys = auth.NewKeys(s.store, auth.KeysOptions{AdminHash: keyHash, Logger: log})
	if s.portal, err = auth.NewPortal(ctx, s.store, auth.PortalOptions{}); err != nil {
		return nil, err
	}
	var shared auth.TokenStore
	if ex, ok := s.store.(hookd.Exclusive); !ok || !ex.Exclusive() {
		shared = s.store // several nodes: the buckets live in the store
	}
	// The dashboard sends its changes through the API in process, and the
	// API serves the dashboard at /ui/ (next to the portal link exchange).
	var inProcess http.Handler
	frame, _ := ui.ParseFrameAncestors(cfg.PortalFrameAncestors) // checked by Validate
	dash := ui.New(ui.Config{
		Store:          s.store,
		API:            http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { inProcess.ServeHTTP(w, r) }),
		Keys:           s.keys,
		Portal:         s.portal,
		Stats:          ui.StoreStats(s.store),
		FrameAncestors: frame,
		Logger:         log,
		Version:        version,
	})
	a := api.New(api.Config{
		Keys:                  s.keys,
		Portal:                s.portal,
		Limiter:               auth.NewLimiter(auth.LimiterOptions{Default: cfg.APIRateLimit, Shared: shared, Logger: log}),
		MaxEndpoints:          cfg.MaxEndpoints,
		PublicURL:             strings.TrimSuffix(cfg.PublicURL, "/"),
		Store:                 s.store,
		Ingest:                s.metrics.CountIngest(s.committer),
		Metrics:               s.metrics.Handler(),
		APIKeyHash:            keyHash,
		MaxPayloadBytes:       cfg.MaxPayloadBytes,
		Guard:                 guard,
		RotationGrace:         cfg.RotationGrace,
		MaxEndpointsPerTenant: cfg.MaxEndpointsPerTenant,
		Logger:                log,
		Version:               version,
		Wake:                  s.dispatcher.Wake,
		UI:                    dash.Handler(),
	})
	inProcess = a.InProcess()
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", cfg.Addr, err)
	}
	maxConns := cfg.MaxConnections
	if maxConns == 0 {
		maxConns = defaultMaxConnections()
	}
	ln = newLimitListener(ln, maxConns)
	s.http = newHTTPPart(&http.Server{
		Handler:           a.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}, ln)
	if cfg.PprofAddr != "" {
		if s.pprof, err = newPprof(cfg.PprofAddr); err != nil {
			ln.Close()
			return nil, err
		}
	}
	return s, nil
}

// Addr is the address the API listens on (useful with --addr 127.0.0.1:0).
func (s *server) Addr() string { return s.http.ln.Addr().String() }

// Run starts the parts, serves until ctx ends and then shuts down (see
// parts). It returns nil after a clean shutdown.
func (s *server) Run(ctx context.Context) error {
	// The parts run until shutdown, not until ctx ends.
	startCtx := context.WithoutCancel(ctx)
	for _, p := range s.parts() {
		if err := p.svc.Start(startCtx); err != nil {
			return errors.Join(fmt.Errorf("%s start: %w", p.name, err), s.shutdown())
		}
	}
	s.log.Info("hookd serving", "addr", s.Addr(), "db", redactDB(s.cfg.DB), "version", version)
	if s.pprof != nil {
		s.log.Info("pprof serving", "addr", s.pprof.ln.Addr().String())
	}

	var err error
	select {
	case <-ctx.Done():
		s.log.Info("shutting down", "grace", s.cfg.ShutdownGrace)
	case err = <-s.http.failed:
		s.log.Error("http server failed", "err", err)
	}
	return errors.Join(err, s.shutdown())
}

// shutdown stops the parts in the reverse order of parts, within
// --shutdown-grace, and then closes the store. Every part is stopped, also
// one that never started (Stop is safe then), each with its own deadline
// (stopStep.deadline): a step that uses its whole share leaves the steps
// after it theirs.
func (s *server) shutdown() error {
	start := time.Now()
	var errs []error
	parts := s.parts()
	for i := len(parts) - 1; i >= 0; i-- {
		ctx, cancel := context.WithDeadline(context.Background(), parts[i].stop.deadline(start, s.cfg.ShutdownGrace))
		err := parts[i].svc.Stop(ctx)
		cancel()
		if err != nil {
			errs = append(errs, fmt.Errorf("%s stop: %w", parts[i].name, err))
		}
	}
	if err := s.store.Close(); err != nil {
		errs = append(errs, fmt.Errorf("store close: %w", err))
	}
	if len(errs) == 0 {
		s.log.Info("shutdown complete", "took", time.Since(start).Round(time.Millisecond))
	}
	return errors.Join(errs...)
}

// notice builds the durable operational event of a dead delivery or a
// disabled endpoint, stored with the completion (dispatch.Config.Notice).
func (s *server) notice(e dispatch.OpEvent) *hookd.NewEvent {
	return s.ops.Event(e.Type, opData(e))
}

// opEvent logs (once) and counts the dispatcher's operational events after
// their completion committed.
func (s *server) opEvent(e dispatch.OpEvent, stored *hookd.NewEvent) {
	s.ops.Committed(e.Type, opData(e), stored)
}

// opData is the data of a delivery.dead or endpoint.disabled event.
func opData(e dispatch.OpEvent) map[string]any {
	data := map[string]any{"endpoint_id": e.EndpointID, "endpoint_url": e.EndpointURL, "tenant_id": e.TenantID,
		"at": ops.Time(e.At)}
	switch e.Type {
	case dispatch.EventDeliveryDead:
		data["delivery_id"], data["event_id"], data["event_type"] = e.DeliveryID, e.EventID, e.EventType
		data["attempts"], data["last_status_code"], data["last_error"] = e.Attempts, e.StatusCode, e.Error
	case dispatch.EventEndpointDisabled:
		data["reason"] = e.Reason
		data["delivery_id"], data["last_status_code"] = e.DeliveryID, e.StatusCode
	}
	return data
}

// redactDB hides a password in a database URL for logging.
func redactDB(dsn string) string {
	if driver, _, err := parseDB(dsn); err == nil && driver == "postgres" {
		if u, err := url.Parse(dsn); err == nil {
			return u.Redacted()
		}
	}
	return dsn
}

// alertTotals reads the alert window's attempts per endpoint from the
// stats rollups (Store.StatsByEndpoint: whole minutes, the current one
// included).
func (s *server) alertTotals() scheduler.TotalsFunc {
	return func(ctx context.Context, since, until time.Time) ([]scheduler.EndpointTotals, error) {
		ts, err := s.store.StatsByEndpoint(ctx, since, until)
		if err != nil {
			return nil, err
		}
		out := make([]scheduler.EndpointTotals, len(ts))
		for i, t := range ts {
			out[i] = scheduler.EndpointTotals{EndpointID: t.EndpointID, TenantID: t.TenantID, Attempts: t.Attempts, Succeeded: t.Succeeded}
		}
		return out, nil
	}
}

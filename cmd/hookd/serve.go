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

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/api"
	"github.com/hookd/hookd/auth"
	"github.com/hookd/hookd/dispatch"
	"github.com/hookd/hookd/ingest"
	"github.com/hookd/hookd/metrics"
	"github.com/hookd/hookd/ops"
	"github.com/hookd/hookd/scheduler"
)

// serveCmd is `hookd serve`.
type serveCmd struct {
	config `embed:""`
}

func (s *serveCmd) Run(ctx context.Context, stdout io.Writer) error {
	if err := s.config.Validate(); err != nil {
		return err
	}
	srv, err := newServer(ctx, s.config, stdout)
	if err != nil {
		return err
	}
	return srv.Run(ctx)
}

// server is one running hookd node: store, group committer, dispatcher and
// HTTP API. newServer opens and listens; Run serves until ctx ends and then
// shuts down in this order:
//  1. stop accepting HTTP requests, finish the ones in progress (their ingest
//     commits complete, so every 202 stays true);
//  2. stop the group committer;
//  3. stop the dispatcher: no new claims, in-flight attempts finish within
//     --shutdown-grace and are recorded, unstarted claims are released;
//  4. stop the scheduler's periodic jobs;
//  5. close the store.
type server struct {
	cfg        config
	log        *slog.Logger
	store      hookd.Store
	committer  *ingest.Committer
	dispatcher *dispatch.Dispatcher
	ops        *ops.Emitter
	metrics    *metrics.Metrics
	scheduler  *scheduler.Scheduler
	keys       *auth.Keys
	portal     *auth.Portal
	http       *http.Server
	ln         net.Listener
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
	guard, _ := cfg.guard()
	host, _ := os.Hostname()
	owner := fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hookd.NewID("", time.Now())[20:])
	s.metrics = metrics.New()
	// Operational events go through the pipeline: the system tenant's
	// endpoint follows --ops-url before anything can emit one.
	if err := ops.SyncEndpoint(ctx, s.store, cfg.OpsURL, cfg.OpsSecret, time.Now()); err != nil {
		return nil, err
	}
	s.ops = ops.New(s.store, cfg.OpsURL != "", log, nil)
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
	s.ops.Wake = s.dispatcher.Wake
	var jobs []scheduler.Job
	if cfg.Retention > 0 {
		jobs = append(jobs, scheduler.Retention(s.store, cfg.Retention, time.Minute, 1000, nil, log))
	}
	if cfg.AutoReplayInterval > 0 {
		jobs = append(jobs, scheduler.AutoReplay(s.store, cfg.AutoReplayInterval, nil, s.recovered, s.dispatcher.Wake))
	}
	s.scheduler = scheduler.New(s.store, owner, log, nil, jobs...)
	s.committer = ingest.New(s.store, ingest.Options{OnCommit: s.dispatcher.Wake})
	s.keys = auth.NewKeys(s.store, auth.KeysOptions{AdminHash: keyHash, Logger: log})
	if s.portal, err = auth.NewPortal(ctx, s.store, auth.PortalOptions{}); err != nil {
		return nil, err
	}
	var shared auth.TokenStore
	if ex, ok := s.store.(hookd.Exclusive); !ok || !ex.Exclusive() {
		shared = s.store // several nodes: the buckets live in the store
	}
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
	})
	s.ln, err = net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", cfg.Addr, err)
	}
	s.http = &http.Server{
		Handler:           a.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	return s, nil
}

// Addr is the address the API listens on (useful with --addr 127.0.0.1:0).
func (s *server) Addr() string { return s.ln.Addr().String() }

// Run serves until ctx ends, then shuts down (see server). It returns nil
// after a clean shutdown.
func (s *server) Run(ctx context.Context) error {
	if err := s.committer.Start(ctx); err != nil {
		return err
	}
	if err := s.dispatcher.Start(context.WithoutCancel(ctx)); err != nil {
		return err
	}
	if err := s.scheduler.Start(ctx); err != nil {
		return err
	}
	if s.cfg.PprofAddr != "" {
		stopPprof, err := servePprof(s.cfg.PprofAddr, s.log)
		if err != nil {
			return err
		}
		defer stopPprof()
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- s.http.Serve(s.ln) }()
	s.log.Info("hookd serving", "addr", s.Addr(), "db", redactDB(s.cfg.DB), "version", version)

	var err error
	select {
	case <-ctx.Done():
		s.log.Info("shutting down", "grace", s.cfg.ShutdownGrace)
	case err = <-serveErr:
		s.log.Error("http server failed", "err", err)
	}
	return errors.Join(err, s.shutdown())
}

func (s *server) shutdown() error {
	grace, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownGrace)
	defer cancel()
	var errs []error
	if err := s.http.Shutdown(grace); err != nil {
		errs = append(errs, fmt.Errorf("http shutdown: %w", err))
	}
	if err := s.committer.Stop(grace); err != nil {
		errs = append(errs, fmt.Errorf("ingest stop: %w", err))
	}
	if err := s.dispatcher.Stop(grace); err != nil {
		errs = append(errs, fmt.Errorf("dispatcher stop: %w", err))
	}
	if err := s.scheduler.Stop(grace); err != nil {
		errs = append(errs, fmt.Errorf("scheduler stop: %w", err))
	}
	if err := s.store.Close(); err != nil {
		errs = append(errs, fmt.Errorf("store close: %w", err))
	}
	if len(errs) == 0 {
		s.log.Info("shutdown complete")
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

// recovered reports an endpoint whose dead letters were replayed because
// it works again (endpoint.recovered). The replay has committed already;
// the event is stored right after it, retried for up to a minute while the
// store fails.
func (s *server) recovered(endpointID string, replayed int) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	data := map[string]any{"endpoint_id": endpointID, "replayed": replayed, "at": ops.Time(time.Now())}
	if e, err := s.store.GetEndpoint(ctx, endpointID); err == nil {
		data["tenant_id"], data["endpoint_url"] = e.TenantID, e.URL
	}
	_ = s.ops.Emit(ctx, ops.EndpointRecovered, data)
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

package metrics

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/hookd/hookd"
	"github.com/prometheus/client_golang/prometheus"
)

// Defaults of the health gauges.
const (
	// DefaultEndpointLabels is the default of --metrics-endpoint-labels:
	// how many endpoints get their own endpoint label; the others share
	// endpoint="other".
	DefaultEndpointLabels = 50
	// DefaultRefreshInterval is how often the database-wide gauges are
	// read from the store.
	DefaultRefreshInterval = 15 * time.Second
)

// OtherEndpoint is the endpoint label of the endpoints past the bound.
const OtherEndpoint = "other"

// Source is what the gauges are refreshed from (hookd.Store).
type Source interface {
	DeliveryCounts(ctx context.Context, tenantID *string) ([]hookd.EndpointDeliveryCounts, error)
	ListEndpoints(ctx context.Context, tenantID *string, page hookd.Page) ([]*hookd.Endpoint, string, error)
	ListAlerts(ctx context.Context) ([]hookd.Alert, error)
}

// health holds the gauges refreshed from the store and the per-endpoint
// label bound.
type health struct {
	pending, dead, circuitsOpen prometheus.Gauge
	alertsFiring                *prometheus.GaugeVec
	epPending, epDead           *prometheus.GaugeVec
	epCircuitOpen, epAlert      *prometheus.GaugeVec
	epAttempts                  *prometheus.CounterVec

	mu     sync.RWMutex
	limit  int
	labels map[string]bool // endpoint ids with their own label
}

func newHealth(reg *prometheus.Registry, limit int) *health {
	h := &health{limit: limit, labels: map[string]bool{}}
	gauge := func(name, help string) prometheus.Gauge {
		return prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help})
	}
	h.pending = gauge("hookd_deliveries_pending", "Deliveries waiting to be delivered (database-wide; refreshed every 15 s).")
	h.dead = gauge("hookd_deliveries_dead", "Dead deliveries waiting for a replay (database-wide; refreshed every 15 s).")
	h.circuitsOpen = gauge("hookd_circuits_open", "Endpoints whose circuit breaker is open or half open.")
	h.alertsFiring = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "hookd_alerts_firing",
		Help: "Success-rate alerts firing now (hookd's own alerting), by scope (endpoint, overall)."}, []string{"scope"})
	epGauge := func(name, help string) *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, []string{"endpoint"})
	}
	h.epPending = epGauge("hookd_endpoint_deliveries_pending", `Pending deliveries per endpoint (endpoint="other": the endpoints past --metrics-endpoint-labels).`)
	h.epDead = epGauge("hookd_endpoint_deliveries_dead", `Dead deliveries per endpoint (endpoint="other": the endpoints past --metrics-endpoint-labels).`)
	h.epCircuitOpen = epGauge("hookd_endpoint_circuit_open", `1 while the endpoint's circuit is open or half open (endpoint="other": how many such endpoints).`)
	h.epAlert = epGauge("hookd_endpoint_alert_firing", `1 while a success-rate alert fires for the endpoint (endpoint="other": how many).`)
	h.epAttempts = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hookd_endpoint_attempts_total",
		Help: `Delivery attempts per endpoint and outcome (endpoint="other": the endpoints past --metrics-endpoint-labels).`},
		[]string{"endpoint", "outcome"})
	for _, scope := range []string{hookd.AlertScopeEndpoint, hookd.AlertScopeOverall} {
		h.alertsFiring.WithLabelValues(scope)
	}
	h.startLabel(OtherEndpoint)
	reg.MustRegister(h.pending, h.dead, h.circuitsOpen, h.alertsFiring, h.epPending, h.epDead,
		h.epCircuitOpen, h.epAlert, h.epAttempts)
	return h
}

// outcomes are the values of the outcome label.
var outcomes = []hookd.Outcome{hookd.OutcomeSucceeded, hookd.OutcomeRetry, hookd.OutcomeDead, hookd.OutcomeGone}

// startLabel makes the series of a new endpoint label exist at zero.
func (h *health) startLabel(label string) {
	for _, o := range outcomes {
		h.epAttempts.WithLabelValues(label, o.String())
	}
	for _, g := range []*prometheus.GaugeVec{h.epPending, h.epDead, h.epCircuitOpen, h.epAlert} {
		g.WithLabelValues(label)
	}
}

// label returns the endpoint label of endpoint id.
func (h *health) label(id string) string {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if h.labels[id] {
		return id
	}
	return OtherEndpoint
}

// assign gives their own label to endpoints (oldest first, the system
// tenant's endpoint before all) while fewer than the limit have one. A
// label once given is kept for the life of the process, so its counters
// never move between series; an endpoint created after the bound is full
// stays under "other".
func (h *health) assign(eps []*hookd.Endpoint) {
	ids := make([]string, 0, len(eps))
	for _, e := range eps {
		ids = append(ids, e.ID)
	}
	slices.SortFunc(ids, func(a, b string) int {
		switch {
		case a == b:
			return 0
		case a == hookd.OpsEndpointID:
			return -1
		case b == hookd.OpsEndpointID:
			return 1
		case a < b:
			return -1
		}
		return 1
	})
	h.mu.Lock()
	var added []string
	for _, id := range ids {
		if len(h.labels) >= h.limit {
			break
		}
		if !h.labels[id] {
			h.labels[id] = true
			added = append(added, id)
		}
	}
	h.mu.Unlock()
	for _, id := range added {
		h.startLabel(id)
	}
}

// refresh reads the database-wide figures from src and sets the gauges.
// It costs one listing of the endpoints, one grouped count of the pending
// and dead deliveries (Store.DeliveryCounts: it reads only those rows, never
// the succeeded bulk of the table), and one read of the firing alerts.
func (h *health) refresh(ctx context.Context, src Source, now time.Time) error {
	var eps []*hookd.Endpoint
	page := hookd.Page{Limit: hookd.MaxPageLimit}
	for {
		list, next, err := src.ListEndpoints(ctx, nil, page)
		if err != nil {
			return err
		}
		eps = append(eps, list...)
		if next == "" {
			break
		}
		page.Cursor = next
	}
	counts, err := src.DeliveryCounts(ctx, nil)
	if err != nil {
		return err
	}
	alerts, err := src.ListAlerts(ctx)
	if err != nil {
		return err
	}
	h.assign(eps)

	type fig struct{ pending, dead, open, alert float64 }
	by := map[string]*fig{}
	get := func(id string) *fig {
		l := h.label(id)
		f := by[l]
		if f == nil {
			f = &fig{}
			by[l] = f
		}
		return f
	}
	var pending, dead, open float64
	for _, c := range counts {
		f := get(c.EndpointID)
		f.pending += float64(c.Pending)
		f.dead += float64(c.Dead)
		pending += float64(c.Pending)
		dead += float64(c.Dead)
	}
	for _, e := range eps {
		if e.Circuit.State == hookd.CircuitOpen || e.Circuit.State == hookd.CircuitHalfOpen {
			get(e.ID).open++
			open++
		} else {
			get(e.ID)
		}
	}
	scopes := map[string]float64{}
	for _, a := range alerts {
		scopes[a.Scope]++
		if a.Scope == hookd.AlertScopeEndpoint {
			get(a.EndpointID).alert++
		}
	}
	h.pending.Set(pending)
	h.dead.Set(dead)
	h.circuitsOpen.Set(open)
	for _, scope := range []string{hookd.AlertScopeEndpoint, hookd.AlertScopeOverall} {
		h.alertsFiring.WithLabelValues(scope).Set(scopes[scope])
	}
	h.mu.RLock()
	labels := append([]string{OtherEndpoint}, mapKeys(h.labels)...)
	h.mu.RUnlock()
	for _, l := range labels {
		f := by[l]
		if f == nil {
			f = &fig{}
		}
		h.epPending.WithLabelValues(l).Set(f.pending)
		h.epDead.WithLabelValues(l).Set(f.dead)
		h.epCircuitOpen.WithLabelValues(l).Set(f.open)
		h.epAlert.WithLabelValues(l).Set(f.alert)
	}
	return nil
}

func mapKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// Refresher refreshes the health gauges from the store every interval on
// this node (each node serves its own /metrics). Start it with Start, end
// it with Stop.
type Refresher struct {
	m        *Metrics
	src      Source
	interval time.Duration
	log      *slog.Logger

	mu      sync.Mutex
	cancel  context.CancelFunc
	done    chan struct{}
	stopped bool // Stop was called: Start refuses

	// failed counts the refreshes that failed in a row (the loop's own
	// state): only the first of an outage is logged (warn), and the one that
	// succeeds after it (info), not every tick.
	failed int
	// failedSince is when the first of them failed.
	failedSince time.Time
}

// RefresherConfig configures a Refresher. The zero value is ready to use.
type RefresherConfig struct {
	// Interval between two refreshes; DefaultRefreshInterval when 0 or
	// less.
	Interval time.Duration
	// Logger receives a warning per outage of the source and a line when
	// it recovers; slog.Default() when nil.
	Logger *slog.Logger
}

// NewRefresher returns a Refresher of m's gauges from src (a long-running
// part: see hookd.Service).
func (m *Metrics) NewRefresher(src Source, cfg RefresherConfig) *Refresher {
	interval, log := cfg.Interval, cfg.Logger
	if interval <= 0 {
		interval = DefaultRefreshInterval
	}
	if log == nil {
		log = slog.Default()
	}
	return &Refresher{m: m, src: src, interval: interval, log: log.With("component", "metrics")}
}

// Refresh reads the gauges now.
func (r *Refresher) Refresh(ctx context.Context) error {
	return r.m.health.refresh(ctx, r.src, time.Now())
}

// Start refreshes at once and then every interval, until Stop. It returns
// an error when called twice or after Stop.
func (r *Refresher) Start(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped {
		return errors.New("metrics refresher: stopped")
	}
	if r.cancel != nil {
		return errors.New("metrics refresher: already started")
	}
	ctx, r.cancel = context.WithCancel(context.WithoutCancel(ctx))
	r.done = make(chan struct{})
	go func() {
		defer close(r.done)
		t := time.NewTicker(r.interval)
		defer t.Stop()
		for {
			rctx, cancel := context.WithTimeout(ctx, r.interval)
			err := r.Refresh(rctx)
			cancel()
			if ctx.Err() == nil {
				r.note(err)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return nil
}

// note logs a refresh's outcome once per outage: a warning at the first
// failure after a success (or the start), an info line with the count and
// the duration at the first success after failures, nothing otherwise.
func (r *Refresher) note(err error) {
	switch {
	case err != nil && r.failed == 0:
		r.failed, r.failedSince = 1, time.Now()
		r.log.Warn("refresh gauges failed; the gauges keep their last values, and further failures are not logged until a refresh succeeds",
			"err", err)
	case err != nil:
		r.failed++
	case r.failed > 0:
		r.log.Info("refresh gauges recovered", "failed_refreshes", r.failed,
			"after", time.Since(r.failedSince).Round(time.Millisecond))
		r.failed = 0
	}
}

// Stop ends the refresh loop; it is safe before Start (the Refresher can
// then no longer start) and twice.
func (r *Refresher) Stop(ctx context.Context) error {
	r.mu.Lock()
	r.stopped = true
	cancel, done := r.cancel, r.done
	r.mu.Unlock()
	if cancel == nil {
		return nil
	}
	cancel()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

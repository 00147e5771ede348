// Package metrics exposes hookd's Prometheus metrics (prefix hookd_): events
// ingested, attempts by outcome and status class, attempt latency, delivery
// latency (event created → success), operational events, and the health
// gauges refreshed from the store (pending and dead deliveries, open
// circuits, firing alerts, per endpoint under a bounded endpoint label).
// It must not import sqlite, postgres, dispatch or api: it refreshes its
// gauges from a Source (hookd.Store), and cmd/hookd connects its counters
// to dispatch.Config.OnAttempt and the API's Ingester.
package metrics

import (
	"context"
	"net/http"
	"strconv"

	"github.com/hookd/hookd"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds the collectors of one hookd process on its own registry.
type Metrics struct {
	reg              *prometheus.Registry
	eventsIngested   *prometheus.CounterVec
	attempts         *prometheus.CounterVec
	attemptSeconds   prometheus.Histogram
	deliverySeconds  prometheus.Histogram
	operationalTotal *prometheus.CounterVec
	health           *health
}

// New registers hookd's collectors, plus the Go runtime and process ones.
// endpointLabels bounds the endpoint label of the per-endpoint series
// (DefaultEndpointLabels when < 0; 0 puts every endpoint under "other").
// Every labelled counter exists at zero from the start for its known label
// values.
func New(endpointLabels int, operationalTypes ...string) *Metrics {
	if endpointLabels < 0 {
		endpointLabels = DefaultEndpointLabels
	}
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.eventsIngested = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "hookd_events_ingested_total",
		Help: "Events accepted by POST /v1/events and /v1/events/batch (duplicate idempotency keys counted as duplicate).",
	}, []string{"result"})
	m.attempts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "hookd_attempts_total",
		Help: "HTTP delivery attempts by outcome (succeeded, retry, dead, gone) and status class (2xx … 5xx, none).",
	}, []string{"outcome", "status_class"})
	m.attemptSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "hookd_attempt_duration_seconds",
		Help:    "Duration of one HTTP delivery attempt.",
		Buckets: prometheus.ExponentialBuckets(0.001, 2, 15),
	})
	m.deliverySeconds = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "hookd_delivery_latency_seconds",
		Help:    "Time from event creation to its successful delivery, retries included.",
		Buckets: prometheus.ExponentialBuckets(0.001, 2, 24),
	})
	m.operationalTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "hookd_operational_events_total",
		Help: "Operational events (delivery.dead, endpoint.disabled, …) by type.",
	}, []string{"type"})
	m.reg.MustRegister(m.eventsIngested, m.attempts, m.attemptSeconds, m.deliverySeconds, m.operationalTotal,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, r := range []string{"accepted", "duplicate"} {
		m.eventsIngested.WithLabelValues(r)
	}
	for _, o := range outcomes {
		for _, c := range statusClasses {
			m.attempts.WithLabelValues(o.String(), c)
		}
	}
	for _, typ := range operationalTypes {
		m.operationalTotal.WithLabelValues(typ)
	}
	m.health = newHealth(m.reg, endpointLabels)
	return m
}

// statusClasses are the values of the status_class label.
var statusClasses = []string{"1xx", "2xx", "3xx", "4xx", "5xx", "none"}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// Attempt records one finished attempt (dispatch.Config.OnAttempt).
func (m *Metrics) Attempt(a hookd.AttemptInfo) {
	m.attempts.WithLabelValues(a.Outcome.String(), statusClass(a.StatusCode)).Inc()
	m.health.epAttempts.WithLabelValues(m.health.label(a.EndpointID), a.Outcome.String()).Inc()
	m.attemptSeconds.Observe(a.Latency.Seconds())
	if a.Outcome == hookd.OutcomeSucceeded && a.DeliveryDelay > 0 {
		m.deliverySeconds.Observe(a.DeliveryDelay.Seconds())
	}
}

// Operational counts one operational event by type.
func (m *Metrics) Operational(typ string) {
	m.operationalTotal.WithLabelValues(typ).Inc()
}

// Ingester is what package api calls to commit events.
type Ingester interface {
	Submit(ctx context.Context, events []hookd.NewEvent) ([]hookd.IngestResult, error)
}

// CountIngest wraps next so that every committed event is counted.
func (m *Metrics) CountIngest(next Ingester) Ingester {
	return countingIngester{next: next, m: m}
}

type countingIngester struct {
	next Ingester
	m    *Metrics
}

func (c countingIngester) Submit(ctx context.Context, events []hookd.NewEvent) ([]hookd.IngestResult, error) {
	res, err := c.next.Submit(ctx, events)
	if err == nil {
		for _, r := range res {
			if r.Duplicate {
				c.m.eventsIngested.WithLabelValues("duplicate").Inc()
			} else {
				c.m.eventsIngested.WithLabelValues("accepted").Inc()
			}
		}
	}
	return res, err
}

func statusClass(code int) string {
	if code < 100 || code > 599 {
		return "none"
	}
	return strconv.Itoa(code/100) + "xx"
}

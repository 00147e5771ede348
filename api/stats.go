package api

import (
	"context"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hookd/hookd"
)

// AlertLister lists the firing alerts for GET /v1/stats; the store
// (hookd.Store.ListAlerts) is the default.
type AlertLister interface {
	ListAlerts(ctx context.Context) ([]hookd.Alert, error)
}

// latencyJSON holds latency percentiles in milliseconds; null without
// attempts.
type latencyJSON struct {
	P50 *float64 `json:"p50"`
	P95 *float64 `json:"p95,omitempty"`
	P99 *float64 `json:"p99"`
}

// statsBucketJSON is one bucket of a series.
type statsBucketJSON struct {
	Start       string      `json:"start"`
	Attempts    int64       `json:"attempts"`
	Succeeded   int64       `json:"succeeded"`
	Failed      int64       `json:"failed"`
	SuccessRate *float64    `json:"success_rate"`
	LatencyMS   latencyJSON `json:"latency_ms"`
}

// statsJSON is the answer of GET /v1/endpoints/{id}/stats and (with the
// overall fields) GET /v1/stats (DESIGN §6).
type statsJSON struct {
	EndpointID          string            `json:"endpoint_id,omitempty"`
	TenantID            *string           `json:"tenant_id,omitempty"`
	Window              string            `json:"window"`
	Bucket              string            `json:"bucket"`
	Since               string            `json:"since"`
	Until               string            `json:"until"`
	Attempts            int64             `json:"attempts"`
	Succeeded           int64             `json:"succeeded"`
	Failed              int64             `json:"failed"`
	SuccessRate         *float64          `json:"success_rate"`
	LatencyMS           latencyJSON       `json:"latency_ms"`
	StatusCodes         map[string]int64  `json:"status_codes"`
	Pending             int64             `json:"pending"`
	Dead                int64             `json:"dead"`
	ConsecutiveFailures *int              `json:"consecutive_failures,omitempty"`
	Circuit             string            `json:"circuit,omitempty"`
	CircuitOpenUntil    *string           `json:"circuit_open_until,omitempty"`
	Endpoints           *int              `json:"endpoints,omitempty"`
	Circuits            *circuitCountJSON `json:"circuits,omitempty"`
	LastError           string            `json:"last_error"`
	LastErrorAt         *string           `json:"last_error_at"`
	Series              []statsBucketJSON `json:"series"`
	Alerts              *[]alertJSON      `json:"alerts,omitempty"`
}

type circuitCountJSON struct {
	Closed   int `json:"closed"`
	Open     int `json:"open"`
	HalfOpen int `json:"half_open"`
}

// alertJSON is a firing alert in GET /v1/stats.
type alertJSON struct {
	Scope       string  `json:"scope"`
	EndpointID  *string `json:"endpoint_id"`
	TenantID    string  `json:"tenant_id"`
	SuccessRate float64 `json:"success_rate"`
	Attempts    int64   `json:"attempts"`
	Failed      int64   `json:"failed"`
	Since       string  `json:"since"`
}

// statsRange reads ?window= (any Go duration up to 30 days, default 1h)
// and ?bucket= (a whole number of minutes; default by window, DESIGN §6).
// A value that is not a duration is malformed (400); one out of range is
// invalid (422).
func statsRange(q url.Values) (window, bucket time.Duration, err error) {
	window = hookd.DefaultStatsWindow
	if v := q.Get("window"); q.Has("window") {
		if window, err = time.ParseDuration(v); err != nil {
			return 0, 0, &hookd.Error{Code: hookd.EMALFORMED, Field: "window",
				Message: "window: " + strconv.Quote(v) + " is not a duration (use Go syntax: 15m, 1h, 24h, 720h)"}
		}
	}
	bucket = hookd.DefaultStatsBucket(window)
	if v := q.Get("bucket"); q.Has("bucket") {
		if bucket, err = time.ParseDuration(v); err != nil {
			return 0, 0, &hookd.Error{Code: hookd.EMALFORMED, Field: "bucket",
				Message: "bucket: " + strconv.Quote(v) + " is not a duration (use Go syntax: 1m, 5m, 1h)"}
		}
	}
	if err := hookd.ValidateStatsRange(window, bucket); err != nil {
		return 0, 0, err
	}
	return window, bucket, nil
}

func (s *Server) endpointStats(w http.ResponseWriter, r *http.Request) {
	window, bucket, err := statsRange(r.URL.Query())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	since, until := hookd.StatsWindow(s.now(), window)
	st, err := s.cfg.Store.ReadStats(r.Context(), hookd.StatsQuery{EndpointID: r.PathValue("id"),
		Since: since, Until: until, Bucket: bucket})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := statsOut(st, window, bucket)
	out.EndpointID = r.PathValue("id")
	failures := st.Circuit.ConsecutiveFailures
	out.ConsecutiveFailures = &failures
	out.Circuit = string(st.Circuit.DisplayState(s.now()))
	if st.Circuit.State == hookd.CircuitOpen {
		out.CircuitOpenUntil = optionalTime(st.Circuit.OpenUntil)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) overallStats(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	window, bucket, err := statsRange(q)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var tenant *string
	if q.Has("tenant_id") {
		t := q.Get("tenant_id")
		tenant = &t
	}
	since, until := hookd.StatsWindow(s.now(), window)
	st, err := s.cfg.Store.ReadStats(r.Context(), hookd.StatsQuery{TenantID: tenant, Since: since, Until: until, Bucket: bucket})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	alerts, err := s.firingAlerts(r.Context(), tenant)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := statsOut(st, window, bucket)
	out.TenantID = tenant
	out.Endpoints = &st.Endpoints
	out.Circuits = &circuitCountJSON{Closed: st.Circuits.Closed, Open: st.Circuits.Open, HalfOpen: st.Circuits.HalfOpen}
	out.Alerts = &alerts
	writeJSON(w, http.StatusOK, out)
}

// firingAlerts lists the alerts firing now (Config.Alerts), those of one
// tenant's endpoints when tenant is set.
func (s *Server) firingAlerts(ctx context.Context, tenant *string) ([]alertJSON, error) {
	out := []alertJSON{}
	if s.cfg.Alerts == nil {
		return out, nil
	}
	as, err := s.cfg.Alerts.ListAlerts(ctx)
	if err != nil {
		return nil, err
	}
	for _, a := range as {
		if tenant != nil && (a.Scope != hookd.AlertScopeEndpoint || a.TenantID != *tenant) {
			continue
		}
		j := alertJSON{Scope: a.Scope, TenantID: a.TenantID, SuccessRate: a.SuccessRate,
			Attempts: a.Attempts, Failed: a.Failed, Since: formatTime(a.Since)}
		if a.EndpointID != "" {
			id := a.EndpointID
			j.EndpointID = &id
		}
		out = append(out, j)
	}
	return out, nil
}

func statsOut(st *hookd.Stats, window, bucket time.Duration) statsJSON {
	out := statsJSON{
		Window: shortDuration(window), Bucket: shortDuration(bucket),
		Since: formatTime(st.Since), Until: formatTime(st.Until),
		Attempts: st.Attempts, Succeeded: st.Succeeded, Failed: st.Failed,
		SuccessRate: successRate(&st.StatsCounts), LatencyMS: latencyOut(&st.Latency, true),
		StatusCodes: map[string]int64{}, Pending: st.Pending, Dead: st.Dead,
		LastError: st.LastError, LastErrorAt: optionalTime(st.LastErrorAt),
		Series: make([]statsBucketJSON, len(st.Series)),
	}
	for code, n := range st.StatusCodes {
		out.StatusCodes[strconv.Itoa(code)] = n
	}
	for i, b := range st.Series {
		out.Series[i] = statsBucketJSON{Start: formatTime(b.Start), Attempts: b.Attempts, Succeeded: b.Succeeded,
			Failed: b.Failed, SuccessRate: successRate(&b.StatsCounts), LatencyMS: latencyOut(&b.Latency, false)}
	}
	return out
}

func successRate(c *hookd.StatsCounts) *float64 {
	r, ok := c.SuccessRate()
	if !ok {
		return nil
	}
	return &r
}

// latencyOut reads p50, p99 (and p95 when with95) from h, in ms rounded to
// the microsecond.
func latencyOut(h *hookd.LatencyHistogram, with95 bool) latencyJSON {
	q := func(p float64) *float64 {
		d, ok := h.Quantile(p)
		if !ok {
			return nil
		}
		ms := math.Round(float64(d)/float64(time.Microsecond)) / 1000
		return &ms
	}
	out := latencyJSON{P50: q(0.5), P99: q(0.99)}
	if with95 {
		out.P95 = q(0.95)
	}
	return out
}

// shortDuration writes d as a person would type it: 1h, 720h, 5m, 1h30m.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

package main

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"time"
)

// statsRangeFlags are the window and bucket of a stats command; unset,
// the server's defaults apply (1h; bucket by window).
type statsRangeFlags struct {
	Window time.Duration `help:"Window to read, up to 720h (default 1h)."`
	Bucket time.Duration `help:"Size of the series buckets, whole minutes (default 1m up to 1h, 5m up to 6h, 1h beyond)."`
}

func (f statsRangeFlags) query() url.Values {
	q := url.Values{}
	if f.Window != 0 {
		q.Set("window", f.Window.String())
	}
	if f.Bucket != 0 {
		q.Set("bucket", f.Bucket.String())
	}
	return q
}

// statsSeriesView shows a stats answer's series as a table.
var statsSeriesView = view{Columns: []column{
	{"START", "start"}, {"ATTEMPTS", "attempts"}, {"SUCCEEDED", "succeeded"}, {"FAILED", "failed"},
	{"P50 MS", "latency_ms.p50"}, {"P99 MS", "latency_ms.p99"},
}}

// endpointStatsView shows GET /v1/endpoints/{id}/stats.
var endpointStatsView = view{
	Columns: []column{
		{"ENDPOINT", "endpoint_id"}, {"WINDOW", "window"}, {"ATTEMPTS", "attempts"}, {"SUCCEEDED", "succeeded"},
		{"FAILED", "failed"}, {"SUCCESS RATE", "success_rate"}, {"P50 MS", "latency_ms.p50"}, {"P95 MS", "latency_ms.p95"},
		{"P99 MS", "latency_ms.p99"}, {"STATUS CODES", "status_codes"}, {"PENDING", "pending"}, {"DEAD", "dead"},
		{"CIRCUIT", "circuit"}, {"CONSECUTIVE FAILURES", "consecutive_failures"}, {"LAST ERROR", "last_error"},
	},
	Nested: map[string]view{"series": statsSeriesView},
}

// statsView shows GET /v1/stats.
var statsView = view{
	Columns: []column{
		{"WINDOW", "window"}, {"ENDPOINTS", "endpoints"}, {"ATTEMPTS", "attempts"}, {"SUCCEEDED", "succeeded"},
		{"FAILED", "failed"}, {"SUCCESS RATE", "success_rate"}, {"P50 MS", "latency_ms.p50"}, {"P95 MS", "latency_ms.p95"},
		{"P99 MS", "latency_ms.p99"}, {"STATUS CODES", "status_codes"}, {"PENDING", "pending"}, {"DEAD", "dead"},
		{"CIRCUITS", "circuits"}, {"LAST ERROR", "last_error"},
	},
	Nested: map[string]view{
		"series": statsSeriesView,
		"alerts": {Columns: []column{{"SCOPE", "scope"}, {"ENDPOINT", "endpoint_id"}, {"SUCCESS RATE", "success_rate"},
			{"ATTEMPTS", "attempts"}, {"SINCE", "since"}}},
	},
}

// endpointStatsCmd is `hookd endpoint stats ID`.
type endpointStatsCmd struct {
	clientFlags     `embed:""`
	ID              string `arg:"" help:"Endpoint id."`
	statsRangeFlags `embed:""`
}

func (c endpointStatsCmd) Run(ctx context.Context, out io.Writer) error {
	return c.show(ctx, out, endpointStatsView, http.MethodGet, "/v1/endpoints/"+url.PathEscape(c.ID)+"/stats", c.query(), nil)
}

// statsCmd is `hookd stats`.
type statsCmd struct {
	clientFlags     `embed:""`
	Tenant          *string `help:"Only this tenant's endpoints."`
	statsRangeFlags `embed:""`
}

func (c statsCmd) Run(ctx context.Context, out io.Writer) error {
	q := c.query()
	if c.Tenant != nil {
		q.Set("tenant_id", *c.Tenant)
	}
	return c.show(ctx, out, statsView, http.MethodGet, "/v1/stats", q, nil)
}

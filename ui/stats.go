package ui

import (
	"context"
	"time"
)

// StatsSource is what the dashboard reads from the stats rollups. The
// adapter over the store's stats (StoreStats) is the one hookd serve uses.
type StatsSource interface {
	// Endpoint returns one endpoint's figures over the last window, its
	// series in buckets of bucket (oldest first).
	Endpoint(ctx context.Context, endpointID string, window, bucket time.Duration) (*Figures, error)
	// Overview returns the health of every endpoint (of one tenant when
	// tenant is non-nil), keyed by endpoint id, and the alerts firing now.
	Overview(ctx context.Context, tenant *string) (map[string]*Health, []Alert, error)
}

// Figures are the stats of an endpoint over a window.
type Figures struct {
	Attempts, Succeeded, Failed int64
	// Latency percentiles in milliseconds (0 without attempts).
	P50, P95, P99 float64
	// StatusCodes counts attempts by status code ("0": no response).
	StatusCodes map[string]int64
	Pending     int64
	Dead        int64
	LastError   string
	Series      []Bucket
}

// SuccessRate is Succeeded/Attempts; ok is false without attempts.
func (f *Figures) SuccessRate() (rate float64, ok bool) {
	if f == nil || f.Attempts == 0 {
		return 0, false
	}
	return float64(f.Succeeded) / float64(f.Attempts), true
}

// Bucket is one step of a series.
type Bucket struct {
	Start                       time.Time
	Attempts, Succeeded, Failed int64
	P50, P99                    float64
}

// Health is one endpoint's line on the overview.
type Health struct {
	// Hour and Day are the last hour and the last 24 hours; Day.Series
	// has hourly buckets (the sparklines).
	Hour, Day     Figures
	Pending, Dead int64
	LastError     string
	LastErrorAt   time.Time
}

// Alert is a firing success-rate alert.
type Alert struct {
	Scope       string // "endpoint" or "overall"
	EndpointID  string
	TenantID    string
	SuccessRate float64
	Since       time.Time
}

package ui

import (
	"context"
	"strconv"
	"time"

	"github.com/hookd/hookd"
)

// statsStore is what StoreStats reads: the stats rollups, the backlog per
// endpoint and the firing alerts.
type statsStore interface {
	ReadStats(ctx context.Context, q hookd.StatsQuery) (*hookd.Stats, error)
	StatsByEndpoint(ctx context.Context, since, until time.Time) ([]hookd.EndpointTotals, error)
	StatsByEndpointSeries(ctx context.Context, tenantID *string, since, until time.Time, bucket time.Duration) ([]hookd.EndpointSeries, error)
	DeliveryCounts(ctx context.Context, tenantID *string) ([]hookd.EndpointDeliveryCounts, error)
	ListAlerts(ctx context.Context) ([]hookd.Alert, error)
}

// StoreStats returns the StatsSource over the store's rollups. The
// overview reads every endpoint at once: StatsByEndpoint for the last
// hour, StatsByEndpointSeries for the hours of the last day (the
// sparklines; whole hours come from the hour rollups, and those that
// settled are kept between refreshes, see dayCache), one DeliveryCounts
// and the alerts — never one query per endpoint or hour.
func StoreStats(store statsStore) StatsSource {
	return storeStats{s: store, now: time.Now, day: &dayCache{}}
}

type storeStats struct {
	s   statsStore
	now func() time.Time
	day *dayCache
}

func ms64(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func quantiles(h *hookd.LatencyHistogram) (p50, p95, p99 float64) {
	q := func(v float64) float64 {
		d, _ := h.Quantile(v)
		return ms64(d)
	}
	return q(0.5), q(0.95), q(0.99)
}

func (st storeStats) Endpoint(ctx context.Context, endpointID string, window, bucket time.Duration) (*Figures, error) {
	since, until := hookd.StatsWindow(st.now(), window)
	s, err := st.s.ReadStats(ctx, hookd.StatsQuery{EndpointID: endpointID, Since: since, Until: until, Bucket: bucket})
	if err != nil {
		return nil, err
	}
	f := &Figures{Attempts: s.Attempts, Succeeded: s.Succeeded, Failed: s.Failed, Pending: s.Pending, Dead: s.Dead,
		LastError: s.LastError, StatusCodes: make(map[string]int64, len(s.StatusCodes))}
	f.P50, f.P95, f.P99 = quantiles(&s.Latency)
	for code, n := range s.StatusCodes {
		f.StatusCodes[strconv.Itoa(code)] = n
	}
	f.Series = make([]Bucket, len(s.Series))
	for i, b := range s.Series {
		f.Series[i] = bucketOf(b.Start, &b.StatsCounts)
	}
	return f, nil
}

func bucketOf(start time.Time, c *hookd.StatsCounts) Bucket {
	b := Bucket{Start: start, Attempts: c.Attempts, Succeeded: c.Succeeded, Failed: c.Failed}
	if c.Attempts > 0 {
		b.P50, _, b.P99 = quantiles(&c.Latency)
	}
	return b
}

func (st storeStats) Overview(ctx context.Context, tenant *string) (map[string]*Health, []Alert, error) {
	now := st.now()
	health := map[string]*Health{}
	get := func(id string) *Health {
		h := health[id]
		if h == nil {
			h = &Health{}
			health[id] = h
		}
		return h
	}
	in := func(t string) bool { return tenant == nil || t == *tenant }
	days := map[string]*hookd.StatsCounts{}
	// The last hour.
	since, until := hookd.StatsWindow(now, time.Hour)
	hour, err := st.s.StatsByEndpoint(ctx, since, until)
	if err != nil {
		return nil, nil, err
	}
	for _, t := range hour {
		if in(t.TenantID) {
			h := get(t.EndpointID)
			h.Hour = Figures{Attempts: t.Attempts, Succeeded: t.Succeeded, Failed: t.Failed}
			h.Hour.P50, h.Hour.P95, h.Hour.P99 = quantiles(&t.Latency)
		}
	}
	// The last day, one bucket per hour: the partial first hour from the
	// minute rows, the whole hours after it through the day cache. The
	// totals are their sum.
	since, until = hookd.StatsWindow(now, 24*time.Hour)
	starts := hookd.SeriesStarts(since, until, time.Hour)
	add := func(id string, buckets []hookd.StatsBucket) {
		h := get(id)
		if h.Day.Series == nil {
			h.Day.Series = make([]Bucket, len(starts))
			for k, s := range starts {
				h.Day.Series[k].Start = s
			}
		}
		for j := range buckets {
			sb := &buckets[j]
			if k := int(sb.Start.Sub(starts[0]) / time.Hour); k >= 0 && k < len(starts) {
				h.Day.Series[k] = bucketOf(starts[k], &sb.StatsCounts)
			}
			if days[id] == nil {
				days[id] = &hookd.StatsCounts{}
			}
			days[id].Add(&sb.StatsCounts)
		}
	}
	whole := since.Truncate(time.Hour)
	if whole.Before(since) {
		whole = whole.Add(time.Hour)
		head, err := st.s.StatsByEndpointSeries(ctx, tenant, since, whole, time.Hour)
		if err != nil {
			return nil, nil, err
		}
		for _, es := range head {
			add(es.EndpointID, es.Buckets)
		}
	}
	err = st.day.hours(ctx, st.s, tenant, whole, until, now, func(id, _ string, buckets []hookd.StatsBucket) { add(id, buckets) })
	if err != nil {
		return nil, nil, err
	}
	for id, c := range days {
		h := health[id]
		h.Day.Attempts, h.Day.Succeeded, h.Day.Failed = c.Attempts, c.Succeeded, c.Failed
		h.Day.P50, h.Day.P95, h.Day.P99 = quantiles(&c.Latency)
	}
	cs, err := st.s.DeliveryCounts(ctx, tenant)
	if err != nil {
		return nil, nil, err
	}
	for _, c := range cs {
		h := get(c.EndpointID)
		h.Pending, h.Dead, h.LastError, h.LastErrorAt = c.Pending, c.Dead, c.LastError, c.LastErrorAt
	}
	as, err := st.s.ListAlerts(ctx)
	if err != nil {
		return nil, nil, err
	}
	alerts := make([]Alert, 0, len(as))
	for _, a := range as {
		if tenant != nil && (a.Scope == hookd.AlertScopeOverall || a.TenantID != *tenant) {
			continue
		}
		alerts = append(alerts, Alert{Scope: a.Scope, EndpointID: a.EndpointID, TenantID: a.TenantID, SuccessRate: a.SuccessRate, Since: a.Since})
	}
	return health, alerts, nil
}

package ui

import (
	"context"
	"time"

	"github.com/hookd/hookd"
)

// statsStore is what StoreStats reads.
type statsStore interface {
	DeliveryCounts(ctx context.Context, tenantID *string) ([]hookd.EndpointDeliveryCounts, error)
	ListAlerts(ctx context.Context) ([]hookd.Alert, error)
}

// StoreStats returns the StatsSource over the store: backlog counts per
// endpoint and the firing alerts.
func StoreStats(store statsStore) StatsSource { return storeStats{store, time.Now} }

type storeStats struct {
	s   statsStore
	now func() time.Time
}

func (st storeStats) Endpoint(ctx context.Context, endpointID string, window, bucket time.Duration) (*Figures, error) {
	f := &Figures{}
	cs, err := st.s.DeliveryCounts(ctx, nil)
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		if c.EndpointID == endpointID {
			f.Pending, f.Dead = c.Pending, c.Dead
		}
	}
	return f, nil
}

func (st storeStats) Overview(ctx context.Context, tenant *string) (map[string]*Health, []Alert, error) {
	cs, err := st.s.DeliveryCounts(ctx, tenant)
	if err != nil {
		return nil, nil, err
	}
	health := make(map[string]*Health, len(cs))
	for _, c := range cs {
		health[c.EndpointID] = &Health{Pending: c.Pending, Dead: c.Dead}
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

package ui

import (
	"context"
	"sync"
	"time"

	"github.com/hookd/hookd"
)

// The overview's sparklines are every endpoint's hourly buckets of the
// last day: ~24,000 rollup rows for 1,000 endpoints, which cost most of
// an overview's time to read (SQLite's driver fetches row by row). Hours
// that closed a while ago do not change any more (an attempt counts in the
// hour it started, and is recorded when it ends, within the attempt
// timeout), so the overview keeps them (dayCache) and reads only the
// recent hours and the partial first one on each refresh.

const (
	// settleAfter is how long after an hour ends its buckets are taken
	// as final and kept: an attempt is recorded when it ends, within the
	// attempt timeout (default 15 s) and its lease.
	settleAfter = 10 * time.Minute
	// dayCacheRefresh bounds how long kept hours are trusted: after it
	// they are all read again (an attempt recorded unusually late, a
	// clock far off, an endpoint deleted).
	dayCacheRefresh = 10 * time.Minute
)

// dayCache holds the whole-hour buckets [from, upTo) of every endpoint
// (all tenants), as StatsByEndpointSeries returned them.
type dayCache struct {
	mu       sync.Mutex
	from     time.Time
	upTo     time.Time
	loadedAt time.Time
	series   map[string]*cachedSeries
}

type cachedSeries struct {
	tenantID string
	buckets  []hookd.StatsBucket // oldest first
}

// hours returns every endpoint's buckets (of tenant when non-nil) of the
// whole hours [from, to), reading from the store only the hours it does
// not keep; it keeps those that ended settleAfter before now. fn receives
// each endpoint's buckets, oldest first.
func (c *dayCache) hours(ctx context.Context, s statsStore, tenant *string, from, to, now time.Time,
	fn func(endpointID, tenantID string, buckets []hookd.StatsBucket)) error {
	settled := now.Add(-settleAfter).Truncate(time.Hour)
	if settled.After(to) {
		settled = to
	}
	if settled.Before(from) {
		settled = from
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.series == nil || now.Sub(c.loadedAt) >= dayCacheRefresh || now.Before(c.loadedAt) ||
		from.Before(c.from) || c.upTo.Before(from) {
		c.series, c.from, c.upTo, c.loadedAt = map[string]*cachedSeries{}, from, from, now
	}
	if c.upTo.Before(settled) { // newly settled hours
		got, err := s.StatsByEndpointSeries(ctx, nil, c.upTo, settled, time.Hour)
		if err != nil {
			return err
		}
		for _, es := range got {
			cs := c.series[es.EndpointID]
			if cs == nil {
				cs = &cachedSeries{tenantID: es.TenantID}
				c.series[es.EndpointID] = cs
			}
			cs.buckets = append(cs.buckets, es.Buckets...)
		}
		c.upTo = settled
	}
	if c.from.Before(from) { // hours that left the window
		for id, cs := range c.series {
			i := 0
			for i < len(cs.buckets) && cs.buckets[i].Start.Before(from) {
				i++
			}
			cs.buckets = cs.buckets[i:]
			if len(cs.buckets) == 0 {
				delete(c.series, id)
			}
		}
		c.from = from
	}
	for id, cs := range c.series {
		if tenant == nil || cs.tenantID == *tenant {
			fn(id, cs.tenantID, cs.buckets)
		}
	}
	if c.upTo.Before(to) { // the recent hours, read every time
		got, err := s.StatsByEndpointSeries(ctx, tenant, c.upTo, to, time.Hour)
		if err != nil {
			return err
		}
		for _, es := range got {
			fn(es.EndpointID, es.TenantID, es.Buckets)
		}
	}
	return nil
}

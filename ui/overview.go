package ui

import (
	"context"
	"html/template"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/auth"
)

// overviewView is the overview page.
type overviewView struct {
	Now      time.Time
	Alerts   []alertRow
	Rows     []endpointRow
	Total    int // endpoints visible before the search
	Tenants  []string
	Tenant   string // the tenant filter ("" = all)
	HasTen   bool   // a tenant filter is set (the empty tenant included)
	Query    string
	Sort     string
	NoStats  bool
	Summary  summary
	Portal   bool // a tenant session: no tenant column or filter
	TenantOf string
}

func (overviewView) title() string { return "Overview" }

type summary struct {
	Endpoints, Failing, OpenCircuits int
	Pending, Dead                    int64
	Day                              Figures
}

type alertRow struct {
	Alert
	URL string
}

// endpointRow is one line of the overview, with every text computed here
// so that the template only prints fields (1,000 rows render fast).
type endpointRow struct {
	ID, URL, Desc, Tenant, Search string
	Disabled, Firing              bool
	Rate1h, Class1h, N1h          string
	Rate24h, Class24h, N24h       string
	SparkOK, SparkLat             template.HTML
	Latency                       string
	Pending, Dead                 string
	HasDead                       bool
	Circuit                       badge
	LastError, LastErrorShort     string
	score                         int
}

// badge is a coloured status label.
type badge struct{ Class, Label, Title string }

// circuitBadge describes an endpoint's delivery state.
func circuitBadge(e *hookd.Endpoint, now time.Time) badge {
	c := e.Circuit
	switch {
	case e.Disabled:
		return badge{"bad", "disabled", e.DisabledReason}
	case c.State == hookd.CircuitOpen && c.OpenUntil.After(now):
		return badge{"bad", "open", itoa(c.ConsecutiveFailures) + " consecutive failures; next probe " + when(c.OpenUntil)}
	case c.State == hookd.CircuitOpen || c.State == hookd.CircuitHalfOpen:
		return badge{"warn", "half-open", "one probe attempt is allowed through"}
	case c.ConsecutiveFailures > 0:
		return badge{"warn", "closed · " + itoa(c.ConsecutiveFailures) + " failing", "the circuit is closed; " + itoa(c.ConsecutiveFailures) + " consecutive failures"}
	}
	return badge{"ok", "closed", "deliveries flow normally"}
}

func newRow(e *hookd.Endpoint, h *Health, firing bool, now time.Time) endpointRow {
	r := endpointRow{ID: e.ID, URL: e.URL, Desc: truncate(80, e.Description), Tenant: e.TenantID,
		Search: e.URL + " " + e.Description + " " + e.ID, Disabled: e.Disabled, Firing: firing,
		Rate1h: rateText(&h.Hour), Class1h: rateClass(&h.Hour), N1h: compact(float64(h.Hour.Attempts)),
		Rate24h: rateText(&h.Day), Class24h: rateClass(&h.Day), N24h: compact(float64(h.Day.Attempts)),
		SparkOK: sparkHTML(sparkRate(h.Day.Series)), SparkLat: sparkHTML(sparkLatency(h.Day.Series)),
		Pending: compact(float64(h.Pending)), Dead: compact(float64(h.Dead)), HasDead: h.Dead > 0,
		Circuit: circuitBadge(e, now), LastError: h.LastError, LastErrorShort: truncate(60, h.LastError)}
	if h.Day.Attempts > 0 {
		r.Latency = ms(h.Day.P50) + " / " + ms(h.Day.P99)
	}
	if firing {
		r.score += 1000
	}
	if e.Circuit.State == hookd.CircuitOpen {
		r.score += 500
	}
	if e.Disabled {
		r.score += 200
	}
	if rate, ok := h.Hour.SuccessRate(); ok {
		r.score += int((1 - rate) * 100)
	}
	if h.Dead > 0 {
		r.score += 50
	}
	return r
}

// maxOverviewEndpoints bounds the endpoints the overview lists (the API's
// per-tenant cap is 1,000; an admin sees every tenant).
const maxOverviewEndpoints = 5000

// endpointsOf lists the endpoints the session sees (of one tenant when
// tenant is non-nil), oldest first.
func (s *Server) endpointsOf(ctx context.Context, p auth.Principal, tenant *string, limit int) ([]*hookd.Endpoint, error) {
	filter := tenantFilter(p, tenant)
	var all []*hookd.Endpoint
	page := hookd.Page{Limit: hookd.MaxPageLimit}
	for len(all) < limit {
		eps, next, err := s.cfg.Store.ListEndpoints(ctx, filter, page)
		if err != nil {
			return nil, err
		}
		for _, e := range eps {
			if p.Sees(e.TenantID) {
				all = append(all, e)
			}
		}
		if next == "" {
			break
		}
		page.Cursor = next
	}
	slices.Reverse(all)
	return all, nil
}

func (s *Server) overview(w http.ResponseWriter, r *http.Request, sess *session) {
	v, err := s.overviewData(r.Context(), sess.Principal, r.URL.Query())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "overview", sess, v)
}

// overviewData builds the overview for p and the page's query
// (tenant, q, sort).
func (s *Server) overviewData(ctx context.Context, p auth.Principal, q map[string][]string) (*overviewView, error) {
	get := func(k string) string {
		if vs := q[k]; len(vs) > 0 {
			return strings.TrimSpace(vs[0])
		}
		return ""
	}
	v := &overviewView{Now: s.now(), Query: get("q"), Sort: get("sort"), Portal: !p.Admin, TenantOf: p.TenantID}
	var tenant *string
	if _, ok := q["tenant"]; ok && p.Admin && get("tenant") != "*" {
		t := get("tenant")
		tenant, v.Tenant, v.HasTen = &t, t, true
	}
	all, err := s.endpointsOf(ctx, p, nil, maxOverviewEndpoints)
	if err != nil {
		return nil, err
	}
	var health map[string]*Health
	var alerts []Alert
	if s.cfg.Stats != nil {
		health, alerts, err = s.cfg.Stats.Overview(ctx, tenantFilter(p, tenant))
		if err != nil {
			return nil, err
		}
	} else {
		v.NoStats = true
	}
	byID := make(map[string]*hookd.Endpoint, len(all))
	tenants := map[string]bool{}
	for _, e := range all {
		byID[e.ID] = e
		tenants[e.TenantID] = true
	}
	firing := map[string]bool{}
	for _, a := range alerts {
		e, known := byID[a.EndpointID]
		switch {
		case a.Scope == "overall" && p.Admin && tenant == nil:
			v.Alerts = append(v.Alerts, alertRow{Alert: a})
		case known && (tenant == nil || e.TenantID == *tenant):
			firing[a.EndpointID] = true
			v.Alerts = append(v.Alerts, alertRow{Alert: a, URL: e.URL})
		}
	}
	needle := strings.ToLower(v.Query)
	for _, e := range all {
		if tenant != nil && e.TenantID != *tenant {
			continue
		}
		v.Total++
		if needle != "" && !strings.Contains(strings.ToLower(e.URL), needle) &&
			!strings.Contains(strings.ToLower(e.Description), needle) && e.ID != v.Query {
			continue
		}
		h := health[e.ID]
		if h == nil {
			h = &Health{}
		}
		row := newRow(e, h, firing[e.ID], v.Now)
		v.Rows = append(v.Rows, row)
		if e.IsSystemEndpoint() {
			continue // listed, but hookd's own deliveries are not in the overall figures
		}
		v.Summary.Endpoints++
		v.Summary.Pending += h.Pending
		v.Summary.Dead += h.Dead
		v.Summary.Day.Attempts += h.Day.Attempts
		v.Summary.Day.Succeeded += h.Day.Succeeded
		v.Summary.Day.Failed += h.Day.Failed
		if e.Circuit.State == hookd.CircuitOpen {
			v.Summary.OpenCircuits++
		}
		if r, ok := h.Hour.SuccessRate(); (ok && r < 0.99) || row.Firing {
			v.Summary.Failing++
		}
	}
	if v.Sort == "health" {
		slices.SortStableFunc(v.Rows, func(a, b endpointRow) int { return b.score - a.score })
	}
	if p.Admin {
		for t := range tenants {
			v.Tenants = append(v.Tenants, t)
		}
		slices.Sort(v.Tenants)
	}
	return v, nil
}

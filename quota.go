package hookd

// EndpointQuota bounds the endpoints a creation, or a move of an endpoint
// to another tenant, may leave in the store: at most PerTenant in the
// endpoint's (new) tenant and Total in all (a zero field: no bound). The
// store checks it in the transaction that writes the endpoint, serialized
// with every other bounded creation and move (on Postgres under a
// transaction advisory lock, on SQLite by its one writer), so concurrent
// requests on any number of nodes never overshoot a bound.
type EndpointQuota struct {
	PerTenant int
	Total     int
}

// Check returns ECONFLICT when one more endpoint in tenant would exceed q,
// given the endpoints the tenant has (inTenant) and those of the whole
// store (total; read only when q.Total is set).
func (q EndpointQuota) Check(tenant string, inTenant, total int) error {
	if q.Total > 0 && total >= q.Total {
		return Errorf(ECONFLICT, "the server already has the maximum of %d endpoints (--max-endpoints)", q.Total)
	}
	if q.PerTenant > 0 && inTenant >= q.PerTenant {
		return Errorf(ECONFLICT, "tenant %q already has the maximum of %d endpoints", tenant, q.PerTenant)
	}
	return nil
}

// Bounded reports whether q has a bound.
func (q EndpointQuota) Bounded() bool { return q.PerTenant > 0 || q.Total > 0 }

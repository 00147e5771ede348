package hookd

import "time"

// SystemTenant is the reserved tenant of hookd's own operational events
// (delivery.dead, endpoint.disabled, endpoint.recovered, alert.firing,
// alert.resolved). They are events of the ordinary pipeline: stored, fanned
// out to the system tenant's one endpoint (OpsEndpointID, the operator's
// --ops-url), signed, retried and listed like any other. The API refuses
// this tenant id in every input (422) and refuses to change or delete its
// endpoint (409): only the server's configuration manages it.
const SystemTenant = "_hookd"

// OpsEndpointID is the fixed id of the system tenant's endpoint, the one
// that receives operational events at --ops-url. Every node creates or
// updates it at start from its flags.
const OpsEndpointID = "ep_hookd_ops"

// IsSystemEndpoint reports whether e belongs to the system tenant.
func (e *Endpoint) IsSystemEndpoint() bool { return e.TenantID == SystemTenant }

// Alert scopes.
const (
	AlertScopeEndpoint = "endpoint"
	AlertScopeOverall  = "overall"
)

// Alert is a firing success-rate alert, as stored: one row per episode,
// created when the alert fires and deleted when it resolves (see
// Store.FireAlert and Store.ResolveAlert).
type Alert struct {
	// Key identifies the alert: "overall", or the endpoint id.
	Key        string
	Scope      string // AlertScopeEndpoint or AlertScopeOverall
	EndpointID string // "" for overall
	TenantID   string
	// Since is when the episode began (the evaluation that fired it).
	Since time.Time
	// SuccessRate, Attempts and Failed are the figures of the latest
	// evaluation while it fires.
	SuccessRate float64
	Attempts    int64
	Failed      int64
	UpdatedAt   time.Time
}

// AlertKeyOverall is the Key of the overall alert.
const AlertKeyOverall = "overall"

// Operational event types (the events of the system tenant).
const (
	EventTypeDeliveryDead      = "delivery.dead"
	EventTypeEndpointDisabled  = "endpoint.disabled"
	EventTypeEndpointRecovered = "endpoint.recovered"
	EventTypeAlertFiring       = "alert.firing"
	EventTypeAlertResolved     = "alert.resolved"
)

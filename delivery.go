package hookd

import "time"

// DeliveryStatus is the state of a delivery.
type DeliveryStatus string

const (
	StatusPending   DeliveryStatus = "pending"
	StatusSucceeded DeliveryStatus = "succeeded"
	StatusDead      DeliveryStatus = "dead"
)

// Valid reports whether s is a known status.
func (s DeliveryStatus) Valid() bool {
	return s == StatusPending || s == StatusSucceeded || s == StatusDead
}

// Delivery is one event on its way to one endpoint; unique per (event, endpoint).
type Delivery struct {
	ID         string // "dlv_…"
	EventID    string
	EndpointID string
	Status     DeliveryStatus
	// Attempts counts every HTTP attempt made, across replays.
	Attempts int
	// AttemptBase is Attempts at the last requeue (retry or replay); the
	// delivery dies when Attempts-AttemptBase reaches the max attempts.
	AttemptBase   int
	NextAttemptAt time.Time
	// LeaseOwner and LeaseExpiresAt are set while a dispatcher holds the delivery.
	LeaseOwner     string
	LeaseExpiresAt time.Time

	LastStatusCode int
	LastError      string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Attempt is one HTTP request made for a delivery; append-only.
type Attempt struct {
	DeliveryID string
	Number     int // 1-based, equals Delivery.Attempts after it
	StartedAt  time.Time
	StatusCode int // 0 when there was no response
	Latency    time.Duration
	// ResponseBody is the first 4 KiB (MaxStoredResponse) of the response body.
	ResponseBody string
	Error        string
}

// AttemptInfo describes one finished attempt as the dispatcher reports it
// (dispatch.Config.OnAttempt) to whoever counts attempts, such as package
// metrics. It lives in the domain so that neither of them imports the other.
type AttemptInfo struct {
	EndpointID string
	DeliveryID string
	StatusCode int // 0 when there was no response
	Outcome    Outcome
	Latency    time.Duration
	// DeliveryDelay is the time from event creation to this successful
	// attempt's end; 0 unless Outcome is OutcomeSucceeded.
	DeliveryDelay time.Duration
	// Probe is true for a circuit-breaker probe.
	Probe bool
}

// MaxStoredResponse is how many bytes of a response body an attempt keeps.
const MaxStoredResponse = 4 << 10

// DeliveryFilter selects deliveries in ListDeliveries. Empty fields do not filter.
type DeliveryFilter struct {
	Status     DeliveryStatus
	EndpointID string
	EventID    string
	// TenantID, when non-nil, keeps the deliveries to endpoints of that
	// tenant.
	TenantID *string
	// EventType, when set, keeps the deliveries of events of that type.
	EventType string
	// UpdatedSince and UpdatedBefore, when set, bound UpdatedAt (for a
	// dead delivery: when it died), inclusive and exclusive, as
	// ReplayFilter's Since and Until do.
	UpdatedSince, UpdatedBefore time.Time
	Page
}

// ReplayFilter selects dead deliveries to requeue. Empty fields do not filter;
// Since/Until bound the delivery's UpdatedAt (when it died), inclusive/exclusive.
type ReplayFilter struct {
	// TenantID, when non-nil, keeps the deliveries to endpoints of that
	// tenant.
	TenantID   *string
	EndpointID string
	EventType  string
	Since      time.Time
	Until      time.Time
}

// Page asks for one page of a list: at most Limit items with ids strictly
// after Cursor in the list's order. Lists return the cursor of the next page,
// "" when there is none.
type Page struct {
	Limit  int
	Cursor string
}

// Default and maximum list page sizes.
const (
	DefaultPageLimit = 50
	MaxPageLimit     = 500
)

// EndpointDeliveryCounts is one endpoint's backlog and latest failure
// (Store.DeliveryCounts).
type EndpointDeliveryCounts struct {
	EndpointID    string
	Pending, Dead int64
	// LastError and LastErrorAt are the endpoint's latest failed attempt
	// (as Stats.LastError), empty when none failed.
	LastError   string
	LastErrorAt time.Time
}

package dispatch

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/internal/ssrf"
)

// Defaults of Config; hookd serve's flags read them.
const (
	DefaultWorkers        = 64
	DefaultMaxInFlight    = 16
	DefaultAttemptTimeout = 15 * time.Second
	// DefaultLeaseMargin is what a lease adds to the attempt timeout when
	// Config.Lease is 0.
	DefaultLeaseMargin  = 30 * time.Second
	DefaultPollInterval = 500 * time.Millisecond
	DefaultUserAgent    = "hookd/dev"
)

// Config configures a Dispatcher. The zero value of every field means its
// documented default, except Circuit, whose zero value is no breaker (as a
// zero hookd.CircuitPolicy means everywhere).
type Config struct {
	// Owner is the lease owner id written on every claim; it must be unique
	// per running process. Default: "<hostname>-<pid>-<random hex>".
	Owner string
	// Workers is how many attempts run at the same time in this process.
	// Default DefaultWorkers (64).
	Workers int
	// DefaultMaxInFlight caps concurrent attempts per endpoint whose own
	// MaxInFlight is 0. It is also passed to ClaimDue, so the cap holds
	// across every node. Default DefaultMaxInFlight (16).
	DefaultMaxInFlight int
	// AttemptTimeout bounds one HTTP attempt, from dial to the end of the
	// response body. Default DefaultAttemptTimeout (15 s).
	AttemptTimeout time.Duration
	// Lease is how long a claim is held before another node may take it.
	// Default AttemptTimeout + DefaultLeaseMargin (30 s).
	Lease time.Duration
	// PollInterval is how often the store is asked for due work (retries
	// coming due) when nothing woke the dispatcher. Default
	// DefaultPollInterval (500 ms).
	PollInterval time.Duration
	// Retry is the backoff and the default max attempts.
	// Default hookd.DefaultRetryPolicy; zero fields take their default.
	Retry hookd.RetryPolicy
	// Circuit is the breaker policy handed to CompleteAttempts. Threshold
	// 0 (the zero value) disables the breaker; with a Threshold, Cooldown 0
	// means hookd.DefaultCircuitCooldown and MaxCooldown 0 means
	// max(hookd.DefaultCircuitMaxCooldown, Cooldown).
	Circuit hookd.CircuitPolicy
	// Guard refuses private destinations at connect time. The zero value
	// refuses every non-public address.
	Guard ssrf.Guard
	// UserAgent is sent on every request. Default DefaultUserAgent.
	UserAgent string
	// Logger receives one debug line per attempt and an info line per
	// failure. Default slog.Default().
	Logger *slog.Logger
	// Now is the clock for claims, signatures and schedules. Latencies are
	// measured on the monotonic clock regardless. Default time.Now.
	Now func() time.Time
	// Jitter returns a number in [0,1) for the retry backoff.
	// Default math/rand/v2.Float64.
	Jitter func() float64
	// Transport replaces the shared HTTP transport (tests). When set,
	// Guard is not applied by the dispatcher: the transport must do it.
	//
	// The system tenant's endpoint (hookd.OpsEndpointID, the operator's
	// --ops-url) is sent through a transport of its own that Guard does not
	// restrict: the operator configured that URL (the API refuses to create
	// or change endpoints of the system tenant), and an ops receiver on a
	// private network must not require opening private ranges to every
	// tenant's endpoints.
	Transport http.RoundTripper
	// Notice, when set, returns the durable operational event of ev (see
	// hookd.Completion.Notice): it is stored in the same transaction as the
	// completion that kills the delivery or disables the endpoint. It is
	// not asked for deliveries to the system tenant's own endpoint (no
	// notice about a notice: that would loop while the ops receiver is
	// down). nil means no durable notices (they are only reported to
	// OnEvent). Called from attempt goroutines; must return quickly.
	Notice func(OpEvent) *hookd.NewEvent
	// OnEvent receives operational events ("delivery.dead",
	// "endpoint.disabled") after they are recorded in the store, with the
	// notice that was stored with them (nil when none). It is called from
	// the recorder goroutine and must return quickly.
	OnEvent func(OpEvent, *hookd.NewEvent)
	// OnAttempt receives every finished attempt (metrics). It is called from
	// the attempt goroutine and must return quickly.
	OnAttempt func(hookd.AttemptInfo)
}

// Operational event types sent to Config.OnEvent.
const (
	EventDeliveryDead     = "delivery.dead"
	EventEndpointDisabled = "endpoint.disabled"
)

// OpEvent is an operational event for the operator.
type OpEvent struct {
	Type        string // EventDeliveryDead or EventEndpointDisabled
	At          time.Time
	DeliveryID  string
	EventID     string
	EventType   string
	EndpointID  string
	EndpointURL string
	TenantID    string // the endpoint's tenant
	Attempts    int
	// StatusCode and Error describe the last attempt (0 / "" when absent).
	StatusCode int
	Error      string
	// Reason is why the endpoint was disabled (EventEndpointDisabled).
	Reason string
}

// maxResponseRead is how much of a response body is read before closing.
const maxResponseRead = 64 << 10

// maxBatch is the largest group of completions written in one call.
const maxBatch = 500

// recordLinger is the longest the recorder waits for more completions when
// its batch is short and other attempts are still being sent; lingerBatch
// is the batch size at which it stops waiting (see recorder).
const (
	recordLinger = time.Millisecond
	lingerBatch  = 32
)

func (c Config) withDefaults() Config {
	if c.Owner == "" {
		c.Owner = defaultOwner()
	}
	if c.Workers <= 0 {
		c.Workers = DefaultWorkers
	}
	if c.DefaultMaxInFlight <= 0 {
		c.DefaultMaxInFlight = DefaultMaxInFlight
	}
	if c.AttemptTimeout <= 0 {
		c.AttemptTimeout = DefaultAttemptTimeout
	}
	if c.Lease <= 0 {
		c.Lease = c.AttemptTimeout + DefaultLeaseMargin
	}
	if c.PollInterval <= 0 {
		c.PollInterval = DefaultPollInterval
	}
	if c.Retry.Base <= 0 {
		c.Retry.Base = hookd.DefaultRetryPolicy.Base
	}
	if c.Retry.MaxDelay <= 0 {
		c.Retry.MaxDelay = hookd.DefaultRetryPolicy.MaxDelay
	}
	if c.Retry.MaxAttempts <= 0 {
		c.Retry.MaxAttempts = hookd.DefaultRetryPolicy.MaxAttempts
	}
	if c.Circuit.Threshold > 0 {
		if c.Circuit.Cooldown <= 0 {
			c.Circuit.Cooldown = hookd.DefaultCircuitCooldown
		}
		if c.Circuit.MaxCooldown <= 0 {
			c.Circuit.MaxCooldown = max(hookd.DefaultCircuitMaxCooldown, c.Circuit.Cooldown)
		}
	}
	if c.UserAgent == "" {
		c.UserAgent = DefaultUserAgent
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Jitter == nil {
		c.Jitter = rand.Float64
	}
	return c
}

func defaultOwner() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "hookd"
	}
	return fmt.Sprintf("%s-%d-%08x", host, os.Getpid(), rand.Uint32())
}

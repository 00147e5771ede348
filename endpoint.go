package hookd

import (
	"crypto/rand"
	"encoding/base64"
	"strings"
	"time"
)

// SecretPrefix starts every endpoint secret.
const SecretPrefix = "whsec_"

// Endpoint is a subscriber URL that receives signed deliveries.
type Endpoint struct {
	ID          string
	TenantID    string // may be empty; events fan out only within one tenant
	URL         string
	Description string
	// EventTypes filters the events delivered: empty means all; otherwise
	// exact type names or a prefix pattern ending in ".*" ("order.*").
	EventTypes []string
	// Secret is "whsec_" + base64 of 24–64 random bytes.
	Secret string
	// PreviousSecrets keep signing until they expire (secret rotation).
	PreviousSecrets []PreviousSecret
	// Headers are sent with every request (reserved names are refused).
	Headers map[string]string
	// MaxAttempts overrides the server default when > 0.
	MaxAttempts int
	// RateLimitPerSecond caps attempts per second when > 0.
	RateLimitPerSecond float64
	// MaxInFlight caps concurrent attempts when > 0 (else the server default).
	MaxInFlight int

	Disabled       bool
	DisabledReason string

	Circuit Circuit

	CreatedAt time.Time
	UpdatedAt time.Time
}

// PreviousSecret is a rotated-out secret that still signs until ExpiresAt.
type PreviousSecret struct {
	Secret    string
	ExpiresAt time.Time
}

// SigningSecrets returns the secrets that sign a request at time now:
// the current one first, then every unexpired previous one.
func (e *Endpoint) SigningSecrets(now time.Time) []string {
	secrets := []string{e.Secret}
	for _, p := range e.PreviousSecrets {
		if now.Before(p.ExpiresAt) {
			secrets = append(secrets, p.Secret)
		}
	}
	return secrets
}

// Matches reports whether an event of type typ is delivered to e by its
// EventTypes filter. It does not look at Disabled or tenants.
func (e *Endpoint) Matches(typ string) bool {
	if len(e.EventTypes) == 0 {
		return true
	}
	for _, p := range e.EventTypes {
		if MatchEventType(p, typ) {
			return true
		}
	}
	return false
}

// MatchEventType reports whether typ matches pattern: an exact name, "*",
// or a prefix pattern "a.b.*" that matches "a.b.c" and "a.b.c.d" (not "a.b").
func MatchEventType(pattern, typ string) bool {
	if pattern == "*" {
		return true
	}
	if prefix, ok := strings.CutSuffix(pattern, "*"); ok {
		return strings.HasPrefix(typ, prefix) && len(typ) > len(prefix)
	}
	return pattern == typ
}

// NewSecret returns a fresh "whsec_" secret with 32 random bytes.
func NewSecret() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return SecretPrefix + base64.StdEncoding.EncodeToString(b)
}

// ValidateSecret checks that s is "whsec_" + standard base64 of 24–64 bytes.
func ValidateSecret(s string) error {
	rest, ok := strings.CutPrefix(s, SecretPrefix)
	if !ok {
		return FieldErrorf("secret", "must start with %q", SecretPrefix)
	}
	b, err := base64.StdEncoding.DecodeString(rest)
	if err != nil {
		return FieldErrorf("secret", "must be %q followed by standard base64", SecretPrefix)
	}
	if len(b) < 24 || len(b) > 64 {
		return FieldErrorf("secret", "must encode 24 to 64 bytes, got %d", len(b))
	}
	return nil
}

// Circuit is the circuit-breaker state of an endpoint.
type Circuit struct {
	State               CircuitState
	ConsecutiveFailures int
	// OpenUntil is when the next probe may go out while State is open.
	OpenUntil time.Time
	// Opens counts how often the circuit opened in a row without closing;
	// the cool-down grows with it.
	Opens int
}

// CircuitState is closed (normal), open (waiting) or half_open (one probe).
type CircuitState string

const (
	CircuitClosed   CircuitState = "closed"
	CircuitOpen     CircuitState = "open"
	CircuitHalfOpen CircuitState = "half_open"
)

// CircuitPolicy configures the breaker: after Threshold consecutive failures the
// circuit opens for Cooldown, doubling on each re-open up to MaxCooldown
// (MaxCooldown 0: Cooldown, not growing). Threshold 0 — the zero value —
// disables the breaker.
type CircuitPolicy struct {
	Threshold   int
	Cooldown    time.Duration
	MaxCooldown time.Duration
}

// Defaults of the circuit breaker (hookd serve's --circuit-threshold and
// --circuit-cooldown).
const (
	DefaultCircuitThreshold   = 10
	DefaultCircuitCooldown    = time.Minute
	DefaultCircuitMaxCooldown = time.Hour
)

// DefaultCircuitPolicy opens after 10 failures for 1 min, growing to 1 h.
var DefaultCircuitPolicy = CircuitPolicy{Threshold: DefaultCircuitThreshold, Cooldown: DefaultCircuitCooldown, MaxCooldown: DefaultCircuitMaxCooldown}

// Next returns the circuit after an attempt that succeeded or failed at now.
// A success always closes the circuit. A failure counts; reaching the
// threshold (or failing a probe while not closed) opens it for a cool-down
// that doubles with every consecutive open.
func (p CircuitPolicy) Next(c Circuit, success bool, now time.Time) Circuit {
	if success {
		return Circuit{State: CircuitClosed}
	}
	c.ConsecutiveFailures++
	if p.Threshold <= 0 {
		c.State = CircuitClosed
		return c
	}
	if c.State == "" {
		c.State = CircuitClosed
	}
	if c.State != CircuitClosed || c.ConsecutiveFailures >= p.Threshold {
		maxCool := p.MaxCooldown
		if maxCool <= 0 {
			maxCool = p.Cooldown
		}
		cool := p.Cooldown
		for i := 0; i < c.Opens && cool < maxCool; i++ {
			cool *= 2
		}
		cool = min(cool, maxCool)
		c.State = CircuitOpen
		c.OpenUntil = now.Add(cool)
		c.Opens++
	}
	return c
}

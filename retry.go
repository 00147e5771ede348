package hookd

import "time"

// RetryPolicy is the server-wide backoff: attempt n (1-based) that fails is
// retried after min(MaxDelay, Base*2^(n-1)) * (0.5 + jitter*0.5), jitter in [0,1).
type RetryPolicy struct {
	Base        time.Duration
	MaxDelay    time.Duration
	MaxAttempts int
}

// Defaults of the retry policy (hookd serve's --retry-base,
// --retry-max-delay and --max-attempts).
const (
	DefaultRetryBase     = 5 * time.Second
	DefaultRetryMaxDelay = time.Hour
	DefaultMaxAttempts   = 12
)

// DefaultRetryPolicy is 5 s base, 1 h cap and 12 attempts (about 2 h 40 min).
var DefaultRetryPolicy = RetryPolicy{Base: DefaultRetryBase, MaxDelay: DefaultRetryMaxDelay, MaxAttempts: DefaultMaxAttempts}

// Delay returns the wait after failed attempt n given jitter in [0,1).
func (p RetryPolicy) Delay(n int, jitter float64) time.Duration {
	d := p.Base
	for i := 1; i < n && d < p.MaxDelay; i++ {
		d *= 2
	}
	d = min(d, p.MaxDelay)
	return time.Duration(float64(d) * (0.5 + jitter*0.5))
}

// Attempts returns the max attempts for an endpoint: its own when > 0, else p's.
func (p RetryPolicy) Attempts(e *Endpoint) int {
	if e != nil && e.MaxAttempts > 0 {
		return e.MaxAttempts
	}
	return p.MaxAttempts
}

package dispatch

import (
	"math"
	"time"

	"github.com/hookd/hookd"
	"golang.org/x/time/rate"
)

// endpointState is what this process knows about one endpoint's load:
// attempts in flight, its rate limiter and whether a circuit probe is out.
// It is guarded by Dispatcher.mu.
type endpointState struct {
	inFlight    int
	maxInFlight int // effective cap: the endpoint's own or the default
	rateLimit   float64
	limiter     *rate.Limiter // nil when unlimited
	probing     bool
}

// update refreshes the state from the endpoint as loaded by the latest claim.
func (s *endpointState) update(ep *hookd.Endpoint, defaultMax int) {
	s.maxInFlight = ep.MaxInFlight
	if s.maxInFlight <= 0 {
		s.maxInFlight = defaultMax
	}
	if ep.RateLimitPerSecond == s.rateLimit {
		return
	}
	s.rateLimit = ep.RateLimitPerSecond
	if s.rateLimit <= 0 {
		s.limiter = nil
		return
	}
	burst := max(1, int(math.Floor(s.rateLimit)))
	if s.limiter == nil {
		s.limiter = rate.NewLimiter(rate.Limit(s.rateLimit), burst)
		return
	}
	s.limiter.SetLimit(rate.Limit(s.rateLimit))
	s.limiter.SetBurst(burst)
}

// full reports whether the endpoint takes no more attempts right now; wait
// is when a rate-limited endpoint gets its next token (0 when not limited).
func (s *endpointState) full(now time.Time) (full bool, wait time.Duration) {
	if s.probing || s.inFlight >= s.maxInFlight {
		return true, 0
	}
	if s.limiter != nil {
		if tokens := s.limiter.TokensAt(now); tokens < 1 {
			secs := (1 - tokens) / s.rateLimit
			return true, max(time.Millisecond, time.Duration(secs*float64(time.Second)))
		}
	}
	return false, 0
}

// idle reports whether the state holds nothing worth keeping.
func (s *endpointState) idle(now time.Time) bool {
	if s.inFlight > 0 || s.probing {
		return false
	}
	return s.limiter == nil || s.limiter.TokensAt(now) >= float64(s.limiter.Burst())
}

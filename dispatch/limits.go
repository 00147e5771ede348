package dispatch

import (
	"time"

	"github.com/hookd/hookd"
)

// minRateWait is the shortest pause the claim loop takes to come back for a
// rate-limited endpoint's next token.
const minRateWait = 20 * time.Millisecond

// endpointState is what this process knows about one endpoint's load:
// attempts in flight and whether a circuit probe is out. It is guarded by
// Dispatcher.mu.
//
// The rate limit is not kept here: ClaimDue spends a token bucket stored on
// the endpoint's row, so the limit holds across every node, and a claim
// never returns more of an endpoint's deliveries than it has tokens for. A
// local limiter on top would only release claims whose tokens are already
// spent, lowering the rate below the limit.
type endpointState struct {
	inFlight    int
	maxInFlight int // effective cap: the endpoint's own or the default
	probing     bool
}

// update refreshes the state from the endpoint as loaded by the latest claim.
func (s *endpointState) update(ep *hookd.Endpoint, defaultMax int) {
	s.maxInFlight = ep.MaxInFlight
	if s.maxInFlight <= 0 {
		s.maxInFlight = defaultMax
	}
}

// full reports whether the endpoint takes no more attempts right now.
func (s *endpointState) full() bool {
	return s.probing || s.inFlight >= s.maxInFlight
}

// idle reports whether the state holds nothing worth keeping.
func (s *endpointState) idle() bool {
	return s.inFlight == 0 && !s.probing
}

// nextTokenWait is how long the claim loop may sleep before a rate-limited
// endpoint whose claims it just received has its next token: one token's
// refill time (1/rate), at least minRateWait. It is 0 for claims of no
// rate-limited endpoint.
func nextTokenWait(claims []hookd.Claim) time.Duration {
	var wait time.Duration
	for _, c := range claims {
		rate := c.Endpoint.RateLimitPerSecond
		if rate <= 0 {
			continue
		}
		w := max(minRateWait, time.Duration(float64(time.Second)/rate))
		if wait == 0 || w < wait {
			wait = w
		}
	}
	return wait
}

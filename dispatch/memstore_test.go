package dispatch

import (
	"context"
	"errors"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/hookd/hookd"
)

// memStore is an in-memory hookd.Store with the claim and completion
// semantics of the contract, for the dispatcher's tests. Methods the
// dispatcher does not use panic (the embedded nil interface).
type memStore struct {
	hookd.Store

	mu         sync.Mutex
	endpoints  map[string]*hookd.Endpoint
	events     map[string]*hookd.Event
	deliveries map[string]*hookd.Delivery
	attempts   map[string][]*hookd.Attempt
	// buckets are the rate-limit token buckets of the endpoints that
	// spent tokens: the content at the time, as the real stores keep them.
	buckets map[string]memBucket
	// failCompletes makes the next n CompleteAttempts calls fail.
	failCompletes int
	completeCalls int
	claimCalls    int
	refillCalls   int // CompleteAndClaim calls that claimed (Limit > 0)
}

func newMemStore() *memStore {
	return &memStore{
		endpoints:  map[string]*hookd.Endpoint{},
		events:     map[string]*hookd.Event{},
		deliveries: map[string]*hookd.Delivery{},
		attempts:   map[string][]*hookd.Attempt{},
		buckets:    map[string]memBucket{},
	}
}

func cloneEndpoint(e *hookd.Endpoint) *hookd.Endpoint {
	c := *e
	c.PreviousSecrets = slices.Clone(e.PreviousSecrets)
	c.EventTypes = slices.Clone(e.EventTypes)
	if e.Headers != nil {
		c.Headers = make(map[string]string, len(e.Headers))
		for k, v := range e.Headers {
			c.Headers[k] = v
		}
	}
	return &c
}

func (s *memStore) CreateEndpoint(_ context.Context, e *hookd.Endpoint) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e.Circuit.State == "" {
		e.Circuit.State = hookd.CircuitClosed
	}
	s.endpoints[e.ID] = cloneEndpoint(e)
	return nil
}

func (s *memStore) GetEndpoint(_ context.Context, id string) (*hookd.Endpoint, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.endpoints[id]
	if !ok {
		return nil, hookd.Errorf(hookd.ENOTFOUND, "endpoint %s not found", id)
	}
	return cloneEndpoint(e), nil
}

func (s *memStore) IngestEvents(_ context.Context, evs []hookd.NewEvent) ([]hookd.IngestResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]hookd.IngestResult, 0, len(evs))
	for _, ne := range evs {
		ev := ne.Event
		s.events[ev.ID] = &ev
		n := 0
		for _, ep := range s.endpoints {
			if ep.Disabled || ep.TenantID != ev.TenantID || !ep.Matches(ev.Type) {
				continue
			}
			if ne.OnlyEndpointID != "" && ep.ID != ne.OnlyEndpointID {
				continue
			}
			id := hookd.NewID(hookd.PrefixDelivery, ev.CreatedAt)
			s.deliveries[id] = &hookd.Delivery{
				ID: id, EventID: ev.ID, EndpointID: ep.ID, Status: hookd.StatusPending,
				NextAttemptAt: ev.CreatedAt, CreatedAt: ev.CreatedAt, UpdatedAt: ev.CreatedAt,
			}
			n++
		}
		out = append(out, hookd.IngestResult{Event: ev, Deliveries: n})
	}
	return out, nil
}

func (s *memStore) GetDelivery(_ context.Context, id string) (*hookd.Delivery, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.deliveries[id]
	if !ok {
		return nil, hookd.Errorf(hookd.ENOTFOUND, "delivery %s not found", id)
	}
	c := *d
	return &c, nil
}

func (s *memStore) ListDeliveries(_ context.Context, f hookd.DeliveryFilter) ([]*hookd.Delivery, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*hookd.Delivery
	for _, d := range s.deliveries {
		if (f.EventID == "" || d.EventID == f.EventID) && (f.EndpointID == "" || d.EndpointID == f.EndpointID) &&
			(f.Status == "" || d.Status == f.Status) {
			c := *d
			out = append(out, &c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID > out[j].ID })
	return out, "", nil
}

func (s *memStore) ListAttempts(_ context.Context, id string, _ hookd.Page) ([]*hookd.Attempt, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.deliveries[id]; !ok {
		return nil, "", hookd.Errorf(hookd.ENOTFOUND, "delivery %s not found", id)
	}
	var out []*hookd.Attempt
	for _, a := range s.attempts[id] {
		c := *a
		out = append(out, &c)
	}
	return out, "", nil
}

func (s *memStore) ClaimDue(_ context.Context, r hookd.ClaimRequest) ([]hookd.Claim, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.claimCalls++
	leased := map[string]int{}
	var due []*hookd.Delivery
	for _, d := range s.deliveries {
		if d.Status != hookd.StatusPending {
			continue
		}
		if d.LeaseOwner != "" && d.LeaseExpiresAt.After(r.Now) {
			leased[d.EndpointID]++
			continue
		}
		ep := s.endpoints[d.EndpointID]
		if d.NextAttemptAt.After(r.Now) || ep.Disabled || slices.Contains(r.ExcludeEndpoints, ep.ID) {
			continue
		}
		if ep.Circuit.State != hookd.CircuitClosed && ep.Circuit.OpenUntil.After(r.Now) {
			continue
		}
		due = append(due, d)
	}
	sort.Slice(due, func(i, j int) bool {
		if !due[i].NextAttemptAt.Equal(due[j].NextAttemptAt) {
			return due[i].NextAttemptAt.Before(due[j].NextAttemptAt)
		}
		return due[i].ID < due[j].ID
	})
	tokens := map[string]float64{}
	for id, ep := range s.endpoints {
		if ep.RateLimitPerSecond > 0 {
			tokens[id] = s.buckets[id].available(ep.RateLimitPerSecond, r.Now)
		}
	}
	var out []hookd.Claim
	for _, d := range due {
		if len(out) >= r.Limit {
			break
		}
		ep := s.endpoints[d.EndpointID]
		if ep.RateLimitPerSecond > 0 {
			if tokens[ep.ID] < 1-1e-9 {
				continue
			}
			tokens[ep.ID]--
			b := s.buckets[ep.ID]
			b.tokens, b.at = max(0, tokens[ep.ID]), maxTime(b.at, r.Now)
			s.buckets[ep.ID] = b
		}
		if r.DefaultMaxInFlight > 0 {
			limit := ep.MaxInFlight
			if limit <= 0 {
				limit = r.DefaultMaxInFlight
			}
			if leased[ep.ID] >= limit {
				continue
			}
		}
		leased[ep.ID]++
		d.LeaseOwner, d.LeaseExpiresAt = r.Owner, r.Now.Add(r.Lease)
		dc, ev := *d, *s.events[d.EventID]
		out = append(out, hookd.Claim{Delivery: &dc, Event: &ev, Endpoint: cloneEndpoint(ep)})
	}
	return out, nil
}

// memBucket is a token bucket: tokens at time at (zero: never spent, full).
type memBucket struct {
	tokens float64
	at     time.Time
}

// available is the bucket's content at now for rate tokens per second
// (burst max(1, rate)), as ClaimDue's contract defines it.
func (b memBucket) available(rate float64, now time.Time) float64 {
	burst := max(1, rate)
	if b.at.IsZero() {
		return burst
	}
	return min(burst, b.tokens+rate*max(0, now.Sub(b.at).Seconds()))
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func (s *memStore) ReleaseClaims(_ context.Context, owner string, ids []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		if d, ok := s.deliveries[id]; ok && d.LeaseOwner == owner {
			d.LeaseOwner, d.LeaseExpiresAt = "", time.Time{}
		}
	}
	return nil
}

var errInjected = errors.New("injected store failure")

func (s *memStore) CompleteAttempts(_ context.Context, cs []hookd.Completion, p hookd.CircuitPolicy) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.completeCalls++
	if s.failCompletes > 0 {
		s.failCompletes--
		return errInjected
	}
	for _, c := range cs {
		d, ok := s.deliveries[c.Attempt.DeliveryID]
		if !ok {
			continue
		}
		a := c.Attempt
		taken := false
		for _, x := range s.attempts[d.ID] {
			taken = taken || x.Number == a.Number
		}
		if !taken {
			s.attempts[d.ID] = append(s.attempts[d.ID], &a)
		}
		if d.LeaseOwner != c.Owner {
			continue
		}
		d.Attempts, d.LastStatusCode, d.LastError = a.Number, a.StatusCode, a.Error
		d.LeaseOwner, d.LeaseExpiresAt = "", time.Time{}
		ep := s.endpoints[d.EndpointID]
		switch c.Outcome {
		case hookd.OutcomeSucceeded:
			d.Status = hookd.StatusSucceeded
		case hookd.OutcomeRetry:
			d.NextAttemptAt = c.NextAttemptAt
		case hookd.OutcomeDead:
			d.Status = hookd.StatusDead
		case hookd.OutcomeGone:
			d.Status = hookd.StatusDead
			ep.Disabled, ep.DisabledReason = true, c.DisableReason
		}
		ep.Circuit = p.Next(ep.Circuit, c.Outcome == hookd.OutcomeSucceeded, a.StartedAt.Add(a.Latency))
	}
	return nil
}

// attemptStatuses returns the status codes of a delivery's attempts in order.
func (s *memStore) attemptStatuses(id string) []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []int
	for _, a := range s.attempts[id] {
		out = append(out, a.StatusCode)
	}
	return out
}

func itoa(i int) string { return strconv.Itoa(i) }

// CompleteAndClaim is CompleteAttempts then ClaimDue (not atomic: enough
// for the dispatcher's tests, which do not inject failures between them).
func (s *memStore) CompleteAndClaim(ctx context.Context, cs []hookd.Completion, p hookd.CircuitPolicy, r hookd.ClaimRequest) ([]hookd.Claim, error) {
	if err := s.CompleteAttempts(ctx, cs, p); err != nil {
		return nil, err
	}
	if r.Limit <= 0 {
		return nil, nil
	}
	s.mu.Lock()
	s.refillCalls++
	s.mu.Unlock()
	return s.ClaimDue(ctx, r)
}

// Exclusive: one memStore behaves like SQLite, held by one process.
func (s *memStore) Exclusive() bool { return true }

func (s *memStore) ReleaseClaimed(_ context.Context, owner string, until time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, d := range s.deliveries {
		if d.Status == hookd.StatusPending && d.LeaseOwner == owner && d.LeaseExpiresAt.Equal(until) {
			d.LeaseOwner, d.LeaseExpiresAt = "", time.Time{}
			n++
		}
	}
	return n, nil
}

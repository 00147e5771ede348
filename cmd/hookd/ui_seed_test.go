package main

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/hookd/hookd"
)

// seedShape says, for an age, the chance that an endpoint's first attempt
// fails, its typical latency, and whether a failure kills the delivery
// (else it is retried 30 s later and succeeds).
type seedShape func(age time.Duration) (failRate float64, latency time.Duration, dead bool)

// seedHistory records a day of delivery history for the endpoints through
// the store's own write path (ingest, claim, complete), so that the stats
// the dashboard shows are the store's real rollups: every `every` from
// now-24h one event per endpoint, attempted at its creation time. It works
// one hour at a time, three transactions per hour.
func seedHistory(t *testing.T, store hookd.Store, now time.Time, every time.Duration, eps map[*hookd.Endpoint]seedShape) {
	t.Helper()
	ctx := context.Background()
	rnd := rand.New(rand.NewPCG(1, 7))
	types := []string{"order.created", "order.paid", "order.shipped", "invoice.finalized", "customer.updated"}
	byID := map[string]seedShape{}
	for e, s := range eps {
		byID[e.ID] = s
	}
	policy := hookd.CircuitPolicy{} // no breaker while writing history
	start := now.Add(-24 * time.Hour).Truncate(time.Hour)
	for hour := start; hour.Before(now); hour = hour.Add(time.Hour) {
		end := hour.Add(time.Hour)
		if last := now.Add(-time.Minute); end.After(last) {
			end = last
		}
		var batch []hookd.NewEvent
		for e := range eps {
			for t0 := hour; t0.Before(end); t0 = t0.Add(every) {
				ts := t0.Add(time.Duration(rnd.Int64N(int64(every / 2)))).UTC().Truncate(time.Microsecond)
				if !ts.Before(end) {
					continue
				}
				payload := fmt.Sprintf(`{"id":"ord_%05d","amount":%d,"currency":"EUR","customer":{"id":"cus_%04d","email":"jane@example.com"},"items":[{"sku":"SKU-%03d","qty":%d}]}`,
					rnd.IntN(99999), 500+rnd.IntN(50000), rnd.IntN(9999), rnd.IntN(999), 1+rnd.IntN(3))
				batch = append(batch, hookd.NewEvent{Event: hookd.Event{ID: hookd.NewID(hookd.PrefixEvent, ts), TenantID: e.TenantID,
					Type: types[rnd.IntN(len(types))], Payload: []byte(payload), CreatedAt: ts}, OnlyEndpointID: e.ID})
			}
		}
		if len(batch) > 0 {
			if _, err := store.IngestEvents(ctx, batch); err != nil {
				t.Fatalf("seed ingest: %v", err)
			}
		}
		// Everything due by the end of the hour: this hour's first attempts
		// and the retries of the failures of the hour before.
		claims, err := store.ClaimDue(ctx, hookd.ClaimRequest{Owner: "seed", Now: end, Lease: time.Minute, Limit: 1000})
		if err != nil {
			t.Fatalf("seed claim: %v", err)
		}
		var cs []hookd.Completion
		for _, c := range claims {
			at := c.Delivery.NextAttemptAt
			failRate, lat, dead := byID[c.Endpoint.ID](now.Sub(at))
			a := hookd.Attempt{DeliveryID: c.Delivery.ID, Number: c.Delivery.Attempts + 1, StartedAt: at,
				Latency: time.Duration(float64(lat) * math.Exp(rnd.NormFloat64()*0.35)), StatusCode: 200, ResponseBody: `{"received":true}`}
			comp := hookd.Completion{Owner: "seed", Attempt: a, Outcome: hookd.OutcomeSucceeded}
			if c.Delivery.Attempts == 0 && rnd.Float64() < failRate {
				comp.Attempt.StatusCode, comp.Attempt.ResponseBody = 503, `{"error":"upstream unavailable"}`
				if rnd.Float64() < 0.3 {
					comp.Attempt.StatusCode, comp.Attempt.ResponseBody = 0, ""
					comp.Attempt.Error = "dial tcp: connection refused"
					comp.Attempt.Latency = 2 * time.Millisecond
				}
				comp.Outcome, comp.NextAttemptAt = hookd.OutcomeRetry, at.Add(30*time.Second)
				if dead {
					comp.Outcome = hookd.OutcomeDead
				}
			}
			cs = append(cs, comp)
		}
		if len(cs) > 0 {
			if err := store.CompleteAttempts(ctx, cs, policy); err != nil {
				t.Fatalf("seed complete: %v", err)
			}
		}
	}
}

// Package storetest is the conformance suite of hookd.Store: every backend
// (sqlite, postgres) runs Run and must pass it. The tests are written from
// the documented contract in store.go, not from one implementation. It must
// not import sqlite or postgres: each backend's tests run it.
package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/hookd/hookd"
)

// Opener returns a fresh, empty, migrated store for one test and closes it
// in t.Cleanup. It is called once per subtest, possibly in parallel.
type Opener func(t *testing.T) hookd.Store

// Run runs the conformance suite against the stores open returns. Every
// subtest calls open for its own store and runs in parallel.
func Run(t *testing.T, open func(t *testing.T) hookd.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open Opener)
	}{
		{"EndpointCRUD", testEndpointCRUD},
		{"EndpointUpdateFields", testEndpointUpdateFields},
		{"EndpointUpdateRace", testEndpointUpdateRace},
		{"EndpointQuota", testEndpointQuota},
		{"EndpointQuotaRace", testEndpointQuotaRace},
		{"HostileText", testHostileText},
		{"ListEndpoints", testListEndpoints},
		{"PageLimits", testPageLimits},
		{"IngestFanOut", testIngestFanOut},
		{"IngestOnlyEndpoint", testIngestOnlyEndpoint},
		{"IngestIdempotency", testIngestIdempotency},
		{"IngestAtomicity", testIngestAtomicity},
		{"ListEvents", testListEvents},
		{"ListDeliveries", testListDeliveries},
		{"ClaimDue", testClaimDue},
		{"ClaimLeaseExpiry", testClaimLeaseExpiry},
		{"ClaimConcurrent", testClaimConcurrent},
		{"ClaimSkipsEndpoints", testClaimSkipsEndpoints},
		{"ClaimMaxInFlight", testClaimMaxInFlight},
		{"ClaimRateLimit", testClaimRateLimit},
		{"ClaimRateLimitConcurrent", testClaimRateLimitConcurrent},
		{"ReleaseDeliveries", testReleaseDeliveries},
		{"ReleaseLeasesExpiringAt", testReleaseLeasesExpiringAt},
		{"CompleteOutcomes", testCompleteOutcomes},
		{"CompleteLostLease", testCompleteLostLease},
		{"CompleteBatchMixed", testCompleteBatchMixed},
		{"CompleteDeletedDelivery", testCompleteDeletedDelivery},
		{"CompleteAndClaim", testCompleteAndClaim},
		{"IngestLease", testIngestLease},
		{"IngestLeaseRules", testIngestLeaseRules},
		{"IngestLeaseConcurrent", testIngestLeaseConcurrent},
		{"Circuit", testCircuit},
		{"RetryDelivery", testRetryDelivery},
		{"ReplayDead", testReplayDead},
		{"ListDeadFilters", testListDeadFilters},
		{"ListAttempts", testListAttempts},
		{"JobLease", testJobLease},
		{"Settings", testSettings},
		{"DeleteCascade", testDeleteCascade},
		{"Ping", testPing},
		{"Purge", testPurge},
		{"RecoveredEndpoints", testRecoveredEndpoints},
		{"ReplayRecovered", testReplayRecovered},
		{"APIKeys", testAPIKeys},
		{"TakeTokens", testTakeTokens},
		{"CountAllEndpoints", testCountAllEndpoints},
		{"TenantFilters", testTenantFilters},
		{"AlertState", testAlertState},
		{"CompleteNotice", testCompleteNotice},
		{"StatsRollups", testStatsRollups},
		{"StatsRollupUpserts", testStatsRollupUpserts},
		{"StatsCircuit", testStatsCircuit},
		{"PurgeStats", testPurgeStats},
		{"StatsByEndpointSeries", testStatsByEndpointSeries},
		{"StatsOverallWithoutSystem", testStatsOverallWithoutSystem},
		{"RollupHours", testRollupHours},
		{"StatsHoursFromMinutes", testStatsHoursFromMinutes},
		{"PurgeStatsKeepsUnrolled", testPurgeStatsKeepsUnrolled},
		{"DeliveryCounts", testDeliveryCounts},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, open)
		})
	}
}

// t0 is the suite's clock origin; it carries nanoseconds and a non-UTC zone
// to check truncation to microseconds and UTC on the way back.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.FixedZone("CET", 3600))

// fixture is one test's store with helpers that fail the test on error.
type fixture struct {
	t   *testing.T
	s   hookd.Store
	ctx context.Context
}

func setup(t *testing.T, open Opener) *fixture {
	t.Helper()
	return &fixture{t: t, s: open(t), ctx: t.Context()}
}

// endpoint creates an endpoint of tenant after applying mods.
func (f *fixture) endpoint(tenant string, mods ...func(*hookd.Endpoint)) *hookd.Endpoint {
	f.t.Helper()
	e := &hookd.Endpoint{
		ID:        hookd.NewID(hookd.PrefixEndpoint, t0),
		TenantID:  tenant,
		URL:       "https://example.com/hook",
		Secret:    hookd.NewSecret(),
		Circuit:   hookd.Circuit{State: hookd.CircuitClosed},
		CreatedAt: t0,
		UpdatedAt: t0,
	}
	for _, m := range mods {
		m(e)
	}
	if err := f.s.CreateEndpoint(f.ctx, e); err != nil {
		f.t.Fatalf("CreateEndpoint: %v", err)
	}
	return e
}

func types(ts ...string) func(*hookd.Endpoint) {
	return func(e *hookd.Endpoint) { e.EventTypes = ts }
}

// event returns a new event (not stored) of tenant and type created at.
func event(tenant, typ string, at time.Time) hookd.NewEvent {
	return hookd.NewEvent{Event: hookd.Event{
		ID:        hookd.NewID(hookd.PrefixEvent, at),
		TenantID:  tenant,
		Type:      typ,
		Payload:   json.RawMessage(`{"n": 1,  "s":"é\u00e9", "a":[true ,null]}`),
		CreatedAt: at,
	}}
}

func (f *fixture) ingest(evs ...hookd.NewEvent) []hookd.IngestResult {
	f.t.Helper()
	res, err := f.s.IngestEvents(f.ctx, evs)
	if err != nil {
		f.t.Fatalf("IngestEvents: %v", err)
	}
	if len(res) != len(evs) {
		f.t.Fatalf("IngestEvents: got %d results, want %d", len(res), len(evs))
	}
	return res
}

// deliveries lists every delivery that matches df, all pages.
func (f *fixture) deliveries(df hookd.DeliveryFilter) []*hookd.Delivery {
	f.t.Helper()
	var all []*hookd.Delivery
	df.Limit = hookd.MaxPageLimit
	for {
		ds, next, err := f.s.ListDeliveries(f.ctx, df)
		if err != nil {
			f.t.Fatalf("ListDeliveries: %v", err)
		}
		all = append(all, ds...)
		if next == "" {
			return all
		}
		df.Cursor = next
	}
}

func (f *fixture) delivery(id string) *hookd.Delivery {
	f.t.Helper()
	d, err := f.s.GetDelivery(f.ctx, id)
	if err != nil {
		f.t.Fatalf("GetDelivery(%s): %v", id, err)
	}
	return d
}

func (f *fixture) getEndpoint(id string) *hookd.Endpoint {
	f.t.Helper()
	e, err := f.s.GetEndpoint(f.ctx, id)
	if err != nil {
		f.t.Fatalf("GetEndpoint(%s): %v", id, err)
	}
	return e
}

func (f *fixture) claim(r hookd.ClaimRequest) []hookd.Claim {
	f.t.Helper()
	if r.Lease == 0 {
		r.Lease = time.Hour
	}
	cs, err := f.s.ClaimDue(f.ctx, r)
	if err != nil {
		f.t.Fatalf("ClaimDue: %v", err)
	}
	return cs
}

func (f *fixture) complete(policy hookd.CircuitPolicy, cs ...hookd.Completion) {
	f.t.Helper()
	if err := f.s.CompleteAttempts(f.ctx, cs, policy); err != nil {
		f.t.Fatalf("CompleteAttempts: %v", err)
	}
}

// attempt is attempt number n of delivery id that started at and took 150ms.
func attempt(id string, n int, at time.Time, code int) hookd.Attempt {
	return hookd.Attempt{DeliveryID: id, Number: n, StartedAt: at, StatusCode: code,
		Latency: 150*time.Millisecond + 3*time.Microsecond, ResponseBody: fmt.Sprintf("body %d", n), Error: ""}
}

// wantCode fails unless err carries the hookd error code.
func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := hookd.ErrorCode(err); got != code {
		t.Fatalf("got error %v (code %q), want code %q", err, got, code)
	}
}

// ut is t truncated to microseconds, in UTC (how stores return times).
func ut(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return time.UnixMicro(t.UnixMicro()).UTC()
}

// wantTime fails unless got equals want to the microsecond and is in UTC.
func wantTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if !got.Equal(ut(want)) {
		t.Errorf("%s: got %v, want %v", what, got, ut(want))
	}
	if !got.IsZero() && got.Location() != time.UTC {
		t.Errorf("%s: got location %v, want UTC", what, got.Location())
	}
}

// normEndpoint makes e comparable with reflect.DeepEqual: times truncated
// to microseconds in UTC, empty slices and maps as nil, "" circuit as closed.
func normEndpoint(e *hookd.Endpoint) hookd.Endpoint {
	n := *e
	if len(n.EventTypes) == 0 {
		n.EventTypes = nil
	}
	if len(n.Headers) == 0 {
		n.Headers = nil
	}
	n.PreviousSecrets = nil
	for _, p := range e.PreviousSecrets {
		n.PreviousSecrets = append(n.PreviousSecrets, hookd.PreviousSecret{Secret: p.Secret, ExpiresAt: ut(p.ExpiresAt)})
	}
	if n.Circuit.State == "" {
		n.Circuit.State = hookd.CircuitClosed
	}
	n.Circuit.OpenUntil = ut(n.Circuit.OpenUntil)
	n.CreatedAt = ut(n.CreatedAt)
	n.UpdatedAt = ut(n.UpdatedAt)
	return n
}

func wantEndpoint(t *testing.T, got, want *hookd.Endpoint) {
	t.Helper()
	if g, w := normEndpoint(got), normEndpoint(want); !reflect.DeepEqual(g, w) {
		t.Errorf("endpoint:\n got %+v\nwant %+v", g, w)
	}
}

// wantEvent compares events: payload byte for byte, time to the µs in UTC.
func wantEvent(t *testing.T, got, want *hookd.Event) {
	t.Helper()
	if got.ID != want.ID || got.TenantID != want.TenantID || got.Type != want.Type ||
		got.IdempotencyKey != want.IdempotencyKey || string(got.Payload) != string(want.Payload) {
		t.Errorf("event:\n got %s %q %q %q %s\nwant %s %q %q %q %s", got.ID, got.TenantID, got.Type,
			got.IdempotencyKey, got.Payload, want.ID, want.TenantID, want.Type, want.IdempotencyKey, want.Payload)
	}
	wantTime(t, "event CreatedAt", got.CreatedAt, want.CreatedAt)
}

// ids returns the ids of ds, sorted ascending when sorted is true.
func deliveryIDs(ds []*hookd.Delivery, sorted bool) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.ID
	}
	if sorted {
		sort.Strings(out)
	}
	return out
}

func claimIDs(cs []hookd.Claim) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Delivery.ID
	}
	return out
}

// countByEndpoint counts claims per endpoint id.
func countByEndpoint(cs []hookd.Claim) map[string]int {
	m := map[string]int{}
	for _, c := range cs {
		m[c.Delivery.EndpointID]++
	}
	return m
}

func ptr[T any](v T) *T { return &v }

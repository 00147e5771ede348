package scheduler_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/internal/testenv"
	"github.com/hookd/hookd/scheduler"
	"github.com/hookd/hookd/sqlite"
)

// dbFiles copies a SQLite file migrated once per process for each test
// (see testenv.FileTemplate).
var dbFiles = testenv.NewFileTemplate(func(ctx context.Context, path string) error { return sqlite.Migrate(ctx, path) })

func openStore(t *testing.T) hookd.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), dbFiles.Path(t), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// clock is a settable clock shared by the schedulers of a test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func TestOneNodeRunsAJobAndAnotherTakesOver(t *testing.T) {
	t.Parallel()
	store := openStore(t)
	clk := &clock{t: time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)}
	runs := map[string]int{}
	job := func(node string) scheduler.Job {
		return scheduler.Job{Name: "j", Every: time.Minute, Run: func(context.Context) error { runs[node]++; return nil }}
	}
	a := scheduler.New(store, scheduler.Config{Owner: "node-a", Now: clk.now})
	b := scheduler.New(store, scheduler.Config{Owner: "node-b", Now: clk.now})
	ctx := context.Background()

	for i := 0; i < 3; i++ {
		ranA, ranB := a.RunOnce(ctx, job("a")), b.RunOnce(ctx, job("b"))
		if !ranA || ranB {
			t.Fatalf("tick %d: a ran %v, b ran %v; want only a (it holds the lease)", i, ranA, ranB)
		}
		clk.add(time.Minute)
	}
	// a dies: b takes over once a's lease (two intervals) has expired.
	// a's last run was at 10:02, so its lease lasts until 10:04; it is 10:03.
	clk.add(30 * time.Second)
	if b.RunOnce(ctx, job("b")) {
		t.Fatalf("b ran while a's lease was still valid")
	}
	clk.add(31 * time.Second)
	if !b.RunOnce(ctx, job("b")) {
		t.Fatalf("b did not take over after a's lease expired")
	}
	if a.RunOnce(ctx, job("a")) {
		t.Fatalf("a ran again after b took the lease")
	}
	if runs["a"] != 3 || runs["b"] != 1 {
		t.Errorf("runs: got %v, want a:3 b:1", runs)
	}
}

func TestRetentionJobPurges(t *testing.T) {
	t.Parallel()
	store := openStore(t)
	ctx := context.Background()
	long := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ep := &hookd.Endpoint{ID: hookd.NewID(hookd.PrefixEndpoint, long), URL: "https://example.com/", Secret: hookd.NewSecret(), CreatedAt: long, UpdatedAt: long}
	if err := store.CreateEndpoint(ctx, ep); err != nil {
		t.Fatal(err)
	}
	var evs []hookd.NewEvent
	for i := 0; i < 25; i++ {
		evs = append(evs, hookd.NewEvent{Event: hookd.Event{ID: hookd.NewID(hookd.PrefixEvent, long), Type: "a", Payload: []byte(`{}`), CreatedAt: long}})
	}
	if _, err := store.IngestEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	claims, err := store.ClaimDue(ctx, hookd.ClaimRequest{Owner: "n", Now: long, Lease: time.Minute, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var comps []hookd.Completion
	for _, c := range claims {
		comps = append(comps, hookd.Completion{Owner: "n", Outcome: hookd.OutcomeSucceeded,
			Attempt: hookd.Attempt{DeliveryID: c.Delivery.ID, Number: 1, StartedAt: long, StatusCode: 200}})
	}
	if err := store.CompleteAttempts(ctx, comps, hookd.CircuitPolicy{}); err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return long.Add(31 * 24 * time.Hour) }
	job := scheduler.Retention(store, 30*24*time.Hour, time.Minute, 10, now, nil)
	if !scheduler.New(store, scheduler.Config{Owner: "n", Now: now}).RunOnce(ctx, job) {
		t.Fatal("retention did not run")
	}
	if ds, _, err := store.ListDeliveries(ctx, hookd.DeliveryFilter{}); err != nil || len(ds) != 0 {
		t.Errorf("deliveries after retention: got %d (%v), want 0", len(ds), err)
	}
	if es, _, err := store.ListEvents(ctx, hookd.EventFilter{}); err != nil || len(es) != 0 {
		t.Errorf("events after retention: got %d (%v), want 0", len(es), err)
	}
}

func TestAutoReplayJob(t *testing.T) {
	t.Parallel()
	store := openStore(t)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	ep := &hookd.Endpoint{ID: hookd.NewID(hookd.PrefixEndpoint, t0), URL: "https://example.com/", Secret: hookd.NewSecret(), CreatedAt: t0, UpdatedAt: t0}
	if err := store.CreateEndpoint(ctx, ep); err != nil {
		t.Fatal(err)
	}
	evs := []hookd.NewEvent{
		{Event: hookd.Event{ID: hookd.NewID(hookd.PrefixEvent, t0), Type: "a", Payload: []byte(`{}`), CreatedAt: t0}},
		{Event: hookd.Event{ID: hookd.NewID(hookd.PrefixEvent, t0), Type: "a", Payload: []byte(`{}`), CreatedAt: t0}},
	}
	if _, err := store.IngestEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	complete := func(at time.Time, outcome hookd.Outcome) {
		cs, err := store.ClaimDue(ctx, hookd.ClaimRequest{Owner: "n", Now: at, Lease: time.Minute, Limit: 1})
		if err != nil || len(cs) != 1 {
			t.Fatalf("claim: %d, %v", len(cs), err)
		}
		a := hookd.Attempt{DeliveryID: cs[0].Delivery.ID, Number: cs[0].Delivery.Attempts + 1, StartedAt: at, StatusCode: 200}
		if err := store.CompleteAttempts(ctx, []hookd.Completion{{Owner: "n", Outcome: outcome, Attempt: a}}, hookd.CircuitPolicy{}); err != nil {
			t.Fatal(err)
		}
	}
	complete(t0.Add(time.Minute), hookd.OutcomeDead)        // the first dies
	complete(t0.Add(2*time.Minute), hookd.OutcomeSucceeded) // the second gets through: recovered

	rec := &recordingNotifier{}
	woken := 0
	job := scheduler.AutoReplay(store, time.Minute, func() time.Time { return t0.Add(3 * time.Minute) },
		rec, func() { woken++ })
	if !scheduler.New(store, scheduler.Config{Owner: "n"}).RunOnce(ctx, job) {
		t.Fatal("auto-replay did not run")
	}
	if want := ep.ID + ":1"; len(rec.committed) != 1 || rec.committed[0] != want || woken != 1 {
		t.Fatalf("recovered: got %v (woken %d), want [%s] and one wake", rec.committed, woken, want)
	}
	// The notice was stored by the replay's transaction, with the count.
	stored, err := store.GetEvent(ctx, rec.built[0].ID)
	if err != nil {
		t.Fatalf("the endpoint.recovered event was not stored: %v", err)
	}
	var data map[string]any
	if err := json.Unmarshal(stored.Payload, &data); err != nil || stored.Type != hookd.EventTypeEndpointRecovered ||
		data["endpoint_id"] != ep.ID || data["replayed"] != float64(1) {
		t.Errorf("stored notice: type %q data %v (%v), want endpoint.recovered of %s with replayed 1", stored.Type, data, err, ep.ID)
	}
	ds, _, err := store.ListDeliveries(ctx, hookd.DeliveryFilter{Status: hookd.StatusDead})
	if err != nil || len(ds) != 0 {
		t.Errorf("dead after auto-replay: got %d (%v), want 0", len(ds), err)
	}
	// Nothing left to replay: the next run is quiet.
	rec.committed = nil
	scheduler.New(store, scheduler.Config{Owner: "n"}).RunOnce(ctx, job)
	if len(rec.committed) != 0 || len(rec.built) != 1 {
		t.Errorf("second run replayed %v (%d notices built), want nothing", rec.committed, len(rec.built))
	}
}

// recordingNotifier builds operational events as ops.Emitter does and
// records them and the committed ones ("endpoint:replayed").
type recordingNotifier struct {
	built     []*hookd.NewEvent
	committed []string
}

func (r *recordingNotifier) Event(typ string, data map[string]any) *hookd.NewEvent {
	payload, _ := json.Marshal(data)
	now := time.Now()
	ne := &hookd.NewEvent{Event: hookd.Event{ID: hookd.NewID(hookd.PrefixEvent, now), TenantID: hookd.SystemTenant,
		Type: typ, Payload: payload, CreatedAt: now}}
	r.built = append(r.built, ne)
	return ne
}

func (r *recordingNotifier) Committed(typ string, data map[string]any, ev *hookd.NewEvent) {
	r.committed = append(r.committed, fmt.Sprintf("%v:%v", data["endpoint_id"], data["replayed"]))
}

// TestLifecycle checks the hookd.Service contract.
func TestLifecycle(t *testing.T) {
	t.Parallel()
	testenv.CheckLifecycle(t, func(t *testing.T) hookd.Service {
		job := scheduler.Job{Name: "j", Every: time.Hour, Run: func(context.Context) error { return nil }}
		return scheduler.New(openStore(t), scheduler.Config{Owner: "n", Jobs: []scheduler.Job{job}})
	})
}

func TestStatsRetentionJobPurges(t *testing.T) {
	t.Parallel()
	store := openStore(t)
	ctx := context.Background()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ep := &hookd.Endpoint{ID: hookd.NewID(hookd.PrefixEndpoint, start), URL: "https://example.com/", Secret: hookd.NewSecret(), CreatedAt: start, UpdatedAt: start}
	if err := store.CreateEndpoint(ctx, ep); err != nil {
		t.Fatal(err)
	}
	// Attempts 100, 40 and 1 days before now: 100 goes (keep 90 days);
	// the minute rows of 40 go (older than 31 days), its hour row stays.
	now := start.Add(100 * 24 * time.Hour)
	ages := []time.Duration{100 * 24 * time.Hour, 40 * 24 * time.Hour, 24 * time.Hour}
	var evs []hookd.NewEvent
	for range ages {
		evs = append(evs, hookd.NewEvent{Event: hookd.Event{ID: hookd.NewID(hookd.PrefixEvent, start), Type: "a", Payload: []byte(`{}`), CreatedAt: start}})
	}
	if _, err := store.IngestEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	claims, err := store.ClaimDue(ctx, hookd.ClaimRequest{Owner: "n", Now: now, Lease: time.Minute, Limit: 100})
	if err != nil || len(claims) != len(ages) {
		t.Fatalf("claim: %d, %v", len(claims), err)
	}
	var comps []hookd.Completion
	for i, c := range claims {
		comps = append(comps, hookd.Completion{Owner: "n", Outcome: hookd.OutcomeSucceeded,
			Attempt: hookd.Attempt{DeliveryID: c.Delivery.ID, Number: 1, StartedAt: now.Add(-ages[i]), StatusCode: 200}})
	}
	if err := store.CompleteAttempts(ctx, comps, hookd.CircuitPolicy{}); err != nil {
		t.Fatal(err)
	}
	count := func(since time.Time, d time.Duration) int64 {
		st, err := store.ReadStats(ctx, hookd.StatsQuery{EndpointID: ep.ID, Since: since, Until: since.Add(d)})
		if err != nil {
			t.Fatal(err)
		}
		return st.Attempts
	}
	clock := func() time.Time { return now }
	// The hour rows are the stats rollup's (derived from the minute rows,
	// which retention keeps until it has summed them): it runs first.
	rollup := scheduler.StatsRollup(store, time.Minute, scheduler.DefaultStatsRollupRedo, clock, nil)
	if !scheduler.New(store, scheduler.Config{Owner: "n", Now: clock}).RunOnce(ctx, rollup) {
		t.Fatal("stats rollup did not run")
	}
	job := scheduler.StatsRetention(store, 90*24*time.Hour, time.Minute, 1, clock, nil)
	if !scheduler.New(store, scheduler.Config{Owner: "n", Now: clock}).RunOnce(ctx, job) {
		t.Fatal("stats retention did not run")
	}
	if n := count(now.Add(-ages[0]).Truncate(time.Hour), time.Hour); n != 0 {
		t.Errorf("100 days old: %d attempts left in the hour rows, want 0", n)
	}
	old := now.Add(-ages[1])
	if h, m := count(old.Truncate(time.Hour), time.Hour), count(old, time.Minute); h != 1 || m != 0 {
		t.Errorf("40 days old: %d attempts in the hour rows, %d in the minute rows; want 1, 0", h, m)
	}
	recent := now.Add(-ages[2])
	if h, m := count(recent.Truncate(time.Hour), time.Hour), count(recent, time.Minute); h != 1 || m != 1 {
		t.Errorf("1 day old: %d attempts in the hour rows, %d in the minute rows; want 1, 1", h, m)
	}
}

// TestStatsRollupJob: one run sums every closed hour into the tenant and
// overall rows, in steps over 100 days of rows, and the overall read then
// equals what the endpoint rows held before.
func TestStatsRollupJob(t *testing.T) {
	t.Parallel()
	store := openStore(t)
	ctx := context.Background()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now := start.Add(100*24*time.Hour + 30*time.Minute)
	ep := &hookd.Endpoint{ID: hookd.NewID(hookd.PrefixEndpoint, start), TenantID: "acme", URL: "https://example.com/", Secret: hookd.NewSecret(), CreatedAt: start, UpdatedAt: start}
	if err := store.CreateEndpoint(ctx, ep); err != nil {
		t.Fatal(err)
	}
	ages := []time.Duration{99 * 24 * time.Hour, 20 * 24 * time.Hour, 3 * time.Hour, 10 * time.Minute}
	var evs []hookd.NewEvent
	for range ages {
		evs = append(evs, hookd.NewEvent{Event: hookd.Event{ID: hookd.NewID(hookd.PrefixEvent, start), TenantID: "acme", Type: "a", Payload: []byte(`{}`), CreatedAt: start}})
	}
	if _, err := store.IngestEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	claims, err := store.ClaimDue(ctx, hookd.ClaimRequest{Owner: "n", Now: now, Lease: time.Minute, Limit: 100})
	if err != nil || len(claims) != len(ages) {
		t.Fatalf("claim: %d, %v", len(claims), err)
	}
	var comps []hookd.Completion
	for i, c := range claims {
		comps = append(comps, hookd.Completion{Owner: "n", Outcome: hookd.OutcomeSucceeded,
			Attempt: hookd.Attempt{DeliveryID: c.Delivery.ID, Number: 1, StartedAt: now.Add(-ages[i]), StatusCode: 200}})
	}
	if err := store.CompleteAttempts(ctx, comps, hookd.CircuitPolicy{}); err != nil {
		t.Fatal(err)
	}
	read := func() []int64 {
		var out []int64
		for _, q := range []hookd.StatsQuery{{}, {TenantID: ptr("acme")}} {
			q.Since, q.Until, q.Bucket = now.Add(-100*24*time.Hour), now, 24*time.Hour
			st, err := store.ReadStats(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, st.Attempts, st.Series[len(st.Series)-1].Attempts)
		}
		return out
	}
	before := read()
	clock := func() time.Time { return now }
	if !scheduler.New(store, scheduler.Config{Owner: "n", Now: clock}).RunOnce(ctx, scheduler.StatsRollup(store, time.Minute, 2*time.Hour, clock, nil)) {
		t.Fatal("stats rollup did not run")
	}
	mark, err := store.RollupHours(ctx, now.Truncate(time.Hour), 0, time.Hour)
	if err != nil || !mark.Equal(now.Truncate(time.Hour)) {
		t.Errorf("watermark after the run: got %s, %v; want %s (caught up)", mark, err, now.Truncate(time.Hour))
	}
	if after := read(); !reflect.DeepEqual(after, before) || after[0] != 4 {
		t.Errorf("overall and acme (attempts, last bucket): got %v after the rollup, %v before; want 4 attempts", after, before)
	}
}
func ptr[T any](v T) *T { return &v }

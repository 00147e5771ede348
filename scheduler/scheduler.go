// Package scheduler runs hookd's periodic jobs: retention (Retention,
// StatsRetention), dead-letter auto-replay (AutoReplay), alerting (Alerts)
// and the stats hour rollup (StatsRollup) are defined
// here; other packages plug their jobs in as a Job. Every node runs a
// Scheduler, but each run of a job first takes the job's lease in the
// store (Store.AcquireJobLease), so on a shared Postgres database exactly
// one node runs a job at a time, and another takes over once a dead node's
// lease expires.
//
// It calls the store only through its small interfaces (Leaser, Purger,
// Replayer, StatsPurger, HourRoller, AlertStore). It must not import
// sqlite, postgres, dispatch or api: a job that needs the dispatcher gets a
// func (AutoReplay's wake).
package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/hookd/hookd"
)

// Defaults of the jobs defined here; hookd serve's flags read them.
const (
	// DefaultRetention is how old succeeded deliveries and their events get
	// before Retention deletes them (--retention; 0 keeps everything).
	DefaultRetention = 30 * 24 * time.Hour
	// DefaultRetentionInterval is how often retention runs.
	DefaultRetentionInterval = time.Minute
	// DefaultRetentionBatch is how many rows one Purge call deletes.
	DefaultRetentionBatch = 1000
	// DefaultAutoReplayInterval is how often AutoReplay runs
	// (--auto-replay-interval; 0 disables it).
	DefaultAutoReplayInterval = 30 * time.Second
)

// Job is one periodic job.
type Job struct {
	// Name identifies the job's lease; every node must use the same name.
	Name string
	// Every is the interval between runs (and each run's time budget).
	Every time.Duration
	// Run does one run of the job; ctx ends after Every or at Stop.
	Run func(ctx context.Context) error
}

// Leaser is the part of hookd.Store the scheduler itself calls.
type Leaser interface {
	AcquireJobLease(ctx context.Context, job, owner string, now time.Time, ttl time.Duration) (bool, error)
}

// Config configures a Scheduler. Every zero field means its default.
type Config struct {
	// Owner is the lease owner of this process's runs; it must be unique
	// per process. Default "<hostname>-<pid>".
	Owner string
	// Jobs are the periodic jobs; none by default.
	Jobs []Job
	// Logger receives failed runs. Default slog.Default().
	Logger *slog.Logger
	// Now is the clock of the leases. Default time.Now.
	Now func() time.Time
}

// Scheduler runs jobs on the node that holds their lease. It follows the
// hookd.Service lifecycle.
type Scheduler struct {
	store Leaser
	owner string
	log   *slog.Logger
	now   func() time.Time
	jobs  []Job

	mu      sync.Mutex
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	started bool
	stopped bool // Stop was called (before or after Start)
}

// New returns a Scheduler for cfg.Jobs whose leases are taken in store.
func New(store Leaser, cfg Config) *Scheduler {
	if cfg.Owner == "" {
		host, _ := os.Hostname()
		cfg.Owner = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Scheduler{store: store, owner: cfg.Owner, log: cfg.Logger.With("component", "scheduler"), now: cfg.Now, jobs: cfg.Jobs}
}

// Start starts one goroutine per job. The first run of each job is one
// interval after Start. It returns an error when called twice or after
// Stop.
func (s *Scheduler) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return errors.New("scheduler: already started")
	}
	if s.stopped {
		return errors.New("scheduler: already stopped")
	}
	s.started = true
	ctx, s.cancel = context.WithCancel(context.WithoutCancel(ctx))
	for _, j := range s.jobs {
		s.wg.Add(1)
		go s.loop(ctx, j)
	}
	return nil
}

// Stop cancels running jobs and waits for their goroutines until ctx ends
// (then it returns ctx.Err()). Stop before Start returns nil and the
// scheduler can no longer start; a second Stop waits as the first does.
func (s *Scheduler) Stop(ctx context.Context) error {
	s.mu.Lock()
	s.stopped = true
	cancel := s.cancel
	s.mu.Unlock()
	if cancel == nil {
		return nil
	}
	cancel()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Scheduler) loop(ctx context.Context, j Job) {
	defer s.wg.Done()
	t := time.NewTicker(j.Every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.RunOnce(ctx, j)
		}
	}
}

// RunOnce runs j now if this node gets its lease, and reports whether it ran.
// The lease lasts two intervals, so it outlives one run, and is renewed on
// every run of the node that holds it.
func (s *Scheduler) RunOnce(ctx context.Context, j Job) bool {
	ok, err := s.store.AcquireJobLease(ctx, j.Name, s.owner, s.now(), 2*j.Every)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn("job lease", "job", j.Name, "err", err)
		}
		return false
	}
	if !ok {
		return false
	}
	runCtx, cancel := context.WithTimeout(ctx, j.Every)
	defer cancel()
	if err := j.Run(runCtx); err != nil && ctx.Err() == nil {
		s.log.Warn("job failed", "job", j.Name, "err", err)
	}
	return true
}

// Purger is the part of hookd.Store the retention job calls.
type Purger interface {
	Purge(ctx context.Context, before time.Time, limit int) (deliveries, events int, err error)
}

// Replayer is the part of hookd.Store the auto-replay job calls.
type Replayer interface {
	GetEndpoint(ctx context.Context, id string) (*hookd.Endpoint, error)
	RecoveredEndpoints(ctx context.Context) ([]hookd.Recovery, error)
	ReplayRecovered(ctx context.Context, r hookd.Recovery, now time.Time, notice func(replayed int) *hookd.NewEvent) (int, error)
}

// Retention returns the job that deletes succeeded deliveries and their
// events older than keep, in batches of batch rows, every interval.
func Retention(store Purger, keep, every time.Duration, batch int, now func() time.Time, log *slog.Logger) Job {
	if now == nil {
		now = time.Now
	}
	return Job{Name: "retention", Every: every, Run: func(ctx context.Context) error {
		before := now().Add(-keep)
		var deliveries, events int
		for ctx.Err() == nil {
			d, e, err := store.Purge(ctx, before, batch)
			deliveries, events = deliveries+d, events+e
			if err != nil {
				return err
			}
			if d < batch && e < batch {
				break
			}
		}
		if deliveries+events > 0 && log != nil {
			log.Info("retention purged", "deliveries", deliveries, "events", events, "before", before.UTC().Format(time.RFC3339))
		}
		return nil
	}}
}

// AutoReplay returns the job that requeues the dead letters of recovered
// endpoints (Store.RecoveredEndpoints): for each, the deliveries that died
// before its latest success, oldest first by id, paced by the endpoint's
// rate limit and in-flight cap at claim time. The endpoint.recovered
// operational event (built by notify, with the endpoint and how many were
// replayed) is stored in the replay's own transaction
// (Store.ReplayRecovered) and logged once it committed; wake, when set,
// makes the dispatcher look at once.
func AutoReplay(store Replayer, every time.Duration, now func() time.Time, notify Notifier, wake func()) Job {
	if now == nil {
		now = time.Now
	}
	return Job{Name: "auto-replay", Every: every, Run: func(ctx context.Context) error {
		rs, err := store.RecoveredEndpoints(ctx)
		if err != nil {
			return err
		}
		total := 0
		for _, r := range rs {
			at := now()
			data := map[string]any{"endpoint_id": r.EndpointID, "at": at.UTC().Format(time.RFC3339Nano)}
			if e, err := store.GetEndpoint(ctx, r.EndpointID); err == nil {
				data["tenant_id"], data["endpoint_url"] = e.TenantID, e.URL
			}
			var notice *hookd.NewEvent
			n, err := store.ReplayRecovered(ctx, r, at, func(replayed int) *hookd.NewEvent {
				data["replayed"] = replayed
				notice = notify.Event(hookd.EventTypeEndpointRecovered, data)
				return notice
			})
			if err != nil {
				return err
			}
			total += n
			if n > 0 {
				notify.Committed(hookd.EventTypeEndpointRecovered, data, notice)
			}
		}
		if total > 0 && wake != nil {
			wake()
		}
		return nil
	}}
}

// StatsPurger is the part of hookd.Store that StatsRetention needs.
type StatsPurger interface {
	PurgeStats(ctx context.Context, minutesBefore, hoursBefore time.Time, limit int) (int, error)
}

// StatsRetention returns the job that deletes stats rollups older than
// keep, in batches of batch rows per table, every interval. Minute rows
// are only read at the ends of a window of at most hookd.MaxStatsWindow,
// so they go after min(keep, MaxStatsWindow + 1 day) — but never those the
// stats rollup still sums (Store.PurgeStats); hour rows after keep.
func StatsRetention(store StatsPurger, keep, every time.Duration, batch int, now func() time.Time, log *slog.Logger) Job {
	if now == nil {
		now = time.Now
	}
	return Job{Name: "stats-retention", Every: every, Run: func(ctx context.Context) error {
		t := now()
		minutes, hours := t.Add(-min(keep, hookd.MaxStatsWindow+24*time.Hour)), t.Add(-keep)
		total := 0
		for ctx.Err() == nil {
			n, err := store.PurgeStats(ctx, minutes, hours, batch)
			total += n
			if err != nil {
				return err
			}
			if n == 0 {
				break
			}
		}
		if total > 0 && log != nil {
			log.Info("stats retention purged", "rows", total, "before", hours.UTC().Format(time.RFC3339))
		}
		return nil
	}}
}

// Defaults of StatsRollup.
const (
	// DefaultStatsRollupInterval is how often StatsRollup runs.
	DefaultStatsRollupInterval = time.Minute
	// DefaultStatsRollupRedo is how many closed hours each run of
	// StatsRollup recomputes again: attempts complete (and count in the
	// hour they started) up to the attempt timeout after the hour ends.
	DefaultStatsRollupRedo = 2 * time.Hour
	// statsRollupSpan bounds the hours one RollupHours call sums (a first
	// run over months of rows goes in steps, each its own transaction).
	statsRollupSpan = 7 * 24 * time.Hour
)

// HourRoller is the part of hookd.Store that StatsRollup needs.
type HourRoller interface {
	RollupHours(ctx context.Context, upTo time.Time, redo, maxSpan time.Duration) (time.Time, error)
}

// StatsRollup returns the job that keeps the hour rollups
// (Store.RollupHours: each endpoint's, derived from its minute rows, then
// per tenant and overall) up to the last closed hour, every interval,
// recomputing the last redo of closed hours each time. It runs off the
// delivery path (the completions write only the minute rows): stats over
// long windows then read one row per hour (per endpoint, or per tenant or
// overall). Until a run recomputes a closed hour below the watermark,
// reads of that whole hour miss the attempts that completed into it after
// the last run; the hours from the watermark on read the minute rows.
func StatsRollup(store HourRoller, every, redo time.Duration, now func() time.Time, log *slog.Logger) Job {
	if now == nil {
		now = time.Now
	}
	return Job{Name: "stats-rollup", Every: every, Run: func(ctx context.Context) error {
		upTo := now().UTC().Truncate(time.Hour)
		for ctx.Err() == nil {
			mark, err := store.RollupHours(ctx, upTo, redo, statsRollupSpan)
			if err != nil {
				return err
			}
			if !mark.Before(upTo) {
				break
			}
			if log != nil {
				log.Debug("stats rollup caught up to", "hour", mark.Format(time.RFC3339))
			}
		}
		return ctx.Err()
	}}
}

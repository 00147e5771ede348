package scheduler

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"strings"
	"time"

	"github.com/hookd/hookd"
)

// Alert defaults (DESIGN §7; the --alert-* flags).
const (
	DefaultAlertInterval    = 30 * time.Second
	DefaultAlertWindow      = 5 * time.Minute
	DefaultAlertThreshold   = 0.99
	DefaultAlertMinAttempts = 20
)

// EndpointTotals are one endpoint's attempts in the alert window.
type EndpointTotals struct {
	EndpointID string
	TenantID   string
	Attempts   int64
	Succeeded  int64
}

// TotalsFunc returns the attempts of every endpoint with attempts in
// [since, until) (Store.StatsByEndpoint, read from the per-minute rollups).
type TotalsFunc func(ctx context.Context, since, until time.Time) ([]EndpointTotals, error)

// AlertStore is the part of hookd.Store the alert job needs.
type AlertStore interface {
	GetEndpoint(ctx context.Context, id string) (*hookd.Endpoint, error)
	ListAlerts(ctx context.Context) ([]hookd.Alert, error)
	FireAlert(ctx context.Context, a hookd.Alert, notice *hookd.NewEvent) (bool, error)
	ResolveAlert(ctx context.Context, key string, since time.Time, notice *hookd.NewEvent) (bool, error)
}

// Notifier builds and logs operational events (ops.Emitter).
type Notifier interface {
	Event(typ string, data map[string]any) *hookd.NewEvent
	Committed(typ string, data map[string]any, ev *hookd.NewEvent)
}

// AlertConfig configures the alert job; zero fields take the defaults.
type AlertConfig struct {
	Every       time.Duration
	Window      time.Duration
	Threshold   float64
	MinAttempts int64
	Now         func() time.Time
	Log         *slog.Logger
}

func (c AlertConfig) withDefaults() AlertConfig {
	if c.Every <= 0 {
		c.Every = DefaultAlertInterval
	}
	if c.Window <= 0 {
		c.Window = DefaultAlertWindow
	}
	if c.Threshold <= 0 {
		c.Threshold = DefaultAlertThreshold
	}
	if c.MinAttempts <= 0 {
		c.MinAttempts = DefaultAlertMinAttempts
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	return c
}

// Alerts returns the success-rate alert job (DESIGN §7). Every run reads
// the attempts of the last Window per endpoint (Store.StatsByEndpoint, from
// the rollups) and overall, and:
//   - fires an alert (alert.firing) for a scope whose success rate is below
//     Threshold with at least MinAttempts attempts;
//   - resolves a firing alert (alert.resolved) whose scope is back at or
//     above Threshold (with at least one attempt; a window with no attempts
//     says nothing, so the alert keeps firing), or whose endpoint was
//     deleted or disabled.
//
// The state is the store's (FireAlert/ResolveAlert, the notice written in
// the same transaction), so neither a restart nor a second node (which
// would need the job's lease anyway) fires the same episode twice. The
// system tenant's own endpoint (--ops-url) is left out of both scopes: an
// alert about it would be sent to the receiver that fails; its health shows
// in the metrics and the logs.
func Alerts(store AlertStore, totals TotalsFunc, notify Notifier, cfg AlertConfig) Job {
	cfg = cfg.withDefaults()
	return Job{Name: "alerts", Every: cfg.Every, Run: func(ctx context.Context) error {
		return evaluate(ctx, store, totals, notify, cfg)
	}}
}

// scopeFigures are the attempts of one scope in the window.
type scopeFigures struct {
	alert    hookd.Alert // Key, Scope, EndpointID, TenantID
	attempts int64
	failed   int64
}

func (f scopeFigures) rate() float64 {
	if f.attempts == 0 {
		return math.NaN()
	}
	return float64(f.attempts-f.failed) / float64(f.attempts)
}

func evaluate(ctx context.Context, store AlertStore, read TotalsFunc, notify Notifier, cfg AlertConfig) error {
	// Microseconds: the precision the stores keep, so that an episode's
	// since reads the same in alert.firing, alert.resolved and the API.
	now := cfg.Now().UTC().Truncate(time.Microsecond)
	totals, err := read(ctx, now.Add(-cfg.Window), now)
	if err != nil {
		return err
	}
	firing, err := store.ListAlerts(ctx)
	if err != nil {
		return err
	}
	overall := scopeFigures{alert: hookd.Alert{Key: hookd.AlertKeyOverall, Scope: hookd.AlertScopeOverall}}
	scopes := []scopeFigures{}
	for _, t := range totals {
		if t.TenantID == hookd.SystemTenant {
			continue
		}
		failed := t.Attempts - t.Succeeded
		scopes = append(scopes, scopeFigures{
			alert:    hookd.Alert{Key: t.EndpointID, Scope: hookd.AlertScopeEndpoint, EndpointID: t.EndpointID, TenantID: t.TenantID},
			attempts: t.Attempts, failed: failed,
		})
		overall.attempts += t.Attempts
		overall.failed += failed
	}
	scopes = append(scopes, overall)
	byKey := map[string]hookd.Alert{}
	for _, a := range firing {
		byKey[a.Key] = a
	}
	seen := map[string]bool{}
	var errs []error
	for _, s := range scopes {
		seen[s.alert.Key] = true
		rate := s.rate()
		cur, isFiring := byKey[s.alert.Key]
		switch {
		case s.attempts >= cfg.MinAttempts && rate < cfg.Threshold:
			a := s.alert
			a.Since, a.UpdatedAt, a.SuccessRate, a.Attempts, a.Failed = now, now, rate, s.attempts, s.failed
			if isFiring {
				a.Since = cur.Since
			}
			data := alertData(a, cfg, rate)
			notice := notify.Event(hookd.EventTypeAlertFiring, data)
			fired, err := store.FireAlert(ctx, a, notice)
			if err != nil {
				errs = append(errs, err)
			} else if fired {
				notify.Committed(hookd.EventTypeAlertFiring, data, notice)
			}
		case isFiring && s.attempts > 0 && rate >= cfg.Threshold:
			errs = append(errs, resolve(ctx, store, notify, cfg, cur, s.attempts, s.failed, rate, now, ""))
		}
	}
	// Firing endpoint alerts without attempts in the window: resolved when
	// their endpoint is gone or disabled, else kept.
	for _, a := range firing {
		if seen[a.Key] || a.Scope != hookd.AlertScopeEndpoint {
			continue
		}
		e, err := store.GetEndpoint(ctx, a.EndpointID)
		reason := ""
		switch {
		case hookd.ErrorCode(err) == hookd.ENOTFOUND:
			reason = "endpoint deleted"
		case err != nil:
			errs = append(errs, err)
			continue
		case e.Disabled:
			reason = "endpoint disabled"
		default:
			continue
		}
		errs = append(errs, resolve(ctx, store, notify, cfg, a, 0, 0, math.NaN(), now, reason))
	}
	return errors.Join(errs...)
}

func resolve(ctx context.Context, store AlertStore, notify Notifier, cfg AlertConfig, a hookd.Alert,
	attempts, failed int64, rate float64, now time.Time, reason string) error {
	a.Attempts, a.Failed = attempts, failed
	data := alertData(a, cfg, rate)
	data["resolved_at"] = now.Format(time.RFC3339Nano)
	if reason != "" {
		data["reason"] = reason
	}
	notice := notify.Event(hookd.EventTypeAlertResolved, data)
	ok, err := store.ResolveAlert(ctx, a.Key, a.Since, notice)
	if err != nil {
		return err
	}
	if ok {
		notify.Committed(hookd.EventTypeAlertResolved, data, notice)
	}
	return nil
}

// alertData is the data of alert.firing and alert.resolved (DESIGN §7):
// {scope, endpoint_id, tenant_id, success_rate, attempts, failed, window,
// threshold, since}; success_rate is null without attempts.
func alertData(a hookd.Alert, cfg AlertConfig, rate float64) map[string]any {
	var sr any
	if !math.IsNaN(rate) {
		sr = math.Round(rate*10000) / 10000
	}
	return map[string]any{
		"scope": a.Scope, "endpoint_id": a.EndpointID, "tenant_id": a.TenantID,
		"success_rate": sr, "attempts": a.Attempts, "failed": a.Failed,
		"window": FormatDuration(cfg.Window), "threshold": cfg.Threshold,
		"since": a.Since.UTC().Format(time.RFC3339Nano),
	}
}

// FormatDuration writes d as Go does without zero units: 5m, 1h30m, 90s.
func FormatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

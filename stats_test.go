package hookd_test

import (
	"errors"
	"testing"
	"time"

	"github.com/hookd/hookd"
)

func TestLatencyBucket(t *testing.T) {
	cases := []struct {
		d    time.Duration
		want int
	}{
		{0, 0}, {time.Millisecond, 0}, {time.Millisecond + 1, 1}, {2 * time.Millisecond, 1},
		{150 * time.Millisecond, 9}, {60 * time.Second, len(hookd.LatencyBounds) - 1},
		{61 * time.Second, len(hookd.LatencyBounds)}, {time.Hour, len(hookd.LatencyBounds)},
	}
	for _, c := range cases {
		if got := hookd.LatencyBucket(c.d); got != c.want {
			t.Errorf("LatencyBucket(%s): got %d, want %d", c.d, got, c.want)
		}
	}
}

func TestQuantile(t *testing.T) {
	var h hookd.LatencyHistogram
	if _, ok := h.Quantile(0.5); ok {
		t.Fatal("empty histogram: got ok, want false")
	}
	// 90 attempts of 40 ms (bucket 30-50ms), 10 of 2.5 s (bucket 2-3 s).
	for range 90 {
		h.Observe(40 * time.Millisecond)
	}
	for range 10 {
		h.Observe(2500 * time.Millisecond)
	}
	for _, c := range []struct {
		q      float64
		lo, hi time.Duration
	}{
		{0.5, 30 * time.Millisecond, 50 * time.Millisecond},
		{0.9, 30 * time.Millisecond, 50 * time.Millisecond},
		{0.95, 2 * time.Second, 3 * time.Second},
		{0.99, 2 * time.Second, 3 * time.Second},
	} {
		got, ok := h.Quantile(c.q)
		if !ok || got <= c.lo || got > c.hi {
			t.Errorf("Quantile(%v): got %s, want in (%s, %s]", c.q, got, c.lo, c.hi)
		}
	}
	var slow hookd.LatencyHistogram
	slow.Observe(5 * time.Minute)
	if got, _ := slow.Quantile(0.99); got != hookd.LatencyBounds[len(hookd.LatencyBounds)-1] {
		t.Errorf("overflow bucket: got %s, want the last bound", got)
	}
}

func TestValidateStatsRange(t *testing.T) {
	cases := []struct {
		window, bucket time.Duration
		field          string // "" = valid
	}{
		{time.Hour, time.Minute, ""},
		{720 * time.Hour, time.Hour, ""},
		{720 * time.Hour, 30 * time.Minute, ""},
		{90 * time.Second, 2 * time.Minute, ""}, // a bucket may cover the minute-rounded window
		{0, time.Minute, "window"},
		{721 * time.Hour, time.Hour, "window"},
		{time.Hour, 30 * time.Second, "bucket"},
		{time.Hour, 90 * time.Second, "bucket"},
		{time.Hour, 2 * time.Hour, "bucket"},
		{720 * time.Hour, time.Minute, "bucket"}, // 43200 buckets
	}
	for _, c := range cases {
		err := hookd.ValidateStatsRange(c.window, c.bucket)
		if c.field == "" {
			if err != nil {
				t.Errorf("(%s, %s): got %v, want valid", c.window, c.bucket, err)
			}
			continue
		}
		var e *hookd.Error
		if !errors.As(err, &e) || e.Code != hookd.EINVALID || e.Field != c.field {
			t.Errorf("(%s, %s): got %v, want EINVALID on %s", c.window, c.bucket, err, c.field)
		}
	}
}

func TestSeriesStartsAndWindow(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 17, 30, 0, time.UTC)
	since, until := hookd.StatsWindow(now, time.Hour)
	if !since.Equal(time.Date(2026, 12, 1, 9, 18, 0, 0, time.UTC)) || !until.Equal(time.Date(2026, 12, 1, 10, 18, 0, 0, time.UTC)) {
		t.Fatalf("StatsWindow: got [%s, %s)", since, until)
	}
	starts := hookd.SeriesStarts(since, until, 5*time.Minute)
	if len(starts) != 13 || !starts[0].Equal(time.Date(2026, 12, 1, 9, 15, 0, 0, time.UTC)) ||
		!starts[12].Equal(time.Date(2026, 12, 1, 10, 15, 0, 0, time.UTC)) {
		t.Errorf("SeriesStarts(5m): got %d starts %v … %v", len(starts), starts[0], starts[len(starts)-1])
	}
	// 7 minutes is aligned to the Unix epoch, not to the hour.
	for _, s := range hookd.SeriesStarts(since, until, 7*time.Minute) {
		if s.Unix()%(7*60) != 0 {
			t.Errorf("7m bucket start %s not aligned to the epoch", s)
		}
	}
	for _, c := range []struct {
		window, want time.Duration
	}{{time.Minute, time.Minute}, {time.Hour, time.Minute}, {61 * time.Minute, 5 * time.Minute},
		{6 * time.Hour, 5 * time.Minute}, {7 * time.Hour, time.Hour}, {720 * time.Hour, time.Hour}} {
		if got := hookd.DefaultStatsBucket(c.window); got != c.want {
			t.Errorf("DefaultStatsBucket(%s): got %s, want %s", c.window, got, c.want)
		}
	}
}

func TestCircuitDisplayAndTransition(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	open := hookd.Circuit{State: hookd.CircuitOpen, OpenUntil: now.Add(time.Minute), Opens: 1}
	if got := open.DisplayState(now); got != hookd.CircuitOpen {
		t.Errorf("open before OpenUntil: got %s", got)
	}
	if got := open.DisplayState(now.Add(time.Minute)); got != hookd.CircuitHalfOpen {
		t.Errorf("open at OpenUntil: got %s, want half_open", got)
	}
	if got := (hookd.Circuit{}).DisplayState(now); got != hookd.CircuitClosed {
		t.Errorf("zero circuit: got %s, want closed", got)
	}
	closed := hookd.Circuit{State: hookd.CircuitClosed, ConsecutiveFailures: 3}
	reopened := open
	reopened.Opens = 2
	for _, c := range []struct {
		from, to hookd.Circuit
		want     bool
	}{
		{hookd.Circuit{}, closed, false}, {closed, open, true}, {open, reopened, true},
		{open, open, false}, {open, hookd.Circuit{State: hookd.CircuitClosed}, true},
	} {
		if got := hookd.CircuitTransition(c.from, c.to); got != c.want {
			t.Errorf("CircuitTransition(%+v, %+v): got %v, want %v", c.from, c.to, got, c.want)
		}
	}
}

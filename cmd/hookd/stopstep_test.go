package main

import (
	"testing"
	"time"
)

// Every stop step ends inside the grace, in the order the parts stop, and
// the steps after the drain keep a share of their own.
func TestStopStepDeadlines(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		grace                   time.Duration
		requests, drain, finish time.Duration
	}{
		{30 * time.Second, 14 * time.Second, 28 * time.Second, 30 * time.Second},
		{2 * time.Second, 900 * time.Millisecond, 1800 * time.Millisecond, 2 * time.Second},
		{time.Minute, 29 * time.Second, 58 * time.Second, time.Minute},
	} {
		got := []time.Duration{
			stopRequests.deadline(start, tc.grace).Sub(start),
			stopDrain.deadline(start, tc.grace).Sub(start),
			stopTail.deadline(start, tc.grace).Sub(start),
		}
		want := []time.Duration{tc.requests, tc.drain, tc.finish}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("grace %s: step %d ends at %s, want %s", tc.grace, i, got[i], want[i])
			}
		}
	}
}

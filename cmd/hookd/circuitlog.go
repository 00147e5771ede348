package main

import (
	"log/slog"
	"time"

	"github.com/hookd/hookd"
)

// watchCircuits logs every circuit transition the store reports, once, at
// info: opened (with the failure that opened it and until when), re-opened
// after a failed probe, closed.
func watchCircuits(store hookd.Store, log *slog.Logger) {
	w, ok := store.(hookd.CircuitWatcher)
	if !ok {
		return
	}
	w.WatchCircuits(func(c hookd.CircuitChange) {
		switch {
		case c.Opened() && c.From.State == hookd.CircuitOpen:
			log.Info("circuit re-opened", "endpoint", c.EndpointID, "consecutive_failures", c.To.ConsecutiveFailures,
				"open_until", c.To.OpenUntil.UTC().Format(time.RFC3339Nano), "last_error", c.LastError)
		case c.Opened():
			log.Info("circuit opened", "endpoint", c.EndpointID, "consecutive_failures", c.To.ConsecutiveFailures,
				"open_until", c.To.OpenUntil.UTC().Format(time.RFC3339Nano), "last_error", c.LastError)
		default:
			log.Info("circuit closed", "endpoint", c.EndpointID, "after_failures", c.From.ConsecutiveFailures,
				"last_error", c.LastError)
		}
	})
}

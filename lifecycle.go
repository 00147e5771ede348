package hookd

import "context"

// Service is the one lifecycle of every long-running part of hookd (a part
// that owns goroutines): the dispatcher (package dispatch), the group
// committer (ingest), the job scheduler (scheduler), the gauge refresher
// (metrics.Refresher) and the HTTP servers of cmd/hookd. A part you add follows it too:
//
//   - New(…, Config) builds the part; every zero field of its Config means
//     a documented default (or "off", where the field says so). Nothing
//     runs before Start.
//   - Start(ctx) starts the part's goroutines and returns. The part runs
//     until Stop, not until ctx ends: it may keep ctx's values, never its
//     cancellation. Start returns an error when called a second time or
//     after Stop.
//   - Stop(ctx) stops taking work, lets the work in progress finish until
//     ctx ends (its share of the grace period; after that it is cut short)
//     and returns once every goroutine the part started has ended. It
//     returns nil after a clean stop, and also when the work cut short was
//     handed back intact (the dispatcher releases a canceled attempt's
//     delivery for redelivery and logs one warning with the count); else an
//     error saying what was cut short and lost, or not recorded.
//     Stop is safe before Start (it returns nil, and the part can no longer
//     start) and safe to call again (later calls return nil).
//
// cmd/hookd starts the parts of a node in one order and stops them in the
// reverse order in one function (see server.parts in cmd/hookd/serve.go):
// the HTTP API first, so that no new work arrives, the store last. Each
// Stop gets a context with its own deadline inside --shutdown-grace, so a
// part that uses all of its time leaves the parts after it theirs.
// internal/testenv.CheckLifecycle checks a part against this contract.
type Service interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
}

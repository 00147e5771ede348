// Package dispatch is the delivery engine of hookd: it claims due deliveries
// from a hookd.Store, sends each one as a signed Standard Webhooks request,
// records the attempt and schedules the retry, dead-letters what runs out of
// attempts, and keeps every endpoint within its in-flight cap, rate limit and
// circuit breaker so that a slow or broken endpoint never delays the others.
//
// A Dispatcher runs from Start to Stop: one claim loop hands claims to
// attempt goroutines (at most Config.Workers at a time), and one recorder
// goroutine writes the finished attempts to the store in batches.
//
// Slots: a worker slot is free again as soon as its attempt is handed to the
// recorder (whose queue is bounded, so a slow store pushes back on the
// workers); the endpoint's in-flight slot is free only once the attempt is
// written, so this process never counts fewer in-flight attempts for an
// endpoint than the store's leases do.
//
// Shutdown (Stop): stop claiming; wait for in-flight attempts until the
// grace context ends, then cancel the rest (canceled attempts are released,
// not recorded: they spend no attempt); write every finished attempt;
// release the claims that were not attempted.
//
// It must not import sqlite, postgres, api, metrics or scheduler: it calls
// the store through its own small interface (Store), and reports each
// attempt through Config.OnAttempt, which cmd/hookd connects to metrics.
package dispatch

// Package dispatch is the delivery engine of hookd: it claims due deliveries
// from a hookd.Store, sends each one as a signed Standard Webhooks request,
// records the attempt and schedules the retry, dead-letters what runs out of
// attempts, and keeps every endpoint within its in-flight cap, rate limit and
// circuit breaker so that a slow or broken endpoint never delays the others.
//
// A Dispatcher runs from Start to Stop: one claim loop hands claims to
// attempt goroutines (at most Config.Workers at a time), and one recorder
// goroutine writes the finished attempts to the store in batches.
package dispatch

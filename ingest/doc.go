// Package ingest commits events in groups: every event submitted while the
// previous transaction commits joins the next one, so many concurrent
// POST /v1/events requests share one durable commit (group commit) without
// any artificial delay.
package ingest

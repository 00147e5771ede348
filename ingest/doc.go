// Package ingest commits events in groups: every event submitted while the
// previous transaction commits joins the next one, so many concurrent
// POST /v1/events requests share one durable commit (group commit) without
// any artificial delay. It must not import sqlite, postgres, api or
// dispatch: it commits through the store methods it declares (Store) and
// hands the deliveries leased at commit to a Dispatcher interface.
package ingest

// Package sqlite is the embedded hookd.Store: one SQLite database file
// (modernc.org/sqlite, no cgo) in WAL mode with synchronous=FULL, so a
// commit returns only after fsync.
//
// All writes go through ONE connection (transactions BEGIN IMMEDIATE), and
// reads through a separate pool of query_only connections, so reads never
// wait behind writes. One process at a time owns a database: Open takes an
// exclusive flock on "<path>.lock" and a second Open fails.
//
// Times are stored as INTEGER unix microseconds (0 = not set) and returned
// in UTC; migrations are embedded and applied by Open.
//
// It must not import postgres, dispatch or api: a backend knows only the
// domain (and internal/rollup, which it shares with postgres).
package sqlite

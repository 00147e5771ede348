// Package postgres implements hookd.Store on PostgreSQL with pgx v5: claims
// with FOR UPDATE SKIP LOCKED under a lease, wake-ups through LISTEN/NOTIFY
// and embedded numbered migrations, so that several hookd nodes can share one
// database. Every object lives in the first schema of the connection's
// search_path (set it with ?search_path=name in the URL).
//
// It must not import sqlite, dispatch or api: a backend knows only the
// domain (and internal/rollup, which it shares with sqlite).
package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/internal/rollup"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// wakeupChannel is the NOTIFY channel that announces new due work.
const wakeupChannel = "hookd_wakeup"

// Options tune a Store. The zero value is ready to use.
type Options struct {
	// PollOnly disables LISTEN: no dedicated connection is held and Wakeups
	// returns nil, so the dispatcher polls. Use it behind a pgbouncer in
	// transaction pooling mode. NOTIFY is still sent.
	PollOnly bool
	// MaxConns bounds the connection pool; 0 keeps pgxpool's default
	// (max(4, number of CPUs)) or the URL's pool_max_conns.
	MaxConns int32
	// NoMigrate skips applying migrations in Open (run Migrate yourself).
	NoMigrate bool
	// Logger receives listener reconnects; nil discards them.
	Logger *slog.Logger
}

// Store is a hookd.Store backed by PostgreSQL. It is safe for concurrent use.
type Store struct {
	pool *pgxpool.Pool
	log  *slog.Logger

	wake   chan struct{} // nil when PollOnly
	cancel context.CancelFunc
	done   chan struct{} // closed when the listener ends
	lpid   listenerPID

	circuits rollup.Watch // receives circuit transitions (WatchCircuits)
	// queueStats queues a completion's rollup upserts: queueRollups
	// (BenchmarkCompleteRollups compares other forms).
	queueStats func(*pgx.Batch, []*rollup.Row)

	closeOnce sync.Once
}

var (
	_ hookd.Store = (*Store)(nil)
	_ hookd.Waker = (*Store)(nil)
)

// Open connects to the database at url (postgres://…; a search_path query
// parameter selects the schema), applies pending migrations unless
// opts.NoMigrate, and starts the LISTEN connection unless opts.PollOnly.
// When the database cannot be reached it returns an error with code
// hookd.EUNAVAILABLE; the caller may retry with backoff.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("open postgres: parse url: %w", err)
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", translate(err))
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open postgres: %w", translate(err))
	}
	if !opts.NoMigrate {
		if err := migrateConfig(ctx, cfg.ConnConfig); err != nil {
			pool.Close()
			return nil, fmt.Errorf("open postgres: %w", err)
		}
	}
	s := &Store{pool: pool, log: opts.Logger, done: make(chan struct{}), queueStats: queueRollups}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	lctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	if opts.PollOnly {
		close(s.done)
	} else {
		s.wake = make(chan struct{}, 1)
		go s.listen(lctx, cfg.ConnConfig.Copy())
	}
	return s, nil
}

// Wakeups returns a channel that receives a value when another process (or
// this one) may have made deliveries due, and is closed by Close. It is nil
// with Options.PollOnly.
func (s *Store) Wakeups() <-chan struct{} {
	if s.wake == nil {
		return nil
	}
	return s.wake
}

// Ping checks that the database answers; EUNAVAILABLE when it does not.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping: %w", translate(err))
	}
	return nil
}

// Close stops the listener and closes the pool. It waits for queries in
// progress to finish and is safe to call more than once.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.cancel()
		<-s.done
		s.pool.Close()
	})
	return nil
}

// inTx runs fn in one transaction and commits it, translating errors.
func (s *Store) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	err := pgx.BeginFunc(ctx, s.pool, fn)
	return translate(err)
}

// notify queues the wake-up NOTIFY in tx; it is sent at commit.
func notify(ctx context.Context, tx pgx.Tx) error {
	if _, err := tx.Exec(ctx, "SELECT pg_notify($1, '')", wakeupChannel); err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	return nil
}

// ts normalizes t as the database returns it: UTC, microseconds.
func ts(t time.Time) time.Time {
	return t.UTC().Truncate(time.Microsecond)
}

// nullTime maps the zero time to NULL.
func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = ts(t)
	return &t
}

// fromNull maps NULL to the zero time and others to UTC.
func fromNull(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// pageLimit applies DefaultPageLimit and MaxPageLimit.
func pageLimit(p hookd.Page) int {
	switch {
	case p.Limit <= 0:
		return hookd.DefaultPageLimit
	case p.Limit > hookd.MaxPageLimit:
		return hookd.MaxPageLimit
	}
	return p.Limit
}

// nonNil avoids a NULL array parameter, for which "= ANY" is never true.
func nonNil(ss []string) []string {
	if ss == nil {
		return []string{}
	}
	return ss
}

var errNoRows = pgx.ErrNoRows

// isNoRows reports whether err means the row was missing.
func isNoRows(err error) bool { return errors.Is(err, errNoRows) }

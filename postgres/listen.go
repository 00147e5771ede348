package postgres

import (
	"context"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// Backoff between listener reconnects: doubling from listenMinBackoff up to
// listenMaxBackoff, with jitter, reset after a successful LISTEN.
const (
	listenMinBackoff = 100 * time.Millisecond
	listenMaxBackoff = 10 * time.Second
)

// listenerPID is the backend pid of the current listening connection (0
// when disconnected), for tests that kill it.
type listenerPID struct{ atomic.Uint32 }

// listen owns the dedicated LISTEN connection until ctx ends; then it
// closes s.wake and s.done. After every (re)connect it sends one wake-up,
// since notifications may have been missed while disconnected.
func (s *Store) listen(ctx context.Context, cfg *pgx.ConnConfig) {
	defer close(s.done)
	defer close(s.wake)
	backoff := listenMinBackoff
	for ctx.Err() == nil {
		err := s.listenOnce(ctx, cfg, func() { backoff = listenMinBackoff })
		if ctx.Err() != nil {
			return
		}
		wait := backoff/2 + rand.N(backoff/2+1)
		s.log.Warn("postgres listener disconnected; reconnecting", "err", err, "in", wait)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		backoff = min(backoff*2, listenMaxBackoff)
	}
}

// listenOnce connects, LISTENs and forwards notifications until an error.
func (s *Store) listenOnce(ctx context.Context, cfg *pgx.ConnConfig, connected func()) error {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	conn, err := pgx.ConnectConfig(cctx, cfg)
	cancel()
	if err != nil {
		return err
	}
	defer func() {
		s.lpid.Store(0)
		closeCtx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		conn.Close(closeCtx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+wakeupChannel); err != nil {
		return err
	}
	s.lpid.Store(conn.PgConn().PID())
	connected()
	s.signal()
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		s.signal()
	}
}

// signal sends a wake-up without blocking; one pending value is enough.
func (s *Store) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/internal/rollup"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Store is the SQLite hookd.Store. It is safe for concurrent use.
type Store struct {
	path   string
	writer *sql.DB // one connection: every write, in order
	reader *sql.DB // query_only pool for reads
	lock   *fileLock
	stmts  map[string]*sql.Stmt // writerQueries, prepared at Open

	// writeMu serialises writes so that a lazy write's synchronous=NORMAL
	// never applies to another write's commit.
	writeMu     sync.Mutex
	syncUnknown bool // a lazy write could not restore synchronous=FULL

	circuits rollup.Watch // receives circuit transitions (WatchCircuits)
	// noRollups leaves the rollup write out of the completion: only
	// BenchmarkCompleteRollups sets it, to weigh what the write costs.
	noRollups bool

	closeOnce sync.Once
	closeErr  error
}

var _ hookd.Store = (*Store)(nil)

// Defaults of Options.
const (
	DefaultReaders     = 4               // read-only connections
	DefaultBusyTimeout = 5 * time.Second // wait for a lock held by another connection
)

// Options tune a Store. The zero value is ready to use: every field at or
// below zero takes its default.
type Options struct {
	// Readers is the size of the read-only connection pool; DefaultReaders
	// when 0.
	Readers int
	// BusyTimeout is how long a statement waits for a lock held by another
	// connection before failing with EUNAVAILABLE; DefaultBusyTimeout when 0.
	BusyTimeout time.Duration
}

type options struct {
	readers     int
	busyTimeout time.Duration
}

func (o Options) resolved() options {
	r := options{readers: DefaultReaders, busyTimeout: DefaultBusyTimeout}
	if o.Readers > 0 {
		r.readers = o.Readers
	}
	if o.BusyTimeout > 0 {
		r.busyTimeout = o.BusyTimeout
	}
	return r
}

// Open opens (creating if needed) the database file at path, takes the
// exclusive process lock on path+".lock", applies pending migrations and
// returns the store. It fails when another process (or another Open in this
// one) holds the database. opts tune it; the zero Options is ready to use.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	if path == "" || path == ":memory:" {
		return nil, hookd.Errorf(hookd.EINVALID, "sqlite: a database file path is required")
	}
	o := opts.resolved()
	lock, err := lockFile(path)
	if err != nil {
		return nil, err
	}
	s := &Store{path: path, lock: lock}
	if err := s.open(ctx, o); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Store) open(ctx context.Context, o options) error {
	if err := migrate(ctx, dsn(s.path, o, false)); err != nil {
		return err
	}
	var err error
	if s.writer, err = sql.Open("sqlite", dsn(s.path, o, false)); err != nil {
		return fmt.Errorf("open writer: %w", err)
	}
	s.writer.SetMaxOpenConns(1)
	s.writer.SetMaxIdleConns(1)
	s.writer.SetConnMaxLifetime(0)
	s.writer.SetConnMaxIdleTime(0)
	if err := s.writer.PingContext(ctx); err != nil {
		return fmt.Errorf("open writer: %w", mapErr(err))
	}
	if s.reader, err = sql.Open("sqlite", dsn(s.path, o, true)); err != nil {
		return fmt.Errorf("open readers: %w", err)
	}
	s.reader.SetMaxOpenConns(o.readers)
	s.reader.SetMaxIdleConns(o.readers)
	s.reader.SetConnMaxIdleTime(0)
	if err := s.reader.PingContext(ctx); err != nil {
		return fmt.Errorf("open readers: %w", mapErr(err))
	}
	if err := s.prepareWriter(ctx); err != nil {
		return err
	}
	return s.releaseStaleLeases(ctx)
}

// releaseStaleLeases clears every delivery lease left in the file. Holding
// the process lock proves that whoever took those leases is gone (a crash or
// kill -9), so their deliveries are due again now instead of after the lease
// expires.
func (s *Store) releaseStaleLeases(ctx context.Context) error {
	_, err := s.writer.ExecContext(ctx,
		`UPDATE deliveries SET lease_owner = '', lease_expires_at = 0 WHERE status = 'pending' AND lease_owner <> ''`)
	if err != nil {
		return fmt.Errorf("release stale leases: %w", mapErr(err))
	}
	return nil
}

// dsn builds the modernc.org/sqlite connection string. Writers get WAL,
// synchronous=FULL, foreign keys and BEGIN IMMEDIATE; readers are query_only.
func dsn(path string, o options, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout("+strconv.FormatInt(o.busyTimeout.Milliseconds(), 10)+")")
	q.Add("_pragma", "foreign_keys(ON)")
	if readOnly {
		q.Add("_pragma", "query_only(ON)")
		// Reads through a memory map instead of a read syscall per page
		// (stats reads touch thousands of pages: ~3x less CPU on a 30-day
		// overall read of 1,000 endpoints). Address space only; the pages
		// are the OS page cache's.
		q.Add("_pragma", "mmap_size(1073741824)")
	} else {
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(FULL)")
		q.Set("_txlock", "immediate")
	}
	return "file:" + path + "?" + q.Encode()
}

// Ping checks that both the writer and the readers answer.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.writer.PingContext(ctx); err != nil {
		return fmt.Errorf("ping: %w", mapErr(err))
	}
	if err := s.reader.PingContext(ctx); err != nil {
		return fmt.Errorf("ping: %w", mapErr(err))
	}
	return nil
}

// Close closes the connections and releases the process lock, returning
// the errors met. Calling it again returns the same result. Methods called
// after Close fail with EUNAVAILABLE.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		var errs []error
		if s.reader != nil {
			errs = append(errs, s.reader.Close())
		}
		s.closeStmts()
		if s.writer != nil {
			errs = append(errs, s.writer.Close())
		}
		if s.lock != nil {
			errs = append(errs, s.lock.release())
		}
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}

// write runs fn in one IMMEDIATE transaction on the writer connection,
// committed with synchronous=FULL: it returns after the WAL is fsynced.
func (s *Store) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	return s.writeLocked(ctx, fn)
}

// writeLazy runs fn like write but commits with synchronous=NORMAL: the
// commit survives a crash of the process (kill -9) but not of the machine
// until the next durable commit or checkpoint fsyncs the WAL, which every
// write's commit does, in order. It is for state whose loss on power failure
// costs only a repeated attempt: claims (leases are freed at the next Open
// anyway), completions (the delivery is retried: at least once still holds),
// releases, job leases and retention. Ingest, endpoint and requeue writes
// use write.
func (s *Store) writeLazy(ctx context.Context, fn func(tx *sql.Tx) error) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	// Not a prepared statement: SQLite applies PRAGMA synchronous while
	// preparing it, so re-running a prepared one changes nothing
	// (TestSynchronousPerWrite catches that).
	if _, err := s.writer.ExecContext(ctx, "PRAGMA synchronous = NORMAL"); err != nil {
		return mapErr(err)
	}
	err := s.writeLocked(ctx, fn)
	// Back to FULL before anyone else writes. The mutex keeps other writes
	// out until then; if even this fails the connection is broken and the
	// next write must not trust the setting.
	if _, rerr := s.writer.ExecContext(context.WithoutCancel(ctx), "PRAGMA synchronous = FULL"); rerr != nil {
		s.syncUnknown = true
		return errors.Join(err, mapErr(rerr))
	}
	return err
}

func (s *Store) writeLocked(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if s.syncUnknown {
		if _, err := s.writer.ExecContext(ctx, "PRAGMA synchronous = FULL"); err != nil {
			return mapErr(err)
		}
		s.syncUnknown = false
	}
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return mapErr(err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return mapErr(err)
	}
	if err := tx.Commit(); err != nil {
		return mapErr(err)
	}
	return nil
}

// read runs fn in one read transaction (a consistent snapshot) on a reader.
func (s *Store) read(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.reader.BeginTx(ctx, nil)
	if err != nil {
		return mapErr(err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return mapErr(err)
	}
	return mapErr(tx.Commit())
}

// Exclusive reports true: the process lock on the file means no other
// process claims from this store (see hookd.Exclusive).
func (s *Store) Exclusive() bool { return true }

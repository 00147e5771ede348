package dispatch

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/internal/testenv"
	"github.com/hookd/hookd/sqlite"
)

// dbFiles copies a SQLite file migrated once per process for each test
// (see testenv.FileTemplate).
var dbFiles = testenv.NewFileTemplate(func(ctx context.Context, path string) error { return sqlite.Migrate(ctx, path) })

// faultStore is a real SQLite store in a temporary directory, wrapped to
// count the calls the dispatcher's tests look at and to inject failures.
// Every claim and completion rule is the store's own (checked for both
// backends by package storetest); the wrapper only counts and fails.
type faultStore struct {
	*sqlite.Store

	mu sync.Mutex
	// failCompletes makes the next n completion writes (CompleteAttempts
	// or CompleteAndClaim) fail without touching the database.
	failCompletes int
	completeCalls int // completion writes, failed ones included
	claimCalls    int // ClaimDue calls
	refillCalls   int // CompleteAndClaim calls that claimed (Limit > 0)
}

// newFaultStore opens a fresh SQLite database for t.
func newFaultStore(t testing.TB) *faultStore {
	t.Helper()
	s, err := sqlite.Open(context.Background(), dbFiles.Path(t), sqlite.Options{})
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return &faultStore{Store: s}
}

var errInjected = errors.New("injected store failure")

// completeCall counts one completion write and reports whether it must fail.
func (s *faultStore) completeCall() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.completeCalls++
	if s.failCompletes > 0 {
		s.failCompletes--
		return errInjected
	}
	return nil
}

func (s *faultStore) ClaimDue(ctx context.Context, r hookd.ClaimRequest) ([]hookd.Claim, error) {
	s.mu.Lock()
	s.claimCalls++
	s.mu.Unlock()
	return s.Store.ClaimDue(ctx, r)
}

func (s *faultStore) CompleteAttempts(ctx context.Context, cs []hookd.Completion, p hookd.CircuitPolicy) error {
	if err := s.completeCall(); err != nil {
		return err
	}
	return s.Store.CompleteAttempts(ctx, cs, p)
}

func (s *faultStore) CompleteAndClaim(ctx context.Context, cs []hookd.Completion, p hookd.CircuitPolicy, r hookd.ClaimRequest) ([]hookd.Claim, error) {
	if err := s.completeCall(); err != nil {
		return nil, err
	}
	if r.Limit > 0 {
		s.mu.Lock()
		s.refillCalls++
		s.mu.Unlock()
	}
	return s.Store.CompleteAndClaim(ctx, cs, p, r)
}

// counts returns the call counters.
func (s *faultStore) counts() (claims, completes, refills int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.claimCalls, s.completeCalls, s.refillCalls
}

// failNextCompletes makes the next n completion writes fail.
func (s *faultStore) failNextCompletes(n int) {
	s.mu.Lock()
	s.failCompletes = n
	s.mu.Unlock()
}

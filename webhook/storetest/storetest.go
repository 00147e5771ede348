// Package storetest is the conformance suite of webhook.Store. It must not
// import any other hookd package except webhook. Every store (memory,
// Redis, SQL) runs it from its own tests, and a third-party store can too:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) webhook.Store { return newMyStore(t) })
//	}
package storetest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookd/hookd/webhook"
)

// Concurrency is how many deliveries of one webhook-id race each other in
// the concurrent tests.
const Concurrency = 50

// short is the lease or TTL of the expiry tests; expiry is awaited by
// polling, never by sleeping a fixed time.
const short = 150 * time.Millisecond

// Run runs the suite. newStore returns a store for one subtest; stores of
// different subtests may share a backend as long as keys do not collide
// (every subtest uses keys of its own). Subtests run in parallel.
func Run(t *testing.T, newStore func(t *testing.T) webhook.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s webhook.Store)
	}{
		{"ClaimAbsent", testClaimAbsent},
		{"ClaimWhileProcessing", testClaimWhileProcessing},
		{"ReleaseThenClaim", testReleaseThenClaim},
		{"ReleaseWrongToken", testReleaseWrongToken},
		{"CompleteThenClaim", testCompleteThenClaim},
		{"CompleteWithoutClaim", testCompleteWithoutClaim},
		{"ReleaseAfterComplete", testReleaseAfterComplete},
		{"LeaseExpiry", testLeaseExpiry},
		{"DoneExpiry", testDoneExpiry},
		{"KeysIndependent", testKeysIndependent},
		{"ConcurrentClaim", testConcurrentClaim},
		{"MiddlewareRunsOnce", testMiddlewareRunsOnce},
		{"MiddlewareRetriesAfterFailure", testMiddlewareRetriesAfterFailure},
		{"MiddlewareRetriesAfterPanic", testMiddlewareRetriesAfterPanic},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, newStore(t))
		})
	}
}

var keySeq atomic.Int64

// newKey returns a key unique to this process run and test.
func newKey(t *testing.T) string {
	return fmt.Sprintf("msg_%s_%d_%d", strings.ReplaceAll(t.Name(), "/", "_"), time.Now().UnixNano(), keySeq.Add(1))
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func mustClaim(t *testing.T, s webhook.Store, key string, lease time.Duration, want webhook.ClaimState) webhook.Claim {
	t.Helper()
	c, err := s.Claim(ctx(t), key, lease)
	if err != nil {
		t.Fatalf("claim %s: %v", key, err)
	}
	if c.State != want {
		t.Fatalf("claim %s: got state %v, want %v", key, c.State, want)
	}
	return c
}

// within checks that at is about now+d.
func within(t *testing.T, what string, at time.Time, d time.Duration) {
	t.Helper()
	now := time.Now()
	if at.Before(now.Add(d-5*time.Second)) || at.After(now.Add(d+5*time.Second)) {
		t.Errorf("%s: got expiry %v, want about %v", what, at, now.Add(d))
	}
}

func testClaimAbsent(t *testing.T, s webhook.Store) {
	c := mustClaim(t, s, newKey(t), time.Minute, webhook.Claimed)
	if c.Token == "" {
		t.Errorf("got empty token, want one")
	}
	within(t, "lease", c.ExpiresAt, time.Minute)
}

func testClaimWhileProcessing(t *testing.T, s webhook.Store) {
	key := newKey(t)
	first := mustClaim(t, s, key, time.Minute, webhook.Claimed)
	second := mustClaim(t, s, key, time.Minute, webhook.Processing)
	if second.Token != "" {
		t.Errorf("got token %q for a Processing claim, want none", second.Token)
	}
	within(t, "lease", second.ExpiresAt, time.Minute)
	if d := second.ExpiresAt.Sub(first.ExpiresAt); d > time.Second || d < -time.Second {
		t.Errorf("got lease end %v, want the first claim's %v", second.ExpiresAt, first.ExpiresAt)
	}
}

func testReleaseThenClaim(t *testing.T, s webhook.Store) {
	key := newKey(t)
	first := mustClaim(t, s, key, time.Minute, webhook.Claimed)
	if err := s.Release(ctx(t), key, first.Token); err != nil {
		t.Fatalf("release: %v", err)
	}
	second := mustClaim(t, s, key, time.Minute, webhook.Claimed)
	if second.Token == first.Token {
		t.Errorf("got the same token %q twice, want a fresh one", second.Token)
	}
}

func testReleaseWrongToken(t *testing.T, s webhook.Store) {
	key := newKey(t)
	mustClaim(t, s, key, time.Minute, webhook.Claimed)
	if err := s.Release(ctx(t), key, "not-the-token"); err != nil {
		t.Fatalf("release: %v", err)
	}
	mustClaim(t, s, key, time.Minute, webhook.Processing)
	// Releasing a key nobody holds is fine too.
	if err := s.Release(ctx(t), newKey(t), "nobody"); err != nil {
		t.Fatalf("release absent key: %v", err)
	}
}

func testCompleteThenClaim(t *testing.T, s webhook.Store) {
	key := newKey(t)
	mustClaim(t, s, key, time.Minute, webhook.Claimed)
	if err := s.Complete(ctx(t), key, time.Hour); err != nil {
		t.Fatalf("complete: %v", err)
	}
	c := mustClaim(t, s, key, time.Minute, webhook.Done)
	within(t, "done ttl", c.ExpiresAt, time.Hour)
	mustClaim(t, s, key, time.Minute, webhook.Done)
}

func testCompleteWithoutClaim(t *testing.T, s webhook.Store) {
	key := newKey(t)
	if err := s.Complete(ctx(t), key, time.Hour); err != nil {
		t.Fatalf("complete: %v", err)
	}
	mustClaim(t, s, key, time.Minute, webhook.Done)
}

func testReleaseAfterComplete(t *testing.T, s webhook.Store) {
	key := newKey(t)
	c := mustClaim(t, s, key, time.Minute, webhook.Claimed)
	if err := s.Complete(ctx(t), key, time.Hour); err != nil {
		t.Fatalf("complete: %v", err)
	}
	if err := s.Release(ctx(t), key, c.Token); err != nil {
		t.Fatalf("release: %v", err)
	}
	mustClaim(t, s, key, time.Minute, webhook.Done)
}

// awaitClaimed polls Claim until it returns Claimed, failing after a deadline.
func awaitClaimed(t *testing.T, s webhook.Store, key string, lease time.Duration) webhook.Claim {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := s.Claim(ctx(t), key, lease)
		if err != nil {
			t.Fatalf("claim: %v", err)
		}
		if c.State == webhook.Claimed {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("claim %s: still %v after the deadline, want claimed", key, c.State)
		}
		time.Sleep(10 * time.Millisecond) // poll interval
	}
}

func testLeaseExpiry(t *testing.T, s webhook.Store) {
	key := newKey(t)
	start := time.Now()
	first := mustClaim(t, s, key, short, webhook.Claimed)
	second := awaitClaimed(t, s, key, time.Minute)
	if elapsed := time.Since(start); elapsed < short-20*time.Millisecond {
		t.Errorf("re-claimed after %v, want not before the lease of %v", elapsed, short)
	}
	// The first delivery comes back late: its release must not free the
	// second delivery's claim.
	if err := s.Release(ctx(t), key, first.Token); err != nil {
		t.Fatalf("late release: %v", err)
	}
	mustClaim(t, s, key, time.Minute, webhook.Processing)
	if err := s.Release(ctx(t), key, second.Token); err != nil {
		t.Fatalf("release: %v", err)
	}
	mustClaim(t, s, key, time.Minute, webhook.Claimed)
}

func testDoneExpiry(t *testing.T, s webhook.Store) {
	key := newKey(t)
	if err := s.Complete(ctx(t), key, short); err != nil {
		t.Fatalf("complete: %v", err)
	}
	awaitClaimed(t, s, key, time.Minute)
}

func testKeysIndependent(t *testing.T, s webhook.Store) {
	a, b := newKey(t), newKey(t)
	mustClaim(t, s, a, time.Minute, webhook.Claimed)
	mustClaim(t, s, b, time.Minute, webhook.Claimed)
	if err := s.Complete(ctx(t), a, time.Hour); err != nil {
		t.Fatalf("complete: %v", err)
	}
	mustClaim(t, s, a, time.Minute, webhook.Done)
	mustClaim(t, s, b, time.Minute, webhook.Processing)
}

func testConcurrentClaim(t *testing.T, s webhook.Store) {
	key := newKey(t)
	var (
		wg      sync.WaitGroup
		start   = make(chan struct{})
		claimed atomic.Int64
		busy    atomic.Int64
	)
	for range Concurrency {
		wg.Go(func() {
			<-start
			c, err := s.Claim(ctx(t), key, time.Minute)
			if err != nil {
				t.Errorf("claim: %v", err)
				return
			}
			switch c.State {
			case webhook.Claimed:
				claimed.Add(1)
			case webhook.Processing:
				busy.Add(1)
			default:
				t.Errorf("got state %v, want claimed or processing", c.State)
			}
		})
	}
	close(start)
	wg.Wait()
	if got := claimed.Load(); got != 1 {
		t.Errorf("got %d claims, want exactly 1", got)
	}
	if got := busy.Load(); got != Concurrency-1 {
		t.Errorf("got %d processing answers, want %d", got, Concurrency-1)
	}
}

// Signed requests for the middleware tests.

var secret = mustSecret()

func mustSecret() string {
	s, err := webhook.NewSecret()
	if err != nil {
		panic(err)
	}
	return s
}

func newMiddleware(t *testing.T, s webhook.Store, next http.Handler) http.Handler {
	t.Helper()
	v, err := webhook.NewVerifier([]string{secret})
	if err != nil {
		t.Fatal(err)
	}
	return webhook.Middleware(next, webhook.Options{Verifier: v, Store: s})
}

// deliver sends one signed delivery of message id through h.
func deliver(t *testing.T, h http.Handler, id string) *httptest.ResponseRecorder {
	body := []byte(`{"id":"` + id + `","type":"order.created","timestamp":"2026-11-29T10:00:00.123Z","data":{"n":1}}`)
	now := time.Now()
	sig, err := webhook.Sign(secret, id, now, body)
	if err != nil {
		t.Errorf("sign: %v", err)
	}
	r := httptest.NewRequest(http.MethodPost, "/hook", strings.NewReader(string(body)))
	r.Header.Set(webhook.HeaderID, id)
	r.Header.Set(webhook.HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	r.Header.Set(webhook.HeaderSignature, sig)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func testMiddlewareRunsOnce(t *testing.T, s webhook.Store) {
	id := newKey(t)
	var (
		runs    atomic.Int64
		entered = make(chan struct{})
		finish  = make(chan struct{})
	)
	h := newMiddleware(t, s, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if runs.Add(1) > 1 {
			t.Errorf("handler ran again for %s", id)
			return
		}
		close(entered)
		<-finish // hold the claim until every other delivery was answered
	}))
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		codes = make(chan int, Concurrency)
	)
	for range Concurrency {
		wg.Go(func() {
			<-start
			codes <- deliver(t, h, id).Code
		})
	}
	close(start)
	got := map[int]int{}
	deadline := time.After(20 * time.Second)
	for range Concurrency - 1 {
		select {
		case c := <-codes:
			got[c]++
		case <-deadline:
			close(finish)
			t.Fatalf("answers so far %v: timed out waiting for %d answers", got, Concurrency-1)
		}
	}
	<-entered
	close(finish)
	wg.Wait()
	got[<-codes]++
	if n := runs.Load(); n != 1 {
		t.Errorf("handler ran %d times, want 1", n)
	}
	if got[http.StatusConflict] != Concurrency-1 || got[http.StatusOK] != 1 {
		t.Errorf("got status counts %v, want %d×409 and 1×200", got, Concurrency-1)
	}
	// A later duplicate is answered 200 without running the handler.
	if code := deliver(t, h, id).Code; code != http.StatusOK {
		t.Errorf("duplicate: got status %d, want 200", code)
	}
	if n := runs.Load(); n != 1 {
		t.Errorf("handler ran %d times after the duplicate, want 1", n)
	}
}

func testMiddlewareRetriesAfterFailure(t *testing.T, s webhook.Store) {
	id := newKey(t)
	var runs atomic.Int64
	h := newMiddleware(t, s, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if runs.Add(1) == 1 {
			http.Error(w, "try later", http.StatusInternalServerError)
		}
	}))
	for i, want := range []struct {
		code int
		runs int64
	}{
		{http.StatusInternalServerError, 1}, // fails: claim released
		{http.StatusOK, 2},                  // the retry runs the handler again
		{http.StatusOK, 2},                  // duplicate of a done id
	} {
		if code := deliver(t, h, id).Code; code != want.code {
			t.Errorf("delivery %d: got status %d, want %d", i+1, code, want.code)
		}
		if n := runs.Load(); n != want.runs {
			t.Errorf("delivery %d: handler ran %d times, want %d", i+1, n, want.runs)
		}
	}
}

func testMiddlewareRetriesAfterPanic(t *testing.T, s webhook.Store) {
	id := newKey(t)
	var runs atomic.Int64
	h := newMiddleware(t, s, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if runs.Add(1) == 1 {
			panic("handler bug")
		}
	}))
	func() {
		defer func() {
			if v := recover(); v != "handler bug" {
				t.Errorf("got panic %v, want the handler's re-raised", v)
			}
		}()
		deliver(t, h, id)
	}()
	if code := deliver(t, h, id).Code; code != http.StatusOK {
		t.Errorf("retry after panic: got status %d, want 200", code)
	}
	if n := runs.Load(); n != 2 {
		t.Errorf("handler ran %d times, want 2", n)
	}
}

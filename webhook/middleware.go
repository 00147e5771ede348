package webhook

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"time"
)

// Defaults of Options.
const (
	// DefaultMaxBodyBytes is the largest body the Middleware reads: 1 MiB,
	// four times hookd's default payload limit plus the envelope.
	DefaultMaxBodyBytes = 1 << 20
	// DefaultLease is how long a delivery holds its webhook-id while the
	// handler runs. It is longer than hookd's attempt timeout (15 s); a
	// handler still running after the lease may see a retry of the same id
	// run concurrently.
	DefaultLease = time.Minute
	// DefaultDoneTTL is how long a processed webhook-id is remembered:
	// 72 hours, longer than hookd's default retry window (12 attempts, about
	// 2 h 40 min) and than the schedule Standard Webhooks recommends (about
	// 3 days). A message replayed after that runs the handler again.
	DefaultDoneTTL = 72 * time.Hour
	// storeTimeout bounds Complete and Release, which run even when the
	// sender has hung up.
	storeTimeout = 10 * time.Second
)

// Options configures Middleware.
type Options struct {
	// Verifier checks signatures and timestamps. Required.
	Verifier *Verifier
	// Store deduplicates on webhook-id. Default: a MemoryStore with default
	// options, which only deduplicates within one process.
	Store Store
	// MaxBodyBytes bounds the request body (default DefaultMaxBodyBytes);
	// a larger body is answered 413.
	MaxBodyBytes int64
	// Lease is how long a delivery holds its webhook-id while the handler
	// runs (default DefaultLease).
	Lease time.Duration
	// DoneTTL is how long a processed webhook-id is remembered (default
	// DefaultDoneTTL). Match it to the sender's retry and replay window.
	DoneTTL time.Duration
	// Logger receives store failures and lost claims (default slog.Default()).
	// Secrets and bodies are never logged.
	Logger *slog.Logger
}

// Middleware returns a handler that verifies each request and runs next at
// most once per webhook-id:
//
//  1. It reads the body (413 when larger than MaxBodyBytes) and verifies it
//     with Options.Verifier: 400 for missing or malformed headers, 401 for a
//     bad signature or a timestamp out of tolerance.
//  2. It claims the webhook-id in Options.Store for Options.Lease. A
//     duplicate of a processed id is answered 200 without running next; one
//     still being processed is answered 409 with Retry-After (seconds until
//     the lease ends). A store failure is answered 500.
//  3. It runs next with a re-readable r.Body holding the verified body and
//     the Event in the context (FromContext). When next answers 2xx the id
//     is marked done for Options.DoneTTL; on any other status, or a panic
//     (which is re-raised), the claim is released so the sender's retry
//     runs next again.
//
// Error responses are plain text and never echo the request. Middleware
// panics when opts.Verifier is nil.
func Middleware(next http.Handler, opts Options) http.Handler {
	if opts.Verifier == nil {
		panic("webhook: Middleware needs Options.Verifier")
	}
	if opts.Store == nil {
		opts.Store = NewMemoryStore(MemoryOptions{})
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.Lease <= 0 {
		opts.Lease = DefaultLease
	}
	if opts.DoneTTL <= 0 {
		opts.DoneTTL = DefaultDoneTTL
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &middleware{next: next, opts: opts}
}

type middleware struct {
	next http.Handler
	opts Options
}

func (m *middleware) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, m.opts.MaxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			http.Error(w, "webhook: body too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "webhook: cannot read body", http.StatusBadRequest)
		return
	}
	if err := m.opts.Verifier.Verify(r.Header, body); err != nil {
		http.Error(w, err.Error(), verifyStatus(err))
		return
	}
	id := headerValue(r.Header, HeaderID)
	sentAt, _ := parseTimestamp(headerValue(r.Header, HeaderTimestamp)) // verified above

	ctx := r.Context()
	claim, err := m.opts.Store.Claim(ctx, id, m.opts.Lease)
	if err != nil {
		m.opts.Logger.ErrorContext(ctx, "webhook: claim", "webhook_id", id, "err", err)
		http.Error(w, "webhook: internal error", http.StatusInternalServerError)
		return
	}
	switch claim.State {
	case Done:
		w.WriteHeader(http.StatusOK)
		return
	case Processing:
		w.Header().Set("Retry-After", retryAfter(claim.ExpiresAt, time.Now()))
		http.Error(w, "webhook: already processing", http.StatusConflict)
		return
	case Claimed:
	default:
		m.opts.Logger.ErrorContext(ctx, "webhook: claim", "webhook_id", id, "state", claim.State)
		http.Error(w, "webhook: internal error", http.StatusInternalServerError)
		return
	}

	r = r.WithContext(NewContext(ctx, ParseEvent(id, sentAt, body)))
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	sw := &statusWriter{ResponseWriter: w}
	succeeded := false
	defer func() {
		// Runs after a return or a panic of next; the sender may have hung
		// up, so the store gets a context of its own.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
		defer cancel()
		if succeeded {
			if err := m.opts.Store.Complete(sctx, id, m.opts.DoneTTL); err != nil {
				m.opts.Logger.ErrorContext(ctx, "webhook: complete", "webhook_id", id, "err", err)
			}
			return
		}
		if err := m.opts.Store.Release(sctx, id, claim.Token); err != nil {
			m.opts.Logger.ErrorContext(ctx, "webhook: release", "webhook_id", id, "err", err)
		}
	}()
	m.next.ServeHTTP(sw, r)
	status := sw.status
	if status == 0 {
		status = http.StatusOK // net/http's implicit status
	}
	succeeded = status >= 200 && status < 300
}

// verifyStatus maps a verification error to its HTTP status.
func verifyStatus(err error) int {
	if errors.Is(err, ErrMissingHeader) || errors.Is(err, ErrMalformedHeader) {
		return http.StatusBadRequest
	}
	return http.StatusUnauthorized
}

// retryAfter returns the whole seconds from now until t, at least 1.
func retryAfter(t, now time.Time) string {
	secs := math.Ceil(t.Sub(now).Seconds())
	if secs < 1 || t.IsZero() {
		secs = 1
	}
	return strconv.FormatInt(int64(secs), 10)
}

// statusWriter records the status the handler answered.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer
// (Flush, deadlines).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

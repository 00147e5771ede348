package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd/webhook"
)

const testSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// signedRequest returns a request for id and body signed at now.
func signedRequest(t *testing.T, id string, body []byte) *http.Request {
	t.Helper()
	now := time.Now()
	r := httptest.NewRequest(http.MethodPost, "/hook", bytes.NewReader(body))
	r.Header = headers(id, now.Unix(), must(webhook.Sign(testSecret, id, now, body)))
	return r
}

func newTestMiddleware(t *testing.T, next http.Handler, opts webhook.Options) http.Handler {
	t.Helper()
	if opts.Verifier == nil {
		opts.Verifier = must(webhook.NewVerifier([]string{testSecret}))
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return webhook.Middleware(next, opts)
}

func TestMiddlewareRejects(t *testing.T) {
	t.Parallel()
	body := []byte(`{"id":"evt_1","type":"t","timestamp":"2026-11-29T10:00:00Z","data":{}}`)
	tests := []struct {
		name string
		req  func() *http.Request
		want int
	}{
		{"valid", func() *http.Request { return signedRequest(t, "evt_1", body) }, http.StatusOK},
		{"missing id", func() *http.Request {
			r := signedRequest(t, "evt_1", body)
			r.Header.Del(webhook.HeaderID)
			return r
		}, http.StatusBadRequest},
		{"malformed timestamp", func() *http.Request {
			r := signedRequest(t, "evt_1", body)
			r.Header.Set(webhook.HeaderTimestamp, "yesterday")
			return r
		}, http.StatusBadRequest},
		{"malformed signature", func() *http.Request {
			r := signedRequest(t, "evt_1", body)
			r.Header.Set(webhook.HeaderSignature, "nonsense")
			return r
		}, http.StatusBadRequest},
		{"bad signature", func() *http.Request {
			r := signedRequest(t, "evt_1", body)
			r.Header.Set(webhook.HeaderSignature, "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=")
			return r
		}, http.StatusUnauthorized},
		{"tampered body", func() *http.Request {
			r := signedRequest(t, "evt_1", body)
			r.Body = io.NopCloser(strings.NewReader(string(body) + " "))
			return r
		}, http.StatusUnauthorized},
		{"too old", func() *http.Request {
			at := time.Now().Add(-time.Hour)
			r := httptest.NewRequest(http.MethodPost, "/hook", bytes.NewReader(body))
			r.Header = headers("evt_1", at.Unix(), must(webhook.Sign(testSecret, "evt_1", at, body)))
			return r
		}, http.StatusUnauthorized},
		{"too large", func() *http.Request {
			big := bytes.Repeat([]byte("x"), 1025)
			return signedRequest(t, "evt_1", big)
		}, http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ran := false
			h := newTestMiddleware(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { ran = true }),
				webhook.Options{MaxBodyBytes: 1024})
			w := httptest.NewRecorder()
			h.ServeHTTP(w, tt.req())
			if w.Code != tt.want {
				t.Errorf("got status %d, want %d (body %q)", w.Code, tt.want, w.Body.String())
			}
			if ran != (tt.want == http.StatusOK) {
				t.Errorf("handler ran: got %v, want %v", ran, tt.want == http.StatusOK)
			}
			if strings.Contains(w.Body.String(), testSecret) {
				t.Errorf("response echoes the secret: %q", w.Body.String())
			}
		})
	}
}

func TestMiddlewareHandsOverEventAndBody(t *testing.T) {
	t.Parallel()
	body := []byte(`{"id":"evt_7","type":"order.created","timestamp":"2026-11-29T10:00:00.123Z","data":{"order":42}}`)
	var (
		got     webhook.Event
		ok      bool
		gotBody []byte
		again   []byte
	)
	h := newTestMiddleware(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok = webhook.FromContext(r.Context())
		gotBody, _ = io.ReadAll(r.Body)
		rc, err := r.GetBody()
		if err == nil {
			again, _ = io.ReadAll(rc)
		}
		w.WriteHeader(http.StatusAccepted)
	}), webhook.Options{})
	req := signedRequest(t, "evt_7", body)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusAccepted {
		t.Fatalf("got status %d, want 202", w.Code)
	}
	if !ok {
		t.Fatal("FromContext: got no event, want one")
	}
	wantTS := time.Date(2026, 11, 29, 10, 0, 0, 123e6, time.UTC)
	sent, _ := strconv.ParseInt(req.Header.Get(webhook.HeaderTimestamp), 10, 64)
	if got.ID != "evt_7" || got.Type != "order.created" || !got.Timestamp.Equal(wantTS) ||
		got.SentAt.Unix() != sent || string(got.Data) != `{"order":42}` {
		t.Errorf("got event %+v, want evt_7 order.created %v data {\"order\":42}", got, wantTS)
	}
	if !bytes.Equal(gotBody, body) || !bytes.Equal(again, body) {
		t.Errorf("got body %q and %q, want %q twice", gotBody, again, body)
	}
	if _, ok := webhook.FromContext(context.Background()); ok {
		t.Errorf("FromContext(Background): got an event, want none")
	}
}

func TestParseEventNotAnEnvelope(t *testing.T) {
	t.Parallel()
	for _, body := range []string{``, `[1,2]`, `not json`, `{"type":"x","timestamp":"not a time","data":[1]}`} {
		ev := webhook.ParseEvent("m", time.Unix(1, 0), []byte(body))
		if ev.ID != "m" || !ev.Timestamp.IsZero() {
			t.Errorf("ParseEvent(%q): got %+v, want ID m and no timestamp", body, ev)
		}
	}
	ev := webhook.ParseEvent("m", time.Unix(1, 0), []byte(`{"type":"x","timestamp":"not a time","data":[1]}`))
	if ev.Type != "x" || string(ev.Data) != "[1]" {
		t.Errorf("got %+v, want type x and data [1] despite the bad timestamp", ev)
	}
}

func TestMiddlewareConflictHasRetryAfter(t *testing.T) {
	t.Parallel()
	entered, finish := make(chan struct{}), make(chan struct{})
	h := newTestMiddleware(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-finish
	}), webhook.Options{Lease: 90 * time.Second})
	body := []byte(`{}`)
	var wg sync.WaitGroup
	first := httptest.NewRecorder()
	wg.Go(func() { h.ServeHTTP(first, signedRequest(t, "evt_busy", body)) })
	<-entered
	w := httptest.NewRecorder()
	h.ServeHTTP(w, signedRequest(t, "evt_busy", body))
	close(finish)
	wg.Wait()
	if w.Code != http.StatusConflict {
		t.Fatalf("got status %d, want 409", w.Code)
	}
	ra, err := strconv.Atoi(w.Header().Get("Retry-After"))
	if err != nil || ra < 85 || ra > 90 {
		t.Errorf("got Retry-After %q, want about 90 seconds", w.Header().Get("Retry-After"))
	}
	if first.Code != http.StatusOK {
		t.Errorf("first delivery: got %d, want 200", first.Code)
	}
}

// failingStore fails every call.
type failingStore struct{}

func (failingStore) Claim(context.Context, string, time.Duration) (webhook.Claim, error) {
	return webhook.Claim{}, errors.New("store down")
}
func (failingStore) Complete(context.Context, string, time.Duration) error { return nil }
func (failingStore) Release(context.Context, string, string) error         { return nil }

func TestMiddlewareStoreFailure(t *testing.T) {
	t.Parallel()
	ran := false
	h := newTestMiddleware(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { ran = true }),
		webhook.Options{Store: failingStore{}})
	w := httptest.NewRecorder()
	h.ServeHTTP(w, signedRequest(t, "evt_1", []byte(`{}`)))
	if w.Code != http.StatusInternalServerError || ran {
		t.Errorf("got status %d (handler ran: %v), want 500 without running the handler", w.Code, ran)
	}
	if strings.Contains(w.Body.String(), "store down") {
		t.Errorf("response leaks the store error: %q", w.Body.String())
	}
}

// recordingStore records the calls the middleware makes.
type recordingStore struct {
	webhook.Store
	mu    sync.Mutex
	calls []string
	ttl   time.Duration
	lease time.Duration
	ctxOK bool
}

func (s *recordingStore) Claim(ctx context.Context, key string, lease time.Duration) (webhook.Claim, error) {
	s.mu.Lock()
	s.calls, s.lease = append(s.calls, "claim"), lease
	s.mu.Unlock()
	return s.Store.Claim(ctx, key, lease)
}

func (s *recordingStore) Complete(ctx context.Context, key string, ttl time.Duration) error {
	s.mu.Lock()
	s.calls, s.ttl, s.ctxOK = append(s.calls, "complete"), ttl, ctx.Err() == nil
	s.mu.Unlock()
	return s.Store.Complete(ctx, key, ttl)
}

func (s *recordingStore) Release(ctx context.Context, key, token string) error {
	s.mu.Lock()
	s.calls, s.ctxOK = append(s.calls, "release"), ctx.Err() == nil
	s.mu.Unlock()
	return s.Store.Release(ctx, key, token)
}

func TestMiddlewareOutcomes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		handler   http.HandlerFunc
		wantCalls string
	}{
		{"implicit 200", func(w http.ResponseWriter, r *http.Request) {}, "claim complete"},
		{"write without header", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }, "claim complete"},
		{"204", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }, "claim complete"},
		{"299", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(299) }, "claim complete"},
		{"300", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusMultipleChoices) }, "claim release"},
		{"400", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusBadRequest) }, "claim release"},
		{"503", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) }, "claim release"},
		{"1xx then 200", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusEarlyHints)
			w.WriteHeader(http.StatusOK)
		}, "claim complete"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := &recordingStore{Store: webhook.NewMemoryStore(webhook.MemoryOptions{})}
			h := newTestMiddleware(t, tt.handler, webhook.Options{Store: s})
			h.ServeHTTP(httptest.NewRecorder(), signedRequest(t, "evt_1", []byte(`{}`)))
			if got := strings.Join(s.calls, " "); got != tt.wantCalls {
				t.Errorf("got store calls %q, want %q", got, tt.wantCalls)
			}
		})
	}
}

func TestMiddlewareDefaultsAndDetachedContext(t *testing.T) {
	t.Parallel()
	s := &recordingStore{Store: webhook.NewMemoryStore(webhook.MemoryOptions{})}
	ctx, cancel := context.WithCancel(context.Background())
	h := newTestMiddleware(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cancel() // the sender hangs up while the handler works
	}), webhook.Options{Store: s})
	h.ServeHTTP(httptest.NewRecorder(), signedRequest(t, "evt_1", []byte(`{}`)).WithContext(ctx))
	if s.lease != webhook.DefaultLease || s.ttl != webhook.DefaultDoneTTL {
		t.Errorf("got lease %v and TTL %v, want %v and %v", s.lease, s.ttl, webhook.DefaultLease, webhook.DefaultDoneTTL)
	}
	if !s.ctxOK {
		t.Errorf("Complete got a cancelled context, want one detached from the request")
	}
}

func TestMiddlewareNeedsVerifier(t *testing.T) {
	t.Parallel()
	defer func() {
		if recover() == nil {
			t.Errorf("got no panic, want one for a nil Verifier")
		}
	}()
	webhook.Middleware(http.NotFoundHandler(), webhook.Options{})
}

func TestMiddlewareFlushes(t *testing.T) {
	t.Parallel()
	h := newTestMiddleware(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Errorf("flush through the middleware: %v", err)
		}
		json.NewEncoder(w).Encode(map[string]bool{"ok": true})
	}), webhook.Options{})
	w := httptest.NewRecorder()
	h.ServeHTTP(w, signedRequest(t, "evt_1", []byte(`{}`)))
	if !w.Flushed {
		t.Errorf("recorder not flushed")
	}
}

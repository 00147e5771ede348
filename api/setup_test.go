package api

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/auth"
	"github.com/hookd/hookd/ingest"
	"github.com/hookd/hookd/internal/testenv"
	"github.com/hookd/hookd/sqlite"
)

// dbFiles copies a SQLite file migrated once per process for each test
// (see testenv.FileTemplate).
var dbFiles = testenv.NewFileTemplate(func(ctx context.Context, path string) error { return sqlite.Migrate(ctx, path) })

const testKey = "hk_test_key_0123456789"

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// bundle is one API over a fresh SQLite store, with a controllable clock.
type bundle struct {
	t       testing.TB
	store   hookd.Store
	handler http.Handler
	wakes   atomic.Int64

	mu  sync.Mutex
	now time.Time
}

// setup returns a bundle; opts adjust the Config before New.
func setup(t testing.TB, opts ...func(*Config)) *bundle {
	t.Helper()
	store, err := sqlite.Open(context.Background(), dbFiles.Path(t), sqlite.Options{})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	return setupStore(t, store, opts...)
}

// setupStore is setup over a given store, which it closes at cleanup.
func setupStore(t testing.TB, store hookd.Store, opts ...func(*Config)) *bundle {
	t.Helper()
	ctx := context.Background()
	b := &bundle{t: t, store: store, now: time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)}
	committer := ingest.New(store, ingest.Config{})
	if err := committer.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := committer.Stop(ctx); err != nil {
			t.Errorf("stop committer: %v", err)
		}
		if err := store.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	portal, err := auth.NewPortal(ctx, store, auth.PortalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		Portal:     portal,
		Store:      store,
		Ingest:     committer,
		APIKeyHash: sha256.Sum256([]byte(testKey)),
		Now:        b.clock,
		Logger:     quiet,
		Wake:       func() { b.wakes.Add(1) },
	}
	for _, o := range opts {
		o(&cfg)
	}
	b.handler = New(cfg).Handler()
	return b
}

func (b *bundle) clock() time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.now = b.now.Add(time.Millisecond) // strictly increasing, like a real clock
	return b.now
}

func (b *bundle) advance(d time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.now = b.now.Add(d)
}

// do sends an authenticated request; headers are "Name: value" strings.
func (b *bundle) do(method, path, body string, headers ...string) *httptest.ResponseRecorder {
	b.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, r)
	req.Header.Set("Authorization", "Bearer "+testKey)
	for _, h := range headers {
		name, value, _ := strings.Cut(h, ": ")
		if value == "" {
			req.Header.Del(name)
		} else {
			req.Header.Set(name, value)
		}
	}
	w := httptest.NewRecorder()
	b.handler.ServeHTTP(w, req)
	return w
}

// must sends a request, checks its status and decodes the JSON answer.
func (b *bundle) must(want int, method, path, body string, headers ...string) map[string]any {
	b.t.Helper()
	w := b.do(method, path, body, headers...)
	if w.Code != want {
		b.t.Fatalf("%s %s: got status %d, want %d; body %s", method, path, w.Code, want, w.Body)
	}
	if w.Body.Len() == 0 {
		return nil
	}
	var out map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
		b.t.Fatalf("%s %s: answer is not a JSON object: %v: %s", method, path, err, w.Body)
	}
	return out
}

// endpoint creates an endpoint from a JSON body and returns its id.
func (b *bundle) endpoint(body string) string {
	b.t.Helper()
	return b.must(http.StatusCreated, "POST", "/v1/endpoints", body)["id"].(string)
}

// checkError asserts an error answer: status, code, and that the message
// contains want.
func checkError(t *testing.T, w *httptest.ResponseRecorder, status int, code, want string) {
	t.Helper()
	if w.Code != status {
		t.Errorf("got status %d, want %d; body %s", w.Code, status, w.Body)
		return
	}
	var e errorBody
	if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil {
		t.Errorf("error answer is not JSON: %v: %s", err, w.Body)
		return
	}
	if e.Error.Code != code {
		t.Errorf("got code %q, want %q (message %q)", e.Error.Code, code, e.Error.Message)
	}
	if !strings.Contains(e.Error.Message, want) {
		t.Errorf("got message %q, want it to contain %q", e.Error.Message, want)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("got Content-Type %q, want application/json", ct)
	}
}

// count returns the number of deliveries the store holds for a filter.
func (b *bundle) deliveries(f hookd.DeliveryFilter) []*hookd.Delivery {
	b.t.Helper()
	f.Limit = hookd.MaxPageLimit
	ds, _, err := b.store.ListDeliveries(context.Background(), f)
	if err != nil {
		b.t.Fatal(err)
	}
	return ds
}

func (b *bundle) events() []*hookd.Event {
	b.t.Helper()
	evs, _, err := b.store.ListEvents(context.Background(), hookd.EventFilter{Page: hookd.Page{Limit: hookd.MaxPageLimit}})
	if err != nil {
		b.t.Fatal(err)
	}
	return evs
}

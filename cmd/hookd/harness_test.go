package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/testenv"
	"github.com/hookd/hookd/postgres"
	"github.com/hookd/hookd/sqlite"
)

// dbFiles copies a SQLite file migrated once per process for each test
// (see testenv.FileTemplate).
var dbFiles = testenv.NewFileTemplate(func(ctx context.Context, path string) error { return sqlite.Migrate(ctx, path) })

// pgSchemas hands each in-process server test a migrated, empty Postgres
// schema, reused after the test empties it (see testenv.SchemaPool); the
// tests that run hookd as subprocesses take testenv.PostgresSchema.
var pgSchemas = testenv.NewSchemaPool(postgres.Migrate, postgres.Migrations())

const testAPIKey = "test-api-key-0123456789abcdef"

// backends lists the stores every end-to-end test runs on: SQLite always,
// Postgres when HOOKD_TEST_POSTGRES_URL is set (required under CI) and the
// run is not -short. Under -short the Postgres store is still checked, by
// its conformance suite in package postgres; the whole server on it runs in
// make test. The test itself runs in parallel with the other parallel
// tests (it must not call t.Parallel or t.Setenv itself): under -short its
// Postgres half skips at once, and one test at a time left a core idle.
func backends(t *testing.T, fn func(t *testing.T, db func(t *testing.T) string)) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		fn(t, func(t *testing.T) string { return "sqlite:" + dbFiles.Path(t) })
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		skipShort(t, "the server end to end on Postgres")
		testenv.PostgresURL(t)
		fn(t, func(t *testing.T) string { return pgSchemas.Schema(t) })
	})
}

// testConfig is a server configuration for tests: random port, short delays.
func testConfig(db string) config {
	return config{
		Addr: "127.0.0.1:0", DB: db, APIKey: testAPIKey, AllowPrivateDestinations: true,
		RetryBase: 20 * time.Millisecond, RetryMaxDelay: 200 * time.Millisecond, MaxAttempts: 4,
		AttemptTimeout: 2 * time.Second, MaxPayloadBytes: 256 << 10, ShutdownGrace: 5 * time.Second,
		Retention: 720 * time.Hour, Workers: 32, MaxInFlight: 8, PollInterval: 20 * time.Millisecond,
		RotationGrace: 24 * time.Hour, CircuitThreshold: 0, CircuitCooldown: time.Minute,
		MaxEndpointsPerTenant: 1000, LogLevel: "warn", LogFormat: "text",
		AlertInterval: 30 * time.Second, AlertWindow: 5 * time.Minute, AlertThreshold: 0.99, AlertMinAttempts: 20,
		MetricsEndpointLabels: 50, MetricsRefresh: 100 * time.Millisecond,
	}
}

// testServer is hookd running in-process with a client for its API.
type testServer struct {
	t    *testing.T
	URL  string
	stop func()
}

// startServer runs hookd in-process with cfg (after edit) until the test ends.
func startServer(t *testing.T, db string, edit func(*config)) *testServer {
	t.Helper()
	cfg := testConfig(db)
	if edit != nil {
		edit(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("config: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := newServer(ctx, cfg, io.Discard)
	if err != nil {
		cancel()
		t.Fatalf("newServer: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	ts := &testServer{t: t, URL: "http://" + srv.Addr()}
	var once sync.Once
	ts.stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("server run: %v", err)
			}
		})
	}
	t.Cleanup(ts.stop)
	return ts
}

// do calls the API and decodes a JSON answer into out (when non-nil).
// It returns the status code.
func (s *testServer) do(method, path string, body any, out any) int {
	s.t.Helper()
	code, raw := s.doRaw(method, path, body, nil)
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			s.t.Fatalf("%s %s: decode %q: %v", method, path, raw, err)
		}
	}
	return code
}

// doRaw calls the API with an optional body (a string is sent as is) and
// extra headers, and returns the status and the raw answer.
func (s *testServer) doRaw(method, path string, body any, header http.Header) (int, []byte) {
	s.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	case []byte:
		r = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			s.t.Fatal(err)
		}
		r = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, s.URL+path, r)
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testAPIKey)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, raw
}

// must calls the API and fails the test unless the status is want.
func (s *testServer) must(want int, method, path string, body any, out any) {
	s.t.Helper()
	code, raw := s.doRaw(method, path, body, nil)
	if code != want {
		s.t.Fatalf("%s %s: got status %d (%s), want %d", method, path, code, raw, want)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			s.t.Fatalf("%s %s: decode %q: %v", method, path, raw, err)
		}
	}
}

type endpointJSON struct {
	ID                 string            `json:"id"`
	TenantID           string            `json:"tenant_id"`
	URL                string            `json:"url"`
	Description        string            `json:"description"`
	EventTypes         []string          `json:"event_types"`
	Secret             string            `json:"secret"`
	Headers            map[string]string `json:"headers"`
	MaxAttempts        int               `json:"max_attempts"`
	RateLimitPerSecond float64           `json:"rate_limit_per_second"`
	MaxInFlight        int               `json:"max_in_flight"`
	Disabled           bool              `json:"disabled"`
	DisabledReason     string            `json:"disabled_reason"`
	CreatedAt          time.Time         `json:"created_at"`
	UpdatedAt          time.Time         `json:"updated_at"`
}

type eventJSON struct {
	ID             string          `json:"id"`
	TenantID       string          `json:"tenant_id"`
	Type           string          `json:"type"`
	Payload        json.RawMessage `json:"payload"`
	IdempotencyKey string          `json:"idempotency_key"`
	CreatedAt      time.Time       `json:"created_at"`
	Deliveries     json.RawMessage `json:"deliveries"`
}

type deliveryJSON struct {
	ID             string    `json:"id"`
	EventID        string    `json:"event_id"`
	EndpointID     string    `json:"endpoint_id"`
	Status         string    `json:"status"`
	Attempts       int       `json:"attempts"`
	NextAttemptAt  time.Time `json:"next_attempt_at"`
	LastStatusCode int       `json:"last_status_code"`
	LastError      string    `json:"last_error"`
}

type attemptJSON struct {
	Number       int       `json:"number"`
	StartedAt    time.Time `json:"started_at"`
	StatusCode   int       `json:"status_code"`
	LatencyMS    float64   `json:"latency_ms"`
	ResponseBody string    `json:"response_body"`
	Error        string    `json:"error"`
}

type errorJSON struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func (s *testServer) createEndpoint(body map[string]any) endpointJSON {
	s.t.Helper()
	var ep endpointJSON
	s.must(http.StatusCreated, "POST", "/v1/endpoints", body, &ep)
	return ep
}

func (s *testServer) sendEvent(body map[string]any) eventJSON {
	s.t.Helper()
	var ev eventJSON
	s.must(http.StatusAccepted, "POST", "/v1/events", body, &ev)
	return ev
}

func (s *testServer) deliveries(query string) []deliveryJSON {
	s.t.Helper()
	var list struct {
		Data []deliveryJSON `json:"data"`
	}
	s.must(http.StatusOK, "GET", "/v1/deliveries?"+query, nil, &list)
	return list.Data
}

func (s *testServer) attempts(deliveryID string) []attemptJSON {
	s.t.Helper()
	var list struct {
		Data []attemptJSON `json:"data"`
	}
	s.must(http.StatusOK, "GET", "/v1/deliveries/"+deliveryID+"/attempts", nil, &list)
	return list.Data
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitDrained polls remaining until it returns 0. It fails when remaining
// has not shrunk for stall (work is stuck), or after 10 min in all: on a
// starved machine a backlog drains slowly but steadily, and a fixed deadline
// for the whole backlog measured the machine's load, not hookd.
func waitDrained(t *testing.T, stall time.Duration, what string, remaining func() int) {
	t.Helper()
	start := time.Now()
	best, since := remaining(), time.Now()
	for best > 0 {
		time.Sleep(10 * time.Millisecond)
		n := remaining()
		switch {
		case n < best:
			best, since = n, time.Now()
		case time.Since(since) > stall:
			t.Fatalf("waiting for %s: %d left, none done for %s", what, best, stall)
		case time.Since(start) > 10*time.Minute:
			t.Fatalf("waiting for %s: %d left after 10 min", what, best)
		}
	}
}

// receiver is a real HTTP receiver that records every request and answers
// with the status its respond function picks (200 by default).
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	requests []received
	respond  func(r received, n int) (status int, header http.Header, body string)
}

type received struct {
	Header http.Header
	Body   []byte
	At     time.Time
}

func newReceiver(t *testing.T, respond func(r received, n int) (int, http.Header, string)) *receiver {
	rc := &receiver{respond: respond}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got := received{Header: r.Header.Clone(), Body: body, At: time.Now()}
		rc.mu.Lock()
		rc.requests = append(rc.requests, got)
		n := len(rc.requests)
		rc.mu.Unlock()
		status, header, text := http.StatusOK, http.Header(nil), "ok"
		if rc.respond != nil {
			status, header, text = rc.respond(got, n)
		}
		for k, v := range header {
			w.Header()[k] = v
		}
		w.WriteHeader(status)
		fmt.Fprint(w, text)
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) got() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.requests...)
}

func (rc *receiver) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.requests)
}

// skipShort skips a test under -short, naming what it runs; make test runs
// it.
func skipShort(t *testing.T, what string) {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: skips " + what + " (make test runs it)")
	}
}

// TestMain keeps pgSchemas' free schemas for the next run and drops the
// others when the tests end (see testenv.SchemaPool).
func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

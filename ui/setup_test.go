package ui

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/api"
	"github.com/hookd/hookd/auth"
	"github.com/hookd/hookd/ingest"
	"github.com/hookd/hookd/internal/testenv"
	"github.com/hookd/hookd/postgres"
	"github.com/hookd/hookd/sqlite"
)

// dbFiles copies a SQLite file migrated once per process for each test
// (see testenv.FileTemplate).
var dbFiles = testenv.NewFileTemplate(func(ctx context.Context, path string) error { return sqlite.Migrate(ctx, path) })

const adminKey = "hk_test_admin_key_0123456789"

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// bundle is the dashboard over a real store and the real API in process.
type bundle struct {
	t     *testing.T
	store hookd.Store
	api   http.Handler // the /v1 API with the admin key
	srv   *httptest.Server
	ui    *Server
}

// backends runs fn on SQLite and, when HOOKD_TEST_POSTGRES_URL is set
// (required under CI), on Postgres. The test itself runs in parallel with
// the other parallel tests (it must not call t.Parallel or t.Setenv
// itself), so that one test's Postgres half overlaps the next one's.
func backends(t *testing.T, fn func(t *testing.T, open func(t *testing.T) hookd.Store)) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		fn(t, func(t *testing.T) hookd.Store {
			s, err := sqlite.Open(context.Background(), dbFiles.Path(t), sqlite.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		})
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		testenv.PostgresURL(t)
		fn(t, func(t *testing.T) hookd.Store {
			s, err := postgres.Open(context.Background(), pgSchemas.Schema(t), postgres.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		})
	})
}

// setup starts the API and the dashboard over store as hookd serve does
// (the admin key adminKey, the store's stats), edit adjusting the
// dashboard's Config.
func setup(t *testing.T, store hookd.Store, edit ...func(*Config)) *bundle {
	t.Helper()
	ctx := context.Background()
	committer := ingest.New(store, ingest.Config{})
	if err := committer.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { committer.Stop(ctx) })
	keys := auth.NewKeys(store, auth.KeysOptions{AdminHash: sha256.Sum256([]byte(adminKey)), Logger: quiet})
	portal, err := auth.NewPortal(ctx, store, auth.PortalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// The API reaches the dashboard through UI and the dashboard the API
	// through InProcess, as hookd serve wires them.
	var inProcess http.Handler
	cfg := Config{Store: store, Keys: keys, Portal: portal, Stats: StoreStats(store), Logger: quiet, Version: "test",
		API: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { inProcess.ServeHTTP(w, r) })}
	for _, e := range edit {
		e(&cfg)
	}
	b := &bundle{t: t, store: store, ui: New(cfg)}
	a := api.New(api.Config{Store: store, Ingest: committer, APIKeyHash: sha256.Sum256([]byte(adminKey)), Keys: keys,
		Portal: portal, UI: b.ui.Handler(), Logger: quiet})
	inProcess = a.InProcess()
	b.api = a.Handler()

	b.srv = httptest.NewServer(b.api)
	t.Cleanup(b.srv.Close)
	return b
}

// apiDo calls the /v1 API with the admin key and decodes the answer.
func (b *bundle) apiDo(method, path string, body any, out any) int {
	b.t.Helper()
	var r io.Reader
	if body != nil {
		j, _ := json.Marshal(body)
		r = strings.NewReader(string(j))
	}
	req, _ := http.NewRequest(method, b.srv.URL+path, r)
	req.Header.Set("Authorization", "Bearer "+adminKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			b.t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, raw)
		}
	}
	return resp.StatusCode
}

// endpoint creates an endpoint through the API and returns its id.
func (b *bundle) endpoint(body map[string]any) string {
	b.t.Helper()
	var out struct{ ID string }
	if code := b.apiDo("POST", "/v1/endpoints", body, &out); code != 201 {
		b.t.Fatalf("create endpoint: %d", code)
	}
	return out.ID
}

// browser is a cookie-keeping client of the dashboard that does not
// follow redirects.
type browser struct {
	t    *testing.T
	b    *bundle
	c    *http.Client
	csrf string
}

func (b *bundle) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: b.t, b: b, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

// page is one answer of the dashboard.
type page struct {
	Code     int
	Body     string
	Location string
	Header   http.Header
}

func (br *browser) get(path string) page {
	br.t.Helper()
	resp, err := br.c.Get(br.b.srv.URL + path)
	if err != nil {
		br.t.Fatal(err)
	}
	return br.read(resp)
}

func (br *browser) post(path string, form url.Values) page {
	br.t.Helper()
	resp, err := br.c.PostForm(br.b.srv.URL+path, form)
	if err != nil {
		br.t.Fatal(err)
	}
	return br.read(resp)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (br *browser) read(resp *http.Response) page {
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	p := page{Code: resp.StatusCode, Body: string(raw), Location: resp.Header.Get("Location"), Header: resp.Header}
	if m := csrfRE.FindStringSubmatch(p.Body); m != nil {
		br.csrf = m[1]
	}
	return p
}

// signIn signs in with key through the form and fails unless it works.
func (br *browser) signIn(key string) {
	br.t.Helper()
	br.get("/ui/signin")
	p := br.post("/ui/signin", url.Values{"csrf": {br.csrf}, "key": {key}, "next": {"/ui/"}})
	if p.Code != http.StatusSeeOther || p.Location != "/ui/" {
		br.t.Fatalf("sign in: %d to %q: %s", p.Code, p.Location, p.Body)
	}
	br.get("/ui/") // picks up the session's CSRF token
}

// form posts path with the session's CSRF token and the given fields.
func (br *browser) form(path string, kv ...string) page {
	br.t.Helper()
	f := url.Values{"csrf": {br.csrf}}
	for i := 0; i+1 < len(kv); i += 2 {
		f.Add(kv[i], kv[i+1])
	}
	return br.post(path, f)
}

// tenantKey creates an API key confined to tenant and returns it.
func (b *bundle) tenantKey(tenant string) string {
	b.t.Helper()
	var out struct{ Key string }
	if code := b.apiDo("POST", "/v1/api-keys", map[string]any{"name": "key of " + tenant, "tenant_id": tenant}, &out); code != 201 || out.Key == "" {
		b.t.Fatalf("create key of %s: %d", tenant, code)
	}
	return out.Key
}

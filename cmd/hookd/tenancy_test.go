package main

import (
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// withKey returns the Authorization header of key.
func withKey(key string) http.Header {
	return http.Header{"Authorization": {"Bearer " + key}}
}

// createKey makes an API key through the admin key and returns its id and
// secret.
func (s *testServer) createKey(body map[string]any) (id, key string) {
	s.t.Helper()
	var k struct{ ID, Key string }
	s.must(http.StatusCreated, "POST", "/v1/api-keys", body, &k)
	return k.ID, k.Key
}

// TestTenantKeyEndToEnd: a tenant key made through the API works on the
// real server, sees only its tenant, and stops working once revoked.
func TestTenantKeyEndToEnd(t *testing.T) {
	backends(t, func(t *testing.T, db func(t *testing.T) string) {
		srv := startServer(t, db(t), nil)
		srv.createEndpoint(map[string]any{"url": "http://127.0.0.1:1/other", "tenant_id": "other"})
		id, key := srv.createKey(map[string]any{"name": "acme", "tenant_id": "acme"})
		code, raw := srv.doRaw("POST", "/v1/endpoints", map[string]any{"url": "http://127.0.0.1:1/acme"}, withKey(key))
		if code != http.StatusCreated {
			t.Fatalf("create as tenant: got %d %s", code, raw)
		}
		code, raw = srv.doRaw("GET", "/v1/endpoints", nil, withKey(key))
		var list struct{ Data []endpointJSON }
		if code != 200 || json.Unmarshal(raw, &list) != nil || len(list.Data) != 1 || list.Data[0].TenantID != "acme" {
			t.Fatalf("list as tenant: got %d %s, want acme's endpoint only", code, raw)
		}
		if code, _ := srv.doRaw("GET", "/v1/api-keys", nil, withKey(key)); code != http.StatusForbidden {
			t.Errorf("tenant key listing keys: got %d, want 403", code)
		}
		srv.must(http.StatusNoContent, "DELETE", "/v1/api-keys/"+id, nil, nil)
		if code, _ := srv.doRaw("GET", "/v1/endpoints", nil, withKey(key)); code != http.StatusUnauthorized {
			t.Errorf("revoked key on the node that revoked it: got %d, want 401", code)
		}
	})
}

// TestRevocationAcrossNodes: a key revoked on one node is refused by a
// second node on the same Postgres within 5 s.
func TestRevocationAcrossNodes(t *testing.T) {
	skipShort(t, "two nodes on Postgres waiting for a revocation to spread")
	t.Parallel()
	db := pgSchemas.Schema(t)
	n1 := startServer(t, db, nil)
	n2 := startServer(t, db, nil)
	id, key := n1.createKey(map[string]any{"name": "acme", "tenant_id": "acme"})
	if code, raw := n2.doRaw("GET", "/v1/endpoints", nil, withKey(key)); code != 200 {
		t.Fatalf("key made on node 1, used on node 2: got %d %s", code, raw)
	}
	n1.must(http.StatusNoContent, "DELETE", "/v1/api-keys/"+id, nil, nil)
	revoked := time.Now()
	waitFor(t, 5*time.Second, "node 2 to refuse the revoked key", func() bool {
		code, _ := n2.doRaw("GET", "/v1/endpoints", nil, withKey(key))
		return code == http.StatusUnauthorized
	})
	t.Logf("node 2 refused the key %v after the revocation on node 1", time.Since(revoked).Round(time.Millisecond))
}

// TestRateLimitAcrossNodes: two nodes on one Postgres hold one key's limit
// together: a flood through both lets through at most burst + rate × time,
// answers 429 with Retry-After, and passes again after the wait.
func TestRateLimitAcrossNodes(t *testing.T) {
	skipShort(t, "two nodes on Postgres flooded for seconds")
	t.Parallel()
	db := pgSchemas.Schema(t)
	nodes := []*testServer{startServer(t, db, nil), startServer(t, db, nil)}
	// A low rate, so that even a slow (loaded) machine sends faster than
	// the limit and the 429s are certain.
	const rate = 2
	_, key := nodes[0].createKey(map[string]any{"name": "limited", "tenant_id": "acme", "rate_limit_per_second": rate})
	var ok, limited atomic.Int64
	var retryAfter atomic.Value
	start := time.Now()
	var wg sync.WaitGroup
	for i := range 8 {
		n := nodes[i%2]
		wg.Go(func() {
			for time.Since(start) < 2*time.Second {
				req, _ := http.NewRequest("GET", n.URL+"/v1/endpoints", nil)
				req.Header.Set("Authorization", "Bearer "+key)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				switch resp.StatusCode {
				case 200:
					ok.Add(1)
				case 429:
					limited.Add(1)
					retryAfter.Store(resp.Header.Get("Retry-After"))
				default:
					t.Errorf("got status %d", resp.StatusCode)
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if max := rate + rate*elapsed.Seconds(); float64(ok.Load()) > max {
		t.Errorf("two nodes let %d requests through in %v, want at most %.0f (burst %d + %d/s)", ok.Load(), elapsed, max, rate, rate)
	}
	if ok.Load() < rate || limited.Load() == 0 {
		t.Errorf("got %d allowed and %d limited, want at least the burst (%d) allowed and some 429", ok.Load(), limited.Load(), rate)
	}
	ra, _ := retryAfter.Load().(string)
	secs, err := strconv.Atoi(ra)
	if err != nil || secs < 1 {
		t.Fatalf("429 Retry-After: got %q, want whole seconds >= 1", ra)
	}
	time.Sleep(time.Duration(secs) * time.Second) // the wait the server asked for
	for _, n := range nodes {
		if code, raw := n.doRaw("GET", "/v1/endpoints", nil, withKey(key)); code != 200 {
			t.Errorf("after Retry-After: got %d %s, want 200", code, raw)
		}
	}
	t.Logf("%v: %d allowed, %d answered 429 (limit %d/s, burst %d, two nodes)", elapsed.Round(time.Millisecond), ok.Load(), limited.Load(), rate, rate)
}

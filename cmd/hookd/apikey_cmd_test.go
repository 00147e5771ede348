package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// hookdCLI runs the hookd command line in-process.
func hookdCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb)
	return out.String(), errb.String(), code
}

// mintedKey runs `hookd admin create-key --db db` and returns the key.
func mintedKey(t *testing.T, db string) string {
	t.Helper()
	out, errs, code := hookdCLI(t, "admin", "create-key", "--db", db, "--name", "recovery")
	if code != 0 {
		t.Fatalf("admin create-key: exit %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	key := lines[len(lines)-1]
	if !strings.HasPrefix(key, "hk_") {
		t.Fatalf("admin create-key printed %q, want the key on the last line", out)
	}
	return key
}

// TestAdminCreateKey: `hookd admin create-key` mints an admin key beside a
// running server (SQLite holds a process lock; Postgres is shared) and
// while it is stopped.
func TestAdminCreateKey(t *testing.T) {
	backends(t, func(t *testing.T, db func(t *testing.T) string) {
		dsn := db(t)
		srv := startServer(t, dsn, nil)
		key := mintedKey(t, dsn) // running
		var out struct{ Data []json.RawMessage }
		code, raw := srv.doRaw("GET", "/v1/api-keys", nil, withKey(key))
		if code != http.StatusOK || json.Unmarshal(raw, &out) != nil {
			t.Fatalf("minted key on the running server: got %d %s, want 200 (an admin key)", code, raw)
		}
		srv.stop()
		stopped := mintedKey(t, dsn) // stopped
		srv2 := startServer(t, dsn, nil)
		for _, k := range []string{key, stopped} {
			if code, raw := srv2.doRaw("POST", "/v1/api-keys", map[string]any{"name": "x"}, withKey(k)); code != http.StatusCreated {
				t.Errorf("minted key after restart: got %d %s", code, raw)
			}
		}
	})
	t.Run("no database", func(t *testing.T) {
		t.Parallel()
		_, errs, code := hookdCLI(t, "admin", "create-key", "--db", "sqlite:"+filepath.Join(t.TempDir(), "missing.db"))
		if code != 1 || !strings.Contains(errs, "no database") {
			t.Errorf("create-key on a missing file: exit %d, %q; want 1 and no database", code, errs)
		}
	})
}

// TestAPIKeyCommands drives api-key create|list|revoke and portal-link.
func TestAPIKeyCommands(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "sqlite:"+filepath.Join(t.TempDir(), "hookd.db"), nil)
	srv.createEndpoint(map[string]any{"url": "http://127.0.0.1:1/h", "tenant_id": "acme"})
	cli := func(args ...string) string {
		t.Helper()
		out, errs, code := hookdCLI(t, append(args, "--server", srv.URL, "--api-key", testAPIKey)...)
		if code != 0 {
			t.Fatalf("hookd %v: exit %d: %s", args, code, errs)
		}
		return out
	}
	var k struct {
		ID, Key  string
		TenantID string `json:"tenant_id"`
	}
	if err := json.Unmarshal([]byte(cli("api-key", "create", "--name", "acme", "--tenant", "acme", "--rate-limit", "5", "-o", "json")), &k); err != nil {
		t.Fatal(err)
	}
	if k.TenantID != "acme" || !strings.HasPrefix(k.Key, "hk_") {
		t.Fatalf("api-key create printed %+v", k)
	}
	if list := cli("api-key", "list", "--tenant", "acme"); !tableRow(list, k.ID, "key", "acme", "5") || strings.Contains(list, k.Key) {
		t.Errorf("api-key list (table): got %s, want the key's row and not the key", list)
	}
	if list := cli("api-key", "list", "--tenant", "acme", "-o", "json"); !strings.Contains(list, `"id": "`+k.ID+`"`) || strings.Contains(list, k.Key) {
		t.Errorf("api-key list -o json: got %s, want the key's id and not the key", list)
	}
	var link struct{ URL string }
	if err := json.Unmarshal([]byte(cli("portal-link", "--tenant", "acme", "--expires-in", "10m", "-o", "json")), &link); err != nil || !strings.Contains(link.URL, "/ui/portal?token=hkp_") {
		t.Errorf("portal-link printed %+v, %v", link, err)
	}
	if out := cli("portal-link", "--tenant", "acme"); !strings.Contains(out, "url:") || !strings.Contains(out, "/ui/portal?token=hkp_") {
		t.Errorf("portal-link (table) printed %q", out)
	}
	if out := cli("api-key", "revoke", k.ID); !tableRow(out, "id:", k.ID) || !tableRow(out, "revoked:", "true") {
		t.Errorf("api-key revoke printed %q", out)
	}
	if code, _ := srv.doRaw("GET", "/v1/endpoints", nil, withKey(k.Key)); code != http.StatusUnauthorized {
		t.Errorf("revoked key: got %d, want 401", code)
	}
	_, errs, code := hookdCLI(t, "api-key", "list", "--server", srv.URL, "--api-key", k.Key)
	if code != 1 || !strings.Contains(errs, "401") {
		t.Errorf("api-key list with the revoked key: exit %d, %q", code, errs)
	}
}

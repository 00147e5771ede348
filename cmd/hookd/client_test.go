package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestClientCommands drives the client subcommands against a real server:
// create an endpoint, send an event, see it delivered, inspect and replay.
func TestClientCommands(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "sqlite:"+filepath.Join(t.TempDir(), "hookd.db"), nil)
	rc := newReceiver(t, nil)
	hookd := func(args ...string) (string, string, int) {
		t.Helper()
		var out, errb bytes.Buffer
		args = append(args, "--server", srv.URL, "--api-key", testAPIKey)
		code := run(context.Background(), args, &out, &errb)
		return out.String(), errb.String(), code
	}
	decode := func(s string, v any) {
		t.Helper()
		if err := json.Unmarshal([]byte(s), v); err != nil {
			t.Fatalf("output %q is not JSON: %v", s, err)
		}
	}

	out, errs, code := hookd("endpoint", "create", "--url", rc.URL+"/hook", "--event-type", "order.*")
	if code != 0 {
		t.Fatalf("endpoint create: exit %d: %s", code, errs)
	}
	var ep endpointJSON
	decode(out, &ep)
	if ep.ID == "" || !strings.HasPrefix(ep.Secret, "whsec_") || ep.EventTypes[0] != "order.*" {
		t.Fatalf("endpoint create printed %s", out)
	}

	out, errs, code = hookd("event", "send", "--type", "order.created", "--payload", `{"id": 7}`, "--idempotency-key", "k7")
	if code != 0 {
		t.Fatalf("event send: exit %d: %s", code, errs)
	}
	var ev eventJSON
	decode(out, &ev)
	var compact bytes.Buffer
	json.Compact(&compact, ev.Payload)
	if string(ev.Deliveries) != "1" || compact.String() != `{"id":7}` {
		t.Fatalf("event send printed %s", out)
	}
	waitFor(t, 5*time.Second, "delivery", func() bool { return rc.count() == 1 })

	var list struct{ Data []deliveryJSON }
	waitFor(t, 5*time.Second, "succeeded delivery", func() bool {
		out, _, code = hookd("delivery", "list", "--event", ev.ID, "--status", "succeeded")
		decode(out, &list)
		return code == 0 && len(list.Data) == 1
	})
	out, _, code = hookd("delivery", "attempts", list.Data[0].ID)
	if code != 0 || !strings.Contains(out, `"status_code": 200`) {
		t.Errorf("delivery attempts: exit %d: %s", code, out)
	}
	if out, _, code = hookd("event", "get", ev.ID); code != 0 || !strings.Contains(out, list.Data[0].ID) {
		t.Errorf("event get: exit %d: %s", code, out)
	}
	if out, _, code = hookd("replay", "--endpoint", ep.ID); code != 0 || !strings.Contains(out, `"replayed": 0`) {
		t.Errorf("replay: exit %d: %s", code, out)
	}
	if out, _, code = hookd("endpoint", "list", "--tenant", ""); code != 0 || !strings.Contains(out, ep.ID) {
		t.Errorf("endpoint list: exit %d: %s", code, out)
	}

	// Errors are one line with the server's message, exit 1.
	_, errs, code = hookd("endpoint", "create", "--url", "ftp://example.com/x")
	if code != 1 || !strings.Contains(errs, "url:") || strings.Count(strings.TrimSpace(errs), "\n") != 0 {
		t.Errorf("bad url: exit %d, stderr %q; want 1 and one line naming url", code, errs)
	}
	if _, errs, code = hookd("event", "send", "--type", "a", "--payload", "{not json"); code != 1 || !strings.Contains(errs, "--payload") {
		t.Errorf("bad payload: exit %d, stderr %q", code, errs)
	}
	if _, errs, code = hookd("endpoint", "get", "ep_missing"); code != 1 || !strings.Contains(errs, "404") {
		t.Errorf("missing endpoint: exit %d, stderr %q", code, errs)
	}
	if out, _, code = hookd("endpoint", "delete", ep.ID); code != 0 || !strings.Contains(out, "deleted "+ep.ID) {
		t.Errorf("endpoint delete: exit %d: %s", code, out)
	}
}

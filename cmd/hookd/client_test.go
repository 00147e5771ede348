package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// cliRunner runs hookd client subcommands in-process against srv.
type cliRunner struct {
	t     *testing.T
	url   string
	key   string
	stdin string // what the next command reads on stdin
}

func newCLI(t *testing.T, srv *testServer) *cliRunner {
	return &cliRunner{t: t, url: srv.URL, key: testAPIKey}
}

// run returns stdout, stderr and the exit code of `hookd args…`.
func (c *cliRunner) run(args ...string) (string, string, int) {
	c.t.Helper()
	var out, errb bytes.Buffer
	args = append(args, "--server", c.url, "--api-key", c.key)
	code := runIO(context.Background(), args, strings.NewReader(c.stdin), &out, &errb)
	c.stdin = ""
	return out.String(), errb.String(), code
}

// ok runs the command and fails the test unless it exits 0.
func (c *cliRunner) ok(args ...string) string {
	c.t.Helper()
	out, errs, code := c.run(args...)
	if code != 0 {
		c.t.Fatalf("hookd %s: exit %d, stderr %q", strings.Join(args, " "), code, errs)
	}
	return out
}

// json runs the command with -o json and decodes its output into v.
func (c *cliRunner) json(v any, args ...string) {
	c.t.Helper()
	out := c.ok(append(args, "-o", "json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		c.t.Fatalf("hookd %s -o json: output %q is not JSON: %v", strings.Join(args, " "), out, err)
	}
}

// fails runs the command and checks its exit code and one-line stderr.
func (c *cliRunner) fails(code int, want string, args ...string) {
	c.t.Helper()
	_, errs, got := c.run(args...)
	msg := strings.TrimSpace(errs)
	if got != code || !strings.Contains(msg, want) || strings.Contains(msg, "\n") {
		c.t.Errorf("hookd %s: exit %d, stderr %q; want exit %d and one line containing %q",
			strings.Join(args, " "), got, errs, code, want)
	}
}

// tableRow reports whether a table output has a row with every cell.
func tableRow(out string, cells ...string) bool {
	for _, line := range strings.Split(out, "\n") {
		fields := regexp.MustCompile(`\s{2,}`).Split(strings.TrimSpace(line), -1)
		all := true
		for _, c := range cells {
			found := false
			for _, f := range fields {
				if f == c {
					found = true
				}
			}
			all = all && found
		}
		if all {
			return true
		}
	}
	return false
}

// TestClientEndpointCommands drives every endpoint subcommand, in table
// and JSON output, against a real server on both stores.
func TestClientEndpointCommands(t *testing.T) {
	backends(t, func(t *testing.T, db func(t *testing.T) string) {
		srv := startServer(t, db(t), nil)
		rc := newReceiver(t, nil)
		cli := newCLI(t, srv)

		// create: the table shows the secret (the moment to copy it).
		out := cli.ok("endpoint", "create", "--url", rc.URL+"/hook", "--event-type", "order.*", "--description", "shop")
		secretRE := regexp.MustCompile(`secret:\s+(whsec_\S+)`)
		m := secretRE.FindStringSubmatch(out)
		if m == nil || !strings.Contains(out, "url:") {
			t.Fatalf("endpoint create table: %q lacks url and secret", out)
		}
		var ep endpointJSON
		cli.json(&ep, "endpoint", "create", "--url", rc.URL+"/other", "--max-in-flight", "3", "--header", "X-Team: billing")
		if ep.ID == "" || !strings.HasPrefix(ep.Secret, "whsec_") || ep.MaxInFlight != 3 || ep.Headers["X-Team"] != "billing" {
			t.Fatalf("endpoint create -o json: %+v", ep)
		}
		if id := strings.TrimSpace(cli.ok("endpoint", "create", "--url", rc.URL+"/third", "-o", "id")); !strings.HasPrefix(id, "ep_") {
			t.Errorf("endpoint create -o id printed %q", id)
		}

		// list: never a secret, in any format.
		out = cli.ok("endpoint", "list")
		if !tableRow(out, ep.ID, rc.URL+"/other") || strings.Contains(out, "whsec_") || !strings.HasPrefix(out, "ID ") {
			t.Errorf("endpoint list table: %q", out)
		}
		raw := cli.ok("endpoint", "list", "-o", "json")
		if strings.Contains(raw, "whsec_") || strings.Contains(raw, `"secret"`) || !strings.Contains(raw, ep.ID) {
			t.Errorf("endpoint list -o json shows secrets or misses %s: %s", ep.ID, raw)
		}
		if ids := strings.Fields(cli.ok("endpoint", "list", "-o", "id")); len(ids) != 3 {
			t.Errorf("endpoint list -o id: %v, want 3 ids", ids)
		}

		// get: secret only with --show-secret.
		if out = cli.ok("endpoint", "get", ep.ID); strings.Contains(out, "whsec_") || !strings.Contains(out, ep.ID) {
			t.Errorf("endpoint get: %q", out)
		}
		var got endpointJSON
		cli.json(&got, "endpoint", "get", ep.ID, "--show-secret")
		if got.Secret != ep.Secret {
			t.Errorf("endpoint get --show-secret: secret %q, want %q", got.Secret, ep.Secret)
		}

		// update any field; only the given ones change.
		got = endpointJSON{}
		cli.json(&got, "endpoint", "update", ep.ID, "--description", "renamed", "--max-attempts", "5", "--rate-limit", "2.5", "--event-type", "a.b")
		if got.Description != "renamed" || got.MaxAttempts != 5 || got.RateLimitPerSecond != 2.5 || got.EventTypes[0] != "a.b" || got.MaxInFlight != 3 || got.Secret != "" {
			t.Errorf("endpoint update: %+v", got)
		}
		got = endpointJSON{}
		cli.json(&got, "endpoint", "update", ep.ID, "--all-event-types", "--no-headers", "--url", rc.URL+"/moved")
		if len(got.EventTypes) != 0 || len(got.Headers) != 0 || got.URL != rc.URL+"/moved" || got.Description != "renamed" {
			t.Errorf("endpoint update --all-event-types --no-headers --url: %+v", got)
		}
		cli.fails(exitUsage, "nothing to update", "endpoint", "update", ep.ID)

		// disable / enable.
		if out = cli.ok("endpoint", "disable", ep.ID); !regexp.MustCompile(`disabled:\s+true`).MatchString(out) {
			t.Errorf("endpoint disable: %q", out)
		}
		cli.fails(exitError, "disabled", "endpoint", "test", ep.ID)
		got = endpointJSON{}
		cli.json(&got, "endpoint", "enable", ep.ID)
		if got.Disabled || got.DisabledReason != "" {
			t.Errorf("endpoint enable: %+v", got)
		}

		// rotate-secret prints the new secret.
		got = endpointJSON{}
		cli.json(&got, "endpoint", "rotate-secret", ep.ID)
		if got.Secret == "" || got.Secret == ep.Secret {
			t.Errorf("rotate-secret: secret %q (old %q)", got.Secret, ep.Secret)
		}

		// test waits for the attempt and prints how it went.
		if out = cli.ok("endpoint", "test", ep.ID); !strings.HasPrefix(out, "ok: attempt 1 answered 200") {
			t.Errorf("endpoint test: %q", out)
		}
		var outcome struct {
			OK      bool `json:"ok"`
			Attempt struct {
				StatusCode int `json:"status_code"`
			} `json:"attempt"`
		}
		cli.json(&outcome, "endpoint", "test", ep.ID)
		if !outcome.OK || outcome.Attempt.StatusCode != 200 {
			t.Errorf("endpoint test -o json: %+v", outcome)
		}
		failing := newReceiver(t, func(received, int) (int, http.Header, string) { return 500, nil, "boom" })
		var bad endpointJSON
		cli.json(&bad, "endpoint", "create", "--url", failing.URL)
		out, _, code := cli.run("endpoint", "test", bad.ID)
		if code != exitError || !strings.HasPrefix(out, "FAILED: attempt 1 answered 500") {
			t.Errorf("endpoint test of a failing endpoint: exit %d, %q", code, out)
		}

		// delete.
		if out = cli.ok("endpoint", "delete", ep.ID); !tableRow(out, "id:", ep.ID) && !strings.Contains(out, ep.ID) {
			t.Errorf("endpoint delete: %q", out)
		}
		cli.fails(exitError, "404", "endpoint", "get", ep.ID)
	})
}

// TestClientEventCommands drives the event, delivery and replay
// subcommands: send (inline, @file, stdin, --wait), send-batch (file and
// stdin), list, get, deliveries, attempts, retry and replay.
func TestClientEventCommands(t *testing.T) {
	backends(t, func(t *testing.T, db func(t *testing.T) string) {
		srv := startServer(t, db(t), nil)
		rc := newReceiver(t, nil)
		cli := newCLI(t, srv)
		var ep endpointJSON
		cli.json(&ep, "endpoint", "create", "--url", rc.URL, "--event-type", "order.*")

		out := cli.ok("event", "send", "--type", "order.created", "--payload", `{"id": 7}`, "--idempotency-key", "k7")
		if !regexp.MustCompile(`type:\s+order.created`).MatchString(out) || !regexp.MustCompile(`deliveries:\s+1`).MatchString(out) {
			t.Errorf("event send table: %q", out)
		}
		var ev eventJSON
		cli.json(&ev, "event", "send", "--type", "order.created", "--payload", `{"id": 7}`, "--idempotency-key", "k7")
		if compactJSON(ev.Payload) != `{"id":7}` {
			t.Errorf("event send -o json: payload %s", ev.Payload)
		}
		cli.fails(exitError, "409", "event", "send", "--type", "order.created", "--payload", `{"id": 8}`, "--idempotency-key", "k7")

		file := filepath.Join(t.TempDir(), "payload.json")
		os.WriteFile(file, []byte(`{"from":"file"}`+"\n"), 0o600)
		var fromFile eventJSON
		cli.json(&fromFile, "event", "send", "--type", "order.paid", "--payload", "@"+file)
		if compactJSON(fromFile.Payload) != `{"from":"file"}` {
			t.Errorf("--payload @file: %s", fromFile.Payload)
		}
		cli.stdin = `{"from":"stdin"}`
		var fromStdin eventJSON
		cli.json(&fromStdin, "event", "send", "--type", "order.paid", "--payload", "-")
		if compactJSON(fromStdin.Payload) != `{"from":"stdin"}` {
			t.Errorf("--payload -: %s", fromStdin.Payload)
		}
		cli.fails(exitUsage, "--payload", "event", "send", "--type", "a", "--payload", "{not json")
		cli.fails(exitUsage, "no such file", "event", "send", "--type", "a", "--payload", "@/nonexistent/x.json")

		// --wait shows the deliveries once they are final.
		if out = cli.ok("event", "send", "--type", "order.shipped", "--payload", `{}`, "--wait", "10s"); !tableRow(out, ep.ID, "succeeded") {
			t.Errorf("event send --wait: %q", out)
		}

		// send-batch from a file and from stdin.
		batch := filepath.Join(t.TempDir(), "events.ndjson")
		os.WriteFile(batch, []byte(`{"type":"order.created","payload":{"n":1}}`+"\n\n"+`{"type":"order.created","payload":{"n":2},"idempotency_key":"b2"}`+"\n"), 0o600)
		var res struct{ Data []eventJSON }
		cli.json(&res, "event", "send-batch", batch)
		if len(res.Data) != 2 || compactJSON(res.Data[1].Payload) != `{"n":2}` || res.Data[1].IdempotencyKey != "b2" {
			t.Errorf("send-batch file: %+v", res.Data)
		}
		cli.stdin = `{"type":"order.created","payload":{"n":3}}`
		out = cli.ok("event", "send-batch", "-")
		if !strings.HasPrefix(out, "ID ") || !tableRow(out, "order.created", "1") {
			t.Errorf("send-batch stdin table: %q", out)
		}
		os.WriteFile(batch, []byte(`{"type":"a","payload":{}}`+"\n"+`nope`+"\n"), 0o600)
		cli.fails(exitUsage, "line 2", "event", "send-batch", batch)

		// list and get.
		out = cli.ok("event", "list", "--type", "order.paid")
		if !tableRow(out, fromFile.ID, "order.paid") || !tableRow(out, fromStdin.ID, "order.paid") || strings.Contains(out, ev.ID) {
			t.Errorf("event list --type: %q", out)
		}
		var page struct {
			Data       []eventJSON
			NextCursor string `json:"next_cursor"`
		}
		cli.json(&page, "event", "list", "--limit", "2")
		if len(page.Data) != 2 || page.NextCursor == "" {
			t.Fatalf("event list --limit 2: %+v", page)
		}
		if out = cli.ok("event", "list", "--limit", "2"); !strings.Contains(out, "--cursor "+page.NextCursor) {
			t.Errorf("event list table does not show the next cursor: %q", out)
		}
		waitFor(t, 10*time.Second, "deliveries", func() bool {
			return len(srv.deliveries("status=succeeded&event_id="+ev.ID)) == 1
		})
		out = cli.ok("event", "get", ev.ID)
		if !strings.Contains(out, "deliveries:") || !tableRow(out, ep.ID, "succeeded") {
			t.Errorf("event get: %q", out)
		}

		// deliveries: list, get, attempts, retry.
		var dl struct{ Data []deliveryJSON }
		cli.json(&dl, "delivery", "list", "--event", ev.ID, "--status", "succeeded")
		if len(dl.Data) != 1 {
			t.Fatalf("delivery list: %+v", dl)
		}
		d := dl.Data[0]
		if out = cli.ok("delivery", "list", "--endpoint", ep.ID); !tableRow(out, d.ID, "succeeded") {
			t.Errorf("delivery list table: %q", out)
		}
		cli.fails(exitUsage, "--status", "delivery", "list", "--status", "done")
		if out = cli.ok("delivery", "get", d.ID); !regexp.MustCompile(`status:\s+succeeded`).MatchString(out) {
			t.Errorf("delivery get: %q", out)
		}
		if out = cli.ok("delivery", "attempts", d.ID); !strings.HasPrefix(out, "# ") || !tableRow(out, "1", "200") {
			t.Errorf("delivery attempts table: %q", out)
		}
		var att struct{ Data []attemptJSON }
		cli.json(&att, "delivery", "attempts", d.ID)
		if len(att.Data) != 1 || att.Data[0].StatusCode != 200 {
			t.Errorf("delivery attempts -o json: %+v", att)
		}
		var retried deliveryJSON
		cli.json(&retried, "delivery", "retry", d.ID)
		if retried.Status != "pending" {
			t.Errorf("delivery retry: %+v", retried)
		}

		// replay.
		if out = cli.ok("replay", "--endpoint", ep.ID); !regexp.MustCompile(`replayed:\s+0`).MatchString(out) {
			t.Errorf("replay: %q", out)
		}
		var rep struct{ Replayed *int }
		cli.json(&rep, "replay")
		if rep.Replayed == nil {
			t.Errorf("replay -o json: no replayed count")
		}
		cli.fails(exitError, "404", "replay", "--endpoint", "ep_doesnotexist")
	})
}

// TestClientErrors: one line on stderr with the API's code and message,
// and a hint where the fix is obvious; exit 1 for errors, 2 for usage.
func TestClientErrors(t *testing.T) {
	srv := startServer(t, "sqlite:"+filepath.Join(t.TempDir(), "hookd.db"), func(c *config) { c.AllowPrivateDestinations = false })
	cli := newCLI(t, srv)
	cli.fails(exitError, "private destinations; start it with --allow-private-destinations (or --dev", "endpoint", "create", "--url", "http://127.0.0.1:9/hook")
	cli.fails(exitError, "(422 invalid)", "endpoint", "create", "--url", "ftp://example.com/x")
	cli.fails(exitError, "(404 not_found)", "endpoint", "get", "ep_missing")

	wrongKey := &cliRunner{t: t, url: srv.URL, key: "not-the-key-0123456789"}
	wrongKey.fails(exitError, "(401 unauthorized); hint: set HOOKD_API_KEY", "endpoint", "list")

	down := &cliRunner{t: t, url: "http://127.0.0.1:1", key: testAPIKey}
	down.fails(exitError, "connection refused; hint: is `hookd serve` running there?", "endpoint", "list")
	bad := &cliRunner{t: t, url: "localhost:8080", key: testAPIKey}
	bad.fails(exitUsage, "--server must be an http or https URL", "endpoint", "list")

	var out, errb bytes.Buffer
	t.Setenv("HOOKD_API_KEY", "")
	if code := run(context.Background(), []string{"endpoint", "list", "--server", srv.URL}, &out, &errb); code != exitUsage || !strings.Contains(errb.String(), "HOOKD_API_KEY") {
		t.Errorf("no key: exit %d, stderr %q", code, errb.String())
	}
	errb.Reset()
	if code := run(context.Background(), []string{"endpoint", "frobnicate"}, &out, &errb); code != exitUsage {
		t.Errorf("unknown subcommand: exit %d, want %d", code, exitUsage)
	}
}

// TestClientReadsOnlyItsEnvironment: HOOKD_SERVER and HOOKD_API_KEY reach
// a client command; a server variable (HOOKD_MAX_IN_FLIGHT) does not.
func TestClientReadsOnlyItsEnvironment(t *testing.T) {
	srv := startServer(t, "sqlite:"+filepath.Join(t.TempDir(), "hookd.db"), nil)
	t.Setenv("HOOKD_SERVER", srv.URL)
	t.Setenv("HOOKD_API_KEY", testAPIKey)
	t.Setenv("HOOKD_MAX_IN_FLIGHT", "32")
	t.Setenv("HOOKD_STATUS", "dead")
	t.Setenv("HOOKD_DESCRIPTION", "from the environment")
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"endpoint", "create", "--url", "http://127.0.0.1:9/x", "-o", "json"}, &out, &errb); code != 0 {
		t.Fatalf("endpoint create: exit %d: %s", code, errb.String())
	}
	var ep endpointJSON
	json.Unmarshal(out.Bytes(), &ep)
	if ep.MaxInFlight != 0 || ep.Description != "" {
		t.Errorf("endpoint create read server variables: max_in_flight %d, description %q", ep.MaxInFlight, ep.Description)
	}
}

func compactJSON(b []byte) string {
	var buf bytes.Buffer
	json.Compact(&buf, b)
	return buf.String()
}

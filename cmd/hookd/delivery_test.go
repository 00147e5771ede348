package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// verifyStandard recomputes the Standard Webhooks v1 signature from the
// spec, independently of package webhook, and reports whether any of the
// space-separated signatures in the header matches secret.
func verifyStandard(secret string, h http.Header, body []byte) bool {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(h.Get("webhook-id") + "." + h.Get("webhook-timestamp") + "."))
	mac.Write(body)
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	for _, sig := range strings.Fields(h.Get("webhook-signature")) {
		if hmac.Equal([]byte(sig), []byte(want)) {
			return true
		}
	}
	return false
}

// plainHMAC is the X-Signature a receiver computes with
// createHmac('sha256', secret).update(body).digest('hex').
func plainHMAC(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

func TestDeliverySignedRequest(t *testing.T) {
	backends(t, func(t *testing.T, db func(*testing.T) string) {
		srv := startServer(t, db(t), nil)
		rc := newReceiver(t, nil)
		ep := srv.createEndpoint(map[string]any{"url": rc.URL + "/hook", "headers": map[string]string{"X-Team": "payments"}})
		if !strings.HasPrefix(ep.Secret, "whsec_") {
			t.Fatalf("secret %q: want whsec_ prefix", ep.Secret)
		}
		payload := `{"order":  42, "items":[1,2,3],"note":"ünïcode"}`
		var ev eventJSON
		// Sent as raw text: the payload's spacing must survive byte for byte.
		code, raw := srv.doRaw("POST", "/v1/events", `{"type":"order.created","payload":`+payload+`}`, nil)
		if code != http.StatusAccepted || json.Unmarshal(raw, &ev) != nil {
			t.Fatalf("send event: got %d %s", code, raw)
		}
		if string(ev.Payload) != payload {
			t.Errorf("stored payload: got %s, want %s", ev.Payload, payload)
		}
		waitFor(t, 5*time.Second, "delivery", func() bool { return rc.count() >= 1 })

		r := rc.got()[0]
		if got := r.Header.Get("webhook-id"); got != ev.ID {
			t.Errorf("webhook-id: got %q, want %q", got, ev.ID)
		}
		if got := r.Header.Get("X-Idempotency-Key"); got != ev.ID {
			t.Errorf("X-Idempotency-Key: got %q, want %q", got, ev.ID)
		}
		if got := r.Header.Get("Content-Type"); got != "application/json" {
			t.Errorf("Content-Type: got %q", got)
		}
		if got := r.Header.Get("User-Agent"); !strings.HasPrefix(got, "hookd/") {
			t.Errorf("User-Agent: got %q, want hookd/…", got)
		}
		if got := r.Header.Get("X-Team"); got != "payments" {
			t.Errorf("custom header: got %q", got)
		}
		ts, err := strconv.ParseInt(r.Header.Get("webhook-timestamp"), 10, 64)
		if err != nil || time.Since(time.Unix(ts, 0)).Abs() > time.Minute {
			t.Errorf("webhook-timestamp %q is not a current unix time", r.Header.Get("webhook-timestamp"))
		}
		if !verifyStandard(ep.Secret, r.Header, r.Body) {
			t.Errorf("webhook-signature %q does not verify", r.Header.Get("webhook-signature"))
		}
		if got, want := r.Header.Get("X-Signature"), plainHMAC(ep.Secret, r.Body); got != want {
			t.Errorf("X-Signature: got %q, want %q", got, want)
		}
		// The envelope carries the payload byte for byte.
		wantPrefix := `{"id":"` + ev.ID + `","type":"order.created","timestamp":"`
		if !strings.HasPrefix(string(r.Body), wantPrefix) || !strings.HasSuffix(string(r.Body), `,"data":`+payload+`}`) {
			t.Errorf("body: got %s", r.Body)
		}
		var env struct {
			Timestamp time.Time `json:"timestamp"`
		}
		if err := json.Unmarshal(r.Body, &env); err != nil || !env.Timestamp.Equal(ev.CreatedAt.Truncate(time.Millisecond)) {
			t.Errorf("envelope timestamp %v, event created_at %v (err %v)", env.Timestamp, ev.CreatedAt, err)
		}

		// The delivery and its attempt are recorded.
		var ds []deliveryJSON
		waitFor(t, 5*time.Second, "succeeded delivery", func() bool {
			ds = srv.deliveries("event_id=" + ev.ID)
			return len(ds) == 1 && ds[0].Status == "succeeded"
		})
		at := srv.attempts(ds[0].ID)
		if len(at) != 1 || at[0].Number != 1 || at[0].StatusCode != 200 || at[0].ResponseBody != "ok" {
			t.Errorf("attempts: got %+v", at)
		}
	})
}

func TestFanOutFiltersAndTenants(t *testing.T) {
	backends(t, func(t *testing.T, db func(*testing.T) string) {
		srv := startServer(t, db(t), nil)
		rc := newReceiver(t, nil)
		all := srv.createEndpoint(map[string]any{"url": rc.URL + "/all"})
		exact := srv.createEndpoint(map[string]any{"url": rc.URL + "/exact", "event_types": []string{"order.created"}})
		prefix := srv.createEndpoint(map[string]any{"url": rc.URL + "/prefix", "event_types": []string{"invoice.*"}})
		tenantA := srv.createEndpoint(map[string]any{"url": rc.URL + "/a", "tenant_id": "acme"})
		disabled := srv.createEndpoint(map[string]any{"url": rc.URL + "/off", "disabled": true})

		cases := []struct {
			body map[string]any
			want []string
		}{
			{map[string]any{"type": "order.created", "payload": map[string]any{}}, []string{all.ID, exact.ID}},
			{map[string]any{"type": "invoice.paid", "payload": map[string]any{}}, []string{all.ID, prefix.ID}},
			{map[string]any{"type": "invoice", "payload": map[string]any{}}, []string{all.ID}},
			{map[string]any{"type": "order.created", "payload": map[string]any{}, "tenant_id": "acme"}, []string{tenantA.ID}},
			{map[string]any{"type": "order.created", "payload": map[string]any{}, "tenant_id": "other"}, nil},
		}
		for _, c := range cases {
			ev := srv.sendEvent(c.body)
			if string(ev.Deliveries) != strconv.Itoa(len(c.want)) {
				t.Errorf("%v: deliveries %s, want %d", c.body, ev.Deliveries, len(c.want))
			}
			got := map[string]bool{}
			for _, d := range srv.deliveries("event_id=" + ev.ID) {
				got[d.EndpointID] = true
			}
			if len(got) != len(c.want) {
				t.Errorf("%v: delivered to %v, want %v", c.body, got, c.want)
			}
			for _, id := range c.want {
				if !got[id] {
					t.Errorf("%v: no delivery to %s", c.body, id)
				}
			}
			if got[disabled.ID] {
				t.Errorf("%v: disabled endpoint got a delivery", c.body)
			}
		}
	})
}

func TestRetriesThenSuccess(t *testing.T) {
	backends(t, func(t *testing.T, db func(*testing.T) string) {
		srv := startServer(t, db(t), nil)
		rc := newReceiver(t, func(_ received, n int) (int, http.Header, string) {
			if n < 3 {
				return http.StatusInternalServerError, nil, "boom"
			}
			return http.StatusOK, nil, "fine"
		})
		srv.createEndpoint(map[string]any{"url": rc.URL})
		ev := srv.sendEvent(map[string]any{"type": "a.b", "payload": map[string]any{"x": 1}})
		var d deliveryJSON
		waitFor(t, 10*time.Second, "success after retries", func() bool {
			ds := srv.deliveries("event_id=" + ev.ID)
			d = ds[0]
			return d.Status == "succeeded"
		})
		at := srv.attempts(d.ID)
		if len(at) != 3 {
			t.Fatalf("attempts: got %d, want 3: %+v", len(at), at)
		}
		for i, a := range at {
			want := 500
			if i == 2 {
				want = 200
			}
			if a.Number != i+1 || a.StatusCode != want {
				t.Errorf("attempt %d: got number %d status %d, want %d", i, a.Number, a.StatusCode, want)
			}
		}
		if at[0].ResponseBody != "boom" {
			t.Errorf("response body: got %q, want boom", at[0].ResponseBody)
		}
		if d.Attempts != 3 {
			t.Errorf("delivery attempts: got %d, want 3", d.Attempts)
		}
		// Every attempt carries the same webhook-id.
		for _, r := range rc.got() {
			if r.Header.Get("webhook-id") != ev.ID {
				t.Errorf("retry webhook-id: got %q, want %q", r.Header.Get("webhook-id"), ev.ID)
			}
		}
	})
}

func TestDeadLetterThenReplay(t *testing.T) {
	backends(t, func(t *testing.T, db func(*testing.T) string) {
		srv := startServer(t, db(t), nil)
		var healthy bool
		rc := newReceiver(t, func(received, int) (int, http.Header, string) {
			if healthy {
				return http.StatusNoContent, nil, ""
			}
			return http.StatusBadGateway, nil, "down"
		})
		ep := srv.createEndpoint(map[string]any{"url": rc.URL, "max_attempts": 3})
		ev := srv.sendEvent(map[string]any{"type": "a.b", "payload": map[string]any{}})
		var d deliveryJSON
		waitFor(t, 10*time.Second, "dead delivery", func() bool {
			d = srv.deliveries("event_id=" + ev.ID)[0]
			return d.Status == "dead"
		})
		if d.Attempts != 3 || d.LastStatusCode != 502 {
			t.Errorf("dead delivery: got attempts %d last status %d, want 3 and 502", d.Attempts, d.LastStatusCode)
		}
		if dead := srv.deliveries("status=dead&endpoint_id=" + ep.ID); len(dead) != 1 {
			t.Errorf("dead letters: got %d, want 1", len(dead))
		}
		rc.mu.Lock()
		healthy = true
		rc.mu.Unlock()
		var replay struct {
			Replayed int `json:"replayed"`
		}
		srv.must(http.StatusAccepted, "POST", "/v1/dead-letters/replay", map[string]any{"endpoint_id": ep.ID}, &replay)
		if replay.Replayed != 1 {
			t.Errorf("replayed: got %d, want 1", replay.Replayed)
		}
		waitFor(t, 5*time.Second, "replayed delivery succeeded", func() bool {
			return srv.deliveries("event_id=" + ev.ID)[0].Status == "succeeded"
		})
		if at := srv.attempts(d.ID); len(at) != 4 || at[3].StatusCode != 204 {
			t.Errorf("attempts after replay: got %+v", at)
		}
		// Manual retry of a succeeded delivery sends it once more.
		before := rc.count()
		srv.must(http.StatusAccepted, "POST", "/v1/deliveries/"+d.ID+"/retry", nil, nil)
		waitFor(t, 5*time.Second, "manual retry", func() bool { return rc.count() > before })
	})
}

func TestGoneDisablesEndpoint(t *testing.T) {
	backends(t, func(t *testing.T, db func(*testing.T) string) {
		srv := startServer(t, db(t), nil)
		rc := newReceiver(t, func(received, int) (int, http.Header, string) { return http.StatusGone, nil, "gone" })
		ep := srv.createEndpoint(map[string]any{"url": rc.URL})
		ev := srv.sendEvent(map[string]any{"type": "a.b", "payload": map[string]any{}})
		waitFor(t, 5*time.Second, "endpoint disabled", func() bool {
			var got endpointJSON
			srv.must(http.StatusOK, "GET", "/v1/endpoints/"+ep.ID, nil, &got)
			return got.Disabled && got.DisabledReason != ""
		})
		d := srv.deliveries("event_id=" + ev.ID)[0]
		if d.Status != "dead" || d.Attempts != 1 {
			t.Errorf("delivery after 410: got status %s attempts %d, want dead after 1", d.Status, d.Attempts)
		}
		// New events no longer fan out to it; re-enabling clears the reason.
		if ev2 := srv.sendEvent(map[string]any{"type": "a.b", "payload": map[string]any{}}); string(ev2.Deliveries) != "0" {
			t.Errorf("event after disable: deliveries %s, want 0", ev2.Deliveries)
		}
		var got endpointJSON
		srv.must(http.StatusOK, "PATCH", "/v1/endpoints/"+ep.ID, map[string]any{"disabled": false}, &got)
		if got.Disabled || got.DisabledReason != "" {
			t.Errorf("re-enabled endpoint: got disabled=%v reason=%q", got.Disabled, got.DisabledReason)
		}
		if n := rc.count(); n != 1 {
			t.Errorf("receiver got %d requests, want 1", n)
		}
	})
}

func TestRetryAfterHonoured(t *testing.T) {
	backends(t, func(t *testing.T, db func(*testing.T) string) {
		// Backoff would retry after ~20 ms; Retry-After: 1 holds it for a second.
		srv := startServer(t, db(t), func(c *config) { c.RetryMaxDelay = 5 * time.Second })
		rc := newReceiver(t, func(_ received, n int) (int, http.Header, string) {
			if n == 1 {
				return http.StatusTooManyRequests, http.Header{"Retry-After": {"1"}}, "slow down"
			}
			return http.StatusOK, nil, ""
		})
		srv.createEndpoint(map[string]any{"url": rc.URL})
		srv.sendEvent(map[string]any{"type": "a.b", "payload": map[string]any{}})
		waitFor(t, 10*time.Second, "second attempt", func() bool { return rc.count() >= 2 })
		got := rc.got()
		if gap := got[1].At.Sub(got[0].At); gap < 900*time.Millisecond {
			t.Errorf("second attempt %v after a 429 with Retry-After: 1, want >= 1s", gap)
		}
	})
}

func TestSecretRotationSignsWithBoth(t *testing.T) {
	backends(t, func(t *testing.T, db func(*testing.T) string) {
		srv := startServer(t, db(t), nil)
		rc := newReceiver(t, nil)
		ep := srv.createEndpoint(map[string]any{"url": rc.URL})
		var rotated endpointJSON
		srv.must(http.StatusOK, "POST", "/v1/endpoints/"+ep.ID+"/rotate-secret", nil, &rotated)
		if rotated.Secret == ep.Secret || !strings.HasPrefix(rotated.Secret, "whsec_") {
			t.Fatalf("rotated secret %q: want a new whsec_ secret", rotated.Secret)
		}
		srv.sendEvent(map[string]any{"type": "a.b", "payload": map[string]any{}})
		waitFor(t, 5*time.Second, "delivery", func() bool { return rc.count() >= 1 })
		r := rc.got()[0]
		sigs := strings.Fields(r.Header.Get("webhook-signature"))
		if len(sigs) != 2 {
			t.Fatalf("webhook-signature: got %d signatures, want 2: %q", len(sigs), sigs)
		}
		if !verifyStandard(ep.Secret, r.Header, r.Body) || !verifyStandard(rotated.Secret, r.Header, r.Body) {
			t.Errorf("signatures do not verify with both the old and the new secret")
		}
		if got, want := r.Header.Get("X-Signature"), plainHMAC(rotated.Secret, r.Body); got != want {
			t.Errorf("X-Signature: got %q, want the new secret's %q", got, want)
		}
	})
}

func TestIngestIdempotency(t *testing.T) {
	backends(t, func(t *testing.T, db func(*testing.T) string) {
		srv := startServer(t, db(t), nil)
		rc := newReceiver(t, nil)
		srv.createEndpoint(map[string]any{"url": rc.URL})
		first := srv.sendEvent(map[string]any{"type": "a.b", "payload": map[string]any{"n": 1}, "idempotency_key": "k1"})
		var again eventJSON
		srv.must(http.StatusOK, "POST", "/v1/events", map[string]any{"type": "a.b", "payload": map[string]any{"n": 1}, "idempotency_key": "k1"}, &again)
		if again.ID != first.ID || string(again.Deliveries) != "0" {
			t.Errorf("repeat: got id %s deliveries %s, want %s and 0", again.ID, again.Deliveries, first.ID)
		}
		// The header works too, and keys are per tenant.
		code, raw := srv.doRaw("POST", "/v1/events", `{"type":"a.b","payload":{"n":1}}`, http.Header{"Idempotency-Key": {"k1"}})
		if code != http.StatusOK || !strings.Contains(string(raw), first.ID) {
			t.Errorf("Idempotency-Key header repeat: got %d %s", code, raw)
		}
		// The same key with another payload is refused, saying why.
		code, raw = srv.doRaw("POST", "/v1/events", `{"type":"a.b","payload":{"n":2}}`, http.Header{"Idempotency-Key": {"k1"}})
		if code != http.StatusConflict || !strings.Contains(string(raw), "different type or payload") {
			t.Errorf("same key, other payload: got %d %s, want 409", code, raw)
		}
		other := srv.sendEvent(map[string]any{"type": "a.b", "payload": map[string]any{}, "idempotency_key": "k1", "tenant_id": "t2"})
		if other.ID == first.ID {
			t.Errorf("same key in another tenant returned the first tenant's event")
		}
		waitFor(t, 5*time.Second, "one delivery", func() bool { return rc.count() >= 1 })
		if n := len(srv.deliveries("")); n != 1 {
			t.Errorf("deliveries: got %d, want 1", n)
		}
	})
}

func TestSSRFRefused(t *testing.T) {
	backends(t, func(t *testing.T, db func(*testing.T) string) {
		srv := startServer(t, db(t), func(c *config) { c.AllowPrivateDestinations = false })
		for _, u := range []string{"http://127.0.0.1:9/x", "http://10.1.2.3/", "http://169.254.169.254/latest/meta-data", "http://[::1]:8080/", "http://localhost/", "ftp://example.com/"} {
			var e errorJSON
			if code := srv.do("POST", "/v1/endpoints", map[string]any{"url": u}, &e); code != http.StatusUnprocessableEntity || !strings.Contains(e.Error.Message, "url") {
				t.Errorf("create %s: got %d %+v, want 422 naming url", u, code, e)
			}
		}
		// A host name that resolves to a private address passes creation but is
		// refused at connect time: the attempt records why, nothing arrives.
		host, _ := os.Hostname()
		addrs, _ := net.LookupHost(host)
		if len(addrs) == 0 || !isPrivate(addrs[0]) {
			t.Logf("host name %q does not resolve to a private address (%v); connect-time check not exercised here", host, addrs)
			return
		}
		rc := newReceiver(t, nil)
		port := rc.URL[strings.LastIndex(rc.URL, ":")+1:]
		srv.createEndpoint(map[string]any{"url": "http://" + host + ":" + port + "/", "max_attempts": 1})
		ev := srv.sendEvent(map[string]any{"type": "a.b", "payload": map[string]any{}})
		var d deliveryJSON
		waitFor(t, 5*time.Second, "dead delivery", func() bool {
			d = srv.deliveries("event_id=" + ev.ID)[0]
			return d.Status == "dead"
		})
		if !strings.Contains(d.LastError, "private") || d.LastStatusCode != 0 {
			t.Errorf("refused delivery: got status %d error %q, want 0 and a private-range error", d.LastStatusCode, d.LastError)
		}
		if n := rc.count(); n != 0 {
			t.Errorf("receiver got %d requests, want 0", n)
		}
	})
}

func isPrivate(addr string) bool {
	ip, err := netip.ParseAddr(addr)
	return err == nil && (ip.IsLoopback() || ip.IsPrivate())
}

func TestMetricsEndpoint(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "sqlite:"+t.TempDir()+"/hookd.db", nil)
	rc := newReceiver(t, func(_ received, n int) (int, http.Header, string) {
		if n == 1 {
			return http.StatusServiceUnavailable, nil, ""
		}
		return http.StatusOK, nil, ""
	})
	srv.createEndpoint(map[string]any{"url": rc.URL})
	srv.sendEvent(map[string]any{"type": "a.b", "payload": map[string]any{}})
	waitFor(t, 5*time.Second, "two attempts", func() bool { return rc.count() >= 2 })
	// /metrics needs no key.
	var body string
	waitFor(t, 5*time.Second, "attempt metrics", func() bool {
		resp, err := http.Get(srv.URL + "/metrics")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		body = string(b)
		return strings.Contains(body, `hookd_attempts_total{outcome="succeeded",status_class="2xx"} 1`)
	})
	for _, want := range []string{
		`hookd_events_ingested_total{result="accepted"} 1`,
		`hookd_attempts_total{outcome="retry",status_class="5xx"} 1`,
		`hookd_attempt_duration_seconds_count 2`,
		`hookd_delivery_latency_seconds_count 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

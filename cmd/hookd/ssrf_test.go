package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/ssrf"
)

// TestSSRFThroughTheServer, on both stores with default flags: zoned hosts
// and every odd spelling of a private literal are refused at creation and
// PATCH (422); an endpoint made while private destinations were allowed
// (localhost, with a token in its query) is refused at connect time after
// a restart without them, the receiver never sees a request, and callers
// see "resolves to a private or reserved address", never the address.
func TestSSRFThroughTheServer(t *testing.T) {
	backends(t, func(t *testing.T, db func(*testing.T) string) {
		dsn := db(t)
		rc := newReceiver(t, nil)
		port := rc.URL[strings.LastIndex(rc.URL, ":"):]
		dev := startServer(t, dsn, nil) // AllowPrivateDestinations: true
		ep := dev.createEndpoint(map[string]any{"url": "http://localhost" + port + "/hook?token=s3cr3t", "max_attempts": 1})
		dev.stop()

		srv := startServer(t, dsn, func(c *config) { c.AllowPrivateDestinations = false })
		for _, u := range []string{"http://[::1%25lo]" + port + "/", "http://[fe80::1%25eth0]/", "https://[2606:4700::1%25eth0]/",
			"http://2130706433" + port + "/", "http://0177.0.0.1/", "http://0x7f.1/", "http://127.1/", "http://127.0.0.1./",
			"http://[::ffff:127.0.0.1]/", "http://[::127.0.0.1]/", "http://[64:ff9b:1::a00:1]/", "http://[fec0::1]/", "http://169.254.43518/"} {
			code, raw := srv.doRaw("POST", "/v1/endpoints", map[string]any{"url": u}, nil)
			checkErrorAnswer(t, "create "+u, code, raw, 422, "url")
			code, raw = srv.doRaw("PATCH", "/v1/endpoints/"+ep.ID, map[string]any{"url": u}, nil)
			checkErrorAnswer(t, "patch "+u, code, raw, 422, "url")
		}
		srv.sendEvent(map[string]any{"type": "order.created", "payload": map[string]any{"n": 1}})
		var ds []deliveryJSON
		waitFor(t, 10*time.Second, "the refused delivery to die", func() bool {
			ds = srv.deliveries("endpoint_id=" + ep.ID)
			return len(ds) == 1 && ds[0].Status == "dead"
		})
		if ds[0].LastError != ssrf.PublicMessage {
			t.Errorf("last_error: got %q, want %q", ds[0].LastError, ssrf.PublicMessage)
		}
		for _, a := range srv.attempts(ds[0].ID) {
			if a.Error != ssrf.PublicMessage || strings.Contains(a.Error, "127.0.0.1") || strings.Contains(a.Error, "::1") {
				t.Errorf("attempt error %q: want %q and no address", a.Error, ssrf.PublicMessage)
			}
		}
		if n := rc.count(); n != 0 {
			t.Errorf("receiver got %d requests, want 0", n)
		}
		var got endpointJSON
		srv.must(http.StatusOK, "GET", "/v1/endpoints/"+ep.ID, nil, &got)
		if !strings.Contains(got.URL, "localhost") {
			t.Errorf("a refused PATCH changed the url to %q", got.URL)
		}
	})
}

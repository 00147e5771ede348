package main

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestEndpointChangesRaceThroughTheServer races PATCHes and secret
// rotations against the dispatcher's 410-disable of the same endpoint, on
// both stores: the disable, every rotated-out secret and the last PATCH
// all survive (before EndpointUpdate, a PATCH that read the endpoint before
// the disable wrote it back enabled).
func TestEndpointChangesRaceThroughTheServer(t *testing.T) {
	backends(t, func(t *testing.T, db func(*testing.T) string) {
		release := make(chan struct{})
		rc := newReceiver(t, func(_ received, n int) (int, http.Header, string) {
			if n > 1 {
				return http.StatusOK, nil, "ok"
			}
			<-release // answer 410 while the PATCHes and rotations run
			return http.StatusGone, nil, "gone"
		})
		srv := startServer(t, db(t), nil)
		ep := srv.createEndpoint(map[string]any{"url": rc.URL + "/hook"})
		srv.sendEvent(map[string]any{"type": "order.created", "payload": map[string]any{"n": 1}})
		waitFor(t, 10*time.Second, "the attempt to reach the receiver", func() bool { return rc.count() == 1 })

		const rotations, patches = 8, 40
		var wg sync.WaitGroup
		secrets := make(chan string, rotations)
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := range patches {
				if i == patches/4 {
					close(release)
				}
				srv.must(200, "PATCH", "/v1/endpoints/"+ep.ID, map[string]any{"description": fmt.Sprintf("patch %d", i)}, nil)
			}
		}()
		go func() {
			defer wg.Done()
			for range rotations {
				var got endpointJSON
				srv.must(200, "POST", "/v1/endpoints/"+ep.ID+"/rotate-secret", nil, &got)
				secrets <- got.Secret
			}
		}()
		wg.Wait()
		close(secrets)
		waitFor(t, 10*time.Second, "the 410 to disable the endpoint", func() bool {
			var got endpointJSON
			srv.must(200, "GET", "/v1/endpoints/"+ep.ID, nil, &got)
			return got.Disabled
		})
		// More PATCHes after the disable must not re-enable it either.
		srv.must(200, "PATCH", "/v1/endpoints/"+ep.ID, map[string]any{"description": "last"}, nil)

		var got struct {
			endpointJSON
			PreviousSecrets []struct {
				Secret string `json:"secret"`
			} `json:"previous_secrets"`
		}
		srv.must(200, "GET", "/v1/endpoints/"+ep.ID, nil, &got)
		if !got.Disabled || got.DisabledReason == "" || got.Description != "last" {
			t.Errorf("got disabled=%v reason=%q description=%q, want the 410-disable and the last PATCH", got.Disabled, got.DisabledReason, got.Description)
		}
		var last string
		for s := range secrets {
			last = s
		}
		if got.Secret != last {
			t.Errorf("secret: got %s, want the last rotation's %s", got.Secret, last)
		}
		// Every rotated-out secret still signs: re-enabled, the next
		// delivery carries the current one and all 8 previous ones.
		srv.must(200, "PATCH", "/v1/endpoints/"+ep.ID, map[string]any{"disabled": false}, nil)
		srv.sendEvent(map[string]any{"type": "order.created", "payload": map[string]any{"n": 2}})
		waitFor(t, 10*time.Second, "the delivery after re-enabling", func() bool { return rc.count() == 2 })
		sigs := strings.Fields(rc.got()[1].Header.Get("webhook-signature"))
		if len(sigs) != rotations+1 {
			t.Errorf("got %d signatures, want %d (a rotation lost a secret): %v", len(sigs), rotations+1, sigs)
		}
	})
}

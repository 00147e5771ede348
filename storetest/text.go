package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/hookd/hookd"
)

// testHostileText: every method that takes text refuses NUL (EINVALID)
// and invalid UTF-8 (EMALFORMED) naming the field, on every store alike,
// and stores nothing.
func testHostileText(t *testing.T, open Opener) {
	f := setup(t, open)
	ep := f.endpoint("t")
	for _, bad := range []struct {
		s, code string
	}{{"a\x00b", hookd.EINVALID}, {"a\xffb", hookd.EMALFORMED}} {
		s := bad.s
		ev := event("t", "order.created", t0)
		calls := []struct {
			name, field string
			call        func() error
		}{
			{"CreateEndpoint description", "description", func() error {
				e := &hookd.Endpoint{ID: hookd.NewID(hookd.PrefixEndpoint, t0), URL: "https://example.com/", Secret: hookd.NewSecret(),
					Description: s, CreatedAt: t0, UpdatedAt: t0}
				return f.s.CreateEndpoint(f.ctx, e)
			}},
			{"CreateEndpoint header", "headers", func() error {
				e := &hookd.Endpoint{ID: hookd.NewID(hookd.PrefixEndpoint, t0), URL: "https://example.com/", Secret: hookd.NewSecret(),
					Headers: map[string]string{"X-A": s}, CreatedAt: t0, UpdatedAt: t0}
				return f.s.CreateEndpoint(f.ctx, e)
			}},
			{"GetEndpoint", "id", func() error { _, err := f.s.GetEndpoint(f.ctx, "ep_"+s); return err }},
			{"ListEndpoints tenant", "tenant_id", func() error { _, _, err := f.s.ListEndpoints(f.ctx, &s, hookd.Page{}); return err }},
			{"ListEndpoints cursor", "cursor", func() error { _, _, err := f.s.ListEndpoints(f.ctx, nil, hookd.Page{Cursor: s}); return err }},
			{"CountEndpoints", "tenant_id", func() error { _, err := f.s.CountEndpoints(f.ctx, s); return err }},
			{"UpdateEndpointFields id", "id", func() error {
				_, err := f.s.UpdateEndpointFields(f.ctx, "ep_"+s, hookd.EndpointUpdate{Description: hookd.Ptr("x")})
				return err
			}},
			{"UpdateEndpointFields description", "description", func() error {
				_, err := f.s.UpdateEndpointFields(f.ctx, ep.ID, hookd.EndpointUpdate{Description: &s})
				return err
			}},
			{"UpdateEndpointFields event type", "event_types", func() error {
				_, err := f.s.UpdateEndpointFields(f.ctx, ep.ID, hookd.EndpointUpdate{EventTypes: &[]string{s}})
				return err
			}},
			{"DeleteEndpoint", "id", func() error { return f.s.DeleteEndpoint(f.ctx, "ep_"+s) }},
			{"IngestEvents type", "type", func() error {
				e := ev
				e.Type = s
				_, err := f.s.IngestEvents(f.ctx, []hookd.NewEvent{e})
				return err
			}},
			{"IngestEvents idempotency key", "idempotency_key", func() error {
				e := ev
				e.IdempotencyKey = s
				_, err := f.s.IngestEvents(f.ctx, []hookd.NewEvent{e})
				return err
			}},
			{"IngestEvents tenant", "tenant_id", func() error {
				e := ev
				e.TenantID = s
				_, err := f.s.IngestEvents(f.ctx, []hookd.NewEvent{e})
				return err
			}},
			{"GetEvent", "id", func() error { _, err := f.s.GetEvent(f.ctx, "evt_"+s); return err }},
			{"ListEvents type", "type", func() error { _, _, err := f.s.ListEvents(f.ctx, hookd.EventFilter{Type: s}); return err }},
			{"ListEvents cursor", "cursor", func() error {
				_, _, err := f.s.ListEvents(f.ctx, hookd.EventFilter{Page: hookd.Page{Cursor: s}})
				return err
			}},
			{"GetDelivery", "id", func() error { _, err := f.s.GetDelivery(f.ctx, "dlv_"+s); return err }},
			{"ListDeliveries endpoint", "endpoint_id", func() error {
				_, _, err := f.s.ListDeliveries(f.ctx, hookd.DeliveryFilter{EndpointID: s})
				return err
			}},
			{"ListDeliveries event", "event_id", func() error {
				_, _, err := f.s.ListDeliveries(f.ctx, hookd.DeliveryFilter{EventID: s})
				return err
			}},
			{"ListAttempts", "id", func() error { _, _, err := f.s.ListAttempts(f.ctx, "dlv_"+s, hookd.Page{}); return err }},
			{"RetryDelivery", "id", func() error { _, err := f.s.RetryDelivery(f.ctx, "dlv_"+s, t0); return err }},
			{"ReplayDead endpoint", "endpoint_id", func() error {
				_, err := f.s.ReplayDead(f.ctx, hookd.ReplayFilter{EndpointID: s}, t0.Add(time.Hour))
				return err
			}},
			{"ReplayDead type", "event_type", func() error {
				_, err := f.s.ReplayDead(f.ctx, hookd.ReplayFilter{EventType: s}, t0.Add(time.Hour))
				return err
			}},
		}
		for _, c := range calls {
			err := c.call()
			var he *hookd.Error
			if !errors.As(err, &he) || he.Code != bad.code || he.Field != c.field {
				t.Errorf("%s %q: got %v (%+v), want code %q naming %q", c.name, s, err, he, bad.code, c.field)
			}
		}
	}
	// Nothing was stored.
	if eps, _, err := f.s.ListEndpoints(f.ctx, nil, hookd.Page{}); err != nil || len(eps) != 1 {
		t.Errorf("endpoints after hostile text: got %d, %v; want 1", len(eps), err)
	}
	if evs, _, err := f.s.ListEvents(f.ctx, hookd.EventFilter{}); err != nil || len(evs) != 0 {
		t.Errorf("events after hostile text: got %d, %v; want 0", len(evs), err)
	}
	if got := f.getEndpoint(ep.ID); got.Description != "" || got.EventTypes != nil {
		t.Errorf("endpoint changed by hostile text: %+v", got)
	}
}

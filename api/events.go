package api

import (
	"encoding/json"
	"net/http"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/auth"
)

// maxEventDeliveries bounds the deliveries listed with one event.
const maxEventDeliveries = 10 * hookd.MaxPageLimit

// createEvent ingests one event: 202 with its deliveries count once
// committed, or 200 with the original event (deliveries 0) when its
// idempotency key (field or Idempotency-Key header) was used before in its
// tenant.
func (s *Server) createEvent(w http.ResponseWriter, r *http.Request) {
	var in eventInput
	if err := decodeBody(w, r, s.bodyLimit(), &in, false); err != nil {
		s.writeError(w, r, err)
		return
	}
	if h := r.Header.Get("Idempotency-Key"); h != "" {
		if err := hookd.CheckText("Idempotency-Key", h); err != nil {
			s.writeError(w, r, err)
			return
		}
		if in.IdempotencyKey != "" && in.IdempotencyKey != h {
			s.writeError(w, r, hookd.FieldErrorf("idempotency_key", "differs from the Idempotency-Key header"))
			return
		}
		in.IdempotencyKey = h
	}
	if err := confineEvent(r, &in, ""); err != nil {
		s.writeError(w, r, err)
		return
	}
	ev, err := s.newEvent(&in, "")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	res, err := s.cfg.Ingest.Submit(r.Context(), []hookd.NewEvent{ev})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	status := http.StatusAccepted
	if res[0].Duplicate {
		status = http.StatusOK
	}
	w.Header().Set("Location", "/v1/events/"+res[0].Event.ID)
	writeRaw(w, status, appendEvent(nil, &res[0].Event, res[0].Deliveries))
}

// batchInput is the body of POST /v1/events/batch.
type batchInput struct {
	Events []json.RawMessage `json:"events"`
}

// createEventBatch validates every event first (any bad one fails the
// whole batch, naming events[i].field, and nothing is stored), then
// ingests them all in one commit and answers 202 {"data":[…]} in order.
// Duplicates of earlier idempotency keys come back as the original event
// with deliveries 0.
func (s *Server) createEventBatch(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Idempotency-Key") != "" {
		s.writeError(w, r, hookd.FieldErrorf("Idempotency-Key", "header is not supported on a batch; set idempotency_key on each event"))
		return
	}
	var in batchInput
	if err := decodeBody(w, r, s.cfg.MaxBatchBytes, &in, false); err != nil {
		s.writeError(w, r, err)
		return
	}
	if len(in.Events) == 0 || len(in.Events) > MaxBatchEvents {
		s.writeError(w, r, hookd.FieldErrorf("events", "must hold 1 to %d events, got %d", MaxBatchEvents, len(in.Events)))
		return
	}
	events := make([]hookd.NewEvent, len(in.Events))
	for i, raw := range in.Events {
		prefix := "events[" + itoa(i) + "]."
		var item eventInput
		if err := decodeStrict(raw, &item, prefix); err != nil {
			s.writeError(w, r, err)
			return
		}
		if err := confineEvent(r, &item, prefix); err != nil {
			s.writeError(w, r, err)
			return
		}
		ev, err := s.newEvent(&item, prefix)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		events[i] = ev
	}
	// The route took one token of the key's rate limit: a batch costs one
	// per event.
	p, _ := auth.FromContext(r.Context())
	if !s.allow(w, r, p, len(events)-1) {
		return
	}
	res, err := s.cfg.Ingest.Submit(r.Context(), events)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	b := appendList(nil, len(res), "", func(b []byte, i int) []byte {
		return appendEvent(b, &res[i].Event, res[i].Deliveries)
	})
	// A batch has no next page: drop the cursor of the list shape.
	b = append(b[:len(b)-len(`,"next_cursor":""}`)], '}')
	writeRaw(w, http.StatusAccepted, b)
}

// getEvent answers the event with all its deliveries.
func (s *Server) getEvent(w http.ResponseWriter, r *http.Request) {
	ev, err := s.cfg.Store.GetEvent(r.Context(), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	deliveries := []deliveryJSON{}
	f := hookd.DeliveryFilter{EventID: ev.ID, TenantID: scope(r), Page: hookd.Page{Limit: hookd.MaxPageLimit}}
	for len(deliveries) < maxEventDeliveries {
		ds, next, err := s.cfg.Store.ListDeliveries(r.Context(), f)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		deliveries = append(deliveries, deliveriesOut(ds)...)
		if next == "" {
			break
		}
		f.Cursor = next
	}
	writeRaw(w, http.StatusOK, appendEvent(nil, ev, deliveries))
}

func (s *Server) listEvents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	page, err := parseIDPage(q, hookd.PrefixEvent)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	f := hookd.EventFilter{Type: q.Get("type"), Page: page}
	if q.Has("tenant_id") {
		t := q.Get("tenant_id")
		f.TenantID = &t
	}
	evs, next, err := s.cfg.Store.ListEvents(r.Context(), f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeRaw(w, http.StatusOK, appendList(nil, len(evs), next, func(b []byte, i int) []byte {
		return appendEvent(b, evs[i], nil)
	}))
}

// confineEvent sets the tenant of an event to ingest (bodyTenant): a tenant
// key's own, 403 when the event names another. An empty tenant_id is the
// same as none.
func confineEvent(r *http.Request, in *eventInput, prefix string) error {
	var given *string
	if in.TenantID != "" {
		given = &in.TenantID
	}
	t, err := bodyTenant(r, prefix+"tenant_id", given, "")
	if err != nil {
		return err
	}
	in.TenantID = t
	return nil
}

package api

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/auth"
)

func (s *Server) listDeliveries(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	page, err := parseIDPage(q, hookd.PrefixDelivery)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	f := hookd.DeliveryFilter{
		Status:     hookd.DeliveryStatus(q.Get("status")),
		EndpointID: q.Get("endpoint_id"),
		EventID:    q.Get("event_id"),
		Page:       page,
	}
	if q.Has("tenant_id") {
		t := q.Get("tenant_id")
		f.TenantID = &t
	}
	if f.Status != "" && !f.Status.Valid() {
		s.writeError(w, r, hookd.FieldErrorf("status", "must be pending, succeeded or dead"))
		return
	}
	if err := s.filterExists(r, f.EndpointID, f.EventID); err != nil {
		s.writeError(w, r, err)
		return
	}
	ds, next, err := s.cfg.Store.ListDeliveries(r.Context(), f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, list[deliveryJSON]{Data: deliveriesOut(ds), NextCursor: next})
}

func (s *Server) getDelivery(w http.ResponseWriter, r *http.Request) {
	d, err := s.cfg.Store.GetDelivery(r.Context(), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, deliveryOut(d))
}

// listAttempts answers a delivery's attempts, oldest first; the cursor is
// the last attempt number of the page.
func (s *Server) listAttempts(w http.ResponseWriter, r *http.Request) {
	page, err := parsePage(r.URL.Query())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if page.Cursor != "" {
		if n, err := strconv.Atoi(page.Cursor); err != nil || n < 0 {
			s.writeError(w, r, errBadCursor)
			return
		}
	}
	as, next, err := s.cfg.Store.ListAttempts(r.Context(), r.PathValue("id"), page)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := list[attemptJSON]{Data: make([]attemptJSON, len(as)), NextCursor: next}
	for i, a := range as {
		out.Data[i] = attemptOut(a)
	}
	writeJSON(w, http.StatusOK, out)
}

// retryDelivery requeues a delivery of any status now and wakes the
// dispatcher: 202 with the delivery.
func (s *Server) retryDelivery(w http.ResponseWriter, r *http.Request) {
	d, err := s.cfg.Store.RetryDelivery(r.Context(), r.PathValue("id"), s.now())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.cfg.Wake()
	writeJSON(w, http.StatusAccepted, deliveryOut(d))
}

// replayInput is the optional body of POST /v1/dead-letters/replay.
type replayInput struct {
	TenantID   *string `json:"tenant_id"`
	EndpointID string  `json:"endpoint_id"`
	EventType  string  `json:"event_type"`
	Since      string  `json:"since"`
	Until      string  `json:"until"`
}

// replayDeadLetters requeues the matching dead deliveries (all of them
// with an empty body): 202 {"replayed": N}.
func (s *Server) replayDeadLetters(w http.ResponseWriter, r *http.Request) {
	var in replayInput
	if err := decodeBody(w, r, s.bodyLimit(), &in, true); err != nil {
		s.writeError(w, r, err)
		return
	}
	f := hookd.ReplayFilter{EndpointID: in.EndpointID, EventType: in.EventType}
	if p, _ := auth.FromContext(r.Context()); in.TenantID != nil || !p.Admin {
		t, err := bodyTenant(r, "tenant_id", in.TenantID, "")
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		f.TenantID = &t
	}
	if err := s.filterExists(r, f.EndpointID, ""); err != nil {
		s.writeError(w, r, err)
		return
	}
	var err error
	if f.Since, err = parseTime("since", in.Since); err != nil {
		s.writeError(w, r, err)
		return
	}
	if f.Until, err = parseTime("until", in.Until); err != nil {
		s.writeError(w, r, err)
		return
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Since.Before(f.Until) {
		s.writeError(w, r, hookd.FieldErrorf("until", "must be after since"))
		return
	}
	n, err := s.cfg.Store.ReplayDead(r.Context(), f, s.now())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if n > 0 {
		s.cfg.Wake()
	}
	writeJSON(w, http.StatusAccepted, struct {
		Replayed int `json:"replayed"`
	}{n})
}

// parseTime parses an optional RFC 3339 time; "" is the zero time.
func parseTime(field, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, hookd.FieldErrorf(field, "must be an RFC 3339 time such as 2026-01-02T15:04:05Z")
	}
	return t.UTC(), nil
}

// filterExists returns ENOTFOUND when a filter names an endpoint or an
// event that does not exist (an empty list would hide the typo), or that
// a tenant key may not see (the same 404, as everywhere).
func (s *Server) filterExists(r *http.Request, endpointID, eventID string) error {
	check := func(what, id string, tenantOf func(*Server, context.Context, string) (string, error)) error {
		if id == "" {
			return nil
		}
		tenant, err := tenantOf(s, r.Context(), id)
		if err != nil && hookd.ErrorCode(err) != hookd.ENOTFOUND {
			return err
		}
		if sc := scope(r); err != nil || (sc != nil && tenant != *sc) {
			return hookd.Errorf(hookd.ENOTFOUND, "%s_id: %s %s does not exist", what, what, id)
		}
		return nil
	}
	if err := check("endpoint", endpointID, endpointTenant); err != nil {
		return err
	}
	return check("event", eventID, eventTenant)
}

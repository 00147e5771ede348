package api

import (
	"net/http"

	"github.com/hookd/hookd"
)

// testPayload is the payload of the hookd.test event sent by
// POST /v1/endpoints/{id}/test.
const testPayload = `{"message":"test event from hookd"}`

// bodyLimit bounds every request body except a batch's.
func (s *Server) bodyLimit() int64 { return s.cfg.MaxPayloadBytes + envelopeBytes }

func (s *Server) createEndpoint(w http.ResponseWriter, r *http.Request) {
	var in endpointInput
	if err := decodeBody(w, r, s.bodyLimit(), &in, false); err != nil {
		s.writeError(w, r, err)
		return
	}
	if in.URL == nil {
		s.writeError(w, r, hookd.FieldErrorf("url", "is required"))
		return
	}
	tenant, err := bodyTenant(r, "tenant_id", in.TenantID, "")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	in.TenantID = &tenant
	u, err := s.endpointUpdate(&in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	now := s.now()
	e := &hookd.Endpoint{ID: hookd.NewID(hookd.PrefixEndpoint, now), CreatedAt: now, UpdatedAt: now}
	if err := u.Apply(e); err != nil {
		s.writeError(w, r, err)
		return
	}
	if e.Secret == "" {
		e.Secret = hookd.NewSecret()
	}
	// The bounds are checked in the store's transaction, serialized with
	// every other creation and move on any node.
	if err := s.cfg.Store.CreateEndpointWithin(r.Context(), e, s.quota()); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/endpoints/"+e.ID)
	writeJSON(w, http.StatusCreated, endpointOut(e, s.now()))
}

// quota is the bound on endpoints (MaxEndpointsPerTenant, MaxEndpoints)
// that creations and moves to another tenant keep (hookd.EndpointQuota).
func (s *Server) quota() hookd.EndpointQuota {
	return hookd.EndpointQuota{PerTenant: s.cfg.MaxEndpointsPerTenant, Total: s.cfg.MaxEndpoints}
}

func (s *Server) listEndpoints(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	page, err := parseIDPage(q, hookd.PrefixEndpoint)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var tenant *string
	if q.Has("tenant_id") {
		t := q.Get("tenant_id")
		tenant = &t
	}
	eps, next, err := s.cfg.Store.ListEndpoints(r.Context(), tenant, page)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := list[endpointJSON]{Data: make([]endpointJSON, len(eps)), NextCursor: next}
	for i, e := range eps {
		out.Data[i] = endpointOut(e, s.now())
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) getEndpoint(w http.ResponseWriter, r *http.Request) {
	e, err := s.cfg.Store.GetEndpoint(r.Context(), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, endpointOut(e, s.now()))
}

// updateEndpoint changes the fields the body names, atomically in the
// store (Store.UpdateEndpointFields): a concurrent 410-disable, circuit
// change or rotation, here or on another node, is never undone.
func (s *Server) updateEndpoint(w http.ResponseWriter, r *http.Request) {
	if err := refuseSystemEndpoint(r.PathValue("id")); err != nil {
		s.writeError(w, r, err)
		return
	}
	var in endpointInput
	if err := decodeBody(w, r, s.bodyLimit(), &in, false); err != nil {
		s.writeError(w, r, err)
		return
	}
	if in.TenantID != nil {
		if _, err := bodyTenant(r, "tenant_id", in.TenantID, ""); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	u, err := s.endpointUpdate(&in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	id := r.PathValue("id")
	// A move to another tenant needs room there: the store checks it in
	// the update's transaction (EndpointUpdate.Quota).
	u.Quota = s.quota()
	u.UpdatedAt = s.now()
	e, err := s.cfg.Store.UpdateEndpointFields(r.Context(), id, u)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, endpointOut(e, s.now()))
}

func (s *Server) deleteEndpoint(w http.ResponseWriter, r *http.Request) {
	if err := refuseSystemEndpoint(r.PathValue("id")); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.cfg.Store.DeleteEndpoint(r.Context(), r.PathValue("id")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// rotateInput is the optional body of rotate-secret.
type rotateInput struct {
	Secret string `json:"secret"`
}

// rotateSecret sets a new secret (given or generated). The old one keeps
// signing for RotationGrace; expired previous secrets are dropped and at
// most maxPreviousSecrets are kept (the newest). The store resolves the
// rotation against the stored secrets under its row lock, so concurrent
// rotations (on any node) each keep the secret they replaced.
func (s *Server) rotateSecret(w http.ResponseWriter, r *http.Request) {
	if err := refuseSystemEndpoint(r.PathValue("id")); err != nil {
		s.writeError(w, r, err)
		return
	}
	var in rotateInput
	if err := decodeBody(w, r, s.bodyLimit(), &in, true); err != nil {
		s.writeError(w, r, err)
		return
	}
	if in.Secret != "" {
		if err := hookd.ValidateSecret(in.Secret); err != nil {
			s.writeError(w, r, err)
			return
		}
	} else {
		in.Secret = hookd.NewSecret()
	}
	now := s.now()
	e, err := s.cfg.Store.UpdateEndpointFields(r.Context(), r.PathValue("id"), hookd.EndpointUpdate{
		Rotate:    &hookd.SecretRotation{Secret: in.Secret, At: now, Grace: s.cfg.RotationGrace, Keep: maxPreviousSecrets},
		UpdatedAt: now,
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, endpointOut(e, s.now()))
}

// testEndpoint ingests a hookd.test event for this endpoint alone and
// answers 202 with the event. A disabled endpoint answers 409: its
// delivery would never be sent.
func (s *Server) testEndpoint(w http.ResponseWriter, r *http.Request) {
	e, err := s.cfg.Store.GetEndpoint(r.Context(), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if e.Disabled {
		s.writeError(w, r, hookd.Errorf(hookd.ECONFLICT, "endpoint %s is disabled; enable it before testing", e.ID))
		return
	}
	now := s.now()
	ev := hookd.NewEvent{
		Event: hookd.Event{
			ID:        hookd.NewID(hookd.PrefixEvent, now),
			TenantID:  e.TenantID,
			Type:      "hookd.test",
			Payload:   []byte(testPayload),
			CreatedAt: now,
		},
		OnlyEndpointID: e.ID,
	}
	res, err := s.cfg.Ingest.Submit(r.Context(), []hookd.NewEvent{ev})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeRaw(w, http.StatusAccepted, appendEvent(nil, &res[0].Event, res[0].Deliveries))
}

// refuseSystemEndpoint answers ECONFLICT for the system tenant's endpoint
// (operational events at --ops-url): the server's flags manage it, at every
// start, so a change through the API would not last.
func refuseSystemEndpoint(id string) error {
	if id == hookd.OpsEndpointID {
		return hookd.Errorf(hookd.ECONFLICT, "endpoint %s receives hookd's operational events and is managed by --ops-url and --ops-secret", id)
	}
	return nil
}

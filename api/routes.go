package api

import (
	"net/http"
	"slices"
	"strings"
)

// route is one entry of the route table: Handler registers it, and the
// tests check that openapi.json documents each one. Every route has an
// access rule (confine.go): Handler refuses to start with a route that has
// none, so a new route cannot skip tenant confinement.
type route struct {
	method  string
	path    string // http.ServeMux path pattern
	access  access // who may call it and how a tenant key is confined
	handler http.HandlerFunc
}

// routes returns the route table.
func (s *Server) routes() []route {
	rs := []route{
		{"POST", "/v1/endpoints", tenantBody, s.createEndpoint},
		{"GET", "/v1/endpoints", tenantQuery, s.listEndpoints},
		{"GET", "/v1/endpoints/{id}", ownEndpoint, s.getEndpoint},
		{"PATCH", "/v1/endpoints/{id}", ownEndpoint.withBody(), s.updateEndpoint},
		{"DELETE", "/v1/endpoints/{id}", ownEndpoint, s.deleteEndpoint},
		{"POST", "/v1/endpoints/{id}/rotate-secret", ownEndpoint, s.rotateSecret},
		{"POST", "/v1/endpoints/{id}/test", ownEndpoint, s.testEndpoint},
		{"GET", "/v1/endpoints/{id}/stats", ownEndpoint, s.endpointStats},
		{"GET", "/v1/stats", tenantQuery, s.overallStats},
		{"POST", "/v1/events", tenantBody, s.createEvent},
		{"POST", "/v1/events/batch", tenantBody, s.createEventBatch},
		{"GET", "/v1/events", tenantQuery, s.listEvents},
		{"GET", "/v1/events/{id}", ownEvent, s.getEvent},
		{"GET", "/v1/deliveries", tenantQuery, s.listDeliveries},
		{"GET", "/v1/deliveries/{id}", ownDelivery, s.getDelivery},
		{"GET", "/v1/deliveries/{id}/attempts", ownDelivery, s.listAttempts},
		{"POST", "/v1/deliveries/{id}/retry", ownDelivery, s.retryDelivery},
		{"POST", "/v1/dead-letters/replay", tenantBody, s.replayDeadLetters},
		{"POST", "/v1/api-keys", adminOnly, s.createAPIKey},
		{"GET", "/v1/api-keys", adminOnly, s.listAPIKeys},
		{"DELETE", "/v1/api-keys/{id}", adminOnly, s.revokeAPIKey},
		{"POST", "/v1/portal-links", adminOnly, s.createPortalLink},
		{"GET", "/healthz", public, s.healthz},
		{"GET", "/readyz", public, s.readyz},
		{"GET", "/openapi.json", public, s.openapi},
	}
	if s.cfg.Metrics != nil {
		rs = append(rs, route{"GET", "/metrics", public, s.cfg.Metrics.ServeHTTP})
	}
	return rs
}

// Handler returns the API's http.Handler. Unknown paths answer 404 and
// known paths with another method 405 (with Allow), both as JSON errors.
// Authentication runs after routing, so a 404 or 405 never needs the key.
func (s *Server) Handler() http.Handler { return s.handler(true) }

// InProcess returns the same routes, rules and rate limits for a caller in
// this process that authenticated its user itself and put the principal
// on the request context (auth.NewContext): the dashboard (package ui)
// sends its changes through it, so they are validated and confined exactly
// as /v1 calls are. A request without a principal sees nothing (fails
// closed). It serves no /ui/ paths; never serve it on a listener.
func (s *Server) InProcess() http.Handler { return s.handler(false) }

func (s *Server) handler(fromHeader bool) http.Handler {
	mux := http.NewServeMux()
	allowed := map[string][]string{}
	var paths []string
	for _, rt := range s.routes() {
		rt.handler = s.checkText(rt.path, rt.handler)
		mux.Handle(rt.method+" "+rt.path, s.guard(rt, fromHeader))
		if _, ok := allowed[rt.path]; !ok {
			paths = append(paths, rt.path)
		}
		allowed[rt.path] = append(allowed[rt.path], rt.method)
	}
	// Known paths answer other methods with a JSON 405. Patterns with a
	// method (rather than one catch-all per path) keep /v1/events/batch
	// and /v1/events/{id} from conflicting.
	for _, p := range paths {
		methods := allowed[p]
		if slices.Contains(methods, "GET") {
			methods = append(methods, "HEAD")
		}
		allow := strings.Join(methods, ", ")
		for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"} {
			if slices.Contains(methods, m) {
				continue
			}
			mux.HandleFunc(m+" "+p, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Allow", allow)
				writeJSONError(w, http.StatusMethodNotAllowed, "method_not_allowed", r.Method+" is not allowed here; allowed: "+allow)
			})
		}
	}
	if fromHeader {
		s.mountUI(mux)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSONError(w, http.StatusNotFound, "not_found", "no route for "+r.URL.Path)
	})
	return mux
}

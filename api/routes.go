package api

import (
	"net/http"
	"slices"
	"strings"
)

// route is one entry of the route table: Handler registers it, and the
// tests check that openapi.json documents each one.
type route struct {
	method  string
	path    string // http.ServeMux path pattern
	public  bool   // served without the API key
	handler http.HandlerFunc
}

// routes returns the route table.
func (s *Server) routes() []route {
	rs := []route{
		{"POST", "/v1/endpoints", false, s.createEndpoint},
		{"GET", "/v1/endpoints", false, s.listEndpoints},
		{"GET", "/v1/endpoints/{id}", false, s.getEndpoint},
		{"PATCH", "/v1/endpoints/{id}", false, s.updateEndpoint},
		{"DELETE", "/v1/endpoints/{id}", false, s.deleteEndpoint},
		{"POST", "/v1/endpoints/{id}/rotate-secret", false, s.rotateSecret},
		{"POST", "/v1/endpoints/{id}/test", false, s.testEndpoint},
		{"POST", "/v1/events", false, s.createEvent},
		{"POST", "/v1/events/batch", false, s.createEventBatch},
		{"GET", "/v1/events", false, s.listEvents},
		{"GET", "/v1/events/{id}", false, s.getEvent},
		{"GET", "/v1/deliveries", false, s.listDeliveries},
		{"GET", "/v1/deliveries/{id}", false, s.getDelivery},
		{"GET", "/v1/deliveries/{id}/attempts", false, s.listAttempts},
		{"POST", "/v1/deliveries/{id}/retry", false, s.retryDelivery},
		{"POST", "/v1/dead-letters/replay", false, s.replayDeadLetters},
		{"GET", "/healthz", true, s.healthz},
		{"GET", "/readyz", true, s.readyz},
		{"GET", "/openapi.json", true, s.openapi},
	}
	if s.cfg.Metrics != nil {
		rs = append(rs, route{"GET", "/metrics", true, s.cfg.Metrics.ServeHTTP})
	}
	return rs
}

// Handler returns the API's http.Handler. Unknown paths answer 404 and
// known paths with another method 405 (with Allow), both as JSON errors.
// Authentication runs after routing, so a 404 or 405 never needs the key.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	allowed := map[string][]string{}
	var paths []string
	for _, rt := range s.routes() {
		h := http.Handler(rt.handler)
		if !rt.public {
			h = s.authenticate(h)
		}
		mux.Handle(rt.method+" "+rt.path, h)
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
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSONError(w, http.StatusNotFound, "not_found", "no route for "+r.URL.Path)
	})
	return mux
}

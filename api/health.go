package api

import (
	"context"
	_ "embed"
	"net/http"
	"time"
)

//go:embed openapi.json
var openapiJSON []byte

// readyTimeout bounds the readiness check.
const readyTimeout = 2 * time.Second

// healthz answers 200 {"status":"ok"} while the process serves.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers 200 {"status":"ok"} when Config.Ready succeeds within 2 s,
// else 503 with the error shape (detail only in the log).
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	if err := s.cfg.Ready(ctx); err != nil {
		s.log.WarnContext(r.Context(), "api: not ready", "err", err)
		writeJSONError(w, http.StatusServiceUnavailable, "unavailable", "not ready: the store does not answer")
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// openapi serves the embedded OpenAPI 3.1 document.
func (s *Server) openapi(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "public, max-age=300")
	writeRaw(w, http.StatusOK, openapiJSON)
}

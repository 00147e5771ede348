package ui

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/hookd/hookd"
)

// call sends one request to the in-process API as the session's principal
// and decodes a 2xx JSON answer into out (when non-nil). An error answer
// comes back as a *hookd.Error with the API's code and message, so the
// page shows exactly what the API would have said.
func (s *Server) call(ctx context.Context, sess *session, method, path string, body, out any) error {
	var buf bytes.Buffer
	if body != nil {
		if err := json.NewEncoder(&buf).Encode(body); err != nil {
			return fmt.Errorf("encode %s %s: %w", method, path, err)
		}
	}
	req, err := http.NewRequestWithContext(apiContext(ctx, sess), method, path, &buf)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	req.RemoteAddr = "127.0.0.1:0" // in process
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	s.cfg.API.ServeHTTP(rec, req)
	if rec.Code >= 300 {
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if json.Unmarshal(rec.Body.Bytes(), &e) != nil || e.Error.Code == "" {
			return fmt.Errorf("%s %s: status %d", method, path, rec.Code)
		}
		if e.Error.Code == hookd.EINTERNAL {
			return fmt.Errorf("%s %s: internal error", method, path)
		}
		return &hookd.Error{Code: e.Error.Code, Message: e.Error.Message}
	}
	if out != nil && rec.Code != http.StatusNoContent {
		if err := json.Unmarshal(rec.Body.Bytes(), out); err != nil {
			return fmt.Errorf("decode %s %s: %w", method, path, err)
		}
	}
	return nil
}

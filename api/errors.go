package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/hookd/hookd"
)

// statusOf maps a hookd error code to its HTTP status: the one place
// where that mapping lives.
func statusOf(code string) int {
	switch code {
	case hookd.EMALFORMED:
		return http.StatusBadRequest
	case hookd.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case hookd.EFORBIDDEN:
		return http.StatusForbidden
	case hookd.ENOTFOUND:
		return http.StatusNotFound
	case hookd.ECONFLICT:
		return http.StatusConflict
	case hookd.ETOOLARGE:
		return http.StatusRequestEntityTooLarge
	case hookd.EINVALID:
		return http.StatusUnprocessableEntity
	case hookd.ERATELIMITED:
		return http.StatusTooManyRequests
	case hookd.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

// writeError answers err as {"error":{"code","message"}}. Errors that are
// not *hookd.Error become 500 "internal error" and are logged in full.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code := hookd.ErrorCode(err)
	if code == hookd.EINTERNAL && errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		// The client went away; nobody reads the answer.
		code, err = hookd.EUNAVAILABLE, hookd.Errorf(hookd.EUNAVAILABLE, "request cancelled")
	}
	if code == hookd.EINTERNAL {
		s.log.ErrorContext(r.Context(), "api: internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	} else if code == hookd.EUNAVAILABLE {
		s.log.WarnContext(r.Context(), "api: store unavailable", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if code == hookd.EUNAUTHORIZED {
		w.Header().Set("WWW-Authenticate", `Bearer realm="hookd"`)
	}
	writeJSONError(w, statusOf(code), code, hookd.ErrorMessage(err))
}

// errorBody is the JSON shape of every error answer.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func writeJSONError(w http.ResponseWriter, status int, code, message string) {
	var b errorBody
	b.Error.Code, b.Error.Message = code, message
	writeJSON(w, status, b)
}

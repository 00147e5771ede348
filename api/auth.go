package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/hookd/hookd"
)

// authenticate lets a request through when it carries
// "Authorization: Bearer <key>" and SHA-256(key) equals Config.APIKeyHash,
// compared in constant time; otherwise it answers 401 with
// WWW-Authenticate: Bearer.
func (s *Server) authenticate(next http.Handler) http.Handler {
	var zero [32]byte
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
			s.writeError(w, r, hookd.Errorf(hookd.EUNAUTHORIZED, "missing API key: send Authorization: Bearer <key>"))
			return
		}
		sum := sha256.Sum256([]byte(strings.TrimSpace(token)))
		if s.cfg.APIKeyHash == zero || subtle.ConstantTimeCompare(sum[:], s.cfg.APIKeyHash[:]) != 1 {
			s.writeError(w, r, hookd.Errorf(hookd.EUNAUTHORIZED, "invalid API key"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

package api

import (
	"net/http"
	"strings"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/auth"
)

// authenticate lets a request through when it carries
// "Authorization: Bearer <key>" of a live API key (the server's admin key
// or a stored one, compared by SHA-256 in constant time) and puts the key's
// Principal on the request context; otherwise it answers 401 with
// WWW-Authenticate: Bearer.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		token = strings.TrimSpace(token)
		if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
			s.writeError(w, r, hookd.Errorf(hookd.EUNAUTHORIZED, "missing API key: send Authorization: Bearer <key>"))
			return
		}
		p, err := s.keys.Authenticate(r.Context(), token, hookd.KindKey)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(auth.NewContext(r.Context(), p)))
	})
}

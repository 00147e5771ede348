package auth

import (
	"net/http"
	"time"

	"github.com/hookd/hookd"
)

// SessionCookie is the name of the dashboard session cookie.
const SessionCookie = "hookd_session"

// SetSessionCookie sets the session cookie: HttpOnly, SameSite=Lax, Secure
// when the request came over TLS, path /ui/, expiring with the session.
func SetSessionCookie(w http.ResponseWriter, r *http.Request, s Session) {
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: s.Secret, Path: "/ui/",
		Expires: s.ExpiresAt, MaxAge: int(time.Until(s.ExpiresAt).Seconds()),
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil,
	})
}

// ClearSessionCookie removes the session cookie (sign out; revoke the
// session with Store.RevokeAPIKey too).
func ClearSessionCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: "", Path: "/ui/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil,
	})
}

// SessionPrincipal returns the principal of the request's session cookie.
// EUNAUTHORIZED when there is none or it is expired or revoked (revoking a
// session, or the key it was made from, ends it on every node within the
// key cache TTL).
func (k *Keys) SessionPrincipal(r *http.Request) (Principal, error) {
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" {
		return Principal{}, hookd.Errorf(hookd.EUNAUTHORIZED, "not signed in")
	}
	return k.Authenticate(r.Context(), c.Value, hookd.KindSession)
}

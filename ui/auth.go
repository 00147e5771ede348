package ui

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/auth"
)

// tenantFilter is the tenant a list must be narrowed to: the principal's
// tenant, or for an admin the one asked for (nil: every tenant).
func tenantFilter(p auth.Principal, want *string) *string {
	if p.Admin {
		return want
	}
	return p.Scope()
}

// apiContext is ctx carrying the session's principal for the in-process
// API (Config.API), which confines with it exactly as it confines a key.
func apiContext(ctx context.Context, sess *session) context.Context {
	return auth.NewContext(ctx, sess.Principal)
}

// page wraps a GET handler: it needs a session (else the sign-in page,
// coming back here after) and renders what the handler returns.
func (s *Server) page(h func(w http.ResponseWriter, r *http.Request, sess *session)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sess, err := s.currentSession(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if sess == nil {
			http.Redirect(w, r, "/ui/signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), sessionKey, sess)), sess)
	})
}

// form wraps a state-changing POST: it needs a session and the session's
// CSRF token (403 without it, nothing done).
func (s *Server) form(h func(w http.ResponseWriter, r *http.Request, sess *session)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		sess, err := s.currentSession(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if sess == nil {
			s.render(w, r, http.StatusUnauthorized, "error", nil, errorView{Title: "Signed out",
				Message: "Your session ended. Sign in again and repeat the action.", SignIn: true})
			return
		}
		if err := r.ParseForm(); err != nil {
			s.render(w, r, http.StatusBadRequest, "error", sess, errorView{Title: "Bad request", Message: "The form could not be read."})
			return
		}
		if !sameOrigin(r) || !checkCSRF(r, sess) {
			s.render(w, r, http.StatusForbidden, "error", sess, errorView{Title: "Form expired",
				Message: "This form was not sent from this dashboard's current session (CSRF check). Nothing was changed; reload the page and try again."})
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), sessionKey, sess)), sess)
	})
}

// maxFormBytes bounds a dashboard form body.
const maxFormBytes = 64 << 10

// signinView is the sign-in page.
type signinView struct {
	CSRF, Next, Error string
}

func (s *Server) signinPage(w http.ResponseWriter, r *http.Request) {
	if sess, _ := s.currentSession(r); sess != nil {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	s.render(w, r, http.StatusOK, "signin", nil, signinView{CSRF: preCSRF(w, r), Next: safeNext(r.URL.Query().Get("next"))})
}

func (s *Server) signin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	next := safeNext(r.PostFormValue("next"))
	if !sameOrigin(r) || !checkPreCSRF(r) {
		s.render(w, r, http.StatusForbidden, "signin", nil, signinView{CSRF: preCSRF(w, r), Next: next,
			Error: "The sign-in form expired. Try again."})
		return
	}
	p, err := s.cfg.Keys.Authenticate(r.Context(), strings.TrimSpace(r.PostFormValue("key")), hookd.KindKey)
	if err != nil {
		status, msg := http.StatusUnauthorized, "That API key is not valid."
		if hookd.ErrorCode(err) != hookd.EUNAUTHORIZED {
			status, msg = http.StatusServiceUnavailable, "Sign-in is not possible right now; try again shortly."
			s.log.ErrorContext(r.Context(), "ui: sign in", "err", err)
		}
		s.render(w, r, status, "signin", nil, signinView{CSRF: preCSRF(w, r), Next: next, Error: msg})
		return
	}
	parent := p.KeyID // revoking the key ends its sessions
	if parent == auth.AdminKeyID {
		parent = "" // the server's own key is no row
	}
	sess, err := s.cfg.Portal.NewSession(r.Context(), p, parent, "")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	auth.SetSessionCookie(w, r, sess)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *Server) signout(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	sess, err := s.currentSession(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if sess != nil && (r.ParseForm() != nil || !checkCSRF(r, sess)) {
		s.render(w, r, http.StatusForbidden, "error", sess, errorView{Title: "Form expired",
			Message: "Sign-out was not sent from this session's page. Reload and try again."})
		return
	}
	if sess != nil {
		if err := s.cfg.Store.RevokeAPIKey(r.Context(), sess.Principal.KeyID, s.now()); err != nil && hookd.ErrorCode(err) != hookd.ENOTFOUND {
			s.fail(w, r, err)
			return
		}
		s.cfg.Keys.Forget() // this node stops accepting it now, others within the key cache TTL
	}
	auth.ClearSessionCookie(w, r)
	http.Redirect(w, r, "/ui/signin", http.StatusSeeOther)
}

// safeNext keeps a post-sign-in redirect inside the dashboard.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/ui/") || strings.HasPrefix(next, "/ui//") || strings.ContainsAny(next, "\\\r\n") ||
		strings.HasPrefix(next, "/ui/signin") {
		return "/ui/"
	}
	return next
}

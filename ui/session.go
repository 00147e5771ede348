package ui

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/auth"
)

// Form field and cookie names.
const (
	// preCSRFCookie carries the CSRF token of the sign-in form (double
	// submit: no session exists yet).
	preCSRFCookie = "hookd_csrf"
	csrfField     = "csrf"
)

// session is a signed-in user. Sessions are package auth's: a row of kind
// session in the store (its secret in the HttpOnly cookie auth.SessionCookie),
// revoked at sign-out and with the key it was made from, valid on every
// node. The dashboard adds only the CSRF token of its forms.
type session struct {
	Principal auth.Principal
	csrf      string
}

// csrfSecret returns the key that derives CSRF tokens, creating it in the
// store on first use (the first node to store one wins).
func (s *Server) csrfSecret(ctx context.Context) ([]byte, error) {
	s.secretMu.Lock()
	defer s.secretMu.Unlock()
	if s.secret != nil {
		return s.secret, nil
	}
	v, err := s.cfg.Store.Setting(ctx, csrfSecretSetting)
	if hookd.ErrorCode(err) == hookd.ENOTFOUND {
		if _, err := s.cfg.Store.PutSettingIfAbsent(ctx, csrfSecretSetting, randomHex(32)); err != nil {
			return nil, fmt.Errorf("store csrf key: %w", err)
		}
		v, err = s.cfg.Store.Setting(ctx, csrfSecretSetting)
	}
	if err != nil {
		return nil, fmt.Errorf("read csrf key: %w", err)
	}
	key, err := hex.DecodeString(v)
	if err != nil || len(key) < 16 {
		return nil, fmt.Errorf("stored csrf key is corrupt")
	}
	s.secret = key
	return key, nil
}

// csrfToken is the CSRF token of the session with id sessionID: an HMAC of
// it, so that it is the same on every node and dies with the session.
func csrfToken(key []byte, sessionID string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("hookd ui csrf\x00" + sessionID))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
}

// currentSession returns the request's live session, or nil when there is
// none (never signed in, expired, signed out, its key revoked).
func (s *Server) currentSession(r *http.Request) (*session, error) {
	if c, err := r.Cookie(auth.SessionCookie); err != nil || c.Value == "" {
		return nil, nil
	}
	p, err := s.cfg.Keys.SessionPrincipal(r)
	if hookd.ErrorCode(err) == hookd.EUNAUTHORIZED {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	key, err := s.csrfSecret(r.Context())
	if err != nil {
		return nil, err
	}
	return &session{Principal: p, csrf: csrfToken(key, p.KeyID)}, nil
}

// preCSRF returns the sign-in form's CSRF token, setting its cookie when
// the browser has none.
func preCSRF(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(preCSRFCookie); err == nil && len(c.Value) == 32 {
		return c.Value
	}
	tok := randomHex(16)
	http.SetCookie(w, &http.Cookie{Name: preCSRFCookie, Value: tok, Path: "/ui/",
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
	return tok
}

// checkPreCSRF verifies the sign-in form's double-submitted token.
func checkPreCSRF(r *http.Request) bool {
	c, err := r.Cookie(preCSRFCookie)
	return err == nil && c.Value != "" && subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostFormValue(csrfField))) == 1
}

// checkCSRF verifies a signed-in form's token.
func checkCSRF(r *http.Request, sess *session) bool {
	return subtle.ConstantTimeCompare([]byte(sess.csrf), []byte(r.PostFormValue(csrfField))) == 1
}

// sameOrigin refuses a cross-site form post early when the browser says
// where it comes from (Sec-Fetch-Site or Origin); the token is the check
// that always applies.
func sameOrigin(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return false
	}
	if o := r.Header.Get("Origin"); o != "" && o != "null" {
		host := strings.TrimPrefix(strings.TrimPrefix(o, "https://"), "http://")
		return host == r.Host
	}
	return true
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return hex.EncodeToString(b)
}
